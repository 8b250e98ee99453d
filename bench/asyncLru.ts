/**
 * The benchmark scenarios of Python's async-lru (its `benchmark.py`), run on our `alruCache`: hit,
 * miss, fill/eviction, clear, TTL expiry, invalidation, info, concurrent hits and the uncached
 * baseline, in async-lru's configurations (maxsize 128, unbounded, maxsize 16 with a TTL, unbounded
 * with a TTL), and its hits through a decorated method (`@cachedMethod`, async-lru's `meth-*`
 * cases). One table: each row is one scenario in one configuration, with its natural floor
 * (what the same operation costs with no cache, or over a plain `Map`) and the same operation over
 * lru-cache (`fetch` for calls, `delete` for invalidation, `clear` for clear).
 *
 * Where async-lru's version measures something else after its first round, this one measures what
 * the scenario is named for: its invalidation benchmark invalidates keys that are already gone from
 * the second round on, and its TTL benchmark finds the entry expired only once; here every timed
 * invalidation finds its key and every timed TTL call finds its entry expired (the cache is refilled,
 * and the TTL waited out on a real timer, outside the timed part).
 *
 * The loops are shared between the rows of one kind (a closure per row; ours, the floors and
 * lru-cache each have their own copy), so a call site still sees several caches or lru-cache
 * instances of different options: these rows compare scenarios. The close comparison of hits,
 * each loop written out for one case alone, is promise-hit.
 */
import type { DurationInput } from "effect/Duration"
import { LRUCache } from "lru-cache"
import { setTimeout as sleep } from "node:timers/promises"
import { alruCache, type AlruCached, cachedMethod } from "../src/Promise.js"
import { type Case, gc, measure, num, ratio, table } from "./harness.js"

const ROUNDS = 5
/** async-lru's TTL is 10 ms; a shorter one keeps the waits of the TTL-expiry rows short. */
const EXPIRY_TTL_MS = 2
const LONG_TTL: DurationInput = "1 hour"
const LONG_TTL_MS = 3_600_000
/**
 * lru-cache needs a bound: "unbounded" rows give it one no row reaches (no row holds more than
 * 1,000 keys). Not a huge one: lru-cache allocates, and `clear()` walks, arrays of that length.
 */
const LRU_UNBOUNDED = 1_024

const identity = async (x: number): Promise<number> => x

type Ours = AlruCached<[k: number], number>

interface Config {
  readonly name: string
  readonly maxsize: number
  readonly ttl: boolean
}
/** async-lru's four configurations; its TTL (10 ms) is an hour here where the rows want hits. */
const configs: ReadonlyArray<Config> = [
  { name: "maxsize 128", maxsize: 128, ttl: false },
  { name: "unbounded", maxsize: Infinity, ttl: false },
  { name: "maxsize 16, ttl 1 h", maxsize: 16, ttl: true },
  { name: "unbounded, ttl 1 h", maxsize: Infinity, ttl: true }
]

const ours = (config: Config, ttl: DurationInput = LONG_TTL): Ours =>
  alruCache(identity, config.ttl ? { maxsize: config.maxsize, ttl } : { maxsize: config.maxsize })

/** An instance with a `@cachedMethod` in `config` and the same method undecorated. */
const methodHost = (config: Config) => {
  const options = config.ttl ? { maxsize: config.maxsize, ttl: LONG_TTL } : { maxsize: config.maxsize }
  class Host {
    async plain(x: number): Promise<number> {
      return x
    }
    @cachedMethod(options)
    async cached(x: number): Promise<number> {
      return x
    }
  }
  return new Host()
}

const lruFetch = (config: Config, ttl = LONG_TTL_MS): LRUCache<number, number> =>
  new LRUCache<number, number>({
    max: config.maxsize === Infinity ? LRU_UNBOUNDED : config.maxsize,
    ...(config.ttl ? { ttl } : {}),
    fetchMethod: identity
  })

const fill = async (f: (k: number) => Promise<unknown>, from: number, to: number): Promise<void> => {
  for (let k = from; k < to; k++) await f(k)
}

/** Puts keys 0 .. n - 1 in a map or an lru-cache (the untimed setup of clear and invalidate). */
const setAll = (m: { set: (k: number, v: number) => unknown }, n: number): void => {
  for (let k = 0; k < n; k++) m.set(k, k)
}

/**
 * Sequential awaited calls, cycling through `keys` keys from `first`. Three copies of one loop, so
 * that each call site sees one kind of function: ours, a floor, lru-cache's `fetch`.
 */
const cycle = (f: (k: number) => Promise<unknown>, first: number, keys: number) => async (n: number) => {
  for (let i = 0, k = first; i < n; i++) {
    await f(k)
    if (++k === first + keys) k = first
  }
}
const cycleFloor = (f: (k: number) => Promise<unknown>, first: number, keys: number) => async (n: number) => {
  for (let i = 0, k = first; i < n; i++) {
    await f(k)
    if (++k === first + keys) k = first
  }
}
const cycleLru = (lru: LRUCache<number, number>, first: number, keys: number) => async (n: number) => {
  for (let i = 0, k = first; i < n; i++) {
    await lru.fetch(k)
    if (++k === first + keys) k = first
  }
}

/** One row of the table: ours, its floor, lru-cache; ns per operation. */
interface Row {
  readonly scenario: string
  readonly config: string
  readonly ours: number
  readonly floor?: number
  readonly lru?: number
}

/** Measures `ours`, `floor` and `lru` cases interleaved (per operation). */
const triple = async (
  scenario: string,
  config: string,
  iterations: number,
  cases: { readonly ours: Case["run"]; readonly floor?: Case["run"]; readonly lru?: Case["run"] }
): Promise<Row> => {
  const list: Array<Case> = [{ name: "ours", run: cases.ours }]
  if (cases.floor !== undefined) list.push({ name: "floor", run: cases.floor })
  if (cases.lru !== undefined) list.push({ name: "lru", run: cases.lru })
  const ns = await measure(list, iterations, { rounds: ROUNDS })
  const at = (name: string) => {
    const i = list.findIndex((c) => c.name === name)
    return i < 0 ? {} : { [name]: ns[i]! }
  }
  return { scenario, config, ours: ns[0]!, ...at("floor"), ...at("lru") }
}

/**
 * A case whose every timed batch needs an untimed setup first (refill a cache, wait out a TTL).
 * `run` does `ops` operations; the time of a round is the sum of its `batches` timed parts.
 */
interface SetupCase {
  readonly setup: () => Promise<void>
  readonly run: () => Promise<void>
  readonly ops: number
}

/** Like `measure`, for cases with a setup: ns per operation, best round, cases interleaved. */
const measureWithSetup = async (cases: ReadonlyArray<SetupCase>, batches: number): Promise<Array<number>> => {
  for (const c of cases) {
    await c.setup()
    await c.run()
  }
  const best = cases.map(() => Infinity)
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < cases.length; i++) {
      const c = cases[i]!
      gc()
      let total = 0
      for (let b = 0; b < batches; b++) {
        await c.setup()
        const start = performance.now()
        await c.run()
        total += performance.now() - start
      }
      best[i] = Math.min(best[i]!, (total * 1e6) / (batches * c.ops))
    }
  }
  return best
}

const tripleWithSetup = async (
  scenario: string,
  config: string,
  batches: number,
  cases: { readonly ours: SetupCase; readonly floor?: SetupCase; readonly lru?: SetupCase }
): Promise<Row> => {
  const list: Array<SetupCase> = [cases.ours]
  if (cases.floor !== undefined) list.push(cases.floor)
  if (cases.lru !== undefined) list.push(cases.lru)
  const ns = await measureWithSetup(list, batches)
  return {
    scenario,
    config,
    ours: ns[0]!,
    ...(cases.floor !== undefined ? { floor: ns[1]! } : {}),
    ...(cases.lru !== undefined ? { lru: ns[list.length - 1]! } : {})
  }
}

export const run = async (): Promise<void> => {
  const rows: Array<Row> = []
  const started = performance.now()

  // Uncached baseline: the async function itself, awaited. It is the floor of every call row.
  const [uncached] = await measure(
    [{ name: "uncached", run: cycleFloor(identity, 0, 10) }],
    300_000,
    { rounds: ROUNDS }
  )
  rows.push({ scenario: "uncached baseline: await fn(k)", config: "-", ours: uncached! })
  const uncachedFloor = cycleFloor(identity, 0, 10)

  // Hit: 10 cached keys, sequential awaits (async-lru: 100 x 10 keys).
  for (const config of configs) {
    const f = ours(config)
    const lru = lruFetch(config)
    await fill(f, 0, 10)
    await fill((k) => lru.fetch(k), 0, 10)
    rows.push(
      await triple("hit: 10 cached keys, sequential", config.name, 100_000, {
        ours: cycle(f, 0, 10),
        floor: uncachedFloor,
        lru: cycleLru(lru, 0, 10)
      })
    )
  }

  // Hit through a decorated method (async-lru's meth-* rows): the floor is the undecorated method.
  for (const config of configs) {
    const host = methodHost(config)
    const lru = lruFetch(config)
    await fill((k) => host.cached(k), 0, 10)
    await fill((k) => lru.fetch(k), 0, 10)
    rows.push(
      await triple("hit: 10 cached keys, @cachedMethod", config.name, 100_000, {
        ours: cycle((k) => host.cached(k), 0, 10),
        floor: cycleFloor((k) => host.plain(k), 0, 10),
        lru: cycleLru(lru, 0, 10)
      })
    )
  }

  // Miss: 128 keys never seen, after a clear (async-lru: cache_clear, then 128 new objects). Every
  // 128 calls the cache is cleared again, so no miss evicts; the clear is part of the time.
  for (const config of configs) {
    const f = ours(config)
    const lru = lruFetch(config)
    const map = new Map<number, number>()
    let next = 0
    rows.push(
      await triple("miss: 128 new keys, cleared every 128", config.name, 5_000, {
        ours: async (n) => {
          for (let i = 0; i < n; i++) {
            if (i % 128 === 0) f.cacheClear()
            await f(next++)
          }
        },
        floor: async (n) => {
          for (let i = 0; i < n; i++) {
            if (i % 128 === 0) map.clear()
            const k = next++
            map.set(k, await identity(k))
          }
        },
        lru: async (n) => {
          for (let i = 0; i < n; i++) {
            if (i % 128 === 0) lru.clear()
            await lru.fetch(next++)
          }
        }
      })
    )
  }

  // Fill/eviction: a full maxsize-128 cache, then new keys, each a miss that evicts.
  {
    const config = configs[0]!
    const f = ours(config)
    const lru = lruFetch(config)
    await fill(f, -128, 0)
    await fill((k) => lru.fetch(k), -128, 0)
    let next = 0
    rows.push(
      await triple("fill/eviction: new keys into a full cache", config.name, 5_000, {
        ours: async (n) => {
          for (let i = 0; i < n; i++) await f(next++)
        },
        floor: uncachedFloor,
        lru: async (n) => {
          for (let i = 0; i < n; i++) await lru.fetch(next++)
        }
      })
    )
  }

  // Clear: of 100 entries (put back, untimed, before each clear: cacheSet, lru-cache's set); and of
  // an empty cache, which is what async-lru's clear benchmark measures from its second round on.
  for (const config of [configs[0]!, configs[1]!]) {
    const f = ours(config)
    const lru = lruFetch(config)
    const map = new Map<number, number>()
    rows.push(
      await tripleWithSetup("clear: 100 entries", config.name, 200, {
        ours: { setup: () => fill((k) => f.cacheSet(k, k), 0, 100), run: async () => f.cacheClear(), ops: 1 },
        floor: { setup: async () => setAll(map, 100), run: async () => map.clear(), ops: 1 },
        lru: { setup: async () => setAll(lru, 100), run: async () => lru.clear(), ops: 1 }
      })
    )
  }
  {
    const f = ours(configs[0]!)
    const lru = lruFetch(configs[0]!)
    const map = new Map<number, number>()
    rows.push(
      await triple("clear: empty cache", configs[0]!.name, 300_000, {
        ours: async (n) => {
          for (let i = 0; i < n; i++) f.cacheClear()
        },
        floor: async (n) => {
          for (let i = 0; i < n; i++) map.clear()
        },
        lru: async (n) => {
          for (let i = 0; i < n; i++) lru.clear()
        }
      })
    )
  }

  // TTL expiry: every timed call finds its entry expired. The TTL is waited out (untimed) before
  // each batch: the batch before reloaded every key.
  for (const config of [configs[2]!, configs[3]!]) {
    const keys = Math.min(config.maxsize, 500)
    const f = ours(config, EXPIRY_TTL_MS)
    const lru = lruFetch(config, EXPIRY_TTL_MS)
    const expire = () => sleep(EXPIRY_TTL_MS + 2)
    const name = config.name.replace("1 h", `${EXPIRY_TTL_MS} ms`)
    rows.push(
      await tripleWithSetup("TTL expiry: call finds its entry expired", name, Math.ceil(1_000 / keys), {
        ours: { setup: expire, run: () => fill(f, 0, keys), ops: keys },
        floor: { setup: expire, run: () => fill(identity, 0, keys), ops: keys },
        lru: { setup: expire, run: () => fill((k) => lru.fetch(k), 0, keys), ops: keys }
      })
    )
  }

  // Invalidation: every timed invalidation finds its key (put back, untimed, before each batch).
  for (const config of configs) {
    const keys = Math.min(config.maxsize, 1_000)
    const f = ours(config)
    const lru = lruFetch(config)
    const map = new Map<number, number>()
    const deleteAsync = async (k: number) => map.delete(k)
    rows.push(
      await tripleWithSetup("invalidate: await cacheInvalidate(k), k cached", config.name, Math.ceil(5_000 / keys), {
        ours: {
          setup: () => fill((k) => f.cacheSet(k, k), 0, keys),
          run: async () => {
            for (let k = 0; k < keys; k++) await f.cacheInvalidate(k)
          },
          ops: keys
        },
        floor: {
          setup: async () => setAll(map, keys),
          run: async () => {
            for (let k = 0; k < keys; k++) await deleteAsync(k)
          },
          ops: keys
        },
        lru: {
          setup: async () => setAll(lru, keys),
          run: async () => {
            for (let k = 0; k < keys; k++) lru.delete(k)
          },
          ops: keys
        }
      })
    )
  }

  // Info: cacheInfo() of a cache that was given 1,000 keys (async-lru: 1,000 calls of cache_info).
  for (const config of [configs[0]!, configs[1]!]) {
    const f = ours(config)
    await fill(f, 0, 1_000)
    const map = new Map<number, number>()
    for (let k = 0; k < 1_000; k++) map.set(k, k)
    const counters = { hits: 0, misses: 1_000 }
    let sink = 0
    rows.push(
      await triple("info: cacheInfo()", config.name, 300_000, {
        ours: async (n) => {
          for (let i = 0; i < n; i++) sink += f.cacheInfo().currsize
        },
        floor: async (n) => {
          for (let i = 0; i < n; i++) {
            const info = { hits: counters.hits, misses: counters.misses, maxsize: config.maxsize, currsize: map.size }
            sink += info.currsize
          }
        }
      })
    )
    if (sink < 0) console.log(sink)
  }

  // Concurrent hits: Promise.all over 100 cached keys (async-lru: asyncio.gather over 100 keys).
  // A maxsize-16 cache holds only 16 of them (async-lru's would miss): it gets 16 keys.
  for (const config of configs) {
    const size = Math.min(config.maxsize, 100)
    const concurrentKeys = Array.from({ length: size }, (_, i) => 600 + i)
    const f = ours(config)
    const lru = lruFetch(config)
    await fill(f, 600, 600 + size)
    await fill((k) => lru.fetch(k), 600, 600 + size)
    rows.push(
      await triple(`concurrent hits: Promise.all of ${size} keys`, config.name, 50_000, {
        ours: async (n) => {
          for (let i = 0; i < n; i += size) await Promise.all(concurrentKeys.map((k) => f(k)))
        },
        floor: async (n) => {
          for (let i = 0; i < n; i += size) await Promise.all(concurrentKeys.map((k) => identity(k)))
        },
        lru: async (n) => {
          for (let i = 0; i < n; i += size) await Promise.all(concurrentKeys.map((k) => lru.fetch(k)))
        }
      })
    )
  }

  const seconds = (performance.now() - started) / 1000
  const opt = (x: number | undefined, f: (x: number) => string) => x === undefined ? "" : f(x)
  table(
    `A. async-lru's scenarios, ours = alruCache; floor = the uncached function (calls) or a plain Map; per operation, best of ${ROUNDS} (${
      seconds.toFixed(1)
    } s)`,
    ["scenario", "config", "ns/op", "ops/s", "floor ns", "vs floor", "lru-cache ns", "vs lru-cache"],
    rows.map((r) => [
      r.scenario,
      r.config,
      num(r.ours),
      opsPerSecond(r.ours),
      opt(r.floor, num),
      opt(r.floor, (x) => ratio(r.ours / x)),
      opt(r.lru, num),
      opt(r.lru, (x) => ratio(r.ours / x))
    ])
  )
}

const opsPerSecond = (ns: number): string => {
  const perSecond = 1e9 / ns
  return perSecond >= 1e6 ? `${num(perSecond / 1e6, 2)} M` : `${num(perSecond / 1e3, 1)} k`
}
