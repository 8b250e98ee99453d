/**
 * Promise API, stampede: 10,000 callers ask at once (one `Promise.all`) for one cold key whose
 * function waits 10 ms on a real timer. Counts the function's runs (deduplicated: 1) and the wall
 * time of the whole `Promise.all`. The floor does the same with no cache: the first caller starts
 * the function and keeps its promise, and all 10,000 await that one promise. Every case is written
 * as the same 10,000 async callers, each awaiting one call, so that only the call differs. Every repetition uses
 * a key no case has seen.
 */
import { createCache } from "async-cache-dedupe"
import { BentoCache, bentostore } from "bentocache"
import { memoryDriver } from "bentocache/drivers/memory"
import { LRUCache } from "lru-cache"
import pMemoize from "p-memoize"
import { alruCache } from "../src/Promise.js"
import { coldRounds, met, num, ratio, table } from "./harness.js"

const CALLERS = 10_000
const REPETITIONS = 7
/** Untimed first repetitions: the first ones run much slower, while the JIT warms up. */
const WARMUP = 2
const TARGET = 1.1
const DELAY_MS = 10

const callers = Array.from({ length: CALLERS }, (_, i) => i)

export const run = async (): Promise<void> => {
  /** Function runs in the current repetition, per case. */
  const runs: Array<number> = []
  const slow = (which: number) => (k: number): Promise<number> => {
    runs[which] = (runs[which] ?? 0) + 1
    return new Promise((resolve) => setTimeout(() => resolve(k), DELAY_MS))
  }

  const ours = alruCache(slow(1), { maxsize: 1_000 })
  const lruFetch = new LRUCache<number, number>({ max: 1_000, fetchMethod: slow(2) })
  const pMemoized = pMemoize(slow(3), { cache: new LRUCache<number, number>({ max: 1_000 }) })
  const dedupe = createCache({ ttl: 3_600, storage: { type: "memory", options: { size: 1_000 } } })
    .define("stampede", slow(4))
  const bento = new BentoCache({
    default: "memory",
    stores: { memory: bentostore().useL1Layer(memoryDriver({ maxItems: 1_000 })) }
  })
  const bentoSlow = slow(5)

  const cases: Array<
    { readonly name: string; readonly ours?: boolean; readonly run: (key: number) => Promise<unknown> }
  > = [
    {
      name: "floor: 10,000 awaits of one shared promise",
      run: (key) => {
        let shared: Promise<number> | undefined
        return Promise.all(callers.map(async () => await (shared ??= slow(0)(key))))
      }
    },
    {
      name: "ours: alruCache",
      ours: true,
      run: (key) => Promise.all(callers.map(async () => await ours(key)))
    },
    {
      name: "lru-cache fetch",
      run: (key) => Promise.all(callers.map(async () => await lruFetch.fetch(key)))
    },
    {
      name: "p-memoize (lru-cache as its cache)",
      run: (key) => Promise.all(callers.map(async () => await pMemoized(key)))
    },
    {
      name: "async-cache-dedupe (memory storage)",
      run: (key) => Promise.all(callers.map(async () => await dedupe.stampede(key)))
    },
    {
      name: "bentocache getOrSet (memory L1)",
      run: (key) => {
        const factory = () => bentoSlow(key)
        return Promise.all(callers.map(async () => await bento.getOrSet({ key: String(key), factory, ttl: "1h" })))
      }
    }
  ]

  const { counts, ms } = await coldRounds(cases, runs, WARMUP, REPETITIONS)
  const floor = ms[0]!
  table(
    `P2. promise-stampede: ${
      num(CALLERS, 0)
    } concurrent callers, one cold key, function waits ${DELAY_MS} ms, best of ${REPETITIONS}`,
    ["case", "calls", "wall ms", "vs floor", "target", "met"],
    cases.map((c, i) => {
      const single = counts[i]!.every((n) => n === 1)
      const callsText = single ? "1" : `${Math.min(...counts[i]!)}..${Math.max(...counts[i]!)}`
      return [
        c.name,
        callsText,
        num(ms[i]!),
        ratio(ms[i]! / floor),
        c.ours === true ? `1 call, <= ${TARGET}x` : "",
        met(c.ours === true ? single && ms[i]! / floor <= TARGET : undefined)
      ]
    })
  )
  await bento.disconnectAll()
}
