import { describe, expect, it } from "@effect/vitest"
import {
  Cause,
  ConfigProvider,
  Context,
  Data,
  Deferred,
  Effect,
  Exit,
  FastCheck as fc,
  Fiber,
  Layer,
  Metric,
  MetricKey,
  Option,
  Random,
  Schema,
  Scope,
  TestClock
} from "effect"
import { CacheClosedError, CacheKey, CachePolicy, CacheStore, RequestCache } from "../src/index.js"
import { MemoryNamespace } from "../src/internal/memoryNamespace.js"

class NotFound extends Data.TaggedError("NotFound")<{ readonly id: number }> {}
class Timeout extends Data.TaggedError("Timeout")<{}> {}

/** Yields to the scheduler until `condition` holds: no clock, no sleeping. */
const eventually = (condition: () => boolean) =>
  Effect.gen(function*() {
    for (let i = 0; i < 10_000 && !condition(); i++) yield* Effect.yieldNow()
    if (!condition()) return yield* Effect.dieMessage("condition never held")
  })

/** Yields to the scheduler until the effect answers true. */
const until = <R>(condition: Effect.Effect<boolean, never, R>) =>
  Effect.gen(function*() {
    for (let i = 0; i < 10_000; i++) {
      if (yield* condition) return
      yield* Effect.yieldNow()
    }
    return yield* Effect.dieMessage("condition never held")
  })

/** A lookup that counts its runs and waits on a latch before answering `value(key)`. */
const latched = <A>(value: (key: number) => A) =>
  Effect.gen(function*() {
    const latch = yield* Deferred.make<void>()
    const state = { runs: 0, interrupted: 0 }
    const lookup = (key: number) =>
      Effect.sync(() => state.runs++).pipe(
        Effect.zipRight(Deferred.await(latch)),
        Effect.as(value(key)),
        Effect.onInterrupt(() => Effect.sync(() => state.interrupted++))
      )
    return { latch, state, lookup, release: Deferred.succeed(latch, undefined) }
  })

const namespaceOf = (name: string) => Effect.map(RequestCache, (cache) => cache.namespace(name) as MemoryNamespace)

let unique = 0
const fresh = (prefix: string) => `${prefix}-${++unique}`

describe("1. Single flight", () => {
  it.effect("concurrent callers of one key share one lookup", () =>
    Effect.gen(function*() {
      const { lookup, release, state } = yield* latched((k) => ({ k }))
      const get = RequestCache.cached({ name: "single", lookup })
      const fibers = yield* Effect.forEach(Array.from({ length: 50 }), () => Effect.fork(get(1)))
      yield* eventually(() => state.runs === 1)
      const stats = yield* get.stats
      expect(stats.misses).toBe(1)
      yield* release
      const values = yield* Fiber.joinAll(fibers)
      expect(state.runs).toBe(1)
      expect(new Set(values).size).toBe(1) // the very same object for everyone
      expect((yield* get.stats).coalesced).toBe(49)
    }).pipe(Effect.provide(RequestCache.layer())))

  it.effect("the lookup runs with the first caller's context", () =>
    Effect.gen(function*() {
      class Who extends Context.Tag("Who")<Who, string>() {}
      const latch = yield* Deferred.make<void>()
      let runs = 0
      const get = RequestCache.cached({
        name: "context",
        lookup: (_: number) => Effect.zipRight(Effect.sync(() => runs++), Effect.zipRight(Deferred.await(latch), Who))
      })
      const first = yield* Effect.fork(Effect.provideService(get(1), Who, "first"))
      yield* eventually(() => runs === 1)
      const second = yield* Effect.fork(Effect.provideService(get(1), Who, "second"))
      yield* Effect.yieldNow()
      yield* Deferred.succeed(latch, undefined)
      expect(yield* Fiber.join(first)).toBe("first")
      expect(yield* Fiber.join(second)).toBe("first")
    }).pipe(Effect.provide(RequestCache.layer())))

  it.effect("a synchronous lookup completes without a fiber switch and is cached", () =>
    Effect.gen(function*() {
      let runs = 0
      const get = RequestCache.cached({ name: "sync", lookup: (k: number) => Effect.sync(() => ++runs + k) })
      expect(yield* get(1)).toBe(2)
      expect(yield* get(1)).toBe(2)
      expect(runs).toBe(1)
    }).pipe(Effect.provide(RequestCache.layer())))
})

describe("2. Interruption", () => {
  it.effect("interrupting the first caller does not hurt the others (Effect's Cache does)", () =>
    Effect.gen(function*() {
      const { lookup, release, state } = yield* latched((k) => k * 2)
      const get = RequestCache.cached({ name: "first-leaves", lookup })
      const first = yield* Effect.fork(get(21))
      yield* eventually(() => state.runs === 1)
      const second = yield* Effect.fork(get(21))
      yield* Effect.yieldNow()
      yield* Fiber.interrupt(first)
      yield* release
      expect(yield* Fiber.join(second)).toBe(42)
      expect(state.runs).toBe(1)
      expect(state.interrupted).toBe(0)
      expect(yield* get(21)).toBe(42) // stored: no second lookup
      expect(state.runs).toBe(1)
    }).pipe(Effect.provide(RequestCache.layer())))

  it.effect("a waiter that leaves does not hurt the others", () =>
    Effect.gen(function*() {
      const { lookup, release, state } = yield* latched((k) => k)
      const get = RequestCache.cached({ name: "waiter-leaves", lookup })
      const fibers = yield* Effect.forEach([1, 2, 3], () => Effect.fork(get(7)))
      yield* eventually(() => state.runs === 1)
      yield* Effect.yieldNow()
      yield* Fiber.interrupt(fibers[1]!)
      yield* release
      expect(yield* Fiber.join(fibers[0]!)).toBe(7)
      expect(yield* Fiber.join(fibers[2]!)).toBe(7)
      expect(state.interrupted).toBe(0)
    }).pipe(Effect.provide(RequestCache.layer())))

  it.effect("the last waiter leaving interrupts the lookup and clears the pending entry", () =>
    Effect.gen(function*() {
      const { lookup, release, state } = yield* latched((k) => k)
      const get = RequestCache.cached({ name: "last-leaves", lookup })
      const fibers = yield* Effect.forEach([1, 2], () => Effect.fork(get(5)))
      yield* eventually(() => state.runs === 1)
      yield* Effect.yieldNow()
      yield* Fiber.interruptAll(fibers)
      yield* eventually(() => state.interrupted === 1)
      expect((yield* get.stats).size).toBe(0)
      // The next call starts afresh; the interruption was not cached.
      const again = yield* Effect.fork(get(5))
      yield* eventually(() => state.runs === 2)
      yield* release
      expect(yield* Fiber.join(again)).toBe(5)
    }).pipe(Effect.provide(RequestCache.layer())))

  it.effect("closing the layer's scope interrupts lookups in flight", () =>
    Effect.gen(function*() {
      const { lookup, state } = yield* latched((k) => k)
      const get = RequestCache.cached({ name: "scope-close", lookup })
      const scope = yield* Scope.make()
      const context = yield* Layer.buildWithScope(RequestCache.layer(), scope)
      const caller = yield* Effect.fork(Effect.provide(get(1), context))
      yield* eventually(() => state.runs === 1)
      yield* Scope.close(scope, Exit.void)
      expect(state.interrupted).toBe(1)
      const exit = yield* Fiber.await(caller)
      expect(Exit.isInterrupted(exit)).toBe(true)
    }))
})

describe("2b. After the layer's scope has closed", () => {
  /** The defect of a call of a closed cache, or undefined if it did not die so. */
  const closedDefect = (exit: Exit.Exit<unknown, unknown>): CacheClosedError | undefined => {
    if (!Exit.isFailure(exit)) return undefined
    const defect = Cause.squash(exit.cause)
    return defect instanceof CacheClosedError ? defect : undefined
  }

  const closedCases = (name: string, makeLayer: () => Layer.Layer<RequestCache, unknown>) =>
    it.effect(`${name}: every call fails with CacheClosedError, hit or miss, and runs no lookup`, () =>
      Effect.gen(function*() {
        let runs = 0
        const get = RequestCache.cached({
          name: "closed",
          lookup: (k: number) => Effect.sync(() => (runs++, k)),
          schema: { success: Schema.Number }
        })
        const scope = yield* Scope.make()
        const context = yield* Layer.buildWithScope(makeLayer(), scope)
        expect(yield* Effect.provide(get(1), context)).toBe(1)
        expect(yield* Effect.provide(get(1), context)).toBe(1) // a hit while open
        yield* Scope.close(scope, Exit.void)
        const calls: Array<[string, Effect.Effect<unknown, unknown, RequestCache>]> = [
          ["a hit", get(1)],
          ["a miss", get(2)],
          ["refresh", get.refresh(1)],
          ["set", get.set(3, 3)],
          ["peek", get.peek(1)],
          ["invalidate", get.invalidate(1)],
          ["invalidateAll", get.invalidateAll],
          ["RequestCache.get", RequestCache.get("closed", 1, Effect.succeed(0))]
        ]
        for (const [what, call] of calls) {
          const defect = closedDefect(yield* Effect.exit(Effect.provide(call, context)))
          expect(defect?._tag, what).toBe("CacheClosedError")
          expect(defect?.namespace, what).toBe("closed")
          expect(defect?.message, what).toContain("closed")
        }
        expect(runs).toBe(1)
        // The stats still answer.
        expect((yield* Effect.provide(get.stats, context)).hits).toBe(1)
      }))

  closedCases("in memory", () => RequestCache.layer())
  closedCases("on a store", () => RequestCache.layerStore().pipe(Layer.provide(CacheStore.layerMemory)))
})

describe("3. Success and expiry", () => {
  it.effect("a value lives timeToLive from its completion, by the Clock", () =>
    Effect.gen(function*() {
      let runs = 0
      const get = RequestCache.cached({ name: "ttl", lookup: (k: number) => Effect.sync(() => `${k}:${++runs}`) })
      expect(yield* get(1)).toBe("1:1")
      yield* TestClock.adjust("59999 millis")
      expect(yield* get(1)).toBe("1:1")
      yield* TestClock.adjust("1 millis")
      expect(yield* get(1)).toBe("1:2")
      const stats = yield* get.stats
      expect(stats.expirations).toBe(1)
      expect(stats.misses).toBe(2)
    }).pipe(Effect.provide(RequestCache.layer({ timeToLive: "1 minute" }))))

  it.effect("jitter adds uniform[0, jitter] drawn from Random", () =>
    Effect.gen(function*() {
      let runs = 0
      const get = RequestCache.cached({ name: "jitter", lookup: (_: number) => Effect.sync(() => ++runs) })
      yield* get(1)
      yield* TestClock.adjust("14999 millis") // 10 s + 0.5 * 10 s = 15 s
      expect(yield* get(1)).toBe(1)
      yield* TestClock.adjust("1 millis")
      expect(yield* get(1)).toBe(2)
    }).pipe(
      Effect.provide(RequestCache.layer({ timeToLive: "10 seconds", jitter: "10 seconds" })),
      // The layer takes its Random when it is built; `Random.fixed` is Effect 3's TestRandom.
      Effect.withRandom(Random.fixed([0.5]))
    ))

  it.effect("the expiry counts from completion, not from the call", () =>
    Effect.gen(function*() {
      let runs = 0
      const get = RequestCache.cached({
        name: "completion",
        lookup: (_: number) => Effect.as(Effect.sleep("30 seconds"), ++runs)
      })
      const fiber = yield* Effect.fork(get(1))
      yield* TestClock.adjust("30 seconds")
      yield* Fiber.join(fiber)
      yield* TestClock.adjust("59 seconds")
      expect(yield* get(1)).toBe(1)
    }).pipe(Effect.provide(RequestCache.layer({ timeToLive: "1 minute" }))))
})

describe("3b. Time to live as a function of the lookup's Exit", () => {
  class Missing extends Data.TaggedError("Missing")<{ readonly id: number }> {}

  it.effect("a \"not found\" lives 10 seconds and a user 5 minutes", () =>
    Effect.gen(function*() {
      let runs = 0
      const get = RequestCache.cached({
        name: "ttl-of-exit",
        lookup: (id: number) =>
          Effect.suspend(() => (runs++, id < 0 ? Effect.fail(new Missing({ id })) : Effect.succeed({ id }))),
        policy: {
          cacheErrors: true,
          timeToLive: (exit) => Exit.isSuccess(exit) ? "5 minutes" : "10 seconds"
        }
      })
      yield* get(1)
      yield* Effect.flip(get(-1))
      yield* TestClock.adjust("9 seconds")
      yield* get(1)
      yield* Effect.flip(get(-1))
      expect(runs).toBe(2)
      yield* TestClock.adjust("2 seconds")
      expect((yield* Effect.flip(get(-1))).id).toBe(-1)
      expect(runs).toBe(3) // the failure expired after 10 seconds
      yield* TestClock.adjust("4 minutes")
      yield* get(1)
      expect(runs).toBe(3)
      yield* TestClock.adjust("1 minute")
      yield* get(1)
      expect(runs).toBe(4) // the value after 5 minutes
    }).pipe(Effect.provide(RequestCache.layer())))

  it.effect("errorTimeToLive, when given, wins over the function for failures", () =>
    Effect.gen(function*() {
      let runs = 0
      const get = RequestCache.cached({
        name: "ttl-of-exit-error",
        lookup: (id: number) => Effect.suspend(() => (runs++, Effect.fail(new Missing({ id })))),
        policy: { cacheErrors: true, timeToLive: () => "1 hour", errorTimeToLive: "1 second" }
      })
      yield* Effect.flip(get(1))
      yield* TestClock.adjust("1 second")
      yield* Effect.flip(get(1))
      expect(runs).toBe(2)
    }).pipe(Effect.provide(RequestCache.layer())))

  it.effect("a function that answers no duration: its callers get a CachePolicyError defect naming it, nothing is kept", () =>
    Effect.gen(function*() {
      const get = RequestCache.cached({
        name: "ttl-of-exit-bad",
        lookup: (id: number) => Effect.succeed(id),
        policy: { timeToLive: () => "soon" as never }
      })
      const exit = yield* Effect.exit(get(1))
      expect(Exit.isFailure(exit) && Cause.pretty(exit.cause)).toContain(
        `Invalid cache option "timeToLive": the function answered`
      )
      expect((yield* get.stats).size).toBe(0)
    }).pipe(Effect.provide(RequestCache.layer())))
})

describe("4. Typed failures", () => {
  it.effect("are not cached by default", () =>
    Effect.gen(function*() {
      let runs = 0
      const get = RequestCache.cached({
        name: "no-errors",
        lookup: (id: number) => Effect.suspend(() => (runs++, Effect.fail(new NotFound({ id }))))
      })
      yield* Effect.flip(get(1))
      yield* Effect.flip(get(1))
      expect(runs).toBe(2)
      expect((yield* get.stats).loadFailures).toBe(2)
    }).pipe(Effect.provide(RequestCache.layer())))

  it.effect("are cached when cacheErrors says so, for errorTimeToLive, as the same value", () =>
    Effect.gen(function*() {
      let runs = 0
      const get = RequestCache.cached({
        name: "errors",
        lookup: (id: number) => Effect.suspend(() => (runs++, Effect.fail(new NotFound({ id }))))
      })
      const first = yield* Effect.flip(get(1))
      const second = yield* Effect.flip(get(1))
      expect(second).toBe(first)
      expect(runs).toBe(1)
      yield* TestClock.adjust("10 seconds")
      const third = yield* Effect.flip(get(1))
      expect(third).not.toBe(first)
      expect(runs).toBe(2)
    }).pipe(Effect.provide(RequestCache.layer({ cacheErrors: true, errorTimeToLive: "10 seconds" }))))

  it.effect("a predicate chooses which failures are cached", () =>
    Effect.gen(function*() {
      let runs = 0
      const get = RequestCache.cached({
        name: "predicate",
        lookup: (id: number): Effect.Effect<never, NotFound | Timeout> =>
          Effect.suspend((): Effect.Effect<
            never,
            NotFound | Timeout
          > => (runs++, id === 1 ? Effect.fail(new NotFound({ id })) : Effect.fail(new Timeout())))
      })
      yield* Effect.flip(get(1))
      yield* Effect.flip(get(1))
      yield* Effect.flip(get(2))
      yield* Effect.flip(get(2))
      expect(runs).toBe(3)
    }).pipe(Effect.provide(RequestCache.layer({ cacheErrors: CachePolicy.cacheTags("NotFound") }))))

  it.effect("a namespace's typed predicate sees its own error type", () =>
    Effect.gen(function*() {
      let runs = 0
      const get = RequestCache.cached({
        name: "typed-predicate",
        lookup: (id: number) => Effect.suspend(() => (runs++, Effect.fail(new NotFound({ id })))),
        policy: { cacheErrors: (e) => e.id === 1 }
      })
      yield* Effect.flip(get(1))
      yield* Effect.flip(get(1))
      yield* Effect.flip(get(2))
      yield* Effect.flip(get(2))
      expect(runs).toBe(3)
    }).pipe(Effect.provide(RequestCache.layer())))

  it.effect("defects are never cached and every waiter gets the defect", () =>
    Effect.gen(function*() {
      const latch = yield* Deferred.make<void>()
      let runs = 0
      const get = RequestCache.cached({
        name: "defects",
        lookup: (_: number) =>
          Effect.zipRight(Effect.sync(() => runs++), Deferred.await(latch)).pipe(
            Effect.zipRight(Effect.dieMessage("boom"))
          )
      })
      const fibers = yield* Effect.forEach([1, 2, 3], () => Effect.fork(get(1)))
      yield* eventually(() => runs === 1)
      yield* Effect.yieldNow()
      yield* Deferred.succeed(latch, undefined)
      for (const fiber of fibers) {
        const exit = yield* Fiber.await(fiber)
        expect(Exit.isFailure(exit) && Cause.isDie(exit.cause)).toBe(true)
      }
      yield* Effect.exit(get(1))
      expect(runs).toBe(2)
    }).pipe(Effect.provide(RequestCache.layer({ cacheErrors: true }))))

  it.effect("a lookup that throws instead of returning an Effect is a defect, not cached", () =>
    Effect.gen(function*() {
      let runs = 0
      const get = RequestCache.cached({
        name: "throws",
        lookup: (_: number): Effect.Effect<number> => {
          runs++
          throw new Error("not an effect")
        }
      })
      const exit = yield* Effect.exit(get(1))
      expect(Exit.isFailure(exit) && Cause.isDie(exit.cause)).toBe(true)
      yield* Effect.exit(get(1))
      expect(runs).toBe(2)
    }).pipe(Effect.provide(RequestCache.layer())))
})

describe("5. Stale-while-revalidate", () => {
  const layer = RequestCache.layer({ timeToLive: "10 seconds", staleWhileRevalidate: "1 minute" })

  it.effect("serves the stale value at once while one refresh runs", () =>
    Effect.gen(function*() {
      const latch = yield* Deferred.make<void>()
      let runs = 0
      const get = RequestCache.cached({
        name: "swr",
        lookup: (_: number) =>
          Effect.suspend(() => {
            const run = ++runs
            return run === 1 ? Effect.succeed(run) : Effect.as(Deferred.await(latch), run)
          })
      })
      expect(yield* get(1)).toBe(1)
      yield* TestClock.adjust("15 seconds")
      expect(yield* get(1)).toBe(1) // stale, at once
      expect(yield* get(1)).toBe(1) // still stale: no second refresh
      yield* eventually(() => runs === 2)
      yield* Deferred.succeed(latch, undefined)
      yield* until(Effect.map(get.stats, (s) => s.refreshes === 1))
      expect(yield* get(1)).toBe(2)
      expect(runs).toBe(2)
      const stats = yield* get.stats
      expect(stats.staleHits).toBe(2)
      expect(stats.refreshes).toBe(1)
    }).pipe(Effect.provide(layer)))

  it.effect("a failed refresh keeps the stale value (stale-if-error) and is counted", () =>
    Effect.gen(function*() {
      let runs = 0
      const get = RequestCache.cached({
        name: "swr-error",
        lookup: (_: number) => Effect.suspend(() => ++runs === 1 ? Effect.succeed("first") : Effect.fail(new Timeout()))
      })
      yield* get(1)
      yield* TestClock.adjust("15 seconds")
      expect(yield* get(1)).toBe("first")
      yield* until(Effect.map(get.stats, (s) => s.refreshFailures === 1))
      expect(yield* get(1)).toBe("first") // still served; a new refresh starts
      yield* until(Effect.map(get.stats, (s) => s.refreshFailures === 2))
      expect(runs).toBe(3)
    }).pipe(Effect.provide(layer)))

  it.effect("past the window the load blocks", () =>
    Effect.gen(function*() {
      let runs = 0
      const get = RequestCache.cached({ name: "swr-past", lookup: (_: number) => Effect.sync(() => ++runs) })
      yield* get(1)
      yield* TestClock.adjust("70 seconds")
      expect(yield* get(1)).toBe(2)
      expect((yield* get.stats).staleHits).toBe(0)
    }).pipe(Effect.provide(layer)))

  it.effect("closing the layer's scope interrupts refreshes", () =>
    Effect.gen(function*() {
      let runs = 0
      let interrupted = 0
      const get = RequestCache.cached({
        name: "swr-close",
        lookup: (_: number) =>
          Effect.suspend(() =>
            ++runs === 1 ? Effect.succeed(1) : Effect.onInterrupt(Effect.never, () => Effect.sync(() => interrupted++))
          )
      })
      const scope = yield* Scope.make()
      const context = yield* Layer.buildWithScope(layer, scope)
      yield* Effect.provide(get(1), context)
      yield* TestClock.adjust("15 seconds")
      yield* Effect.provide(get(1), context)
      yield* eventually(() => runs === 2)
      yield* Scope.close(scope, Exit.void)
      expect(interrupted).toBe(1)
    }))
})

describe("6. LRU", () => {
  it.effect("evicts the least recently used; hits, loads and sets make a key most recent", () =>
    Effect.gen(function*() {
      const get = RequestCache.cached({ name: "lru", lookup: (k: number) => Effect.succeed(k) })
      yield* get(1)
      yield* get(2)
      yield* get(3)
      yield* get(1) // 2 is now least recent
      yield* get.set(2, 20) // 3 is now least recent
      yield* get(4) // evicts 3
      const ns = yield* namespaceOf("lru")
      expect(ns.inspect().coldest).toEqual([1, 2, 4])
      expect((yield* get.stats).evictions).toBe(1)
    }).pipe(Effect.provide(RequestCache.layer({ capacity: 3 }))))

  it.effect("an unbounded namespace grows and keeps every entry's expiry", () =>
    Effect.gen(function*() {
      let runs = 0
      const get = RequestCache.cached({ name: "unbounded", lookup: (k: number) => Effect.sync(() => (runs++, k)) })
      for (let k = 0; k < 5_000; k++) yield* get(k)
      yield* TestClock.adjust("30 seconds")
      for (let k = 5_000; k < 10_000; k++) yield* get(k)
      for (let k = 0; k < 10_000; k++) yield* get(k)
      expect(runs).toBe(10_000)
      yield* TestClock.adjust("30 seconds") // the first 5,000 expire
      for (let k = 0; k < 10_000; k++) yield* get(k)
      expect(runs).toBe(15_000)
      const stats = yield* get.stats
      expect(stats).toMatchObject({ size: 10_000, capacity: Infinity, evictions: 0, expirations: 5_000 })
    }).pipe(Effect.provide(RequestCache.layer({ capacity: Infinity, timeToLive: "1 minute" }))))

  it.effect("set past capacity evicts (Effect's Cache ignores capacity on set)", () =>
    Effect.gen(function*() {
      const get = RequestCache.cached({ name: "set-capacity", lookup: (k: number) => Effect.succeed(k) })
      for (let k = 0; k < 100; k++) yield* get.set(k, k)
      const stats = yield* get.stats
      expect(stats.size).toBe(10)
      expect(stats.evictions).toBe(90)
    }).pipe(Effect.provide(RequestCache.layer({ capacity: 10 }))))

  it.effect("a pending-then-complete load keeps one place in the recency list", () =>
    Effect.gen(function*() {
      const { lookup, release, state } = yield* latched((k) => k)
      const get = RequestCache.cached({ name: "pending-lru", lookup })
      const slow = yield* Effect.fork(get(1))
      yield* eventually(() => state.runs === 1)
      yield* get.set(2, 2)
      yield* get.set(3, 3)
      yield* release
      yield* Fiber.join(slow)
      const ns = yield* namespaceOf("pending-lru")
      expect(ns.inspect().coldest).toEqual([1, 2, 3])
      expect((yield* get.stats).size).toBe(3)
      yield* get.set(4, 4) // 1 is least recent: it goes, nothing else does
      expect(ns.inspect().coldest).toEqual([2, 3, 4])
    }).pipe(Effect.provide(RequestCache.layer({ capacity: 3 }))))

  it.effect("a caller joining a load in flight makes the key most recent", () =>
    Effect.gen(function*() {
      const { lookup, release, state } = yield* latched((k) => k)
      const get = RequestCache.cached({ name: "join-lru", lookup })
      const first = yield* Effect.fork(get(1))
      yield* eventually(() => state.runs === 1)
      yield* get.set(2, 2)
      const joiner = yield* Effect.fork(get(1))
      yield* until(Effect.map(get.stats, (s) => s.coalesced === 1))
      const ns = yield* namespaceOf("join-lru")
      expect(ns.inspect().coldest).toEqual([2, 1])
      yield* release
      yield* Fiber.join(first)
      yield* Fiber.join(joiner)
      yield* get.set(3, 3) // evicts 2, the least recent
      expect(ns.inspect().coldest).toEqual([1, 3])
    }).pipe(Effect.provide(RequestCache.layer({ capacity: 2 }))))

  it.effect("an evicted pending load still answers its waiters but is not stored", () =>
    Effect.gen(function*() {
      const { lookup, release, state } = yield* latched((k) => k)
      const get = RequestCache.cached({ name: "evict-pending", lookup })
      const slow = yield* Effect.fork(get(1))
      yield* eventually(() => state.runs === 1)
      yield* get.set(2, 2) // capacity 1: evicts the pending 1
      yield* release
      expect(yield* Fiber.join(slow)).toBe(1)
      const ns = yield* namespaceOf("evict-pending")
      expect(ns.inspect().coldest).toEqual([2])
    }).pipe(Effect.provide(RequestCache.layer({ capacity: 1 }))))

  it.effect("peek does not touch the recency order", () =>
    Effect.gen(function*() {
      const get = RequestCache.cached({ name: "peek", lookup: (k: number) => Effect.succeed(k) })
      yield* get(1)
      yield* get(2)
      expect(yield* get.peek(1)).toEqual(Option.some(1))
      yield* get(3) // evicts 1 despite the peek
      expect(yield* get.peek(1)).toEqual(Option.none())
    }).pipe(Effect.provide(RequestCache.layer({ capacity: 2 }))))
})

describe("6b. Weight: a bound by weight beside the capacity", () => {
  const sized = (name: string, maxWeight: number, capacity = 100) =>
    RequestCache.cached({
      name,
      lookup: (text: string) => Effect.succeed(text),
      policy: { capacity, maxWeight, weigher: (value) => value.length }
    })

  it.effect("eviction keeps the total weight at or below maxWeight, least recent first", () =>
    Effect.gen(function*() {
      const get = sized("weight-evict", 10)
      yield* get("aaaa") // 4
      yield* get("bbbb") // 8
      yield* get("aaaa") // recency: bbbb, aaaa
      yield* get("ccc") // 11 > 10: bbbb goes
      const stats = yield* get.stats
      expect(stats.weight).toBe(7)
      expect(stats.evictions).toBe(1)
      expect(yield* get.peek("bbbb")).toStrictEqual(Option.none())
      expect(yield* get.peek("aaaa")).toStrictEqual(Option.some("aaaa"))
    }).pipe(Effect.provide(RequestCache.layer())))

  it.effect("a value heavier than maxWeight reaches its callers but is not kept (counted as an eviction)", () =>
    Effect.gen(function*() {
      const get = sized("weight-heavy", 5)
      yield* get("ab")
      expect(yield* get("abcdefgh")).toBe("abcdefgh")
      const stats = yield* get.stats
      expect([stats.size, stats.weight, stats.evictions]).toStrictEqual([1, 2, 1])
      expect(yield* get.peek("ab")).toStrictEqual(Option.some("ab"))
    }).pipe(Effect.provide(RequestCache.layer())))

  it.effect("the capacity still bounds the count; invalidation and set keep the weight exact", () =>
    Effect.gen(function*() {
      const get = sized("weight-count", 1_000, 2)
      yield* get("a")
      yield* get("bb")
      yield* get("ccc")
      expect(yield* get.stats).toMatchObject({ size: 2, weight: 5, evictions: 1 })
      yield* get.invalidate("bb")
      expect((yield* get.stats).weight).toBe(3)
      yield* get.set("ccc", "ccccc")
      expect((yield* get.stats).weight).toBe(5)
      yield* get.invalidateAll
      expect((yield* get.stats).weight).toBe(0)
    }).pipe(Effect.provide(RequestCache.layer())))

  it.effect("a weigher that throws or answers no weight: a CachePolicyError defect naming weigher", () =>
    Effect.gen(function*() {
      const get = RequestCache.cached({
        name: "weight-bad",
        lookup: (n: number) => Effect.succeed(n),
        policy: { weigher: (n) => n < 0 ? -1 : n }
      })
      expect(yield* get(3)).toBe(3)
      const exit = yield* Effect.exit(get(-1))
      expect(Exit.isFailure(exit) && Cause.pretty(exit.cause)).toContain(`Invalid cache option "weigher"`)
      expect(yield* get.stats).toMatchObject({ size: 1, weight: 3 })
    }).pipe(Effect.provide(RequestCache.layer())))

  it.effect.prop(
    "against a model: after random gets, sets and invalidations, weight = the sum of what is held, within both bounds",
    {
      ops: fc.array(
        fc.tuple(fc.constantFrom("get", "set", "invalidate"), fc.integer({ min: 0, max: 12 }), fc.nat(9)),
        { maxLength: 80 }
      )
    },
    ({ ops }) =>
      Effect.gen(function*() {
        const weightOf = (key: number, version: number) => ((key * 7 + version) % 6) + 1
        const get = RequestCache.cached({
          name: `weight-prop`,
          lookup: (key: number) => Effect.succeed({ key, weight: weightOf(key, 0) }),
          policy: { capacity: 6, maxWeight: 15, weigher: (value) => value.weight }
        })
        const held = new Map<number, number>()
        for (const [op, key, version] of ops) {
          if (op === "get") yield* get(key)
          else if (op === "set") yield* get.set(key, { key, weight: weightOf(key, version) })
          else yield* get.invalidate(key)
          const stats = yield* get.stats
          expect(stats.size).toBeLessThanOrEqual(6)
          expect(stats.weight).toBeLessThanOrEqual(15)
          held.clear()
          for (let k = 0; k <= 12; k++) {
            const value = yield* get.peek(k)
            if (Option.isSome(value)) held.set(k, value.value.weight)
          }
          expect(held.size).toBe(stats.size)
          expect(stats.weight).toBe([...held.values()].reduce((a, b) => a + b, 0))
        }
      }).pipe(Effect.provide(RequestCache.layer())),
    { fastCheck: { numRuns: 200 } }
  )
})

describe("7. Invalidation", () => {
  it.effect("wins over a lookup in flight: its result reaches the waiters but is not stored", () =>
    Effect.gen(function*() {
      const { lookup, release, state } = yield* latched((k) => k)
      const get = RequestCache.cached({ name: "invalidate-inflight", lookup })
      const fiber = yield* Effect.fork(get(1))
      yield* eventually(() => state.runs === 1)
      expect(yield* get.invalidate(1)).toBe(true)
      yield* release
      expect(yield* Fiber.join(fiber)).toBe(1)
      expect(yield* get.peek(1)).toEqual(Option.none())
      yield* get(1)
      expect(state.runs).toBe(2)
    }).pipe(Effect.provide(RequestCache.layer())))

  it.effect("answers whether something was there", () =>
    Effect.gen(function*() {
      const get = RequestCache.cached({ name: "invalidate-answer", lookup: (k: number) => Effect.succeed(k) })
      expect(yield* get.invalidate(1)).toBe(false)
      yield* get(1)
      expect(yield* get.invalidate(1)).toBe(true)
      expect(yield* get.invalidate(1)).toBe(false)
      expect((yield* get.stats).invalidations).toBe(1)
    }).pipe(Effect.provide(RequestCache.layer())))

  it.effect("repeated invalidation does not leak (Effect's Cache keeps list nodes)", () =>
    Effect.gen(function*() {
      const get = RequestCache.cached({ name: "invalidate-leak", lookup: (k: number) => Effect.succeed(k) })
      for (let i = 0; i < 10_000; i++) {
        yield* get(i)
        yield* get.invalidate(i)
        yield* get.invalidate(i)
      }
      const ns = yield* namespaceOf("invalidate-leak")
      expect(ns.inspect().mapped).toBe(0)
      expect(ns.inspect().coldest).toEqual([])
      expect((yield* get.stats).size).toBe(0)
      // One slot was reused throughout.
      expect((ns as unknown as { length: number }).length).toBeLessThanOrEqual(16)
    }).pipe(Effect.provide(RequestCache.layer())))

  it.effect("invalidateAll empties every namespace; accessors reach the same entries", () =>
    Effect.gen(function*() {
      const a = RequestCache.cached({ name: "all-a", lookup: (k: number) => Effect.succeed(k) })
      const b = RequestCache.cached({ name: "all-b", lookup: (k: string) => Effect.succeed(k) })
      yield* a(1)
      yield* b("x")
      expect(yield* RequestCache.get("all-a", 1, Effect.succeed(-1))).toBe(1)
      expect(yield* RequestCache.invalidate("all-b", "x")).toBe(true)
      yield* b("x")
      yield* RequestCache.invalidateAll
      expect((yield* RequestCache.stats).size).toBe(0)
      expect((yield* RequestCache.statsFor("all-a")).invalidations).toBe(1)
    }).pipe(Effect.provide(RequestCache.layer())))

  it.effect("set while a load is in flight wins; the load's waiters get the load's result", () =>
    Effect.gen(function*() {
      const { lookup, release, state } = yield* latched(() => "loaded")
      const get = RequestCache.cached({ name: "set-inflight", lookup })
      const fiber = yield* Effect.fork(get(1))
      yield* eventually(() => state.runs === 1)
      yield* get.set(1, "set")
      yield* release
      expect(yield* Fiber.join(fiber)).toBe("loaded")
      expect(yield* get(1)).toBe("set")
    }).pipe(Effect.provide(RequestCache.layer())))
})

describe("8. Keys", () => {
  it.effect("are canonical and injective", () =>
    Effect.gen(function*() {
      const seen: Array<string> = []
      const get = RequestCache.cached({
        name: "keys",
        lookup: (...args: ReadonlyArray<unknown>) => Effect.sync(() => (seen.push(String(args)), seen.length))
      })
      yield* get(1)
      yield* get("1")
      yield* get("a,b")
      yield* get("a", "b")
      yield* get([1, 2])
      yield* get(1, 2)
      expect(seen.length).toBe(6)
      yield* get({ a: 1, b: [2] })
      yield* get({ b: [2], a: 1 })
      yield* get(Data.struct({ id: 1 }))
      yield* get(Data.struct({ id: 1 }))
      yield* get(new Date(0))
      yield* get(new Date(0))
      yield* get(1n)
      expect(seen.length).toBe(10)
    }).pipe(Effect.provide(RequestCache.layer())))

  it.effect("a key that cannot be encoded is a clear defect, and nothing is cached", () =>
    Effect.gen(function*() {
      let runs = 0
      const get = RequestCache.cached({
        name: "bad-keys",
        lookup: (_: unknown) => Effect.sync(() => ++runs)
      })
      const exit = yield* Effect.exit(get({ callback: () => 1 }))
      expect(Exit.isFailure(exit)).toBe(true)
      if (Exit.isFailure(exit)) {
        const defect = Option.getOrThrow(Cause.dieOption(exit.cause))
        expect(defect).toBeInstanceOf(CacheKey.KeyEncodingError)
        expect((defect as Error).message).toContain("argument 1 at .callback is a function")
      }
      const cyclic: Record<string, unknown> = {}
      cyclic.self = cyclic
      expect(Exit.isFailure(yield* Effect.exit(get(cyclic)))).toBe(true)
      expect(runs).toBe(0)
      expect((yield* get.stats).size).toBe(0)
    }).pipe(Effect.provide(RequestCache.layer())))

  it.effect("a custom key function ignores arguments", () =>
    Effect.gen(function*() {
      let runs = 0
      const get = RequestCache.cached({
        name: "custom-key",
        lookup: (id: number, _requestId: string) => Effect.sync(() => `${id}:${++runs}`),
        key: (id) => id
      })
      expect(yield* get(1, "req-a")).toBe("1:1")
      expect(yield* get(1, "req-b")).toBe("1:1")
      expect(yield* get.invalidate(1, "any")).toBe(true)
    }).pipe(Effect.provide(RequestCache.layer())))
})

describe("9. Stats and metrics", () => {
  it.effect("counts every kind of event, per namespace and in total", () =>
    Effect.gen(function*() {
      const a = RequestCache.cached({ name: "stats-a", lookup: (k: number) => Effect.succeed(k) })
      const b = RequestCache.cached({ name: "stats-b", lookup: (k: number) => Effect.succeed(k) })
      yield* a(1)
      yield* a(1)
      yield* a(2)
      yield* a(3) // evicts 1
      yield* b(1)
      const sa = yield* a.stats
      expect(sa).toMatchObject({ hits: 1, misses: 3, loads: 3, evictions: 1, size: 2, capacity: 2 })
      expect(sa.hitRate).toBe(0.25)
      const total = yield* RequestCache.stats
      expect(total).toMatchObject({ hits: 1, misses: 4, size: 3, capacity: 4 })
    }).pipe(Effect.provide(RequestCache.layer({ capacity: 2 }))))

  it.effect("the counts are Effect metrics tagged with the namespace", () =>
    Effect.gen(function*() {
      const name = fresh("metrics")
      const get = RequestCache.cached({ name, lookup: (k: number) => Effect.succeed(k) })
      yield* get(1)
      yield* get(1)
      yield* get(1)
      const hits = Metric.fromMetricKey(MetricKey.tagged(MetricKey.counter("request_cache_hits"), "namespace", name))
      const misses = Metric.fromMetricKey(
        MetricKey.tagged(MetricKey.counter("request_cache_misses"), "namespace", name)
      )
      const size = Metric.fromMetricKey(MetricKey.tagged(MetricKey.gauge("request_cache_size"), "namespace", name))
      expect((yield* Metric.value(hits)).count).toBe(2)
      expect((yield* Metric.value(misses)).count).toBe(1)
      expect((yield* Metric.value(size)).value).toBe(1)
    }).pipe(Effect.provide(RequestCache.layer())))
})

describe("10. Options", () => {
  const failure = (options: Record<string, unknown>) =>
    Effect.flip(Layer.build(RequestCache.layer(options as CachePolicy.Options))).pipe(Effect.scoped)

  it.effect("a bad option fails the layer with an error naming it", () =>
    Effect.gen(function*() {
      const negative = yield* failure({ capacity: -1 })
      expect(negative).toBeInstanceOf(CachePolicy.CachePolicyError)
      expect(negative.message).toBe(
        "Invalid cache option \"capacity\": expected a positive integer or Infinity, got -1"
      )
      expect((yield* failure({ timeToLive: Number.NaN })).option).toBe("timeToLive")
      expect((yield* failure({ jitter: "soon" })).message).toContain("jitter")
      expect((yield* failure({ timeToLive: -5 })).option).toBe("timeToLive")
      expect((yield* failure({ cacheErrors: "yes" })).option).toBe("cacheErrors")
      const unknown = yield* failure({ ttl: 5 })
      expect(unknown.option).toBe("ttl")
      expect(unknown.message).toContain("unknown option")
    }))

  it("a bad policy override throws where the cached function is defined", () => {
    expect(() =>
      RequestCache.cached({ name: "bad", lookup: (k: number) => Effect.succeed(k), policy: { capacity: 0 } })
    ).toThrow("Invalid cache option \"capacity\"")
  })

  it.effect("two namespaces of one name with different policies is a clear defect", () =>
    Effect.gen(function*() {
      const a = RequestCache.cached({
        name: "clash",
        lookup: (k: number) => Effect.succeed(k),
        policy: { capacity: 1 }
      })
      const b = RequestCache.cached({
        name: "clash",
        lookup: (k: number) => Effect.succeed(k),
        policy: { capacity: 2 }
      })
      yield* a(1)
      const exit = yield* Effect.exit(b(1))
      expect(Exit.isFailure(exit) && Cause.pretty(exit.cause).includes("already in use with another policy")).toBe(
        true
      )
    }).pipe(Effect.provide(RequestCache.layer())))

  it.effect("a namespace policy overrides the layer's", () =>
    Effect.gen(function*() {
      const small = RequestCache.cached({
        name: "own",
        lookup: (k: number) => Effect.succeed(k),
        policy: { capacity: 1 }
      })
      yield* small(1)
      yield* small(2)
      expect((yield* small.stats).capacity).toBe(1)
      expect((yield* small.stats).evictions).toBe(1)
    }).pipe(Effect.provide(RequestCache.layer({ capacity: 100 }))))

  it.effect("layerConfig reads the options from Config", () =>
    Effect.gen(function*() {
      const provider = ConfigProvider.fromMap(new Map([["cache.capacity", "7"], ["cache.timeToLive", "1 minute"]]))
      const layer = RequestCache.layerConfig(CachePolicy.config.pipe((c) => c)).pipe(
        Layer.provide(Layer.setConfigProvider(provider.pipe(ConfigProvider.nested("cache"))))
      )
      const stats = yield* Effect.provide(RequestCache.statsFor("x"), layer)
      expect(stats.capacity).toBe(7)
    }))
})

describe("Refresh, set and peek", () => {
  it.effect("refresh runs the lookup now and stores its result", () =>
    Effect.gen(function*() {
      let runs = 0
      const get = RequestCache.cached({ name: "refresh", lookup: (_: number) => Effect.sync(() => ++runs) })
      expect(yield* get(1)).toBe(1)
      expect(yield* get.refresh(1)).toBe(2)
      expect(yield* get(1)).toBe(2)
      expect((yield* get.stats).refreshes).toBe(1)
    }).pipe(Effect.provide(RequestCache.layer())))

  it.effect("a failed refresh (Effect's Cache drops the value) keeps the old value", () =>
    Effect.gen(function*() {
      let runs = 0
      const get = RequestCache.cached({
        name: "refresh-fail",
        lookup: (_: number) => Effect.suspend(() => ++runs === 1 ? Effect.succeed("ok") : Effect.fail(new Timeout()))
      })
      yield* get(1)
      const error = yield* Effect.flip(get.refresh(1))
      expect(error).toBeInstanceOf(Timeout)
      expect(yield* get(1)).toBe("ok")
      expect((yield* get.stats).refreshFailures).toBe(1)
    }).pipe(Effect.provide(RequestCache.layer())))
})

describe("Per-entry time to live (async-cache's per-key TTL)", () => {
  it.effect("get with timeToLive stores the value for that long, whatever the namespace's policy", () =>
    Effect.gen(function*() {
      let runs = 0
      const lookup = Effect.sync(() => ++runs)
      const name = fresh("per-key")
      expect(yield* RequestCache.get(name, "a", lookup, { timeToLive: "60 seconds" })).toBe(1)
      expect(yield* RequestCache.get(name, "b", lookup)).toBe(2)
      yield* TestClock.adjust("59 seconds")
      expect(yield* RequestCache.get(name, "a", lookup, { timeToLive: "60 seconds" })).toBe(1)
      yield* TestClock.adjust("1 second")
      expect(yield* RequestCache.get(name, "a", lookup, { timeToLive: "60 seconds" })).toBe(3)
      yield* TestClock.adjust("1 hour")
      expect(yield* RequestCache.get(name, "b", lookup)).toBe(2) // the namespace's: never expires
    }).pipe(Effect.provide(RequestCache.layer())))

  it.effect("a per-entry time to live also applies to the entry's refreshes", () =>
    Effect.gen(function*() {
      let runs = 0
      const lookup = Effect.sync(() => ++runs)
      const name = fresh("per-key-swr")
      yield* RequestCache.get(name, "a", lookup, { timeToLive: "10 seconds" })
      yield* TestClock.adjust("10 seconds")
      expect(yield* RequestCache.get(name, "a", lookup, { timeToLive: "10 seconds" })).toBe(1) // stale
      yield* until(Effect.map(RequestCache.statsFor(name), (s) => s.refreshes === 1))
      yield* TestClock.adjust("9 seconds")
      expect(yield* RequestCache.get(name, "a", lookup, { timeToLive: "10 seconds" })).toBe(2)
      yield* TestClock.adjust("1 second")
      expect(yield* RequestCache.get(name, "a", lookup, { timeToLive: "10 seconds" })).toBe(2) // stale again
    }).pipe(Effect.provide(RequestCache.layer({ timeToLive: "1 hour", staleWhileRevalidate: "1 minute" }))))

  it.effect("set with timeToLive", () =>
    Effect.gen(function*() {
      const name = fresh("per-key-set")
      yield* RequestCache.set(name, 1, "warm", { timeToLive: "5 seconds" })
      yield* RequestCache.set(name, 2, "forever")
      expect(yield* RequestCache.get(name, 1, Effect.succeed("loaded"))).toBe("warm")
      yield* TestClock.adjust("5 seconds")
      expect(yield* RequestCache.get(name, 1, Effect.succeed("loaded"))).toBe("loaded")
      expect(yield* RequestCache.get(name, 2, Effect.succeed("loaded"))).toBe("forever")
    }).pipe(Effect.provide(RequestCache.layer())))

  it("a bad per-entry time to live throws a CachePolicyError naming it", () => {
    expect(() => RequestCache.get("x", 1, Effect.succeed(1), { timeToLive: "soon" as never })).toThrow(
      /"timeToLive"/
    )
    expect(() => RequestCache.set("x", 1, 1, { timeToLive: -5 })).toThrow(/"timeToLive"/)
  })

  it.effect("layerDisabled gives the value of a lookup with its own time to live", () =>
    Effect.gen(function*() {
      expect(yield* RequestCache.get("disabled-ttl", 1, Effect.succeed("v"), { timeToLive: "1 minute" })).toBe("v")
    }).pipe(Effect.provide(RequestCache.layerDisabled)))
})

describe("layerDisabled", () => {
  it.effect("runs every lookup and stores nothing", () =>
    Effect.gen(function*() {
      let runs = 0
      const get = RequestCache.cached({ name: "disabled", lookup: (_: number) => Effect.sync(() => ++runs) })
      yield* get(1)
      yield* get(1)
      yield* get.set(1, 5)
      expect(yield* get(1)).toBe(3)
      expect(yield* get.peek(1)).toEqual(Option.none())
      expect((yield* get.stats).misses).toBe(3)
    }).pipe(Effect.provide(RequestCache.layerDisabled)))
})
