/**
 * Batching: 10,000 loads of distinct cold keys from 10,000 concurrent callers, beside DataLoader
 * in the same process. (a) Effect: 10,000 fibers (`Effect.forEach` unbounded) calling a
 * `RequestCache.cachedBatch` function, and the same fibers calling DataLoader's `load` through
 * `Effect.promise`. (b) Promise: 10,000 async callers of `createLoader`'s `load`, and of
 * DataLoader's. Each case counts the calls of its batch function (all of them: one batch) and
 * the wall time until every caller has its value; every repetition uses keys no case has seen.
 * The batch functions do the same work (one object per key) and answer in a resolved promise
 * (an `Effect.sync` for `cachedBatch`). DataLoader is made anew per repetition, as it is used
 * (one per request: it never forgets). Ours in two ways: made anew per repetition too (in the
 * Effect case, the same namespace emptied before each repetition, untimed), and one cache for
 * every repetition, bounded at 10,000 entries and full, so that each load also evicts one of the
 * previous repetition's keys (what a long-lived bounded cache pays, and DataLoader never does).
 *
 * Then hits: one caller awaiting, in sequence, 1,000 keys that are all cached: `createLoader`'s
 * `load` beside DataLoader's cached `load`.
 */
import DataLoader from "dataloader"
import { Effect, Layer, ManagedRuntime } from "effect"
import { createLoader } from "../src/Promise.js"
import { RequestCache } from "../src/RequestCache.js"
import { type Case, gc, measure, met, num, ratio, table } from "./harness.js"

const CALLERS = 10_000
/** Timed and untimed (first, while the JIT warms up) repetitions: the Effect cases take a second each. */
const EFFECT_ROUNDS = { warmup: 3, repetitions: 7 }
const PROMISE_ROUNDS = { warmup: 10, repetitions: 30 }
const TARGET = 1.2
const HOT_KEYS = 1_000
const HIT_ITERATIONS = 300_000

interface User {
  readonly id: number
}
const user = (id: number): User => ({ id })

/** `BENCH_BATCH=promise,hit` runs some parts only; all by default. */
const parts = (process.env.BENCH_BATCH ?? "effect,promise,hit").split(",")

export const run = async (): Promise<void> => {
  /** Batch function calls in the current repetition, per case. */
  const batches: Array<number> = []
  const keysOf = (round: number) => Array.from({ length: CALLERS }, (_, i) => round * CALLERS + i)

  const dataLoader = (which: number) =>
    new DataLoader<number, User>((ids) => {
      batches[which] = (batches[which] ?? 0) + 1
      return Promise.resolve(ids.map(user))
    })

  // (a) Effect
  const getUser = RequestCache.cachedBatch({
    name: "bench-batch",
    lookupMany: (ids: readonly [number, ...Array<number>]) =>
      Effect.sync(() => {
        batches[1] = (batches[1] ?? 0) + 1
        return ids.map(user)
      })
  })
  const runtime = ManagedRuntime.make(Layer.mergeAll(RequestCache.layer({ capacity: CALLERS })))
  await runtime.runPromise(Effect.void)

  const getUserFull = RequestCache.cachedBatch({
    name: "bench-batch-full",
    lookupMany: (ids: readonly [number, ...Array<number>]) =>
      Effect.sync(() => {
        batches[2] = (batches[2] ?? 0) + 1
        return ids.map(user)
      })
  })
  const effectCases: Array<BatchCase> = [
    {
      name: "DataLoader load, 10,000 fibers (Effect.promise)",
      run: (round) => {
        const loader = dataLoader(0)
        return runtime.runPromise(
          Effect.forEach(keysOf(round), (id) => Effect.promise(() => loader.load(id)), { concurrency: "unbounded" })
        )
      }
    },
    {
      name: "ours: RequestCache.cachedBatch, 10,000 fibers, emptied",
      prepare: () => runtime.runPromise(getUser.invalidateAll),
      run: (round) =>
        runtime.runPromise(Effect.forEach(keysOf(round), (id) => getUser(id), { concurrency: "unbounded" }))
    },
    {
      name: "ours: RequestCache.cachedBatch, 10,000 fibers, full (evicts)",
      run: (round) =>
        runtime.runPromise(Effect.forEach(keysOf(round), (id) => getUserFull(id), { concurrency: "unbounded" }))
    }
  ]
  if (parts.includes("effect")) {
    report("(a) Effect", effectCases, EFFECT_ROUNDS, await rounds(effectCases, batches, EFFECT_ROUNDS))
  }

  // (b) Promise
  const loaderOf = (which: number) =>
    createLoader((ids: ReadonlyArray<number>) => {
      batches[which] = (batches[which] ?? 0) + 1
      return Promise.resolve(ids.map(user))
    }, { maxsize: CALLERS })
  const full = loaderOf(2)
  const promiseCases: Array<BatchCase> = [
    {
      name: "DataLoader load, 10,000 async callers",
      run: (round) => {
        const dl = dataLoader(0)
        return Promise.all(keysOf(round).map(async (id) => await dl.load(id)))
      }
    },
    {
      name: "ours: createLoader load, 10,000 async callers, new loader",
      run: (round) => {
        const loader = loaderOf(1)
        return Promise.all(keysOf(round).map(async (id) => await loader.load(id)))
      }
    },
    {
      name: "ours: createLoader load, 10,000 async callers, full (evicts)",
      run: (round) => Promise.all(keysOf(round).map(async (id) => await full.load(id)))
    }
  ]
  if (parts.includes("promise")) {
    report("(b) Promise", promiseCases, PROMISE_ROUNDS, await rounds(promiseCases, batches, PROMISE_ROUNDS))
  }

  // Hits
  const hotDataLoader = dataLoader(3)
  const hotLoader = createLoader((ids: ReadonlyArray<number>) => Promise.resolve(ids.map(user)), {
    maxsize: HOT_KEYS
  })
  for (let k = 0; k < HOT_KEYS; k++) {
    await hotDataLoader.load(k)
    await hotLoader.load(k)
  }
  const hitCases: Array<Case> = [
    {
      name: "DataLoader cached load",
      run: async (n) => {
        for (let i = 0, k = 0; i < n; i++) {
          await hotDataLoader.load(k)
          if (++k === HOT_KEYS) k = 0
        }
      }
    },
    {
      name: "ours: createLoader hit",
      run: async (n) => {
        for (let i = 0, k = 0; i < n; i++) {
          await hotLoader.load(k)
          if (++k === HOT_KEYS) k = 0
        }
      }
    }
  ]
  if (!parts.includes("hit")) return runtime.dispose()
  const ns = await measure(hitCases, HIT_ITERATIONS)
  table(
    `Batching, hits: sequential await of ${num(HOT_KEYS, 0)} cached keys, ${num(HIT_ITERATIONS, 0)} loads`,
    ["case", "ns/load", "vs DataLoader", "target", "met"],
    hitCases.map((c, i) => {
      const r = ns[i]! / ns[0]!
      const ours = c.name.startsWith("ours")
      return [c.name, num(ns[i]!), ratio(r), ours ? `<= ${TARGET}x` : "", met(ours ? r <= TARGET : undefined)]
    })
  )
  await runtime.dispose()
}

interface Rounds {
  readonly warmup: number
  readonly repetitions: number
}

interface BatchCase {
  readonly name: string
  /** Untimed, before each timed run. */
  readonly prepare?: () => unknown
  readonly run: (round: number) => Promise<unknown>
}

/**
 * `warmup + repetitions` rounds, each case once per round on keys of its own that nobody asked
 * for before; each case's best wall time (ms) and its batch calls per timed repetition.
 */
const rounds = async (
  cases: ReadonlyArray<BatchCase>,
  batches: Array<number>,
  { repetitions, warmup }: Rounds
): Promise<{ readonly ms: Array<number>; readonly counts: Array<Array<number>> }> => {
  const times: Array<Array<number>> = cases.map(() => [])
  const counts: Array<Array<number>> = cases.map(() => [])
  let round = 0
  for (let rep = 0; rep < warmup + repetitions; rep++) {
    for (let i = 0; i < cases.length; i++) {
      await cases[i]!.prepare?.()
      batches[i] = 0
      round++
      gc()
      const start = performance.now()
      await cases[i]!.run(round)
      const ms = performance.now() - start
      if (rep >= warmup) {
        times[i]!.push(ms)
        counts[i]!.push(batches[i]!)
      }
    }
  }
  return { ms: times.map((all) => Math.min(...all)), counts }
}

const report = (
  title: string,
  cases: ReadonlyArray<{ readonly name: string }>,
  { repetitions, warmup }: Rounds,
  result: { readonly ms: Array<number>; readonly counts: Array<Array<number>> }
): void => {
  const { counts, ms } = result
  const batchCount = (i: number) => Math.max(...counts[i]!)
  table(
    `Batching, ${title}: ${num(CALLERS, 0)} distinct cold keys from ${num(CALLERS, 0)} concurrent callers ` +
      `(best of ${repetitions} after ${warmup} untimed)`,
    ["case", "batches", "ms", "vs DataLoader", "target", "met"],
    cases.map((c, i) => {
      const ours = c.name.startsWith("ours")
      const r = ms[i]! / ms[0]!
      return [
        c.name,
        String(batchCount(i)),
        num(ms[i]!),
        ratio(r),
        ours ? `${batchCount(0)} batch, <= ${TARGET}x` : "",
        met(ours ? r <= TARGET && batchCount(i) === batchCount(0) : undefined)
      ]
    })
  )
}
