/**
 * Promise API, hits: one caller awaiting, in sequence, 1,000 keys that are all cached. The floor is
 * the least an async cache can cost: an async function that reads a `Map`. Each case's loop is
 * written out by hand (no shared loop taking the call as a parameter), so that no case pays for a
 * call site that the others make polymorphic.
 */
import { createCache } from "async-cache-dedupe"
import { BentoCache, bentostore } from "bentocache"
import { memoryDriver } from "bentocache/drivers/memory"
import { LRUCache } from "lru-cache"
import pMemoize from "p-memoize"
import { alruCache } from "../src/Promise.js"
import { type Case, measure, num, table, versusFloor } from "./harness.js"

const KEYS = 1_000
const ITERATIONS = 300_000
/** The slower peers run fewer calls, to keep the suite short. */
const SLOW_ITERATIONS = 50_000
const SLOWEST_ITERATIONS = 10_000
const TARGET = 1.3

const value = (k: number): number => k * 2 + 1

export const run = async (): Promise<void> => {
  const map = new Map<number, number>()
  for (let k = 0; k < KEYS; k++) map.set(k, value(k))
  const floor = async (k: number) => map.get(k)

  const ours = alruCache(async (k: number) => value(k), { maxsize: KEYS })
  const oursTtl = alruCache(async (k: number) => value(k), { maxsize: KEYS, ttl: "1 hour" })
  const lruFetch = new LRUCache<number, number>({ max: KEYS, fetchMethod: async (k) => value(k) })
  const pMemoized = pMemoize(async (k: number) => value(k), { cache: new LRUCache<number, number>({ max: KEYS }) })
  const dedupe = createCache({ ttl: 3_600, storage: { type: "memory", options: { size: 2 * KEYS } } })
    .define("hit", async (k: number) => value(k))
  const bento = new BentoCache({
    default: "memory",
    stores: { memory: bentostore().useL1Layer(memoryDriver({ maxItems: 2 * KEYS })) }
  })

  // Every case is warmed with all keys here, and again by the untimed run of `measure`.
  for (let k = 0; k < KEYS; k++) {
    await ours(k)
    await oursTtl(k)
    await lruFetch.fetch(k)
    await pMemoized(k)
    await dedupe.hit(k)
    await bento.getOrSet({ key: String(k), factory: () => value(k), ttl: "1h" })
  }

  const cases: Array<Case> = [
    {
      name: "floor: async (k) => map.get(k)",
      run: async (n) => {
        for (let i = 0, k = 0; i < n; i++) {
          await floor(k)
          if (++k === KEYS) k = 0
        }
      }
    },
    {
      name: "ours: alruCache, maxsize 1,000",
      run: async (n) => {
        for (let i = 0, k = 0; i < n; i++) {
          await ours(k)
          if (++k === KEYS) k = 0
        }
      }
    },
    {
      name: "ours: alruCache, maxsize 1,000, ttl 1 hour",
      run: async (n) => {
        for (let i = 0, k = 0; i < n; i++) {
          await oursTtl(k)
          if (++k === KEYS) k = 0
        }
      }
    },
    {
      name: "lru-cache fetch",
      run: async (n) => {
        for (let i = 0, k = 0; i < n; i++) {
          await lruFetch.fetch(k)
          if (++k === KEYS) k = 0
        }
      }
    },
    {
      name: "p-memoize (lru-cache as its cache)",
      iterations: SLOW_ITERATIONS,
      run: async (n) => {
        for (let i = 0, k = 0; i < n; i++) {
          await pMemoized(k)
          if (++k === KEYS) k = 0
        }
      }
    },
    {
      name: "async-cache-dedupe (memory storage)",
      iterations: SLOW_ITERATIONS,
      run: async (n) => {
        for (let i = 0, k = 0; i < n; i++) {
          await dedupe.hit(k)
          if (++k === KEYS) k = 0
        }
      }
    },
    {
      name: "bentocache getOrSet (memory L1)",
      iterations: SLOWEST_ITERATIONS,
      run: async (n) => {
        for (let i = 0, k = 0; i < n; i++) {
          await bento.getOrSet({ key: String(k), factory: () => value(k), ttl: "1h" })
          if (++k === KEYS) k = 0
        }
      }
    }
  ]

  const ns = await measure(cases, ITERATIONS)
  table(
    `P1. promise-hit: 1,000 cached keys, sequential await, ${num(ITERATIONS, 0)} calls (p-memoize, async-cache-dedupe ${
      num(SLOW_ITERATIONS, 0)
    }; bentocache ${num(SLOWEST_ITERATIONS, 0)}), best of 5`,
    ["case", "ns/op", "vs floor", "target", "met"],
    versusFloor(cases, ns, TARGET)
  )
  await bento.disconnectAll()
}
