/**
 * Scenario 3, stampede: 10,000 fibers ask for one cold key whose lookup sleeps 10 ms. Counts the
 * lookups that ran (single flight: 1) and the wall time of the whole `Effect.forEach`. The floor
 * does the same with no cache: the first fiber to arrive forks a fiber that completes a `Deferred`
 * after 10 ms, and all 10,000 await it. Every repetition uses a key no case has seen.
 */
import * as Cache from "effect/Cache"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberId from "effect/FiberId"
import * as ManagedRuntime from "effect/ManagedRuntime"
import { RequestCache } from "../src/index.js"
import { coldRounds, met, num, ratio, table } from "./harness.js"

const FIBERS = 10_000
const REPETITIONS = 7
/** Untimed first repetitions: the first ones run much slower, while the JIT warms up. */
const WARMUP = 2
const TARGET = 1.1

const fibers = Array.from({ length: FIBERS }, (_, i) => i)

export const run = async (): Promise<void> => {
  const runtime = ManagedRuntime.make(RequestCache.layer())

  /** Lookup runs in the current repetition, per case. */
  const runs = [0, 0, 0]
  const slowLookup = (which: number) => (k: number) =>
    Effect.sync(() => runs[which]!++).pipe(Effect.zipRight(Effect.sleep("10 millis")), Effect.as(k))

  const effectCache = await runtime.runPromise(
    Cache.make({ capacity: 1_000, timeToLive: Duration.infinity, lookup: slowLookup(1) })
  )
  const ours = RequestCache.cached({ name: "stampede", lookup: slowLookup(2) })

  const cases: Array<{ readonly name: string; readonly run: (key: number) => Promise<unknown> }> = [
    {
      name: "floor: one Deferred, completed after 10 ms",
      run: () =>
        runtime.runPromise(Effect.suspend(() => {
          const deferred = Deferred.unsafeMake<number>(FiberId.none)
          let started = false
          const call = Effect.suspend(() => {
            if (started) return Deferred.await(deferred)
            started = true
            return slowLookup(0)(1).pipe(
              Effect.flatMap((value) => Deferred.succeed(deferred, value)),
              Effect.forkDaemon,
              Effect.zipRight(Deferred.await(deferred))
            )
          })
          return Effect.forEach(fibers, () => call, { concurrency: "unbounded", discard: true })
        }))
    },
    {
      name: "Effect Cache.get",
      run: (key) =>
        runtime.runPromise(
          Effect.forEach(fibers, () => effectCache.get(key), { concurrency: "unbounded", discard: true })
        )
    },
    {
      name: "ours",
      run: (key) =>
        runtime.runPromise(Effect.forEach(fibers, () => ours(key), { concurrency: "unbounded", discard: true }))
    }
  ]

  const { counts: lookups, ms } = await coldRounds(cases, runs, WARMUP, REPETITIONS)
  const floor = ms[0]!
  table(
    `3. stampede: ${num(FIBERS, 0)} fibers, one cold key, lookup sleeps 10 ms, best of ${REPETITIONS}`,
    ["case", "lookups", "wall ms", "vs floor", "target", "met"],
    cases.map((c, i) => {
      const isOurs = c.name === "ours"
      const single = lookups[i]!.every((n) => n === 1)
      const runsText = single ? "1" : `${Math.min(...lookups[i]!)}..${Math.max(...lookups[i]!)}`
      return [
        c.name,
        runsText,
        num(ms[i]!),
        ratio(ms[i]! / floor),
        isOurs ? `1 lookup, <= ${TARGET}x` : "",
        met(isOurs ? single && ms[i]! / floor <= TARGET : undefined)
      ]
    })
  )
  await runtime.dispose()
}
