/**
 * Scenario 5, O(1): the cost of an operation at capacity 1,000,000 against capacity 1,000, with
 * the same mix at both. Calls alternate between a hot key (a cycle over capacity / 4 keys: seen
 * again after capacity / 2 other keys, so always a hit) and a cold key (a cycle over 4 x capacity
 * other keys: always a miss that evicts). Each subject is first filled by running the mix for
 * 2 x capacity calls, so that it is full and in that steady state before it is timed.
 */
import * as Cache from "effect/Cache"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as ManagedRuntime from "effect/ManagedRuntime"
import { LRUCache } from "lru-cache"
import { RequestCache } from "../src/index.js"
import { type Case, measure, met, num, ratio, table } from "./harness.js"
import { compute, lruCacheGetOrSet } from "./plainLru.js"

const SMALL = 1_000
const LARGE = 1_000_000
/** Effect's Cache takes minutes to fill to 1,000,000 here; `BENCH_FULL=1` does it anyway. */
const EFFECT_CACHE_LARGE = process.env.BENCH_FULL === "1" ? LARGE : 100_000
const ITERATIONS = 200_000
const EFFECT_CACHE_ITERATIONS = 10_000
const TARGET = 1.5

/** The key sequence: hot and cold keys in turn, each cycle resumed where the last run left it. */
class Mix {
  readonly hotKeys: number
  readonly coldKeys: number
  private hot = 0
  private cold = 0
  private turn = false
  constructor(capacity: number) {
    this.hotKeys = capacity / 4
    this.coldKeys = capacity * 4
  }
  next(): number {
    this.turn = !this.turn
    if (this.turn) {
      const k = this.hot
      if (++this.hot === this.hotKeys) this.hot = 0
      return k
    }
    const k = this.hotKeys + this.cold
    if (++this.cold === this.coldKeys) this.cold = 0
    return k
  }
}

type Runtime = ManagedRuntime.ManagedRuntime<RequestCache, unknown>

/** The floor: lru-cache, not the Map-based LRU of the miss scenario (not O(1), see plainLru.ts). */
const floorCase = (runtime: Runtime, capacity: number): Case => {
  const lru = new LRUCache<number, number>({ max: capacity })
  const mix = new Mix(capacity)
  return {
    name: "floor: Effect.sync(() => lru-cache get-or-set)",
    run: (n) =>
      runtime.runPromise(Effect.gen(function*() {
        for (let i = 0; i < n; i++) {
          const k = mix.next()
          yield* Effect.sync(() => lruCacheGetOrSet(lru, k))
        }
      }))
  }
}

const effectCase = async (runtime: Runtime, capacity: number): Promise<Case> => {
  const cache = await runtime.runPromise(Cache.make({
    capacity,
    timeToLive: Duration.infinity,
    lookup: (k: number) => Effect.succeed(compute(k))
  }))
  const mix = new Mix(capacity)
  return {
    name: "Effect Cache.get, lookup Effect.succeed",
    iterations: EFFECT_CACHE_ITERATIONS,
    run: (n) =>
      runtime.runPromise(Effect.gen(function*() {
        for (let i = 0; i < n; i++) yield* cache.get(mix.next())
      }))
  }
}

const oursCase = (runtime: Runtime, capacity: number): Case & { readonly hitRate: () => Promise<number> } => {
  const cached = RequestCache.cached({
    name: `complexity-${capacity}`,
    lookup: (k: number) => Effect.succeed(compute(k)),
    policy: { capacity }
  })
  const mix = new Mix(capacity)
  let hits = 0, misses = 0
  return {
    name: "ours, lookup Effect.succeed",
    run: (n) =>
      runtime.runPromise(Effect.gen(function*() {
        for (let i = 0; i < n; i++) yield* cached(mix.next())
      })),
    /** The hit rate since the last call (so: of the timed runs, when called after the fill). */
    hitRate: async () => {
      const stats = await runtime.runPromise(cached.stats)
      const rate = (stats.hits - hits) / (stats.hits - hits + stats.misses - misses)
      hits = stats.hits
      misses = stats.misses
      return rate
    }
  }
}

export const run = async (): Promise<void> => {
  const runtime = ManagedRuntime.make(RequestCache.layer())
  const fill = async (c: Case, capacity: number) => {
    await c.run(2 * capacity)
    return c
  }
  const oursSmall = oursCase(runtime, SMALL)
  const oursLarge = oursCase(runtime, LARGE)
  const pairs: Array<[Case, Case]> = [
    [await fill(floorCase(runtime, SMALL), SMALL), await fill(floorCase(runtime, LARGE), LARGE)],
    [
      await fill(await effectCase(runtime, SMALL), SMALL),
      await fill(await effectCase(runtime, EFFECT_CACHE_LARGE), EFFECT_CACHE_LARGE)
    ],
    [await fill(oursSmall, SMALL), await fill(oursLarge, LARGE)]
  ]
  await oursSmall.hitRate()
  await oursLarge.hitRate()

  // Small and large of each structure are timed side by side, all interleaved.
  const ns = await measure(pairs.flat(), ITERATIONS)
  const rates = [await oursSmall.hitRate(), await oursLarge.hitRate()]
  table(
    `5. O(1): 50% hits, 50% misses with eviction; capacity 1,000,000 vs 1,000; ${
      num(ITERATIONS, 0)
    } calls (Effect Cache ${num(EFFECT_CACHE_ITERATIONS, 0)}), best of 5`,
    ["case", "ns/op at 1,000", "ns/op at 1,000,000", "ratio", "target", "met"],
    pairs.map(([small], i) => {
      const isOurs = small.name.startsWith("ours")
      const r = ns[2 * i + 1]! / ns[2 * i]!
      const name = small.name.startsWith("Effect") && EFFECT_CACHE_LARGE !== LARGE
        ? `${small.name} (large: ${num(EFFECT_CACHE_LARGE, 0)})`
        : small.name
      return [
        name,
        num(ns[2 * i]!),
        num(ns[2 * i + 1]!),
        ratio(r),
        isOurs ? `<= ${TARGET}x` : "",
        met(isOurs ? r <= TARGET : undefined)
      ]
    })
  )
  console.log(
    `ours' hit rate over the timed runs: ${(rates[0]! * 100).toFixed(1)}% at 1,000, ${
      (rates[1]! * 100).toFixed(1)
    }% at 1,000,000`
  )
  await runtime.dispose()
}
