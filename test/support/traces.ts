/**
 * The trace tests' suites: the traces of the ARC and LIRS papers are third-party data that stay
 * outside the repository (where they are looked for, and what a run without them is told, is
 * `bench/traces.ts`'s). Without them a suite is skipped with that notice, except under `CI=true`,
 * where it must run: there a missing trace fails.
 */
import { missingNotice, type Trace, tracePath } from "../../bench/traces.js"
import { describeNeeding } from "./needs.js"

/** `describe` when every one of `traces` is there (see `describeNeeding`). */
export const describeTraces = (name: string, traces: ReadonlyArray<Trace>, body: () => void): void => {
  const missing = traces.filter((trace) => tracePath(trace) === undefined)
  describeNeeding(name, missing.length === 0 ? undefined : missing.map(missingNotice).join("; "), body)
}
