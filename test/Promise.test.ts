import { afterEach, beforeEach, describe, expect, it, vi } from "@effect/vitest"
import { Effect } from "effect"
import { CacheKey } from "effect-request-cache"
import {
  alruCache,
  CacheClosedError,
  cachedMethod,
  CacheOptionError,
  invalidateTags,
  methodCache
} from "effect-request-cache/promise"
import * as fc from "fast-check"
import * as v8 from "node:v8"
import * as vm from "node:vm"

/** A promise resolved from outside: a latch for the function under the cache. */
const latch = <A = void>() => {
  let open!: (value: A) => void
  let fail!: (error: unknown) => void
  const promise = new Promise<A>((resolve, reject) => {
    open = resolve
    fail = reject
  })
  return { promise, open, fail }
}

/** Lets every pending reaction (and the lookup fibers' microtasks) run. */
const settle = async () => {
  for (let i = 0; i < 20; i++) await Promise.resolve()
  await new Promise((resolve) => setImmediate(resolve))
}

/** Time as the cache reads it (`Date.now`, through Effect's default `Clock`), moved by the test. */
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

describe("alruCache: basic use", () => {
  it("keeps the function's types and serves a repeated call from the cache", async () => {
    let calls = 0
    const double = alruCache(async (n: number, label: string) => {
      calls++
      return `${label}${n * 2}`
    })
    const first: string = await double(2, "=")
    expect(first).toBe("=4")
    expect(await double(2, "=")).toBe("=4")
    expect(await double(3, "=")).toBe("=6")
    expect(calls).toBe(2)
    expect(double.cacheInfo()).toEqual({ hits: 1, misses: 2, maxsize: 128, currsize: 2 })
  })

  it("the seeds' get_pep sequence gives hits=3 misses=8", async () => {
    const getPep = alruCache(async (n: number) => `PEP ${n}`, { maxsize: 32 })
    for (const n of [8, 290, 308, 320, 8, 218, 320, 279, 289, 320, 9991]) await getPep(n)
    expect(getPep.cacheInfo()).toEqual({ hits: 3, misses: 8, maxsize: 32, currsize: 8 })
  })

  it("a hit is served on the synchronous path: settled after one microtask, the same promise each time", async () => {
    const f = alruCache(async (n: number) => n)
    await f(1)
    const hit = f(1)
    expect(f(1)).toBe(hit)
    let done = false
    void hit.then(() => (done = true))
    await Promise.resolve()
    expect(done).toBe(true)
  })

  it("a function that returns a value or throws synchronously works as an async one", async () => {
    const sync = alruCache((n: number) => n + 1)
    expect(await sync(1)).toBe(2)
    const error = new Error("sync throw")
    const throws = alruCache((_: number): number => {
      throw error
    })
    await expect(throws(1)).rejects.toBe(error)
  })
})

describe("alruCache: single flight", () => {
  it("10 concurrent callers of one key share one call", async () => {
    let calls = 0
    const gate = latch()
    const f = alruCache(async (n: number) => {
      calls++
      await gate.promise
      return n
    })
    const callers = Array.from({ length: 10 }, () => f(7))
    await settle()
    expect(calls).toBe(1)
    gate.open()
    expect(await Promise.all(callers)).toEqual(Array(10).fill(7))
    expect(calls).toBe(1)
    expect(f.cacheStats()).toMatchObject({ misses: 1, coalesced: 9, loads: 1 })
    expect(f.cacheInfo().hits).toBe(9)
  })

  it("a rejection reaches every waiting caller as the same error object, and is not cached by default", async () => {
    const error = new Error("down")
    let calls = 0
    const gate = latch()
    const f = alruCache(async (_: number) => {
      calls++
      await gate.promise
      throw error
    })
    const callers = [f(1), f(1), f(1)]
    gate.open()
    for (const caller of callers) await expect(caller).rejects.toBe(error)
    await expect(f(1)).rejects.toBe(error)
    expect(calls).toBe(2)
  })
})

describe("alruCache: LRU", () => {
  it("evicts the least recently used entry at maxsize", async () => {
    const calls: Array<number> = []
    const f = alruCache(async (n: number) => {
      calls.push(n)
      return n
    }, { maxsize: 2 })
    await f(1)
    await f(2)
    await f(1) // 1 is now the most recent
    await f(3) // evicts 2
    await f(1)
    await f(2)
    expect(calls).toEqual([1, 2, 3, 2])
    expect(f.cacheStats().evictions).toBe(2)
    expect(f.cacheInfo().currsize).toBe(2)
  })

  it("maxsize: Infinity keeps everything", async () => {
    const f = alruCache(async (n: number) => n, { maxsize: Infinity })
    for (let i = 0; i < 1_000; i++) await f(i)
    expect(f.cacheInfo()).toMatchObject({ currsize: 1_000, maxsize: Infinity })
  })
})

describe("alruCache: time to live, jitter, stale-while-revalidate", () => {
  beforeEach(clock.start)

  it("a value expires after ttl", async () => {
    let calls = 0
    const f = alruCache(async (n: number) => n + ++calls * 100, { ttl: "1 minute" })
    expect(await f(1)).toBe(101)
    clock.advance(59_999)
    expect(await f(1)).toBe(101)
    clock.advance(1)
    expect(await f(1)).toBe(201)
    expect(f.cacheStats()).toMatchObject({ expirations: 1, misses: 2, hits: 1 })
  })

  it("jitter spreads each entry's expiry over [ttl, ttl + jitter]", async () => {
    const f = alruCache(async (n: number) => n, { ttl: 1_000, jitter: 1_000, maxsize: Infinity })
    for (let i = 0; i < 200; i++) await f(i)
    const expired = async () => {
      const before = f.cacheStats().expirations
      for (let i = 0; i < 200; i++) await f(i)
      return f.cacheStats().expirations - before
    }
    clock.advance(999)
    expect(await expired()).toBe(0)
    // Halfway through the jitter, some entries have expired and some have not (each side
    // holds about half: the odds of all 200 on one side are 2^-199).
    clock.advance(501)
    const halfway = await expired()
    expect(halfway).toBeGreaterThan(20)
    expect(halfway).toBeLessThan(180)
  })

  it("swr serves the stale value while one refresh runs, then the new one", async () => {
    let version = 0
    const gates: Array<ReturnType<typeof latch<void>>> = []
    const f = alruCache(async (_: string) => {
      const v = ++version
      if (v > 1) {
        const gate = latch()
        gates.push(gate)
        await gate.promise
      }
      return v
    }, { ttl: "10 seconds", swr: "1 minute" })
    expect(await f("k")).toBe(1)
    clock.advance(10_000)
    expect(await f("k")).toBe(1) // stale, and a refresh starts
    expect(await f("k")).toBe(1) // stale; the same refresh is still running
    await settle()
    expect(gates.length).toBe(1)
    gates[0]!.open()
    await settle()
    expect(await f("k")).toBe(2)
    expect(f.cacheStats()).toMatchObject({ staleHits: 2, refreshes: 1, hits: 1, misses: 1 })
  })

  it("swr: true serves a stale value however old", async () => {
    let version = 0
    const f = alruCache(async (_: string) => ++version, { ttl: 1_000, swr: true })
    await f("k")
    clock.advance(365 * 24 * 3600 * 1000)
    expect(await f("k")).toBe(1)
    expect(f.cacheParameters().swr).toBe(Infinity)
  })
})

describe("alruCache: error caching", () => {
  beforeEach(clock.start)

  it("cacheErrors: true rethrows the same error object until errorTtl", async () => {
    let calls = 0
    const error = new Error("not found")
    const f = alruCache(async (_: number) => {
      calls++
      throw error
    }, { ttl: "1 minute", cacheErrors: true, errorTtl: "10 seconds" })
    await expect(f(1)).rejects.toBe(error)
    await expect(f(1)).rejects.toBe(error)
    expect(calls).toBe(1)
    clock.advance(10_000)
    await expect(f(1)).rejects.toBe(error)
    expect(calls).toBe(2)
  })

  it("a predicate chooses which rejections are cached", async () => {
    class NotFound extends Error {}
    let calls = 0
    const f = alruCache(async (n: number) => {
      calls++
      throw n === 1 ? new NotFound("none") : new Error("timeout")
    }, { cacheErrors: (error) => error instanceof NotFound })
    await expect(f(1)).rejects.toBeInstanceOf(NotFound)
    await expect(f(1)).rejects.toBeInstanceOf(NotFound)
    await expect(f(2)).rejects.toThrow("timeout")
    await expect(f(2)).rejects.toThrow("timeout")
    expect(calls).toBe(3)
  })
})

describe("alruCache: invalidation, set, clear", () => {
  it("cacheInvalidate answers whether there was an entry", async () => {
    let calls = 0
    const f = alruCache(async (n: number) => n + ++calls)
    await f(1)
    expect(await f.cacheInvalidate(1)).toBe(true)
    expect(await f.cacheInvalidate(1)).toBe(false)
    expect(await f(1)).toBe(3)
  })

  it("an invalidation wins over a load in flight: its result is not stored", async () => {
    let calls = 0
    const gate = latch()
    const f = alruCache(async (_: number) => {
      const call = ++calls
      if (call === 1) await gate.promise
      return call
    })
    const first = f(1)
    await settle()
    expect(await f.cacheInvalidate(1)).toBe(true)
    gate.open()
    expect(await first).toBe(1) // its callers still get it
    expect(await f(1)).toBe(2) // but it was not stored
  })

  it("cacheSet stores a value; cacheClear removes everything", async () => {
    let calls = 0
    const f = alruCache(async (n: number, m: number) => {
      calls++
      return n + m
    })
    await f.cacheSet(1, 2, 42)
    expect(await f(1, 2)).toBe(42)
    expect(calls).toBe(0)
    f.cacheClear()
    expect(f.cacheInfo().currsize).toBe(0)
    expect(await f(1, 2)).toBe(3)
  })

  it("cacheParameters gives the options in force", () => {
    const f = alruCache(async (n: number) => n, {
      maxsize: 10,
      ttl: "1 minute",
      jitter: "5 seconds",
      swr: "30 seconds",
      cacheErrors: true,
      name: "users"
    })
    expect(f.cacheParameters()).toEqual({
      name: "users",
      maxsize: 10,
      ttl: 60_000,
      jitter: 5_000,
      swr: 30_000,
      cacheErrors: expect.any(Function),
      errorTtl: 60_000,
      eviction: "lru",
      maxWeight: Infinity,
      closed: false
    })
  })
})

describe("alruCache: keys", () => {
  it("a key function leaves parameters out", async () => {
    let calls = 0
    const f = alruCache(async (id: number, _requestId: string) => {
      calls++
      return id
    }, { key: (id) => id })
    await f(1, "request-a")
    await f(1, "request-b")
    expect(calls).toBe(1)
    expect(await f.cacheInvalidate(1, "any")).toBe(true)
  })

  it("arrays and objects as arguments are keyed by content", async () => {
    let calls = 0
    const f = alruCache(async (ids: ReadonlyArray<number>, options: { readonly deep: boolean }) => {
      calls++
      return ids.length + (options.deep ? 1 : 0)
    })
    await f([1, 2], { deep: true })
    await f([1, 2], { deep: true })
    await f([2, 1], { deep: true })
    expect(calls).toBe(2)
  })

  it("arguments that cannot form a key reject with the error that names them", async () => {
    const f = alruCache(async (_id: number, _callback: () => void) => 1)
    const rejection = await f(1, () => {}).catch((error: unknown) => error)
    expect(rejection).toBeInstanceOf(CacheKey.KeyEncodingError)
    expect(String((rejection as Error).message)).toContain("argument 2")
    await expect(f.cacheInvalidate(1, () => {})).rejects.toBeInstanceOf(CacheKey.KeyEncodingError)
  })
})

describe("alruCache: bad options", () => {
  const bad: Array<[string, Record<string, unknown>]> = [
    ["maxsize", { maxsize: 0 }],
    ["maxsize", { maxsize: 1.5 }],
    ["maxsize", { maxsize: "10" }],
    ["ttl", { ttl: "soon" }],
    ["ttl", { ttl: -1 }],
    ["jitter", { jitter: Infinity }],
    ["swr", { swr: {} }],
    ["cacheErrors", { cacheErrors: "yes" }],
    ["errorTtl", { errorTtl: "a while" }],
    ["key", { key: "id" }],
    ["name", { name: "" }],
    ["maxSize", { maxSize: 10 }]
  ]
  for (const [option, options] of bad) {
    it(`${JSON.stringify(options)} throws a TypeError naming ${option}`, () => {
      let thrown: unknown
      try {
        alruCache(async () => 1, options as never)
      } catch (error) {
        thrown = error
      }
      expect(thrown).toBeInstanceOf(TypeError)
      expect(thrown).toBeInstanceOf(CacheOptionError)
      expect((thrown as CacheOptionError).option).toBe(option)
      expect((thrown as Error).message).toContain(`"${option}"`)
    })
  }

  it("a non-function throws", () => {
    expect(() => alruCache(42 as never)).toThrow(TypeError)
  })
})

describe("alruCache: cacheClose", () => {
  it("stops a load in flight (its callers reject) and rejects later calls", async () => {
    const gate = latch()
    const f = alruCache(async (n: number) => {
      await gate.promise
      return n
    })
    const pending = f(1)
    await settle()
    await f.cacheClose()
    await expect(pending).rejects.toBeInstanceOf(CacheClosedError)
    await expect(f(2)).rejects.toBeInstanceOf(CacheClosedError)
    await expect(f.cacheInvalidate(1)).rejects.toBeInstanceOf(CacheClosedError)
    expect(f.cacheParameters().closed).toBe(true)
    gate.open()
  })

  it("stops a background refresh: its result is never stored", async () => {
    clock.start()
    let version = 0
    const gate = latch()
    const f = alruCache(async (_: string) => {
      const v = ++version
      if (v > 1) await gate.promise
      return v
    }, { ttl: 1_000, swr: 60_000 })
    await f("k")
    clock.advance(1_000)
    await f("k") // stale: starts the refresh
    await settle()
    await f.cacheClose()
    gate.open()
    await settle()
    expect(f.cacheStats().refreshes).toBe(0)
  })
})

describe("cachedMethod", () => {
  class Client {
    calls = 0
    constructor(readonly base: string) {}

    @cachedMethod({ maxsize: 100 })
    async get(path: string): Promise<string> {
      this.calls++
      return `${this.base}${path}`
    }

    @cachedMethod({ key: (id: number) => id, name: "users" })
    async user(id: number, _traceId: string): Promise<{ id: number }> {
      this.calls++
      return { id }
    }
  }

  it("caches per instance: two instances never share an entry", async () => {
    const a = new Client("a:")
    const b = new Client("b:")
    expect(await a.get("/x")).toBe("a:/x")
    expect(await b.get("/x")).toBe("b:/x")
    expect(await a.get("/x")).toBe("a:/x")
    expect(a.calls).toBe(1)
    expect(b.calls).toBe(1)
    const cache = methodCache(Client.prototype.get)
    expect(cache.cacheInfo()).toEqual({ hits: 1, misses: 2, maxsize: 100, currsize: 2 })
    expect(await cache.cacheInvalidate(a, "/x")).toBe(true)
    await a.get("/x")
    expect(a.calls).toBe(2)
  })

  it("keys of different types never meet; a bad argument is named as the caller sees it", async () => {
    class Echo {
      @cachedMethod()
      async echo(...args: Array<unknown>): Promise<string> {
        return JSON.stringify(args, (_, v) => typeof v === "bigint" ? `${v}n` : v === undefined ? "undefined" : v)
      }
    }
    const e = new Echo()
    const inputs: Array<Array<unknown>> = [[1], ["1"], [1n], [true], ["true"], [null], ["null"], [undefined], [], [
      1,
      2
    ], ["(n1,n2)"]]
    const first = await Promise.all(inputs.map((args) => e.echo(...args)))
    expect(new Set(first).size).toBe(inputs.length)
    expect(await Promise.all(inputs.map((args) => e.echo(...args)))).toEqual(first)
    expect(methodCache(Echo.prototype.echo).cacheInfo()).toMatchObject({ misses: inputs.length, hits: inputs.length })
    const rejection = await e.echo(() => 1).catch((error: unknown) => error)
    expect(rejection).toBeInstanceOf(CacheKey.KeyEncodingError)
    expect((rejection as Error).message).toContain("argument 1")
  })

  it("the key option applies to the arguments after the instance", async () => {
    const a = new Client("a:")
    await a.user(1, "trace-1")
    await a.user(1, "trace-2")
    expect(a.calls).toBe(1)
    expect(methodCache(Client.prototype.user).cacheParameters().name).toBe("users")
  })

  it("an instance is not kept alive by its cache", async () => {
    v8.setFlagsFromString("--expose-gc")
    const gc = vm.runInNewContext("gc") as () => void
    let instance: Client | undefined = new Client("gone:")
    await instance.get("/x")
    const ref = new WeakRef(instance)
    instance = undefined
    for (let i = 0; i < 10 && ref.deref() !== undefined; i++) {
      await new Promise((resolve) => setImmediate(resolve))
      gc()
    }
    expect(ref.deref()).toBeUndefined()
  })

  it("a bad option throws where the class is defined; methodCache of a plain function throws", () => {
    expect(() => cachedMethod({ ttl: "later" as never })).toThrow(/"ttl"/)
    expect(() => methodCache(async () => 1)).toThrow(TypeError)
  })
})

describe("alruCache: properties against a model", () => {
  it.effect.prop(
    "LRU: calls of the function, cacheInfo and evictions match a list-based LRU model",
    {
      maxsize: fc.integer({ min: 1, max: 6 }),
      calls: fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 1, maxLength: 80 })
    },
    ({ calls, maxsize }) =>
      Effect.promise(async () => {
        const ran: Array<number> = []
        const f = alruCache(async (n: number) => {
          ran.push(n)
          return n * 10
        }, { maxsize })
        // The model: keys from least to most recently used.
        const model: Array<number> = []
        const expected: Array<number> = []
        let hits = 0
        let evictions = 0
        for (const n of calls) {
          const at = model.indexOf(n)
          if (at >= 0) {
            hits++
            model.splice(at, 1)
          } else {
            expected.push(n)
            if (model.length === maxsize) {
              model.shift()
              evictions++
            }
          }
          model.push(n)
          expect(await f(n)).toBe(n * 10)
        }
        expect(ran).toEqual(expected)
        expect(f.cacheInfo()).toEqual({ hits, misses: expected.length, maxsize, currsize: model.length })
        expect(f.cacheStats().evictions).toBe(evictions)
      }),
    { fastCheck: { numRuns: 200 } }
  )

  it.effect.prop(
    "single flight: concurrent callers of random keys, loads finishing in random order: one call per key",
    {
      keys: fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 40 }),
      seed: fc.integer()
    },
    ({ keys, seed }) =>
      Effect.promise(async () => {
        const gates = new Map<number, ReturnType<typeof latch<void>>>()
        const ran: Array<number> = []
        const f = alruCache(async (n: number) => {
          ran.push(n)
          const gate = latch()
          gates.set(n, gate)
          await gate.promise
          return `v${n}`
        })
        const callers = keys.map((n) => f(n))
        await settle()
        const distinct = [...new Set(keys)]
        expect(ran.sort()).toEqual([...distinct].sort())
        // Open the gates in an order drawn from the seed.
        const order = distinct.map((n, i) => ({ n, rank: (seed * (i + 7919)) % 101 })).sort((a, b) => a.rank - b.rank)
        for (const { n } of order) {
          gates.get(n)!.open()
          await settle()
        }
        expect(await Promise.all(callers)).toEqual(keys.map((n) => `v${n}`))
        expect(ran.length).toBe(distinct.length)
        expect(f.cacheStats()).toMatchObject({ misses: distinct.length, coalesced: keys.length - distinct.length })
      }),
    { fastCheck: { numRuns: 100 } }
  )
})

describe("alruCache: invalidation by tag", () => {
  it("invalidateTags drops the entries carrying a tag in every Promise cache, and wins over a load in flight", async () => {
    let loads = 0
    const getUser = alruCache(async (id: number) => ({ id, orgId: id % 2, load: ++loads }), {
      tags: (user, id) => [`user:${id}`, `org:${user.orgId}`]
    })
    const getOrg = alruCache(async (orgId: number) => ({ orgId }), { tags: (org) => [`org:${org.orgId}`] })
    await getUser(1)
    await getUser(2)
    await getOrg(1)
    expect(await invalidateTags(["org:1"])).toBe(2) // user 1 and org 1
    expect((await getUser(1)).load).toBe(3)
    expect((await getUser(2)).load).toBe(2)
    // A load in flight when its tag is invalidated reaches its caller but is not kept.
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    const slow = alruCache(async (id: number) => (await gate, { id, at: loads++ }), {
      tags: (_v, id) => [`slow:${id}`]
    })
    const pending = slow(1)
    await invalidateTags(["slow:1"])
    release()
    const first = await pending
    expect((await slow(1)).at).not.toBe(first.at)
  })

  it("a method's tags get its arguments without the instance", async () => {
    class Api {
      calls = 0
      @cachedMethod({ tags: (_value, path) => [`path:${String(path)}`] })
      async get(path: string) {
        return `${path} #${++this.calls}`
      }
    }
    const api = new Api()
    expect(await api.get("/a")).toBe("/a #1")
    expect(await api.get("/a")).toBe("/a #1")
    await invalidateTags(["path:/a"])
    expect(await api.get("/a")).toBe("/a #2")
  })

  it("a tags option that is not a function is refused where the cache is made", () => {
    expect(() => alruCache(async (n: number) => n, { tags: "user" as never })).toThrow(CacheOptionError)
  })
})
