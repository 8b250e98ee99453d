/**
 * A suite that needs what a machine may lack (a Redis that answers, an installed `redis-server`,
 * the third-party traces).
 */
import { describe, it } from "@effect/vitest"

/**
 * `describe` when nothing is `missing`. Otherwise: under `CI=true`, where these tests must run,
 * one test that fails saying what is missing; elsewhere a printed `[skip]` notice and the suite
 * registered as skipped, so that the run's summary counts it.
 */
export const describeNeeding = (name: string, missing: string | undefined, body: () => void): void => {
  if (missing === undefined) {
    describe(name, body)
  } else if (process.env.CI === "true") {
    describe(name, () => {
      it(`needs what is missing: ${missing}`, () => {
        throw new Error(`CI=true requires these tests to run, but ${missing}`)
      })
    })
  } else {
    console.warn(`[skip] ${name}: ${missing}; these tests run where that is not so, and always with CI=true`)
    describe.skip(name, body)
  }
}
