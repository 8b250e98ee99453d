/**
 * Where the cache traces are: third-party data (the traces of the ARC and LIRS papers) that stay
 * outside the repository. A test that replays one finds it in the folder named by the environment
 * variable `REQUEST_CACHE_TRACES`, else in `../shared/traces` beside the repository. Without it the
 * test is skipped with a notice that says where the traces come from, except under `CI=true`,
 * where it must run: there a missing trace fails.
 */
import { describe, it } from "@effect/vitest"
import { existsSync, statSync } from "node:fs"
import { join } from "node:path"
import { tracesDirectory as benchTracesDirectory } from "../../bench/traces.js"

export const TRACES_ENV = "REQUEST_CACHE_TRACES"

/** The folder where the traces are looked for (it may not exist): the one the decoders read. */
export const tracesLocation = (): string => benchTracesDirectory()

/**
 * The traces' folder, or `undefined` when it does not hold every one of `files` (e.g.
 * `["OLTP.lis.zst"]`; none given: when the folder does not exist).
 */
export const tracesDirectory = (files: ReadonlyArray<string> = []): string | undefined => {
  const directory = tracesLocation()
  if (!existsSync(directory) || !statSync(directory).isDirectory()) return undefined
  return files.every((file) => existsSync(join(directory, file))) ? directory : undefined
}

/** What a run without the traces is told: what is missing, where the traces come from, how to point at them. */
export const tracesNotice = (files: ReadonlyArray<string>): string =>
  `the cache trace${files.length === 1 ? "" : "s"} ${files.join(", ")} ${
    files.length === 1 ? "is" : "are"
  } not in ${tracesLocation()}. The traces are third-party data kept outside the repository: ` +
  `OLTP, P6 and P12 are traces of the ARC paper (Megiddo and Modha, "ARC: A Self-Tuning, Low Overhead ` +
  `Replacement Cache", USENIX FAST 2003), Glimpse one of the LIRS paper (Jiang and Zhang, "LIRS: an ` +
  `efficient low inter-reference recency set replacement policy", ACM SIGMETRICS 2002). Put them in ` +
  `../shared/traces beside the repository, or set ${TRACES_ENV} to the folder that holds them; with ` +
  `CI=true these tests must run.`

const required = process.env.CI === "true"

/**
 * `describe` when the traces' folder holds `files`. Otherwise the suite is skipped with a notice,
 * except under `CI=true`, where it fails, saying what is missing.
 */
export const describeTraces = (name: string, files: ReadonlyArray<string>, body: () => void): void => {
  if (tracesDirectory(files) !== undefined) {
    describe(name, body)
  } else if (required) {
    describe(name, () => {
      it(`needs ${files.join(", ")}`, () => {
        throw new Error(`CI=true requires the trace tests to run, but ${tracesNotice(files)}`)
      })
    })
  } else {
    console.warn(`[skip] ${name}: ${tracesNotice(files)}`)
    describe.skip(name, body)
  }
}
