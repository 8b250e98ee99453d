/**
 * Batching (DESIGN.md "Batching"): `cachedBatch` and `cachedRequest`. Misses from any fiber within
 * the window go to one batch; hits and keys in a batch in flight never enter another; a key whose
 * callers all leave before its batch is sent is dropped from it.
 */
import { describe, expect, it } from "@effect/vitest"
import {
  Cause,
  Data,
  Deferred,
  type Duration,
  Effect,
  Exit,
  Fiber,
  Layer,
  Metric,
  MetricKey,
  Option,
  Request,
  RequestResolver,
  Schema,
  TestClock
} from "effect"
import { CacheStore, RequestCache } from "../src/index.js"

const layer = RequestCache.layer({ capacity: 1_000 })

/** A batch function that records every batch it was called with. */
const recorded = (
  name: string,
  options: { readonly window?: Duration.DurationInput; readonly maxBatchSize?: number } = {}
) => {
  const batches: Array<ReadonlyArray<number>> = []
  const get = RequestCache.cachedBatch({
    name,
    lookupMany: (ids: readonly [number, ...Array<number>]) =>
      Effect.sync(() => {
        batches.push([...ids])
        return ids.map((id) => `user ${id}`)
      }),
    ...options
  })
  return { batches, get }
}

/** Yields to the scheduler until `condition` holds: no clock, no sleeping. */
const until = (condition: () => boolean) =>
  Effect.gen(function*() {
    for (let i = 0; i < 1_000 && !condition(); i++) yield* Effect.yieldNow()
    if (!condition()) return yield* Effect.dieMessage("condition never held")
  })

/** Forks one caller per key and lets them all run. */
const callers = <A, E, R>(keys: ReadonlyArray<number>, call: (key: number) => Effect.Effect<A, E, R>) =>
  Effect.forEach(keys, (key) => Effect.fork(call(key)))

describe("Batching: cachedBatch", () => {
  it.effect("calls from many fibers in one scheduler turn go to one lookupMany, each caller gets its value", () =>
    Effect.gen(function*() {
      const { batches, get } = recorded("one-turn")
      const fibers = yield* callers([1, 2, 3, 4], get)
      const values = yield* Effect.forEach(fibers, Fiber.join)
      expect(values).toStrictEqual(["user 1", "user 2", "user 3", "user 4"])
      expect(batches).toStrictEqual([[1, 2, 3, 4]])
      const stats = yield* get.stats
      expect([stats.misses, stats.loads, stats.batches, stats.size]).toStrictEqual([4, 4, 1, 4])
    }).pipe(Effect.provide(layer)))

  it.effect("a cached key is a hit and never enters a batch; a key in a batch in flight is joined", () =>
    Effect.gen(function*() {
      const gate = yield* Deferred.make<void>()
      const batches: Array<ReadonlyArray<number>> = []
      const get = RequestCache.cachedBatch({
        name: "hits-and-joins",
        lookupMany: (ids: readonly [number, ...Array<number>]) =>
          Effect.sync(() => batches.push([...ids])).pipe(
            Effect.zipRight(Deferred.await(gate)),
            Effect.as(ids.map((id) => id * 10))
          )
      })
      yield* get.set(1, 10)
      const first = yield* callers([1, 2, 3], get)
      yield* until(() => batches.length === 1)
      expect(batches).toStrictEqual([[2, 3]])
      // 2 and 3 are in the batch in flight: joined, not sent again; 4 starts a new batch.
      const second = yield* callers([2, 3, 4], get)
      yield* until(() => batches.length === 2)
      expect(batches).toStrictEqual([[2, 3], [4]])
      yield* Deferred.succeed(gate, undefined)
      expect(yield* Effect.forEach([...first, ...second], Fiber.join)).toStrictEqual([10, 20, 30, 20, 30, 40])
      const stats = yield* get.stats
      expect([stats.hits, stats.misses, stats.coalesced, stats.batches]).toStrictEqual([1, 3, 2, 2])
    }).pipe(Effect.provide(layer)))

  it.effect("a window: the misses within it go together, by the TestClock", () =>
    Effect.gen(function*() {
      const { batches, get } = recorded("window", { window: "10 millis" })
      const early = yield* callers([1, 2], get)
      yield* TestClock.adjust("5 millis")
      const late = yield* callers([3], get)
      yield* Effect.yieldNow()
      expect(batches).toStrictEqual([])
      yield* TestClock.adjust("5 millis")
      yield* Effect.forEach([...early, ...late], Fiber.join)
      expect(batches).toStrictEqual([[1, 2, 3]])
      const next = yield* callers([4], get)
      yield* TestClock.adjust("10 millis")
      yield* Effect.forEach(next, Fiber.join)
      expect(batches).toStrictEqual([[1, 2, 3], [4]])
    }).pipe(Effect.provide(layer)))

  it.effect("maxBatchSize splits the misses", () =>
    Effect.gen(function*() {
      const { batches, get } = recorded("max-size", { maxBatchSize: 2 })
      const fibers = yield* callers([1, 2, 3, 4, 5], get)
      yield* Effect.forEach(fibers, Fiber.join)
      expect(batches).toStrictEqual([[1, 2], [3, 4], [5]])
      expect((yield* get.stats).batches).toBe(3)
    }).pipe(Effect.provide(layer)))

  it.effect("a result of the wrong length is a defect naming the namespace and both lengths, for every key", () =>
    Effect.gen(function*() {
      const get = RequestCache.cachedBatch({
        name: "wrong-length",
        lookupMany: (ids: readonly [number, ...Array<number>]) => Effect.succeed(ids.slice(1))
      })
      const fibers = yield* callers([1, 2, 3], get)
      for (const fiber of fibers) {
        const exit = yield* Fiber.await(fiber)
        expect(Exit.isFailure(exit) && Cause.isDie(exit.cause)).toBe(true)
        expect(Exit.isFailure(exit) && Cause.pretty(exit.cause)).toContain(
          `the batch lookup of namespace "wrong-length" returned 2 results for 3 keys`
        )
      }
      expect((yield* get.stats).size).toBe(0)
    }).pipe(Effect.provide(layer)))

  class Unavailable extends Data.TaggedError("Unavailable")<{ readonly attempt: number }> {}

  it.effect("a failure of lookupMany fails each key of the batch, cached per cacheErrors", () =>
    Effect.gen(function*() {
      let attempts = 0
      const get = RequestCache.cachedBatch({
        name: "batch-failure",
        lookupMany: (_ids: readonly [number, ...Array<number>]) =>
          Effect.suspend(() => Effect.fail(new Unavailable({ attempt: ++attempts }))),
        policy: { cacheErrors: true }
      })
      const fibers = yield* callers([1, 2], get)
      const errors = yield* Effect.forEach(fibers, (fiber) => Effect.flip(Fiber.join(fiber)))
      expect(errors.map((e) => e.attempt)).toStrictEqual([1, 1])
      // Cached: the very same failure again, no second batch.
      expect((yield* Effect.flip(get(1))).attempt).toBe(1)
      expect(attempts).toBe(1)
      expect((yield* get.stats).loadFailures).toBe(2)
    }).pipe(Effect.provide(layer)))

  it.effect("a key whose callers all leave before its batch is sent is dropped from it", () =>
    Effect.gen(function*() {
      const { batches, get } = recorded("dropped", { window: "10 millis" })
      const [one, two] = yield* callers([1, 2], get)
      yield* Effect.yieldNow()
      yield* Fiber.interrupt(one!)
      yield* TestClock.adjust("10 millis")
      expect(yield* Fiber.join(two!)).toBe("user 2")
      expect(batches).toStrictEqual([[2]])
      expect(yield* get.peek(1)).toStrictEqual(Option.none())
    }).pipe(Effect.provide(layer)))

  it.effect("a batch in flight whose keys have all left is interrupted", () =>
    Effect.gen(function*() {
      const started = yield* Deferred.make<void>()
      let interrupted = false
      const get = RequestCache.cachedBatch({
        name: "abandoned",
        lookupMany: (ids: readonly [number, ...Array<number>]) =>
          Deferred.succeed(started, undefined).pipe(
            Effect.zipRight(Effect.never),
            Effect.onInterrupt(() => Effect.sync(() => void (interrupted = true))),
            Effect.as(ids.map(String))
          )
      })
      const fibers = yield* callers([1, 2], get)
      yield* Deferred.await(started)
      yield* Fiber.interrupt(fibers[0]!)
      yield* Effect.yieldNow()
      expect(interrupted).toBe(false) // key 2 still waits
      yield* Fiber.interrupt(fibers[1]!)
      yield* until(() => interrupted)
      expect((yield* get.stats).size).toBe(0)
    }).pipe(Effect.provide(layer)))

  it.effect("getMany: results in order, the misses as one batch; warmup loads what is not cached", () =>
    Effect.gen(function*() {
      const { batches, get } = recorded("get-many")
      yield* get(2)
      expect(yield* get.getMany([3, 2, 1])).toStrictEqual(["user 3", "user 2", "user 1"])
      expect(batches).toStrictEqual([[2], [3, 1]])
      expect(yield* get.warmup([[1], [4], [5]])).toBe(2)
      expect(batches).toStrictEqual([[2], [3, 1], [4, 5]])
      expect(yield* get.warmup([[4], [5]])).toBe(0)
    }).pipe(Effect.provide(layer)))

  it.effect("the batches are Effect metrics too: a counter and a histogram of batch sizes", () =>
    Effect.gen(function*() {
      const { get } = recorded("batch-metrics", { maxBatchSize: 3 })
      yield* get.getMany([1, 2, 3, 4])
      const batches = yield* Metric.value(
        Metric.counter("request_cache_batches").pipe(Metric.tagged("namespace", "batch-metrics"))
      )
      expect(batches.count).toBe(2)
      const sizes = Metric.unsafeSnapshot().find((pair) =>
        pair.metricKey.name === "request_cache_batch_size" &&
        pair.metricKey.tags.some((tag) => tag.value === "batch-metrics")
      )
      expect(sizes !== undefined && MetricKey.isMetricKey(sizes.metricKey)).toBe(true)
      expect((sizes!.metricState as unknown as { readonly count: number; readonly sum: number }).count).toBe(2)
      expect((sizes!.metricState as unknown as { readonly count: number; readonly sum: number }).sum).toBe(4)
    }).pipe(Effect.provide(layer)))

  it("bad options are reported where the function is defined", () => {
    expect(() =>
      RequestCache.cachedBatch({
        name: "bad",
        lookupMany: (ids: readonly [number, ...Array<number>]) => Effect.succeed(ids),
        maxBatchSize: 0
      })
    ).toThrow(`Invalid cache option "maxBatchSize"`)
    expect(() =>
      RequestCache.cachedBatch({
        name: "bad",
        lookupMany: (ids: readonly [number, ...Array<number>]) => Effect.succeed(ids),
        window: "soon" as Duration.DurationInput
      })
    ).toThrow(`Invalid cache option "window"`)
  })
})

describe("Batching: cachedRequest", () => {
  class GetUser extends Request.TaggedClass("GetUser")<string, Error, { readonly id: number }> {}

  it.effect("requests are keyed by value and their misses from many fibers reach the resolver as one batch", () =>
    Effect.gen(function*() {
      const batches: Array<ReadonlyArray<number>> = []
      const resolver = RequestResolver.makeBatched((requests: ReadonlyArray<GetUser>) =>
        Effect.sync(() => batches.push(requests.map((r) => r.id))).pipe(
          Effect.zipRight(
            Effect.forEach(requests, (request) =>
              request.id < 0
                ? Request.fail(request, new Error(`no user ${request.id}`))
                : Request.succeed(request, `user ${request.id}`), { discard: true })
          )
        )
      )
      const getUser = RequestCache.cachedRequest({ name: "requests", resolver })
      const fibers = yield* Effect.forEach([1, 2, -3, 1], (id) => Effect.fork(getUser(new GetUser({ id }))))
      const exits = yield* Effect.forEach(fibers, Fiber.await)
      expect(exits.slice(0, 2)).toStrictEqual([Exit.succeed("user 1"), Exit.succeed("user 2")])
      expect(Exit.isFailure(exits[2]!)).toBe(true)
      expect(exits[3]).toStrictEqual(Exit.succeed("user 1"))
      expect(batches).toStrictEqual([[1, 2, -3]])
      // A new request object of the same value is a hit.
      expect(yield* getUser(new GetUser({ id: 2 }))).toBe("user 2")
      expect(batches.length).toBe(1)
      const stats = yield* getUser.stats
      expect([stats.hits, stats.coalesced, stats.batches]).toStrictEqual([1, 1, 1])
    }).pipe(Effect.provide(layer)))
})

describe("Batching through a store", () => {
  it.effect("misses of the first tier and the store go to one batch; the store serves the next process", () =>
    Effect.gen(function*() {
      const batches: Array<ReadonlyArray<number>> = []
      const get = RequestCache.cachedBatch({
        name: "batch-store",
        lookupMany: (ids: readonly [number, ...Array<number>]) =>
          Effect.sync(() => (batches.push([...ids]), ids.map((id) => id * 2))),
        schema: { success: Schema.Number }
      })
      const store = yield* CacheStore.makeMemory
      const shared = RequestCache.layerStore().pipe(Layer.provide(Layer.succeed(CacheStore.CacheStore, store)))
      expect(yield* get.getMany([1, 2, 3]).pipe(Effect.provide(shared))).toStrictEqual([2, 4, 6])
      expect(batches).toStrictEqual([[1, 2, 3]])
      // Another process on the same store: hits from the store, no batch.
      expect(yield* get.getMany([3, 2, 1]).pipe(Effect.provide(shared))).toStrictEqual([6, 4, 2])
      expect(batches.length).toBe(1)
    }))
})
