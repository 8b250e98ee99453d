import { describe, expect, it } from "@effect/vitest"
import { Context, Deferred, Effect, Exit, Fiber, Layer, Logger, Metric, Option, Schema, Scope, TestClock } from "effect"
import { CacheStore, RequestCache } from "../src/index.js"
import { NotFound, User, usersFunction } from "./support/users.js"

/** Yields to the scheduler until `condition` holds: no clock, no sleeping. */
const eventually = (condition: () => boolean) =>
  Effect.gen(function*() {
    for (let i = 0; i < 10_000 && !condition(); i++) yield* Effect.yieldNow()
    if (!condition()) return yield* Effect.dieMessage("condition never held")
  })

let unique = 0
const fresh = (prefix: string) => `${prefix}-${++unique}`

/** One "process": a cache on the shared store, built in the test's scope. */
const process = (store: CacheStore.Service, options?: RequestCache.StoreOptions) =>
  Layer.build(RequestCache.layerStore(options).pipe(Layer.provide(Layer.succeed(CacheStore.CacheStore, store))))

const inside = <A, E, R>(context: Context.Context<RequestCache>) => (effect: Effect.Effect<A, E, R>) =>
  Effect.provide(effect, context)

/** A store whose every command fails, as a Redis that is down. */
const downStore: CacheStore.Service = (() => {
  const down = (operation: string) =>
    Effect.fail(new CacheStore.CacheStoreError({ operation, reason: "connection refused" }))
  return {
    name: "down",
    get: () => down("get"),
    set: () => down("set"),
    delete: () => down("delete"),
    clear: () => down("clear"),
    coordination: {
      acquire: () => down("acquire"),
      release: () => down("release"),
      publish: () => down("publish"),
      subscribe: () => down("subscribe")
    }
  }
})()

describe("Stores: values, failures and expiry through the store", () => {
  it.scoped("a value loaded by one process is a hit in another, decoded by its schema", () =>
    Effect.gen(function*() {
      const store = yield* CacheStore.makeMemory
      const a = yield* process(store)
      const b = yield* process(store)
      const { get, state } = usersFunction(fresh("users"))
      const first = yield* get(1).pipe(inside(a))
      const second = yield* get(1).pipe(inside(b))
      expect(state.runs).toBe(1)
      expect(second).toBeInstanceOf(User)
      expect(second).toEqual(first)
      expect(yield* get.stats.pipe(inside(b))).toMatchObject({ hits: 1, misses: 0, loads: 0 })
      expect(yield* get.stats.pipe(inside(a))).toMatchObject({ hits: 0, misses: 1, loads: 1 })
      // The metrics count the same: a caller served by the store is a hit, not a miss.
      const counter = (name: string) =>
        Metric.value(Metric.counter(name).pipe(Metric.tagged("namespace", get.namespace))).pipe(
          Effect.map((state) => state.count)
        )
      expect(yield* counter("request_cache_hits")).toBe(1)
      expect(yield* counter("request_cache_misses")).toBe(1)
      expect(yield* counter("request_cache_loads")).toBe(1)
      expect(yield* counter("request_cache_store_errors")).toBe(0)
    }))

  it.scoped("a cached typed failure comes back with its _tag, decoded by the failure schema", () =>
    Effect.gen(function*() {
      const store = yield* CacheStore.makeMemory
      const a = yield* process(store, { cacheErrors: true })
      const b = yield* process(store, { cacheErrors: true })
      const { get, state } = usersFunction(fresh("users"))
      const first = yield* Effect.flip(get(-1).pipe(inside(a)))
      const second = yield* Effect.flip(get(-1).pipe(inside(b)))
      expect(state.runs).toBe(1)
      expect(second).toBeInstanceOf(NotFound)
      expect(second._tag).toBe("NotFound")
      expect(second).toEqual(first)
    }))

  it.scoped("failures that the policy does not cache are not stored", () =>
    Effect.gen(function*() {
      const store = yield* CacheStore.makeMemory
      const a = yield* process(store)
      const b = yield* process(store)
      const { get, state } = usersFunction(fresh("users"))
      yield* Effect.flip(get(-1).pipe(inside(a)))
      yield* Effect.flip(get(-1).pipe(inside(b)))
      expect(state.runs).toBe(2)
    }))

  it.scoped("expiry survives the round trip: the entry is fresh in another process until its time to live ends", () =>
    Effect.gen(function*() {
      const store = yield* CacheStore.makeMemory
      const a = yield* process(store, { timeToLive: "1 minute" })
      const b = yield* process(store, { timeToLive: "1 minute" })
      const { get, state } = usersFunction(fresh("users"))
      yield* get(1).pipe(inside(a))
      yield* TestClock.adjust("59 seconds")
      yield* get(1).pipe(inside(b))
      expect(state.runs).toBe(1)
      yield* TestClock.adjust("1 second")
      yield* get(1).pipe(inside(b))
      expect(state.runs).toBe(2)
    }))

  it.scoped("a per-entry time to live (RequestCache.get with timeToLive) travels to the store", () =>
    Effect.gen(function*() {
      const store = yield* CacheStore.makeMemory
      const a = yield* process(store, { timeToLive: "1 hour" })
      const b = yield* process(store, { timeToLive: "1 hour" })
      const { get, state } = usersFunction(fresh("users"))
      // The accessor has no schema: the namespace is made (with its schema) by the cached function.
      yield* get(0).pipe(inside(a))
      yield* get(0).pipe(inside(b))
      const session = RequestCache.get(
        get.namespace,
        2,
        Effect.sync(() => new User({ id: 2, name: `s${++state.runs}` })),
        {
          timeToLive: "10 seconds"
        }
      )
      yield* session.pipe(inside(a))
      yield* session.pipe(inside(b))
      expect(state.runs).toBe(2)
      yield* TestClock.adjust("10 seconds")
      yield* session.pipe(inside(b))
      expect(state.runs).toBe(3)
    }))

  it.scoped("the first tier asks the store again after its own time to live", () =>
    Effect.gen(function*() {
      const store = yield* CacheStore.makeMemory
      const a = yield* process(store, { l1: { timeToLive: "5 seconds" } })
      const name = fresh("users")
      const { get, state } = usersFunction(name)
      yield* get(1).pipe(inside(a))
      // Written behind the cache's back (no event): the L1 keeps its copy until its TTL ends.
      const other = new User({ id: 1, name: "changed" })
      const envelope = JSON.stringify({
        v: 1,
        kind: "success",
        value: { id: 1, name: "changed" },
        freshUntil: null,
        staleUntil: null
      })
      yield* store.set(name, "n1", envelope, Infinity)
      expect((yield* get(1).pipe(inside(a))).name).toBe("user 1-1")
      yield* TestClock.adjust("5 seconds")
      expect(yield* get(1).pipe(inside(a))).toEqual(other)
      expect(state.runs).toBe(1)
    }))

  // The first tier's bound is on how old its copy is: counted from when the store was read (or the
  // lookup started), not from when a slow read or lookup ended, so that a process whose events
  // are lost serves a value another process invalidated at most l1.timeToLive after that.
  it.scoped("a first-tier copy lives l1.timeToLive from when the store was read, however slow the read", () =>
    Effect.gen(function*() {
      const store = yield* CacheStore.makeMemory
      const reads = { count: 0 }
      const slowReads: CacheStore.Service = {
        ...store,
        get: (namespace, key) => {
          reads.count++
          return Effect.zipRight(Effect.sleep("1 second"), store.get(namespace, key))
        }
      }
      const b = yield* process(store)
      const a = yield* process(slowReads, { l1: { timeToLive: "5 seconds" } })
      const { get } = usersFunction(fresh("users"))
      yield* get(1).pipe(inside(b)) // in the store
      const first = yield* Effect.fork(get(1).pipe(inside(a)))
      yield* TestClock.adjust("1 second") // the read takes a second
      yield* Fiber.join(first)
      const before = reads.count
      yield* TestClock.adjust("3999 millis") // 4.999 s after the read started: still the copy
      yield* get(1).pipe(inside(a))
      expect(reads.count).toBe(before)
      yield* TestClock.adjust("1 millis") // 5 s after it started (4 s after it ended): the store again
      const again = yield* Effect.fork(get(1).pipe(inside(a)))
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(again)
      expect(reads.count).toBe(before + 1)
    }))

  it.scoped("a first-tier copy of a lookup's result lives l1.timeToLive from when the lookup started", () =>
    Effect.gen(function*() {
      const store = yield* CacheStore.makeMemory
      const a = yield* process(store, { l1: { timeToLive: "5 seconds" } })
      let runs = 0
      const getSlow = RequestCache.cached({
        name: fresh("slow"),
        lookup: (id: number) => Effect.as(Effect.sleep("2 seconds"), `${id}-${++runs}`),
        schema: { success: Schema.String }
      })
      const first = yield* Effect.fork(getSlow(1).pipe(inside(a)))
      yield* TestClock.adjust("2 seconds")
      expect(yield* Fiber.join(first)).toBe("1-1")
      // Changed behind the cache's back (no event): only the first tier's bound lets it go.
      yield* store.set(
        getSlow.namespace,
        "n1",
        JSON.stringify({ v: 1, kind: "success", value: "changed", freshUntil: null, staleUntil: null }),
        Infinity
      )
      yield* TestClock.adjust("2999 millis")
      expect(yield* getSlow(1).pipe(inside(a))).toBe("1-1")
      yield* TestClock.adjust("1 millis") // 5 s after the lookup started, 3 s after it ended
      expect(yield* getSlow(1).pipe(inside(a))).toBe("changed")
    }))

  it.scoped("set, peek and invalidate go through the store", () =>
    Effect.gen(function*() {
      const store = yield* CacheStore.makeMemory
      const a = yield* process(store)
      const b = yield* process(store)
      const { get, state } = usersFunction(fresh("users"))
      const ada = new User({ id: 7, name: "Ada" })
      yield* get.set(7, ada).pipe(inside(a))
      expect(yield* get.peek(7).pipe(inside(b))).toEqual(Option.some(ada))
      expect(yield* get(7).pipe(inside(b))).toEqual(ada)
      expect(yield* get.invalidate(7).pipe(inside(b))).toBe(true)
      expect(yield* get.peek(7).pipe(inside(a))).toEqual(Option.none())
      yield* get(7).pipe(inside(a))
      expect(state.runs).toBe(1)
    }))

  it.scoped("keys of different types do not collide in the store", () =>
    Effect.gen(function*() {
      const store = yield* CacheStore.makeMemory
      const a = yield* process(store)
      const name = fresh("keys")
      const get = RequestCache.cached({
        name,
        lookup: (...args: ReadonlyArray<unknown>) => Effect.succeed(JSON.stringify(args)),
        schema: { success: Schema.String }
      })
      const calls: ReadonlyArray<ReadonlyArray<unknown>> = [[1], ["1"], ["a,b"], ["a", "b"], [[1, 2]], [1, 2], [{
        a: 1
      }]]
      const values = yield* Effect.forEach(calls, (args) => get(...args)).pipe(inside(a))
      expect(new Set(values).size).toBe(calls.length)
      // Through the store (a fresh process): each key finds its own entry.
      const b = yield* process(store)
      expect(yield* Effect.forEach(calls, (args) => get(...args)).pipe(inside(b))).toEqual(values)
    }))
})

describe("Stores: stale-while-revalidate over the store", () => {
  it.scoped("a stale entry is served at once while one refresh runs, and the refresh is shared", () =>
    Effect.gen(function*() {
      const store = yield* CacheStore.makeMemory
      const options = { timeToLive: "1 minute", staleWhileRevalidate: "1 minute" } as const
      const a = yield* process(store, options)
      const b = yield* process(store, options)
      const { get, state } = usersFunction(fresh("users"))
      const first = yield* get(1).pipe(inside(a))
      yield* TestClock.adjust("90 seconds")
      // Process b has nothing in memory: the store's stale entry is served, a refresh starts.
      expect(yield* get(1).pipe(inside(b))).toEqual(first)
      yield* eventually(() => state.runs === 2)
      expect(yield* get.stats.pipe(inside(b))).toMatchObject({ staleHits: 1, misses: 0, loads: 0 })
      for (let i = 0; i < 10_000 && (yield* get.stats.pipe(inside(b))).refreshes === 0; i++) yield* Effect.yieldNow()
      expect((yield* get.stats.pipe(inside(b))).refreshes).toBe(1)
      // The refresh wrote the store and told process a, whose copy went.
      expect((yield* get(1).pipe(inside(a))).name).toBe("user 1-2")
      expect((yield* get(1).pipe(inside(b))).name).toBe("user 1-2")
      expect(state.runs).toBe(2)
    }))

  it.scoped("past the window the entry is a miss", () =>
    Effect.gen(function*() {
      const store = yield* CacheStore.makeMemory
      const options = { timeToLive: "1 minute", staleWhileRevalidate: "1 minute" } as const
      const a = yield* process(store, options)
      const b = yield* process(store, options)
      const { get, state } = usersFunction(fresh("users"))
      yield* get(1).pipe(inside(a))
      yield* TestClock.adjust("121 seconds")
      expect((yield* get(1).pipe(inside(b))).name).toBe("user 1-2")
      expect(state.runs).toBe(2)
    }))
})

describe("Stores: faults never fail the caller", () => {
  const logs: Array<string> = []
  const logger = Logger.make(({ message }) => void logs.push(String(message)))

  it.scoped("a payload that does not decode is a miss and a store error", () =>
    Effect.gen(function*() {
      const store = yield* CacheStore.makeMemory
      const a = yield* process(store)
      const name = fresh("users")
      const { get, state } = usersFunction(name)
      yield* store.set(name, "n1", "{not json", Infinity)
      yield* store.set(
        name,
        "n2",
        JSON.stringify({ v: 1, kind: "success", value: { id: "two" }, freshUntil: null, staleUntil: null }),
        Infinity
      )
      yield* store.set(name, "n3", JSON.stringify({ v: 99, kind: "success", value: { id: 3, name: "x" } }), Infinity)
      const values = yield* Effect.forEach([1, 2, 3], (id) => get(id)).pipe(inside(a))
      expect(values.map((u) => u.id)).toEqual([1, 2, 3])
      expect(state.runs).toBe(3)
      // Each bad entry is read twice: on the miss, and again once the lock is taken.
      expect(yield* get.stats.pipe(inside(a))).toMatchObject({ storeErrors: 6, misses: 3, loads: 3 })
      // The next write replaced the bad entry.
      const b = yield* process(store)
      yield* get(1).pipe(inside(b))
      expect(state.runs).toBe(3)
    }))

  it.scoped("a store whose every command fails: every caller still gets its value, errors counted and logged", () =>
    Effect.gen(function*() {
      const a = yield* process(downStore)
      const gate = yield* Deferred.make<void>()
      const { get, state } = usersFunction(fresh("users"), { gate })
      const fibers = yield* Effect.forEach([1, 1, 1, 2], (id) => Effect.fork(get(id).pipe(inside(a))))
      yield* eventually(() => state.runs === 2)
      yield* Deferred.succeed(gate, undefined)
      const users = yield* Fiber.joinAll(fibers)
      expect(users.map((u) => u.id)).toEqual([1, 1, 1, 2])
      expect(state.runs).toBe(2)
      // Served from the first tier afterwards.
      yield* get(1).pipe(inside(a))
      yield* get.invalidate(1).pipe(inside(a))
      yield* get.set(3, new User({ id: 3, name: "c" })).pipe(inside(a))
      yield* get.invalidateAll.pipe(inside(a))
      const stats = yield* get.stats.pipe(inside(a))
      expect(stats.storeErrors).toBeGreaterThanOrEqual(6)
      expect(stats.hits).toBe(1)
      yield* Effect.yieldNow()
      expect(logs.some((line) => line.includes("connection refused"))).toBe(true)
      // Once per burst, not once per error.
      expect(logs.filter((line) => line.includes("connection refused")).length).toBeLessThan(stats.storeErrors)
    }).pipe(Effect.provide(Logger.replace(Logger.defaultLogger, logger))))

  it.scoped("a store that never answers a lock holder's result: the waiter runs the lookup after the lock timeout", () =>
    Effect.gen(function*() {
      const store = yield* CacheStore.makeMemory
      const name = fresh("users")
      // Another process took the lock and died.
      yield* store.coordination!.acquire(name, "n1", "dead-process", 30_000)
      const a = yield* process(store, { lockTimeout: "2 seconds" })
      const { get, state } = usersFunction(name)
      const fiber = yield* Effect.fork(get(1).pipe(inside(a)))
      for (let i = 0; i < 20; i++) yield* Effect.yieldNow()
      expect(state.runs).toBe(0)
      yield* TestClock.adjust("2 seconds")
      const user = yield* Fiber.join(fiber)
      expect(user.id).toBe(1)
      expect(state.runs).toBe(1)
    }))
})

/** `store` with its reads counted and, while `gate` is set, held until it opens. */
const heldReads = (store: CacheStore.Service) => {
  const state: { reads: number; gate: Deferred.Deferred<void> | undefined } = { reads: 0, gate: undefined }
  const service: CacheStore.Service = {
    ...store,
    get: (namespace, key) =>
      Effect.suspend(() => {
        state.reads++
        const read = store.get(namespace, key)
        return state.gate === undefined ? read : Effect.zipRight(Deferred.await(state.gate), read)
      })
  }
  return { service, state }
}

describe("Stores: single flight within a process (the first caller reads the store)", () => {
  it.scoped("concurrent callers of a key in the store: one read, no lookup, the others coalesced", () =>
    Effect.gen(function*() {
      const store = yield* CacheStore.makeMemory
      const a = yield* process(store)
      const held = heldReads(store)
      const b = yield* process(held.service)
      const { get, state } = usersFunction(fresh("users"))
      yield* get(1).pipe(inside(a))
      held.state.gate = yield* Deferred.make<void>()
      const fibers = yield* Effect.forEach(Array.from({ length: 5 }), () => Effect.fork(get(1).pipe(inside(b))))
      yield* eventually(() => held.state.reads === 1)
      for (let i = 0; i < 20; i++) yield* Effect.yieldNow()
      expect(held.state.reads).toBe(1)
      yield* Deferred.succeed(held.state.gate, undefined)
      const users = yield* Fiber.joinAll(fibers)
      expect(new Set(users.map((u) => u.name))).toEqual(new Set(["user 1-1"]))
      expect(held.state.reads).toBe(1)
      expect(state.runs).toBe(1)
      expect(yield* get.stats.pipe(inside(b))).toMatchObject({ hits: 1, coalesced: 4, misses: 0, loads: 0 })
      // Then a hit of the first tier.
      yield* get(1).pipe(inside(b))
      expect(held.state.reads).toBe(1)
    }))

  it.scoped("concurrent callers of a key nobody holds: one load (a read, the lock, a read again) and one lookup", () =>
    Effect.gen(function*() {
      const held = heldReads(yield* CacheStore.makeMemory)
      const a = yield* process(held.service)
      const { get, state } = usersFunction(fresh("users"))
      held.state.gate = yield* Deferred.make<void>()
      const fibers = yield* Effect.forEach(Array.from({ length: 5 }), () => Effect.fork(get(1).pipe(inside(a))))
      yield* eventually(() => held.state.reads === 1)
      for (let i = 0; i < 20; i++) yield* Effect.yieldNow()
      yield* Deferred.succeed(held.state.gate, undefined)
      const users = yield* Fiber.joinAll(fibers)
      expect(new Set(users.map((u) => u.name))).toEqual(new Set(["user 1-1"]))
      expect(held.state.reads).toBe(2)
      expect(state.runs).toBe(1)
      expect(yield* get.stats.pipe(inside(a))).toMatchObject({ hits: 0, coalesced: 4, misses: 1, loads: 1 })
    }))

  it.scoped("a caller interrupted while it reads the store hands the load over to those who joined", () =>
    Effect.gen(function*() {
      const store = yield* CacheStore.makeMemory
      const a = yield* process(store)
      const held = heldReads(store)
      const b = yield* process(held.service)
      const { get, state } = usersFunction(fresh("users"))
      yield* get(1).pipe(inside(a))
      held.state.gate = yield* Deferred.make<void>()
      const first = yield* Effect.fork(get(1).pipe(inside(b)))
      yield* eventually(() => held.state.reads === 1)
      const second = yield* Effect.fork(get(1).pipe(inside(b)))
      for (let i = 0; i < 20; i++) yield* Effect.yieldNow()
      expect(Exit.isInterrupted(yield* Fiber.interrupt(first))).toBe(true)
      // The interrupted read is abandoned: the load that the second caller waits for reads again.
      yield* eventually(() => held.state.reads === 2)
      yield* Deferred.succeed(held.state.gate, undefined)
      expect((yield* Fiber.join(second)).name).toBe("user 1-1")
      expect(state.runs).toBe(1)
      expect(yield* get.stats.pipe(inside(b))).toMatchObject({ hits: 1, coalesced: 1, misses: 0, loads: 0 })
    }))

  it.scoped("a caller interrupted while it reads the store, alone: its load goes, the next caller starts afresh", () =>
    Effect.gen(function*() {
      const store = yield* CacheStore.makeMemory
      const a = yield* process(store)
      const held = heldReads(store)
      const b = yield* process(held.service)
      const { get, state } = usersFunction(fresh("users"))
      yield* get(1).pipe(inside(a))
      held.state.gate = yield* Deferred.make<void>()
      const first = yield* Effect.fork(get(1).pipe(inside(b)))
      yield* eventually(() => held.state.reads === 1)
      yield* Fiber.interrupt(first)
      for (let i = 0; i < 20; i++) yield* Effect.yieldNow()
      expect(held.state.reads).toBe(1)
      yield* Deferred.succeed(held.state.gate, undefined)
      expect((yield* get(1).pipe(inside(b))).name).toBe("user 1-1")
      expect(held.state.reads).toBe(2)
      expect(state.runs).toBe(1)
      expect(yield* get.stats.pipe(inside(b))).toMatchObject({ hits: 1, coalesced: 0, misses: 1, loads: 0, size: 1 })
    }))
})

describe("Stores: two processes over one shared store", () => {
  it.scoped("single flight across processes: concurrent callers on both run the lookup once", () =>
    Effect.gen(function*() {
      const store = yield* CacheStore.makeMemory
      const a = yield* process(store)
      const b = yield* process(store)
      const gate = yield* Deferred.make<void>()
      const { get, state } = usersFunction(fresh("users"), { gate })
      const onA = yield* Effect.forEach(Array.from({ length: 5 }), () => Effect.fork(get(1).pipe(inside(a))))
      yield* eventually(() => state.runs === 1)
      const onB = yield* Effect.forEach(Array.from({ length: 5 }), () => Effect.fork(get(1).pipe(inside(b))))
      for (let i = 0; i < 20; i++) yield* Effect.yieldNow()
      expect(state.runs).toBe(1)
      yield* Deferred.succeed(gate, undefined)
      const users = yield* Fiber.joinAll([...onA, ...onB])
      expect(state.runs).toBe(1)
      expect(new Set(users.map((u) => u.name)).size).toBe(1)
      expect(yield* get.stats.pipe(inside(b))).toMatchObject({ misses: 0, coalesced: 5, loads: 0 })
      expect(yield* get.stats.pipe(inside(a))).toMatchObject({ misses: 1, coalesced: 4, loads: 1 })
    }))

  it.scoped("an invalidation in one process drops the key from the other's first tier", () =>
    Effect.gen(function*() {
      const store = yield* CacheStore.makeMemory
      const options = { l1: { timeToLive: "1 hour" } } as const
      const a = yield* process(store, options)
      const b = yield* process(store, options)
      const { get, state } = usersFunction(fresh("users"))
      yield* get(1).pipe(inside(a))
      yield* get(1).pipe(inside(b)) // now in b's first tier
      expect(state.runs).toBe(1)
      yield* get.invalidate(1).pipe(inside(a))
      expect((yield* get(1).pipe(inside(b))).name).toBe("user 1-2")
      expect(state.runs).toBe(2)
    }))

  it.scoped("a set in one process replaces the other's copy; invalidateAll clears every process", () =>
    Effect.gen(function*() {
      const store = yield* CacheStore.makeMemory
      const options = { l1: { timeToLive: "1 hour" } } as const
      const a = yield* process(store, options)
      const b = yield* process(store, options)
      const { get, state } = usersFunction(fresh("users"))
      yield* get(1).pipe(inside(b))
      yield* get(2).pipe(inside(b))
      const ada = new User({ id: 1, name: "Ada" })
      yield* get.set(1, ada).pipe(inside(a))
      expect(yield* get(1).pipe(inside(b))).toEqual(ada)
      yield* get.invalidateAll.pipe(inside(a))
      expect((yield* get(2).pipe(inside(b))).name).toBe("user 2-3")
      expect(state.runs).toBe(3)
    }))

  it.scoped("an invalidation wins over a load in flight: its result is not stored", () =>
    Effect.gen(function*() {
      const store = yield* CacheStore.makeMemory
      const a = yield* process(store)
      const b = yield* process(store)
      const gate = yield* Deferred.make<void>()
      const { get, state } = usersFunction(fresh("users"), { gate })
      const fiber = yield* Effect.fork(get(1).pipe(inside(a)))
      yield* eventually(() => state.runs === 1)
      yield* get.invalidate(1).pipe(inside(a))
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(fiber)
      yield* get(1).pipe(inside(b))
      expect(state.runs).toBe(2)
    }))

  // Across processes an event can come too late to cancel a load's write (or never: its
  // connection is lost), and a command can land after its own timeout: the store itself refuses a
  // write older than the key's last set or invalidation (a fence: each write carries when its value
  // was made, each invalidation when it was made).
  it.scoped("another process's set wins over a load in flight: the load's older result is not stored", () =>
    Effect.gen(function*() {
      const store = yield* CacheStore.makeMemory
      const a = yield* process(store)
      const b = yield* process(store)
      const gate = yield* Deferred.make<void>()
      const { get, state } = usersFunction(fresh("users"), { gate })
      const fiber = yield* Effect.fork(get(1).pipe(inside(a)))
      yield* eventually(() => state.runs === 1)
      yield* TestClock.adjust("1 millis") // the set comes after the lookup started
      const written = new User({ id: 1, name: "written by b" })
      yield* get.set(1, written).pipe(inside(b))
      yield* Deferred.succeed(gate, undefined)
      expect((yield* Fiber.join(fiber)).name).toBe("user 1-1") // a's caller gets its lookup's result
      const c = yield* process(store)
      expect(yield* get(1).pipe(inside(c))).toEqual(written)
      expect(state.runs).toBe(1)
    }))

  it.scoped("another process's invalidation wins over a load in flight whose process never hears of it", () =>
    Effect.gen(function*() {
      const store = yield* CacheStore.makeMemory
      // a's subscription hears nothing (its connection for events is down): no event cancels its write.
      const deaf: CacheStore.Service = {
        ...store,
        coordination: { ...store.coordination!, subscribe: () => Effect.void }
      }
      const a = yield* process(deaf)
      const b = yield* process(store)
      const gate = yield* Deferred.make<void>()
      const { get, state } = usersFunction(fresh("users"), { gate })
      const fiber = yield* Effect.fork(get(1).pipe(inside(a)))
      yield* eventually(() => state.runs === 1)
      yield* TestClock.adjust("1 millis")
      yield* get.invalidate(1).pipe(inside(b))
      yield* Deferred.succeed(gate, undefined)
      expect((yield* Fiber.join(fiber)).name).toBe("user 1-1")
      // b invalidated after a's lookup started: b (and anyone) loads again, never a's result.
      expect((yield* get(1).pipe(inside(b))).name).toBe("user 1-2")
    }))

  it.effect("the memory store's fence: a write older than the key's last write or invalidation is refused", () =>
    Effect.gen(function*() {
      const store = yield* CacheStore.makeMemory
      const window = 60_000
      yield* store.set("ns", "k", "new", Infinity, { version: 20, window })
      yield* store.set("ns", "k", "old", Infinity, { version: 10, window }) // landed late: refused
      expect(yield* store.get("ns", "k")).toEqual(Option.some("new"))
      yield* store.set("ns", "k", "same time", Infinity, { version: 20, window }) // a tie is not older
      expect(yield* store.get("ns", "k")).toEqual(Option.some("same time"))
      expect(yield* store.delete("ns", "k", { version: 30, window })).toBe(true)
      yield* store.set("ns", "k", "before the invalidation", Infinity, { version: 25, window })
      expect(yield* store.get("ns", "k")).toEqual(Option.none())
      yield* store.set("ns", "k", "after", Infinity, { version: 31, window })
      expect(yield* store.get("ns", "k")).toEqual(Option.some("after"))
      // An older invalidation (replayed late) still deletes (a miss is the safe side) and leaves
      // the later version in place; without a fence, writes and deletions are as they were.
      expect(yield* store.delete("ns", "k", { version: 5, window })).toBe(true)
      yield* store.set("ns", "k", "older than 31", Infinity, { version: 6, window })
      expect(yield* store.get("ns", "k")).toEqual(Option.none())
      yield* store.set("ns", "k", "unfenced", Infinity)
      expect(yield* store.get("ns", "k")).toEqual(Option.some("unfenced"))
      // A version is remembered for its window: past it, an older write is taken again.
      yield* TestClock.adjust(window + 1)
      yield* store.set("ns", "k", "much later", Infinity, { version: 7, window })
      expect(yield* store.get("ns", "k")).toEqual(Option.some("much later"))
    }))
})

/** `store` with `before` run ahead of each lock request (then the request, as the store answers it). */
const lockRequests = (
  store: CacheStore.Service,
  around: (request: Effect.Effect<boolean, CacheStore.CacheStoreError>, attempt: number) => Effect.Effect<
    boolean,
    CacheStore.CacheStoreError
  >
): CacheStore.Service => {
  let attempt = 0
  const coordination = store.coordination!
  return {
    ...store,
    coordination: {
      ...coordination,
      acquire: (namespace, key, owner, timeToLive) =>
        Effect.suspend(() => around(coordination.acquire(namespace, key, owner, timeToLive), ++attempt))
    }
  }
}

const lostAnswer = new CacheStore.CacheStoreError({
  operation: "acquire",
  reason: "no answer from redis within 250 ms"
})

describe("Stores: the lock across processes (one lookup per key in the cluster)", () => {
  it.scoped("the lock taken after another process wrote the entry and released it: the store is read again, no lookup", () =>
    Effect.gen(function*() {
      const shared = yield* CacheStore.makeMemory
      const b = yield* process(shared)
      const { get, state } = usersFunction(fresh("users"))
      // Between a's read (nothing) and its lock request, b loads the key, writes it and releases its lock.
      const a = yield* process(
        lockRequests(
          shared,
          (request, attempt) => attempt === 1 ? Effect.zipRight(Effect.orDie(get(1).pipe(inside(b))), request) : request
        )
      )
      const fromA = yield* get(1).pipe(inside(a))
      expect(state.runs).toBe(1)
      expect(fromA).toEqual(yield* get(1).pipe(inside(b)))
      expect(yield* get.stats.pipe(inside(a))).toMatchObject({ misses: 0, loads: 0, coalesced: 1, storeErrors: 0 })
      // a released the lock it took: the key's next load elsewhere takes it at once.
      expect(yield* shared.coordination!.acquire(get.namespace, "n1", "someone", 1_000)).toBe(true)
    }))

  it.scoped("a lock request whose answer is lost, when it took the lock: asked again, it holds it; one lookup in all", () =>
    Effect.gen(function*() {
      const shared = yield* CacheStore.makeMemory
      const gate = yield* Deferred.make<void>()
      const { get, state } = usersFunction(fresh("users"), { gate })
      // The first request reaches the store and takes the lock, but its answer never comes back.
      const a = yield* process(
        lockRequests(
          shared,
          (request, attempt) => attempt === 1 ? Effect.zipRight(request, Effect.fail(lostAnswer)) : request
        )
      )
      const b = yield* process(shared)
      const onA = yield* Effect.fork(get(1).pipe(inside(a)))
      yield* eventually(() => state.runs === 1)
      const onB = yield* Effect.fork(get(1).pipe(inside(b))) // finds the lock held: waits for a
      for (let i = 0; i < 20; i++) yield* Effect.yieldNow()
      yield* Deferred.succeed(gate, undefined)
      const [fromA, fromB] = yield* Fiber.joinAll([onA, onB])
      expect(state.runs).toBe(1)
      expect(fromB).toEqual(fromA)
      // The lost answer is a store error; the lock a took is released once its result is written.
      expect((yield* get.stats.pipe(inside(a))).storeErrors).toBe(1)
      expect(yield* shared.coordination!.acquire(get.namespace, "n1", "someone", 1_000)).toBe(true)
    }))

  it.scoped("a lock request whose answer is lost, while another process holds the lock: it waits for that one's result", () =>
    Effect.gen(function*() {
      const shared = yield* CacheStore.makeMemory
      const gate = yield* Deferred.make<void>()
      const { get, state } = usersFunction(fresh("users"), { gate })
      const b = yield* process(shared)
      const a = yield* process(
        lockRequests(
          shared,
          (request, attempt) => attempt === 1 ? Effect.zipRight(request, Effect.fail(lostAnswer)) : request
        )
      )
      const onB = yield* Effect.fork(get(1).pipe(inside(b))) // b holds the lock and runs the lookup
      yield* eventually(() => state.runs === 1)
      const onA = yield* Effect.fork(get(1).pipe(inside(a)))
      for (let i = 0; i < 20; i++) yield* Effect.yieldNow()
      expect(state.runs).toBe(1) // before this fix, a ran the lookup beside b here
      yield* Deferred.succeed(gate, undefined)
      const [fromB, fromA] = yield* Fiber.joinAll([onB, onA])
      expect(state.runs).toBe(1)
      expect(fromA).toEqual(fromB)
      expect(yield* get.stats.pipe(inside(a))).toMatchObject({ loads: 0, coalesced: 1, storeErrors: 1 })
    }))

  it.scoped("a lock that cannot be asked for at all (the store does not answer): the lookup runs without it", () =>
    Effect.gen(function*() {
      const shared = yield* CacheStore.makeMemory
      const a = yield* process(lockRequests(shared, () => Effect.fail(lostAnswer)))
      const { get, state } = usersFunction(fresh("users"))
      yield* get(1).pipe(inside(a))
      expect(state.runs).toBe(1)
      // Asked twice, then the lookup ran; its result still reached the store.
      expect((yield* get.stats.pipe(inside(a))).storeErrors).toBe(2)
      const b = yield* process(shared)
      yield* get(1).pipe(inside(b))
      expect(state.runs).toBe(1)
    }))

  it.scoped("a lock is re-entrant for its owner only", () =>
    Effect.gen(function*() {
      const { acquire, release } = (yield* CacheStore.makeMemory).coordination!
      expect(yield* acquire("ns", "k", "a#1", 1_000)).toBe(true)
      expect(yield* acquire("ns", "k", "a#1", 1_000)).toBe(true)
      expect(yield* acquire("ns", "k", "a#2", 1_000)).toBe(false)
      yield* release("ns", "k", "a#1")
      expect(yield* acquire("ns", "k", "a#2", 1_000)).toBe(true)
    }))
})

describe("Stores: namespaces without a schema", () => {
  it.scoped("stay in memory, and the layer says so once per namespace", () =>
    Effect.gen(function*() {
      const logs: Array<string> = []
      const logger = Logger.make(({ message }) => void logs.push(String(message)))
      const store = yield* CacheStore.makeMemory
      const a = yield* process(store).pipe(Effect.provide(Logger.replace(Logger.defaultLogger, logger)))
      const b = yield* process(store)
      const name = fresh("plain")
      let runs = 0
      const get = RequestCache.cached({ name, lookup: (id: number) => Effect.sync(() => ({ id, run: ++runs })) })
      yield* get(1).pipe(inside(a))
      yield* get(1).pipe(inside(a))
      yield* get(2).pipe(inside(a))
      yield* get(1).pipe(inside(b))
      expect(runs).toBe(3)
      expect(Option.isNone(yield* store.get(name, "n1"))).toBe(true)
      const notes = logs.filter((line) => line.includes(`"${name}"`))
      expect(notes).toHaveLength(1)
      expect(notes[0]).toContain("no schema")
    }).pipe(Effect.provide(Logger.replace(Logger.defaultLogger, Logger.none))))
})

describe("Stores: the layer", () => {
  it.effect("validates its own options", () =>
    Effect.gen(function*() {
      const build = (options: RequestCache.StoreOptions) =>
        Effect.flip(
          Effect.scoped(Layer.build(RequestCache.layerStore(options).pipe(Layer.provide(CacheStore.layerMemory))))
        )
      expect((yield* build({ l1: { capacity: 0 } })).option).toBe("l1.capacity")
      expect((yield* build({ lockTimeout: "forever" as never })).option).toBe("lockTimeout")
      expect((yield* build({ l1: { size: 1 } as never })).option).toBe("l1.size")
      expect((yield* build({ capacity: -1 })).option).toBe("capacity")
    }))

  it.scoped("closing the scope interrupts a background refresh", () =>
    Effect.gen(function*() {
      const store = yield* CacheStore.makeMemory
      const options = { timeToLive: "1 minute", staleWhileRevalidate: "1 minute" } as const
      const a = yield* process(store, options)
      const gate = yield* Deferred.make<void>()
      const state = { runs: 0, interrupted: 0 }
      const get = RequestCache.cached({
        name: fresh("numbers"),
        lookup: (id: number) =>
          Effect.gen(function*() {
            if (++state.runs > 1) yield* Deferred.await(gate)
            return id * 10
          }).pipe(Effect.onInterrupt(() => Effect.sync(() => state.interrupted++))),
        schema: { success: Schema.Number }
      })
      yield* get(1).pipe(inside(a))
      yield* TestClock.adjust("90 seconds")
      const scope = yield* Scope.make()
      const b = yield* Layer.buildWithScope(
        RequestCache.layerStore(options).pipe(Layer.provide(Layer.succeed(CacheStore.CacheStore, store))),
        scope
      )
      expect(yield* get(1).pipe(inside(b))).toBe(10) // stale, and a refresh starts
      yield* eventually(() => state.runs === 2)
      yield* Scope.close(scope, Exit.void)
      expect(state.interrupted).toBe(1)
      // The lock was released: process a refreshes the key itself.
      yield* Deferred.succeed(gate, undefined)
      expect(yield* get(1).pipe(inside(a))).toBe(10)
      yield* eventually(() => state.runs === 3)
    }))
})

describe("9. Stats: counters only rise", () => {
  /** Every `request_cache_*` counter of a namespace, as an exporter would scrape them. */
  const scrape = (namespace: string) =>
    Effect.sync(() => {
      const counters: Record<string, number> = {}
      for (const { metricKey, metricState } of Metric.unsafeSnapshot()) {
        if (!metricKey.name.startsWith("request_cache_") || !("count" in metricState)) continue
        if (!metricKey.tags.some((tag) => tag.key === "namespace" && tag.value === namespace)) continue
        counters[metricKey.name] = Number(metricState.count)
      }
      return counters
    })

  it.scoped("after every step of an L2 read (store read, lookup, write, another process's hit), no counter falls", () =>
    Effect.gen(function*() {
      const memory = yield* CacheStore.makeMemory
      // A store whose reads wait at a gate, so the test can scrape in the middle of one.
      let gate: Deferred.Deferred<void> | undefined
      const store: CacheStore.Service = {
        ...memory,
        get: (namespace, key) =>
          Effect.suspend(() => gate === undefined ? Effect.void : Deferred.await(gate)).pipe(
            Effect.zipRight(memory.get(namespace, key))
          )
      }
      const a = yield* process(store)
      const b = yield* process(store)
      const { get, state } = usersFunction(fresh("rising"))
      const seen: Array<Record<string, number>> = []
      const step = (what: string) =>
        Effect.gen(function*() {
          const now = yield* scrape(get.namespace)
          const before = seen[seen.length - 1] ?? {}
          for (const [name, count] of Object.entries(before)) {
            expect(now[name] ?? 0, `${name} after ${what}`).toBeGreaterThanOrEqual(count)
          }
          seen.push(now)
        })
      yield* step("start")
      // Process a: an L2 miss. The read waits at the gate...
      gate = yield* Deferred.make<void>()
      const first = yield* Effect.fork(get(1).pipe(inside(a)))
      yield* Effect.yieldNow()
      yield* step("a's store read started")
      const joined = yield* Effect.fork(get(1).pipe(inside(a)))
      yield* Effect.yieldNow()
      yield* step("a second caller joined a's flight")
      yield* Deferred.succeed(gate, undefined)
      gate = undefined
      yield* Fiber.join(first)
      yield* Fiber.join(joined)
      yield* step("a's lookup ran and wrote the store")
      // Process b: an L2 hit, read at the gate too.
      gate = yield* Deferred.make<void>()
      const second = yield* Effect.fork(get(1).pipe(inside(b)))
      yield* Effect.yieldNow()
      yield* step("b's store read started")
      yield* Deferred.succeed(gate, undefined)
      gate = undefined
      yield* Fiber.join(second)
      yield* step("b was served by the store")
      yield* get(1).pipe(inside(b))
      yield* step("b's L1 hit")
      expect(state.runs).toBe(1)
      const last = seen[seen.length - 1]!
      expect(last["request_cache_misses"]).toBe(1)
      expect(last["request_cache_loads"]).toBe(1)
      expect(last["request_cache_coalesced"]).toBe(1)
      expect(last["request_cache_hits"]).toBe(2)
    }))
})
