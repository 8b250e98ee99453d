/**
 * `createCache` (async-cache's `AsyncCache` on this core): get with a per-call ttl, getMany through
 * one loadMany, set, delete, clear, warmup, getMetrics, close; keys encoded as everywhere.
 */
import { afterEach, describe, expect, it, vi } from "@effect/vitest"
import { CacheKey, CacheWeigher } from "effect-request-cache"
import { CacheClosedError, CacheOptionError, createCache } from "effect-request-cache/promise"

/** A promise resolved from outside. */
const latch = <A = void>() => {
  let open!: (value: A) => void
  let fail!: (error: unknown) => void
  const promise = new Promise<A>((resolve, reject) => {
    open = resolve
    fail = reject
  })
  return { promise, open, fail }
}

/** Lets every pending reaction (and the load fibers' microtasks) run. */
const settle = async () => {
  for (let i = 0; i < 20; i++) await Promise.resolve()
  await new Promise((resolve) => setImmediate(resolve))
}

/** Time as the cache reads it (`Date.now`), moved by the test. */
const clock = {
  start: () => {
    vi.useFakeTimers({ toFake: ["Date"] })
    vi.setSystemTime(1_000_000)
  },
  advance: (ms: number) => vi.setSystemTime(Date.now() + ms)
}
afterEach(() => {
  vi.useRealTimers()
})

describe("createCache: get", () => {
  it("a miss runs the loader and stores its value; a hit returns it, the same settled promise each time", async () => {
    const cache = createCache({ maxsize: 10 })
    let runs = 0
    const user = { id: 1 }
    const loader = async () => {
      runs++
      return user
    }
    expect(await cache.get("user:1", loader)).toBe(user)
    const hit = cache.get("user:1", loader)
    expect(cache.get("user:1", loader)).toBe(hit)
    let done = false
    void hit.then(() => (done = true))
    await Promise.resolve()
    expect(done).toBe(true)
    expect(await hit).toBe(user)
    expect(runs).toBe(1)
    expect(cache.getMetrics()).toEqual({ hits: 2, misses: 1, size: 1, hitRate: 2 / 3 })
  })

  it("concurrent gets of a key share one load (the first caller's loader); joined calls count as hits", async () => {
    const cache = createCache()
    const gate = latch<string>()
    const loaders = Array.from({ length: 10 }, (_, i) => vi.fn(() => i === 0 ? gate.promise : Promise.resolve("other")))
    const calls = loaders.map((loader) => cache.get("k", loader))
    await settle()
    gate.open("first")
    expect(await Promise.all(calls)).toEqual(Array(10).fill("first"))
    expect(loaders.filter((loader) => loader.mock.calls.length > 0)).toHaveLength(1)
    expect(cache.getMetrics()).toMatchObject({ hits: 9, misses: 1 })
    expect(cache.cacheStats()).toMatchObject({ coalesced: 9, loads: 1 })
  })

  it("keys are encoded by content: 1 and \"1\" are two keys, equal objects one", async () => {
    const cache = createCache()
    expect(await cache.get(1, () => "number")).toBe("number")
    expect(await cache.get("1", () => "string")).toBe("string")
    expect(await cache.get({ b: 2, a: [1] }, () => "object")).toBe("object")
    expect(await cache.get({ a: [1], b: 2 }, () => "again")).toBe("object")
    expect(cache.getMetrics()).toMatchObject({ misses: 3, hits: 1, size: 3 })
  })

  it("a key that cannot be encoded rejects with a KeyEncodingError; a loader that is not a function with a TypeError", async () => {
    const cache = createCache()
    const rejection = await cache.get({ f: () => 1 }, () => 1).catch((error: unknown) => error)
    expect(rejection).toBeInstanceOf(CacheKey.KeyEncodingError)
    expect((rejection as Error).message).toContain("key")
    await expect(cache.get("k", 42 as never)).rejects.toThrow(TypeError)
    await expect(cache.delete(Symbol("s"))).rejects.toBeInstanceOf(CacheKey.KeyEncodingError)
  })

  it("a rejection reaches every caller as the same object and is not cached by default; cacheErrors caches it", async () => {
    const error = new Error("down")
    const plain = createCache()
    let runs = 0
    const failing = async () => {
      runs++
      throw error
    }
    await expect(plain.get("k", failing)).rejects.toBe(error)
    await expect(plain.get("k", failing)).rejects.toBe(error)
    expect(runs).toBe(2)
    const caching = createCache({ cacheErrors: true })
    await expect(caching.get("k", failing)).rejects.toBe(error)
    await expect(caching.get("k", failing)).rejects.toBe(error)
    expect(runs).toBe(3)
    // A loader that throws instead of rejecting fails the same way.
    await expect(plain.get("sync", () => {
      throw error
    })).rejects.toBe(error)
  })

  it("a Promise caller cannot be interrupted: a load runs to its end even when its entry is deleted meanwhile", async () => {
    const cache = createCache()
    const gate = latch<string>()
    const pending = cache.get("k", () => gate.promise)
    await settle()
    expect(await cache.delete("k")).toBe(true)
    gate.open("value")
    expect(await pending).toBe("value") // its caller gets it...
    expect(await cache.get("k", () => "reloaded")).toBe("reloaded") // ...but it was not stored
  })
})

describe("createCache: time to live", () => {
  it("a call's ttl is its entry's own; the cache's ttl is the default", async () => {
    clock.start()
    const cache = createCache({ ttl: "5 minutes" })
    let runs = 0
    const loader = async () => ++runs
    expect(await cache.get("short", loader, { ttl: "1 minute" })).toBe(1)
    expect(await cache.get("long", loader)).toBe(2)
    clock.advance(59_999)
    expect(await cache.get("short", loader)).toBe(1)
    clock.advance(1)
    expect(await cache.get("short", loader)).toBe(3) // expired after its own minute
    expect(await cache.get("long", loader)).toBe(2)
    clock.advance(4 * 60_000)
    expect(await cache.get("long", loader)).toBe(4)
    expect(cache.cacheStats().expirations).toBe(2)
  })

  it("set stores a value, with its own ttl if given; a bad ttl rejects naming it", async () => {
    clock.start()
    const cache = createCache()
    await cache.set("banner", "by hand", { ttl: 100 })
    expect(await cache.get("banner", () => "loaded")).toBe("by hand")
    clock.advance(100)
    expect(await cache.get("banner", () => "loaded")).toBe("loaded")
    await expect(cache.set("x", 1, { ttl: "soon" as never })).rejects.toThrow(`Invalid cache option "ttl"`)
    const rejection = await cache.get("y", () => 1, { ttl: -5 }).catch((error: unknown) => error)
    expect(rejection).toBeInstanceOf(CacheOptionError)
    expect((rejection as CacheOptionError).option).toBe("ttl")
  })

  it("swr: a stale value is served while the stale call's loader refreshes it", async () => {
    clock.start()
    const cache = createCache({ ttl: 1_000, swr: 60_000 })
    expect(await cache.get("k", () => "v1")).toBe("v1")
    clock.advance(1_000)
    const gate = latch<string>()
    expect(await cache.get("k", () => gate.promise)).toBe("v1") // stale; the refresh starts
    expect(await cache.get("k", () => "never")).toBe("v1") // the same refresh still runs
    gate.open("v2")
    await settle()
    expect(await cache.get("k", () => "never")).toBe("v2")
    expect(cache.cacheStats()).toMatchObject({ staleHits: 2, refreshes: 1 })
  })
})

describe("createCache: getMany", () => {
  it("cached keys are hits, loading keys are joined, the others go to one loadMany, once, in order", async () => {
    const cache = createCache()
    await cache.set("a", "A")
    const gate = latch<string>()
    const loadingB = cache.get("b", () => gate.promise)
    const calls: Array<ReadonlyArray<string>> = []
    const values = cache.getMany(["c", "a", "b", "d", "c"], async (keys) => {
      calls.push(keys)
      return keys.map((key) => key.toUpperCase())
    })
    gate.open("B")
    expect(await values).toEqual(["C", "A", "B", "D", "C"])
    expect(await loadingB).toBe("B")
    expect(calls).toEqual([["c", "d"]])
    expect(cache.cacheStats()).toMatchObject({ hits: 1, coalesced: 2, misses: 3, batches: 1, size: 4 })
    // Now every key is cached: no call at all.
    expect(await cache.getMany(["d", "c"], () => Promise.reject(new Error("not called")))).toEqual(["D", "C"])
    expect(calls).toHaveLength(1)
    expect(await cache.getMany([], () => [])).toEqual([])
  })

  it("an Error among the values rejects its key with that object; the others are stored", async () => {
    const cache = createCache()
    const missing = new Error("no such key")
    const result = cache.getMany(["x", "y"], (keys) => keys.map((key) => key === "y" ? missing : key))
    await expect(result).rejects.toBe(missing)
    expect(await cache.get("x", () => "reloaded")).toBe("x")
    expect(await cache.get("y", () => "reloaded")).toBe("reloaded") // the error was not cached
  })

  it("a result of the wrong length rejects each of those keys with an error giving both lengths", async () => {
    const cache = createCache({ name: "short" })
    const loadMany = (keys: ReadonlyArray<number>) => keys.slice(1)
    const rejection = await cache.getMany([1, 2, 3], loadMany).catch((error: unknown) => error)
    expect(rejection).toBeInstanceOf(TypeError)
    expect((rejection as Error).message).toContain(
      `createCache "short" getMany: the batch function returned 2 values for 3 keys`
    )
    // Every key of that call rejected (none was stored), also for another caller joining one.
    expect(cache.getMetrics().size).toBe(0)
    await expect(cache.getMany([4], () => "not an array" as never)).rejects.toThrow("for 1 keys")
  })

  it("a stale key is served and refreshed through loadMany, in a batch of its own", async () => {
    clock.start()
    const cache = createCache({ ttl: 1_000, swr: 10_000 })
    const calls: Array<ReadonlyArray<string>> = []
    let version = 0
    const loadMany = (keys: ReadonlyArray<string>) => {
      calls.push([...keys])
      version++
      return keys.map((key) => `${key}${version}`)
    }
    expect(await cache.getMany(["a", "b"], loadMany)).toEqual(["a1", "b1"])
    clock.advance(1_000)
    expect(await cache.getMany(["a", "c"], loadMany)).toEqual(["a1", "c2"]) // a is stale, c missed
    await settle()
    expect(calls).toEqual([["a", "b"], ["c"], ["a"]])
    expect(await cache.get("a", () => "never")).toBe("a3")
  })

  it("a rejection of loadMany rejects each of its keys, and a joiner gets it too", async () => {
    const cache = createCache()
    const error = new Error("db down")
    const gate = latch<never>()
    const many = cache.getMany([1, 2], () => gate.promise)
    const joiner = cache.get(2, () => "never")
    gate.fail(error)
    await expect(many).rejects.toBe(error)
    await expect(joiner).rejects.toBe(error)
  })
})

describe("createCache: delete, clear, warmup, metrics", () => {
  it("delete answers whether there was an entry; clear removes everything", async () => {
    const cache = createCache()
    await cache.get("a", () => 1)
    await cache.get("b", () => 2)
    expect(await cache.delete("a")).toBe(true)
    expect(await cache.delete("a")).toBe(false)
    cache.clear()
    expect(cache.getMetrics().size).toBe(0)
    expect(await cache.get("b", () => 3)).toBe(3)
  })

  it("warmup loads, concurrently, what is not cached (a Map or [key, loader] pairs) and answers how many loaded", async () => {
    const cache = createCache()
    await cache.set("popular:key1", "already")
    const gates = [latch<string>(), latch<string>()]
    const loaded = cache.warmup(
      new Map<string, () => Promise<string>>([
        ["popular:key1", () => Promise.resolve("again")],
        ["popular:key2", () => gates[0]!.promise],
        ["popular:key3", () => gates[1]!.promise]
      ])
    )
    await settle()
    // Both loads run at once: each waits for its own gate.
    expect(cache.getMetrics()).toMatchObject({ misses: 2, size: 3 })
    gates[1]!.open("three")
    gates[0]!.open("two")
    expect(await loaded).toBe(2)
    expect(await cache.get("popular:key1", () => "never")).toBe("already")
    const failing = await cache.warmup([["bad", () => Promise.reject(new Error("no"))], ["ok", () => "fine"]])
    expect(failing).toBe(1)
    expect(await cache.warmup([["twice", () => 1], ["twice", () => 2]])).toBe(1)
    expect(await cache.get("twice", () => 3)).toBe(1)
    await expect(cache.warmup([["k", "not a loader" as never]])).rejects.toThrow(TypeError)
  })

  it("getMetrics: hits (fresh, stale and joined calls), misses, size and hitRate as a fraction", async () => {
    const cache = createCache()
    expect(cache.getMetrics()).toEqual({ hits: 0, misses: 0, size: 0, hitRate: 0 })
    for (const key of [1, 2, 1, 1, 3, 2, 1, 1, 1, 2]) await cache.get(key, () => key)
    expect(cache.getMetrics()).toEqual({ hits: 7, misses: 3, size: 3, hitRate: 0.7 })
  })
})

describe("createCache: weights", () => {
  it("maxWeight with a weigher evicts least recently used entries by weight; a value heavier than the bound is not kept", async () => {
    const cache = createCache({ maxsize: 100, maxWeight: 10, weigher: (value) => (value as string).length })
    await cache.get("a", () => "xxxx")
    await cache.get("b", () => "yyyy")
    await cache.get("a", () => "never") // a is now the most recent
    await cache.get("c", () => "zzzz") // 12 > 10: b goes
    expect(cache.cacheStats()).toMatchObject({ size: 2, weight: 8, evictions: 1 })
    expect(await cache.get("b", () => "b again")).toBe("b again") // a miss: 4 + 4 + 7 > 10, a goes
    expect(await cache.get("huge", () => "x".repeat(11))).toBe("x".repeat(11)) // returned, not kept
    expect(cache.cacheStats().weight).toBeLessThanOrEqual(10)
    expect(await cache.get("huge", () => "reloaded")).toBe("reloaded")
  })

  it("CacheWeigher.estimateBytes as the weigher: the stats' weight is the estimate of what is held", async () => {
    const cache = createCache({ weigher: CacheWeigher.estimateBytes })
    const value = { id: 1, name: "Ada Lovelace", tags: ["math", "engines"] }
    await cache.get("ada", () => value)
    expect(cache.cacheStats().weight).toBe(CacheWeigher.estimateBytes(value))
  })
})

describe("createCache: close", () => {
  it("later calls reject with CacheClosedError, hits included; loads and getMany in flight reject with it", async () => {
    const cache = createCache({ name: "app" })
    await cache.get("cached", () => 1)
    const gate = latch<number>()
    const loading = cache.get("slow", () => gate.promise)
    const many = cache.getMany(["m1", "m2"], () => gate.promise.then(() => [1, 2]))
    await settle()
    await cache.close()
    for (const pending of [loading, many]) {
      const error = await pending.catch((e: unknown) => e)
      expect(error).toBeInstanceOf(CacheClosedError)
      expect((error as CacheClosedError).namespace).toBe("app")
    }
    await expect(cache.get("cached", () => 2)).rejects.toBeInstanceOf(CacheClosedError)
    await expect(cache.getMany(["cached"], () => [2])).rejects.toBeInstanceOf(CacheClosedError)
    await expect(cache.set("k", 1)).rejects.toBeInstanceOf(CacheClosedError)
    await expect(cache.delete("k")).rejects.toBeInstanceOf(CacheClosedError)
    await expect(cache.warmup([])).rejects.toBeInstanceOf(CacheClosedError)
    gate.open(1)
    await settle()
    expect(cache.getMetrics().size).toBe(0)
    await cache.close() // closing again is harmless
  })
})

describe("createCache: options", () => {
  const bad: Array<[string, Record<string, unknown>]> = [
    ["maxsize", { maxsize: 0 }],
    ["ttl", { ttl: "soon" }],
    ["ttl", { ttl: () => 1 }],
    ["swr", { swr: {} }],
    ["maxWeight", { maxWeight: 10 }],
    ["weigher", { weigher: 1 }],
    ["eviction", { eviction: "fifo" }],
    ["name", { name: "" }],
    ["key", { key: (k: unknown) => k }]
  ]
  for (const [option, options] of bad) {
    it(`${JSON.stringify(options)} throws a CacheOptionError naming ${option}`, () => {
      let thrown: unknown
      try {
        createCache(options as never)
      } catch (error) {
        thrown = error
      }
      expect(thrown).toBeInstanceOf(CacheOptionError)
      expect((thrown as CacheOptionError).option).toBe(option)
    })
  }
})
