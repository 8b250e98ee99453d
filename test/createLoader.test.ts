/**
 * `createLoader`: DataLoader's contract on the bounded cache. The first part runs DataLoader's own
 * test suite (rewritten) against DataLoader and createLoader side by side, where the behaviour is
 * the same; then where createLoader deliberately differs (each with DataLoader's behaviour beside
 * it), then what DataLoader does not have: the window, time to live, bounds, weights, stats.
 */
import { afterEach, describe, expect, it, vi } from "@effect/vitest"
import DataLoader from "dataloader"
import { Effect } from "effect"
import { CacheKey } from "effect-request-cache"
import { CacheOptionError, createLoader } from "effect-request-cache/promise"
import * as fc from "fast-check"

/** What the side-by-side tests use of a loader: DataLoader's API. */
interface AnyLoader<K, V> {
  load(key: K): Promise<V>
  loadMany(keys: ReadonlyArray<K>): Promise<Array<V | Error>>
  prime(key: K, value: V | Error): AnyLoader<K, V>
  clear(key: K): AnyLoader<K, V>
  clearAll(): AnyLoader<K, V>
}
type Batch<K, V> = (this: unknown, keys: ReadonlyArray<K>) => Promise<ReadonlyArray<V | Error>>
interface SharedOptions<K> {
  readonly maxBatchSize?: number
  readonly cacheKeyFn?: (key: K) => unknown
}
interface Impl {
  readonly name: string
  readonly make: <K, V>(batch: Batch<K, V>, options?: SharedOptions<K>) => AnyLoader<K, V>
}
const impls: ReadonlyArray<Impl> = [
  {
    name: "DataLoader",
    make: <K, V>(batch: Batch<K, V>, options?: SharedOptions<K>) =>
      new DataLoader<K, V, unknown>(batch, options) as unknown as AnyLoader<K, V>
  },
  {
    name: "createLoader",
    make: <K, V>(batch: Batch<K, V>, options?: SharedOptions<K>) =>
      createLoader<K, V>(batch, options) as unknown as AnyLoader<K, V>
  }
]

/** An identity loader that records the keys of each batch. */
const idLoader = <K>(impl: Impl, options?: SharedOptions<K>) => {
  const calls: Array<ReadonlyArray<K>> = []
  const loader = impl.make<K, K>((keys) => {
    calls.push([...keys])
    return Promise.resolve(keys)
  }, options)
  return [loader, calls] as const
}

const nextMacrotask = () => new Promise((resolve) => setImmediate(resolve))

afterEach(() => {
  vi.useRealTimers()
})

describe.each(impls)("$name: DataLoader's behaviour", (impl) => {
  describe("the primary API", () => {
    it("load gives a promise of the value", async () => {
      const loader = impl.make<number, number>(async (keys) => keys)
      const promise = loader.load(1)
      expect(promise).toBeInstanceOf(Promise)
      expect(await promise).toBe(1)
    })

    it("the batch function and the cache key function are called with the loader as this", async () => {
      let batchThis: unknown
      let keyThis: unknown
      const loader = impl.make<number, number>(async function(this: unknown, keys) {
        batchThis = this
        return keys
      }, {
        cacheKeyFn(this: unknown, key) {
          keyThis = this
          return key
        }
      })
      await loader.load(1)
      expect(batchThis).toBe(loader)
      expect(keyThis).toBe(loader)
    })

    it("loadMany loads several keys, and none", async () => {
      const loader = impl.make<number, number>(async (keys) => keys)
      const many = loader.loadMany([1, 2])
      expect(many).toBeInstanceOf(Promise)
      expect(await many).toEqual([1, 2])
      expect(await loader.loadMany([])).toEqual([])
    })

    it("loadMany resolves errors in place", async () => {
      const loader = impl.make<string, string>((keys) =>
        Promise.resolve(keys.map((key) => key === "bad" ? new Error("Bad Key") : key))
      )
      expect(await loader.loadMany(["a", "b", "bad"])).toEqual(["a", "b", new Error("Bad Key")])
    })

    it("batches the loads of one tick", async () => {
      const [loader, calls] = idLoader<number>(impl)
      expect(await Promise.all([loader.load(1), loader.load(2)])).toEqual([1, 2])
      expect(calls).toEqual([[1, 2]])
    })

    it("splits a batch at maxBatchSize", async () => {
      const [loader, calls] = idLoader<number>(impl, { maxBatchSize: 2 })
      expect(await Promise.all([loader.load(1), loader.load(2), loader.load(3)])).toEqual([1, 2, 3])
      expect(calls).toEqual([[1, 2], [3]])
    })

    it("coalesces identical loads, also across sized batches", async () => {
      const [loader, calls] = idLoader<number>(impl)
      expect(await Promise.all([loader.load(1), loader.load(1)])).toEqual([1, 1])
      expect(calls).toEqual([[1]])
      const [sized, sizedCalls] = idLoader<number>(impl, { maxBatchSize: 2 })
      expect(await Promise.all([sized.load(1), sized.load(2), sized.load(1), sized.load(3)])).toEqual([1, 2, 1, 3])
      expect(sizedCalls).toEqual([[1, 2], [3]])
    })

    it("caches repeated loads", async () => {
      const [loader, calls] = idLoader<string>(impl)
      expect(await Promise.all([loader.load("A"), loader.load("B")])).toEqual(["A", "B"])
      expect(await Promise.all([loader.load("A"), loader.load("C")])).toEqual(["A", "C"])
      expect(await Promise.all([loader.load("A"), loader.load("B"), loader.load("C")])).toEqual(["A", "B", "C"])
      expect(calls).toEqual([["A", "B"], ["C"]])
    })

    it("clear forgets one key, clearAll every key; both return the loader", async () => {
      const [loader, calls] = idLoader<string>(impl)
      await Promise.all([loader.load("A"), loader.load("B")])
      expect(loader.clear("A")).toBe(loader)
      await Promise.all([loader.load("A"), loader.load("B")])
      expect(calls).toEqual([["A", "B"], ["A"]])
      expect(loader.clearAll()).toBe(loader)
      await Promise.all([loader.load("A"), loader.load("B")])
      expect(calls).toEqual([["A", "B"], ["A"], ["A", "B"]])
    })

    it("prime stores a value for a key that holds nothing, and does not overwrite; clear().prime() does", async () => {
      const [loader, calls] = idLoader<string>(impl)
      expect(loader.prime("A", "X")).toBe(loader)
      expect(await Promise.all([loader.load("A"), loader.load("B")])).toEqual(["X", "B"])
      loader.prime("A", "Y")
      loader.prime("B", "Y")
      expect(await Promise.all([loader.load("A"), loader.load("B")])).toEqual(["X", "B"])
      loader.clear("A").prime("A", "Y")
      loader.clear("B").prime("B", "Y")
      expect(await Promise.all([loader.load("A"), loader.load("B")])).toEqual(["Y", "Y"])
      expect(calls).toEqual([["B"]])
    })
  })

  describe("errors", () => {
    const evenLoader = () => {
      const calls: Array<ReadonlyArray<number>> = []
      const loader = impl.make<number, number>((keys) => {
        calls.push([...keys])
        return Promise.resolve(keys.map((key) => key % 2 === 0 ? key : new Error(`Odd: ${key}`)))
      })
      return [loader, calls] as const
    }

    it("an Error for a key rejects its load with that very object", async () => {
      const odd = new Error("Odd: 1")
      const loader = impl.make<number, number>(async (keys) => keys.map((key) => key === 1 ? odd : key))
      await expect(loader.load(1)).rejects.toBe(odd)
      const [even, calls] = evenLoader()
      await expect(even.load(1)).rejects.toThrow("Odd: 1")
      expect(await even.load(2)).toBe(2)
      expect(calls).toEqual([[1], [2]])
    })

    it("failures and successes in one batch", async () => {
      const [loader, calls] = evenLoader()
      const one = loader.load(1)
      const two = loader.load(2)
      await expect(one).rejects.toThrow("Odd: 1")
      expect(await two).toBe(2)
      expect(calls).toEqual([[1, 2]])
    })

    it("prime with an Error: the load rejects with it, without a batch", async () => {
      const [loader, calls] = idLoader<number>(impl)
      const error = new Error("Error: 1")
      loader.prime(1, error)
      await nextMacrotask()
      await expect(loader.load(1)).rejects.toBe(error)
      expect(calls).toEqual([])
    })

    it("a key can be cleared after its error, to be loaded again", async () => {
      const calls: Array<ReadonlyArray<number>> = []
      const loader = impl.make<number, number>((keys) => {
        calls.push([...keys])
        return Promise.resolve(keys.map((key) => new Error(`Error: ${key}`)))
      })
      const loadClearing = () =>
        loader.load(1).catch((error: unknown) => {
          loader.clear(1)
          throw error
        })
      await expect(loadClearing()).rejects.toThrow("Error: 1")
      await expect(loadClearing()).rejects.toThrow("Error: 1")
      expect(calls).toEqual([[1], [1]])
    })

    it("a rejection of the batch function rejects every load of the batch with the same error", async () => {
      const calls: Array<ReadonlyArray<number>> = []
      const loader = impl.make<number, number>((keys) => {
        calls.push([...keys])
        return Promise.reject(new Error("I am a terrible loader"))
      })
      const one = loader.load(1).catch((error: unknown) => error)
      const two = loader.load(2).catch((error: unknown) => error)
      const [a, b] = await Promise.all([one, two])
      expect((a as Error).message).toBe("I am a terrible loader")
      expect(b).toBe(a)
      expect(calls).toEqual([[1, 2]])
    })

    it("a result of the wrong length rejects each key of the batch with a TypeError", async () => {
      const loader = impl.make<number, number>(async () => [])
      const errors = await Promise.all([loader.load(1), loader.load(2)].map((p) => p.catch((e: unknown) => e)))
      for (const error of errors) expect(error).toBeInstanceOf(TypeError)
    })

    it("a promise of something other than an array rejects with a TypeError", async () => {
      const loader = impl.make<number, number>(async () => null as never)
      await expect(loader.load(1)).rejects.toThrow(TypeError)
    })
  })

  describe("keys", () => {
    it("a cacheKeyFn keys objects: equal keys share an entry, clear and prime go through it", async () => {
      const cacheKey = (key: Record<string, number>) => Object.keys(key).sort().map((k) => `${k}:${key[k]}`).join()
      const [loader, calls] = idLoader<Record<string, number>>(impl, { cacheKeyFn: cacheKey })
      const key1 = { id: 123 }
      const key2 = { id: 123 }
      expect(await loader.load(key1)).toBe(key1)
      expect(await loader.load(key2)).toBe(key1)
      loader.clear(key2)
      expect(await loader.load(key1)).toBe(key1)
      expect(calls).toEqual([[key1], [key1]])
      const [ordered, orderedCalls] = idLoader<Record<string, number>>(impl, { cacheKeyFn: cacheKey })
      const keyA = { a: 123, b: 321 }
      const keyB = { b: 321, a: 123 }
      const [valueA, valueB] = await Promise.all([ordered.load(keyA), ordered.load(keyB)])
      expect(valueA).toBe(keyA)
      expect(valueB).toBe(keyA)
      expect(orderedCalls).toEqual([[keyA]])
      const [primed, primedCalls] = idLoader<Record<string, number>>(impl, { cacheKeyFn: cacheKey })
      primed.prime(key1, key1)
      expect(await primed.load(key2)).toBe(key1)
      expect(primedCalls).toEqual([])
    })

    it("0 and other falsy keys but null and undefined are keys", async () => {
      const [loader] = idLoader<number | string | boolean>(impl)
      expect(await Promise.all([loader.load(0), loader.load(""), loader.load(false)])).toEqual([0, "", false])
    })
  })

  describe("job queue ordering", () => {
    it("loads made in promise reactions of the same tick join the batch", async () => {
      const [loader, calls] = idLoader<string>(impl)
      const later = Promise.resolve().then(() => Promise.resolve()).then(() => {
        void loader.load("B")
        void Promise.resolve().then(() => Promise.resolve()).then(() => {
          void loader.load("C")
          void Promise.resolve().then(() => Promise.resolve()).then(() => {
            void loader.load("D")
          })
        })
      })
      await Promise.all([loader.load("A"), later])
      expect(calls).toEqual([["A", "B", "C", "D"]])
    })

    it("a loader can be called from a batch function", async () => {
      const deepCalls: Array<ReadonlyArray<ReadonlyArray<string>>> = []
      const deep = impl.make<ReadonlyArray<string>, ReadonlyArray<string>>((keys) => {
        deepCalls.push([...keys])
        return Promise.resolve(keys)
      })
      const aCalls: Array<ReadonlyArray<string>> = []
      const a = impl.make<string, string>((keys) => {
        aCalls.push([...keys])
        return deep.load(keys) as Promise<ReadonlyArray<string>>
      })
      const bCalls: Array<ReadonlyArray<string>> = []
      const b = impl.make<string, string>((keys) => {
        bCalls.push([...keys])
        return deep.load(keys) as Promise<ReadonlyArray<string>>
      })
      expect(await Promise.all([a.load("A1"), b.load("B1"), a.load("A2"), b.load("B2")])).toEqual([
        "A1",
        "B1",
        "A2",
        "B2"
      ])
      expect(aCalls).toEqual([["A1", "A2"]])
      expect(bCalls).toEqual([["B1", "B2"]])
      expect(deepCalls).toEqual([[["A1", "A2"], ["B1", "B2"]]])
    })

    it("a batch function that clears the whole cache: its results still reach their loads", async () => {
      const calls: Array<ReadonlyArray<string>> = []
      const loader: AnyLoader<string, string> = impl.make<string, string>((keys) => {
        loader.clearAll()
        calls.push([...keys])
        return Promise.resolve(keys)
      })
      expect(await Promise.all([loader.load("A"), loader.load("B"), loader.load("A")])).toEqual(["A", "B", "A"])
      expect(await Promise.all([loader.load("A"), loader.load("B"), loader.load("A")])).toEqual(["A", "B", "A"])
      expect(calls).toEqual([["A", "B"], ["A", "B"]])
    })
  })

  it("a bad maxBatchSize or cacheKeyFn throws where the loader is made", () => {
    expect(() => impl.make(async (keys) => keys, { maxBatchSize: 0 })).toThrow()
    expect(() => impl.make(async (keys) => keys, { cacheKeyFn: null as never })).toThrow()
  })
})

describe("createLoader: where it differs from DataLoader, beside DataLoader", () => {
  it("an Error from the batch function is not cached by default (DataLoader caches it); cacheErrors: true caches it", async () => {
    const run = async (loader: AnyLoader<number, number>, calls: Array<ReadonlyArray<number>>) => {
      await expect(loader.load(1)).rejects.toThrow("Error: 1")
      await expect(loader.load(1)).rejects.toThrow("Error: 1")
      return calls.length
    }
    const failing = () => {
      const calls: Array<ReadonlyArray<number>> = []
      const batch = (keys: ReadonlyArray<number>) => {
        calls.push([...keys])
        return Promise.resolve(keys.map((key): number | Error => new Error(`Error: ${key}`)))
      }
      return { batch, calls }
    }
    const dl = failing()
    expect(await run(new DataLoader(dl.batch), dl.calls)).toBe(1)
    const ours = failing()
    expect(await run(createLoader(ours.batch), ours.calls)).toBe(2)
    const caching = failing()
    expect(await run(createLoader(caching.batch, { cacheErrors: true }), caching.calls)).toBe(1)
  })

  it("a hit resolves at once; DataLoader resolves it with the batch of its tick", async () => {
    const outcome = async (loader: AnyLoader<number, number>, resolveBatch: () => void) => {
      loader.prime(1, 1)
      let primedDone = false
      void loader.load(1).then(() => (primedDone = true))
      void loader.load(2)
      await nextMacrotask()
      const before = primedDone
      resolveBatch()
      await nextMacrotask()
      return before
    }
    const pendingBatch = () => {
      let resolveBatch = () => {}
      const batch = (keys: ReadonlyArray<number>) =>
        new Promise<ReadonlyArray<number>>((resolve) => (resolveBatch = () => resolve(keys)))
      return { batch, resolve: () => resolveBatch() }
    }
    const dl = pendingBatch()
    expect(await outcome(new DataLoader(dl.batch), dl.resolve)).toBe(false)
    const ours = pendingBatch()
    expect(await outcome(createLoader(ours.batch), ours.resolve)).toBe(true)
  })

  it("keys are encoded by content: equal objects are one key (DataLoader keys them by identity)", async () => {
    const dl = idLoader<object>(impls[0]!)
    const ours = idLoader<object>(impls[1]!)
    for (const [loader] of [dl, ours]) await Promise.all([loader.load({ id: 1 }), loader.load({ id: 1 })])
    expect(dl[1]).toEqual([[{ id: 1 }, { id: 1 }]])
    expect(ours[1]).toEqual([[{ id: 1 }]])
    // 1 and "1" stay two keys.
    const [mixed, mixedCalls] = idLoader<number | string>(impls[1]!)
    await Promise.all([mixed.load(1), mixed.load("1")])
    expect(mixedCalls).toEqual([[1, "1"]])
    // A key that cannot be encoded rejects with a KeyEncodingError.
    await expect(ours[0].load({ f: () => 1 })).rejects.toBeInstanceOf(CacheKey.KeyEncodingError)
  })

  it("bad calls reject instead of throwing: load(undefined), load(null), loadMany(not a list)", async () => {
    const dl = new DataLoader<number, number>(async (keys) => keys)
    expect(() => dl.load(undefined as never)).toThrow(TypeError)
    const ours = createLoader<number, number>(async (keys) => keys, { name: "ids" })
    await expect(ours.load(undefined as never)).rejects.toThrow(`createLoader "ids": load() needs a key, got undefined`)
    await expect(ours.load(null as never)).rejects.toThrow("got null")
    await expect(ours.loadMany(1 as never)).rejects.toThrow(TypeError)
    expect(await ours.load(0)).toBe(0)
  })

  it("a batch function may answer synchronously (DataLoader rejects a result that is not a promise)", async () => {
    const sync = (keys: ReadonlyArray<number>) => keys.map((key) => key * 10)
    await expect(new DataLoader<number, number>(sync as never).load(1)).rejects.toThrow(TypeError)
    expect(await createLoader(sync).load(1)).toBe(10)
    // One that throws rejects each key with what it threw (DataLoader wraps it in a TypeError).
    const error = new Error("thrown")
    const throwing = createLoader<number, number>(() => {
      throw error
    })
    await expect(throwing.load(1)).rejects.toBe(error)
  })

  it("the wrong length rejects each key with an error that gives both lengths", async () => {
    const loader = createLoader<number, number>(async (keys) => keys.slice(1), { name: "users" })
    const errors = await loader.loadMany([1, 2, 3])
    for (const error of errors) {
      expect(error).toBeInstanceOf(TypeError)
      expect((error as Error).message).toContain(
        `createLoader "users": the batch function returned 2 values for 3 keys`
      )
    }
    expect(loader.cacheStats().size).toBe(0) // never cached
  })

  it("DataLoader's batch, cache, cacheMap and batchScheduleFn options are not offered: they throw naming themselves", () => {
    for (const option of ["batch", "cache", "cacheMap", "batchScheduleFn"]) {
      let thrown: unknown
      try {
        createLoader(async (keys: ReadonlyArray<number>) => keys, { [option]: false } as never)
      } catch (error) {
        thrown = error
      }
      expect(thrown).toBeInstanceOf(CacheOptionError)
      expect((thrown as CacheOptionError).option).toBe(option)
    }
  })
})

describe("createLoader: batching", () => {
  it("batchWindow: the loads within the window go together, later ones to the next batch", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] })
    const [calls, loader] = (() => {
      const calls: Array<ReadonlyArray<number>> = []
      const loader = createLoader((keys: ReadonlyArray<number>) => {
        calls.push([...keys])
        return keys
      }, { batchWindow: "10 millis" })
      return [calls, loader] as const
    })()
    const early = [loader.load(1), loader.load(2)]
    await vi.advanceTimersByTimeAsync(5)
    const late = loader.load(3)
    await vi.advanceTimersByTimeAsync(4)
    expect(calls).toEqual([])
    await vi.advanceTimersByTimeAsync(1)
    expect(await Promise.all([...early, late])).toEqual([1, 2, 3])
    expect(calls).toEqual([[1, 2, 3]])
    const next = loader.load(4)
    await vi.advanceTimersByTimeAsync(10)
    expect(await next).toBe(4)
    expect(calls).toEqual([[1, 2, 3], [4]])
    expect(() => createLoader(async (keys: ReadonlyArray<number>) => keys, { batchWindow: "soon" as never }))
      .toThrow(`Invalid cache option "batchWindow"`)
  })

  it("a batch that reaches maxBatchSize goes at once, without waiting out its window", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] })
    const calls: Array<ReadonlyArray<number>> = []
    const loader = createLoader((keys: ReadonlyArray<number>) => {
      calls.push([...keys])
      return keys
    }, { batchWindow: 1_000, maxBatchSize: 2 })
    const full = Promise.all([loader.load(1), loader.load(2)])
    const rest = loader.load(3)
    await vi.advanceTimersByTimeAsync(0)
    expect(await full).toEqual([1, 2])
    expect(calls).toEqual([[1, 2]])
    await vi.advanceTimersByTimeAsync(1_000)
    expect(await rest).toBe(3)
    expect(calls).toEqual([[1, 2], [3]])
  })

  it("a cached key never enters a batch; a key in a batch in flight is joined, not sent again", async () => {
    const calls: Array<ReadonlyArray<number>> = []
    const gates: Array<() => void> = []
    const loader = createLoader((keys: ReadonlyArray<number>) => {
      calls.push([...keys])
      return new Promise<ReadonlyArray<number>>((resolve) => gates.push(() => resolve(keys)))
    })
    loader.prime(1, 1)
    const first = [loader.load(1), loader.load(2), loader.load(3)]
    await nextMacrotask()
    expect(calls).toEqual([[2, 3]])
    const second = [loader.load(2), loader.load(3), loader.load(4)]
    await nextMacrotask()
    expect(calls).toEqual([[2, 3], [4]])
    for (const open of gates) open()
    expect(await Promise.all([...first, ...second])).toEqual([1, 2, 3, 2, 3, 4])
    expect(loader.cacheStats()).toMatchObject({ hits: 1, misses: 3, coalesced: 2, batches: 2, loads: 3 })
  })

  it("a hit returns the entry's settled promise, the same object each time, resolved after one microtask", async () => {
    const loader = createLoader(async (keys: ReadonlyArray<number>) => keys)
    await loader.load(1)
    const hit = loader.load(1)
    expect(loader.load(1)).toBe(hit)
    let done = false
    void hit.then(() => (done = true))
    await Promise.resolve()
    expect(done).toBe(true)
    expect(loader.cacheStats()).toMatchObject({ hits: 2, batches: 1 })
  })

  it("a Promise caller cannot be interrupted: a load whose caller drops its promise is still loaded and stored", async () => {
    const calls: Array<ReadonlyArray<number>> = []
    const loader = createLoader((keys: ReadonlyArray<number>) => {
      calls.push([...keys])
      return keys
    })
    void loader.load(1)
    await nextMacrotask()
    expect(await loader.load(1)).toBe(1)
    expect(calls).toEqual([[1]])
  })

  it("prime with a promise: loads meanwhile join it", async () => {
    const [loader, calls] = idLoader<number>(impls[1]!)
    let resolvePrimed = (_: number) => {}
    ;(loader as unknown as ReturnType<typeof createLoader<number, number>>).prime(
      1,
      new Promise<number>((resolve) => (resolvePrimed = resolve))
    )
    const joined = loader.load(1)
    resolvePrimed(100)
    expect(await joined).toBe(100)
    expect(await loader.load(1)).toBe(100)
    expect(calls).toEqual([])
  })
})

describe("createLoader: the cache", () => {
  const clock = {
    start: () => {
      vi.useFakeTimers({ toFake: ["Date"] })
      vi.setSystemTime(1_000_000)
    },
    advance: (ms: number) => vi.setSystemTime(Date.now() + ms)
  }

  it("ttl: a value expires; swr: a stale key is served while its refresh goes through the batch function", async () => {
    clock.start()
    let version = 0
    const calls: Array<ReadonlyArray<string>> = []
    const loader = createLoader((keys: ReadonlyArray<string>) => {
      calls.push([...keys])
      version++
      return keys.map((key) => `${key}${version}`)
    }, { ttl: 1_000, swr: 10_000 })
    expect(await Promise.all([loader.load("a"), loader.load("b")])).toEqual(["a1", "b1"])
    clock.advance(1_000)
    expect(await Promise.all([loader.load("a"), loader.load("b")])).toEqual(["a1", "b1"]) // stale
    await nextMacrotask()
    await nextMacrotask()
    expect(calls).toEqual([["a", "b"], ["a", "b"]]) // the refreshes, as one batch
    expect(await loader.load("a")).toBe("a2")
    clock.advance(11_000)
    expect(await loader.load("a")).toBe("a3") // past the window: a blocking load
    expect(loader.cacheStats()).toMatchObject({ staleHits: 2, refreshes: 2, expirations: 1 })
  })

  it("jitter spreads the expiry of the keys of one batch over [ttl, ttl + jitter]", async () => {
    clock.start()
    let version = 0
    const loader = createLoader((keys: ReadonlyArray<number>) => {
      version++
      return keys.map(() => version)
    }, { ttl: 1_000, jitter: 1_000, maxsize: Infinity })
    const keys = Array.from({ length: 200 }, (_, i) => i)
    await loader.loadMany(keys)
    clock.advance(999)
    expect(new Set(await loader.loadMany(keys))).toEqual(new Set([1]))
    // Halfway through the jitter about half have expired (all 200 on one side: odds 2^-199).
    clock.advance(501)
    const values = await loader.loadMany(keys)
    const reloaded = values.filter((v) => v === 2).length
    expect(reloaded).toBeGreaterThan(20)
    expect(reloaded).toBeLessThan(180)
  })

  it("maxsize bounds the cache: the least recently used key is evicted (DataLoader's map never forgets)", async () => {
    const [loader, calls] = (() => {
      const calls: Array<ReadonlyArray<number>> = []
      const loader = createLoader((keys: ReadonlyArray<number>) => {
        calls.push([...keys])
        return keys
      }, { maxsize: 2 })
      return [loader, calls] as const
    })()
    await loader.load(1)
    await loader.load(2)
    await loader.load(1)
    await loader.load(3) // evicts 2
    await loader.load(1)
    await loader.load(2)
    expect(calls).toEqual([[1], [2], [3], [2]])
    expect(loader.cacheStats()).toMatchObject({ evictions: 2, size: 2 })
  })

  it("maxWeight with a weigher: eviction by weight; a value heavier than the bound reaches its caller, unkept", async () => {
    const loader = createLoader(
      (keys: ReadonlyArray<string>) => keys.map((key) => key.repeat(3)),
      { maxWeight: 10, weigher: (value) => (value as string).length }
    )
    expect(await Promise.all([loader.load("a"), loader.load("b"), loader.load("c")])).toEqual(["aaa", "bbb", "ccc"])
    expect(loader.cacheStats()).toMatchObject({ weight: 9, size: 3 })
    await loader.load("d") // 12 > 10: the least recent, a, goes
    expect(loader.cacheStats()).toMatchObject({ weight: 9, size: 3, evictions: 1 })
    expect(await loader.load("long")).toBe("longlonglong") // 12 alone: returned, not kept
    expect(loader.cacheStats().weight).toBeLessThanOrEqual(10)
  })

  it("bad options throw a CacheOptionError naming the option", () => {
    const bad: Array<[string, Record<string, unknown>]> = [
      ["maxBatchSize", { maxBatchSize: 1.5 }],
      ["batchWindow", { batchWindow: -1 }],
      ["batchWindow", { batchWindow: Infinity }],
      ["cacheKeyFn", { cacheKeyFn: "id" }],
      ["maxsize", { maxsize: -1 }],
      ["ttl", { ttl: "later" }]
    ]
    for (const [option, options] of bad) {
      let thrown: unknown
      try {
        createLoader(async (keys: ReadonlyArray<number>) => keys, options as never)
      } catch (error) {
        thrown = error
      }
      expect(thrown, option).toBeInstanceOf(CacheOptionError)
      expect((thrown as CacheOptionError).option).toBe(option)
    }
    expect(() => createLoader(42 as never)).toThrow(CacheOptionError)
  })
})

describe("createLoader: properties against a model", () => {
  it.effect.prop(
    "each tick's batches are its distinct uncached keys in first-load order, split at maxBatchSize",
    {
      maxBatchSize: fc.integer({ min: 1, max: 4 }),
      ticks: fc.array(
        fc.record({
          loads: fc.array(fc.integer({ min: 0, max: 7 }), { maxLength: 10 }),
          clears: fc.array(fc.integer({ min: 0, max: 7 }), { maxLength: 3 })
        }),
        { minLength: 1, maxLength: 8 }
      )
    },
    ({ maxBatchSize, ticks }) =>
      Effect.promise(async () => {
        const calls: Array<ReadonlyArray<number>> = []
        const loader = createLoader((keys: ReadonlyArray<number>) => {
          calls.push([...keys])
          return Promise.resolve(keys.map((key) => key * 10))
        }, { maxBatchSize, maxsize: Infinity })
        const cached = new Set<number>()
        const expected: Array<ReadonlyArray<number>> = []
        for (const { clears, loads } of ticks) {
          const missed = [...new Set(loads.filter((key) => !cached.has(key)))]
          for (let i = 0; i < missed.length; i += maxBatchSize) expected.push(missed.slice(i, i + maxBatchSize))
          expect(await Promise.all(loads.map((key) => loader.load(key)))).toEqual(loads.map((key) => key * 10))
          for (const key of missed) cached.add(key)
          for (const key of clears) {
            loader.clear(key)
            cached.delete(key)
          }
        }
        expect(calls).toEqual(expected)
        expect(loader.cacheStats().size).toBe(cached.size)
      }),
    { fastCheck: { numRuns: 200 } }
  )
})
