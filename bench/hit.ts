/**
 * Scenario 1, hits: one fiber cycling through 1,000 keys that are all cached. Each case's loop is
 * written out by hand (no shared loop taking the call as a parameter), so that no case pays for
 * a call site that the others make polymorphic.
 */
import * as Cache from "effect/Cache"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as ManagedRuntime from "effect/ManagedRuntime"
import { RequestCache } from "../src/index.js"
import { type Case, measure, num, table, versusFloor } from "./harness.js"

const KEYS = 1_000
const ITERATIONS = 300_000
/** Effect's Cache is several times slower: fewer calls keep the suite short. */
const EFFECT_CACHE_ITERATIONS = 100_000
const TARGET = 2

export const run = async (): Promise<void> => {
  const runtime = ManagedRuntime.make(RequestCache.layer({ capacity: 2_000 }))

  const map = new Map<number, number>()
  for (let k = 0; k < KEYS; k++) map.set(k, k)
  const effectCache = await runtime.runPromise(
    Cache.make({ capacity: 2_000, timeToLive: Duration.infinity, lookup: (k: number) => Effect.succeed(k) })
  )
  const ours = RequestCache.cached({ name: "hit", lookup: (k: number) => Effect.succeed(k) })
  const oursTinyLfu = RequestCache.cached({
    name: "hit-w-tinylfu",
    lookup: (k: number) => Effect.succeed(k),
    policy: { eviction: "w-tinylfu" }
  })
  const oursTtl = RequestCache.cached({
    name: "hit-ttl",
    lookup: (k: number) => Effect.succeed(k),
    policy: { timeToLive: "1 hour" }
  })

  const cases: Array<Case> = [
    {
      name: "floor: Effect.sync(() => map.get(k))",
      run: (n) =>
        runtime.runPromise(Effect.gen(function*() {
          for (let i = 0, k = 0; i < n; i++) {
            yield* Effect.sync(() => map.get(k))
            if (++k === KEYS) k = 0
          }
        }))
    },
    {
      name: "Effect Cache.get",
      iterations: EFFECT_CACHE_ITERATIONS,
      run: (n) =>
        runtime.runPromise(Effect.gen(function*() {
          for (let i = 0, k = 0; i < n; i++) {
            yield* effectCache.get(k)
            if (++k === KEYS) k = 0
          }
        }))
    },
    {
      name: "ours, no TTL",
      run: (n) =>
        runtime.runPromise(Effect.gen(function*() {
          for (let i = 0, k = 0; i < n; i++) {
            yield* ours(k)
            if (++k === KEYS) k = 0
          }
        }))
    },
    {
      name: "ours, W-TinyLFU, no TTL",
      run: (n) =>
        runtime.runPromise(Effect.gen(function*() {
          for (let i = 0, k = 0; i < n; i++) {
            yield* oursTinyLfu(k)
            if (++k === KEYS) k = 0
          }
        }))
    },
    {
      name: "ours, timeToLive 1 hour",
      run: (n) =>
        runtime.runPromise(Effect.gen(function*() {
          for (let i = 0, k = 0; i < n; i++) {
            yield* oursTtl(k)
            if (++k === KEYS) k = 0
          }
        }))
    }
  ]

  // The warm-up run of `measure` fills the caches: from then on every call is a hit.
  const ns = await measure(cases, ITERATIONS)
  table(
    `1. hit: 1,000 cached keys, one fiber, ${num(ITERATIONS, 0)} calls (Effect Cache ${
      num(EFFECT_CACHE_ITERATIONS, 0)
    }), best of 5`,
    ["case", "ns/op", "vs floor", "target", "met"],
    versusFloor(cases, ns, TARGET)
  )
  const lru = ns[cases.findIndex((c) => c.name === "ours, no TTL")]!
  const tinyLfu = ns[cases.findIndex((c) => c.name === "ours, W-TinyLFU, no TTL")]!
  console.log(`W-TinyLFU hit / LRU hit: ${(tinyLfu / lru).toFixed(2)}x (target <= 1.3x)`)
  await runtime.dispose()
}
