/**
 * The outbox: invalidations that did not reach the store are kept, replayed when it answers
 * (before their keys are read again), with their events, bounded, and never forgotten.
 */
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Either, Layer, Metric, Option, TestClock } from "effect"
import * as fc from "effect/FastCheck"
import { CacheStore, RequestCache } from "../src/index.js"
import { withOutbox } from "../src/internal/outbox.js"
import { TAG_NAMESPACE } from "../src/internal/tags.js"
import { usersFunction } from "./support/users.js"

type Mode = "up" | "down" | "writes down" | "answers lost"

/**
 * A shared store in memory that can be taken down: `down` fails every command; `writes down`
 * fails the writes and deletions while reads still answer; `answers lost` runs every command but
 * fails it, as a timeout whose command Redis did run.
 */
const switchable = (inner: CacheStore.Service) => {
  const state = { mode: "up" as Mode, calls: [] as Array<string> }
  const guard = <A>(operation: string, write: boolean, command: Effect.Effect<A, CacheStore.CacheStoreError>) =>
    Effect.suspend((): Effect.Effect<A, CacheStore.CacheStoreError> => {
      state.calls.push(operation)
      const failure = new CacheStore.CacheStoreError({ operation, reason: `the store is ${state.mode}` })
      switch (state.mode) {
        case "up":
          return command
        case "down":
          return Effect.fail(failure)
        case "writes down":
          return write ? Effect.fail(failure) : command
        case "answers lost":
          return Effect.zipRight(command, Effect.fail(failure))
      }
    })
  const coordination = inner.coordination!
  const service: CacheStore.Service = {
    name: "switchable",
    get: (namespace, key) => guard(`get ${namespace}:${key}`, false, inner.get(namespace, key)),
    set: (namespace, key, entry, ttl, fence) =>
      guard(`set ${namespace}:${key}`, true, inner.set(namespace, key, entry, ttl, fence)),
    delete: (namespace, key, fence) => guard(`delete ${namespace}:${key}`, true, inner.delete(namespace, key, fence)),
    clear: (namespace) => guard(`clear ${namespace}`, true, inner.clear(namespace)),
    coordination: {
      acquire: (namespace, key, owner, ttl) =>
        guard("acquire", false, coordination.acquire(namespace, key, owner, ttl)),
      release: (namespace, key, owner) => guard("release", false, coordination.release(namespace, key, owner)),
      publish: (event) =>
        guard(`publish ${event.kind} ${event.key ?? event.namespace}`, true, coordination.publish(event)),
      subscribe: coordination.subscribe
    }
  }
  return { state, service }
}

const process = (store: CacheStore.Service, options?: RequestCache.StoreOptions) =>
  Layer.build(RequestCache.layerStore(options).pipe(Layer.provide(Layer.succeed(CacheStore.CacheStore, store))))

const inside = <A, E, R>(context: Context.Context<RequestCache>) => (effect: Effect.Effect<A, E, R>) =>
  Effect.provide(effect, context)

let unique = 0
const fresh = (prefix: string) => `${prefix}-${++unique}`
const longL1 = { l1: { timeToLive: "1 hour" } } as const

describe("Outbox: an invalidation that cannot reach the store is kept and replayed", () => {
  it.scoped("invalidate while the store is down; once it answers, the old entry is gone and another process loads anew", () =>
    Effect.gen(function*() {
      const shared = yield* CacheStore.makeMemory
      const { service, state } = switchable(shared)
      const a = yield* process(service)
      const { get, state: runs } = usersFunction(fresh("users"))
      expect((yield* get(1).pipe(inside(a))).name).toBe("user 1-1")
      state.mode = "down"
      yield* get.invalidate(1).pipe(inside(a))
      expect((yield* get.stats.pipe(inside(a))).storeErrors).toBeGreaterThan(0)
      // The store is back, unchanged: its entry is the old value until the replay.
      state.mode = "up"
      expect(Option.isSome(yield* shared.get(get.namespace, "n1"))).toBe(true)
      yield* TestClock.adjust("1 second") // the outbox's next try
      expect(yield* shared.get(get.namespace, "n1")).toEqual(Option.none())
      const b = yield* process(shared)
      expect((yield* get(1).pipe(inside(b))).name).toBe("user 1-2")
      expect(runs.runs).toBe(2)
    }))

  it.scoped("a read of a key with a pending invalidation replays it first: the store's old entry is never served", () =>
    Effect.gen(function*() {
      const shared = yield* CacheStore.makeMemory
      const { service, state } = switchable(shared)
      const a = yield* process(service)
      const { get } = usersFunction(fresh("users"))
      yield* get(1).pipe(inside(a))
      state.mode = "down"
      yield* get.invalidate(1).pipe(inside(a))
      state.mode = "up"
      state.calls.length = 0
      // No time passes: the read itself replays the deletion, then reads (nothing), then loads.
      expect((yield* get(1).pipe(inside(a))).name).toBe("user 1-2")
      expect(state.calls.slice(0, 3)).toEqual([
        `delete ${get.namespace}:n1`,
        `publish delete n1`,
        `get ${get.namespace}:n1`
      ])
    }))

  it.scoped("reads answer while deletions fail: the pending invalidation makes the read a miss, not the old value", () =>
    Effect.gen(function*() {
      const shared = yield* CacheStore.makeMemory
      const { service, state } = switchable(shared)
      const a = yield* process(service)
      const { get } = usersFunction(fresh("users"))
      yield* get(1).pipe(inside(a))
      state.mode = "writes down"
      yield* get.invalidate(1).pipe(inside(a))
      expect((yield* get(1).pipe(inside(a))).name).toBe("user 1-2")
      expect(Option.isSome(yield* shared.get(get.namespace, "n1"))).toBe(true) // still the old one, unread
      state.mode = "up"
      yield* TestClock.adjust("1 second")
      expect(yield* shared.get(get.namespace, "n1")).toEqual(Option.none())
    }))

  it.scoped("a set that does not reach the store is replayed as a deletion: the store's old value goes", () =>
    Effect.gen(function*() {
      const shared = yield* CacheStore.makeMemory
      const { service, state } = switchable(shared)
      const a = yield* process(service, longL1)
      const { get } = usersFunction(fresh("users"))
      yield* get(1).pipe(inside(a))
      state.mode = "down"
      const ada = { id: 1, name: "Ada" }
      yield* get.set(1, ada as never).pipe(inside(a))
      expect(yield* get(1).pipe(inside(a))).toMatchObject(ada) // this process has it
      state.mode = "up"
      yield* TestClock.adjust("1 second")
      expect(yield* shared.get(get.namespace, "n1")).toEqual(Option.none())
      // Replayed late, the value itself could undo a later invalidation elsewhere: not written.
      const b = yield* process(shared)
      expect((yield* get(1).pipe(inside(b))).name).toBe("user 1-2")
    }))

  it.scoped("the replayed deletion keeps its fence: a write of a lookup older than the set, landing after, is refused", () =>
    Effect.gen(function*() {
      const shared = yield* CacheStore.makeMemory
      const { service, state } = switchable(shared)
      const a = yield* process(service, longL1)
      const { get } = usersFunction(fresh("users"))
      yield* TestClock.adjust("10 millis")
      state.mode = "down"
      yield* get.set(1, { id: 1, name: "Ada" } as never).pipe(inside(a)) // at 10 ms, kept in the outbox
      state.mode = "up"
      yield* TestClock.adjust("1 second")
      expect(yield* shared.get(get.namespace, "n1")).toEqual(Option.none())
      // Another process's write of a value made at 5 ms (its command late): older than the set.
      yield* shared.set(get.namespace, "n1", "made at 5 ms", Infinity, { version: 5, window: 60_000 })
      expect(yield* shared.get(get.namespace, "n1")).toEqual(Option.none())
      yield* shared.set(get.namespace, "n1", "made at 11 ms", Infinity, { version: 11, window: 60_000 })
      expect(yield* shared.get(get.namespace, "n1")).toEqual(Option.some("made at 11 ms"))
    }))

  it.scoped("the replayed events drop the key from the other processes' first tiers", () =>
    Effect.gen(function*() {
      const shared = yield* CacheStore.makeMemory
      const { service, state } = switchable(shared)
      const a = yield* process(service, longL1)
      const c = yield* process(shared, longL1)
      const { get } = usersFunction(fresh("users"))
      yield* get(1).pipe(inside(a))
      expect((yield* get(1).pipe(inside(c))).name).toBe("user 1-1") // in c's first tier for an hour
      state.mode = "down"
      yield* get.invalidate(1).pipe(inside(a))
      expect((yield* get(1).pipe(inside(c))).name).toBe("user 1-1") // c never heard of it
      state.mode = "up"
      yield* TestClock.adjust("1 second")
      expect((yield* get(1).pipe(inside(c))).name).toBe("user 1-2")
    }))

  it.scoped("invalidateAll too; and repeated invalidations of a key are replayed once", () =>
    Effect.gen(function*() {
      const shared = yield* CacheStore.makeMemory
      const { service, state } = switchable(shared)
      const a = yield* process(service)
      const { get } = usersFunction(fresh("users"))
      const other = usersFunction(fresh("orders"))
      yield* Effect.forEach([1, 2, 3], (id) => get(id)).pipe(inside(a))
      yield* other.get(1).pipe(inside(a))
      state.mode = "down"
      yield* Effect.forEach([1, 1, 1], (id) => other.get.invalidate(id)).pipe(inside(a))
      yield* get.invalidateAll.pipe(inside(a))
      state.mode = "up"
      state.calls.length = 0
      yield* TestClock.adjust("1 second")
      expect(state.calls).toEqual([
        `delete ${other.get.namespace}:n1`,
        `publish delete n1`,
        `clear ${get.namespace}`,
        `publish clear ${get.namespace}`
      ])
      for (const id of ["n1", "n2", "n3"]) expect(yield* shared.get(get.namespace, id)).toEqual(Option.none())
    }))

  it.scoped("a subscription made again (reset) replays at once, without waiting for the next try", () =>
    Effect.gen(function*() {
      const shared = yield* CacheStore.makeMemory
      const listeners: Array<(event: CacheStore.StoreEvent) => void> = []
      const { service, state } = switchable(shared)
      const withReset: CacheStore.Service = {
        ...service,
        coordination: {
          ...service.coordination!,
          subscribe: (onEvent) =>
            Effect.zipRight(Effect.sync(() => listeners.push(onEvent)), service.coordination!.subscribe(onEvent))
        }
      }
      const a = yield* process(withReset)
      const { get } = usersFunction(fresh("users"))
      yield* get(1).pipe(inside(a))
      state.mode = "down"
      yield* get.invalidate(1).pipe(inside(a))
      state.mode = "up"
      for (const listener of listeners) listener({ kind: "reset", namespace: "", origin: "" })
      for (let i = 0; i < 50 && Option.isSome(yield* shared.get(get.namespace, "n1")); i++) yield* Effect.yieldNow()
      expect(yield* shared.get(get.namespace, "n1")).toEqual(Option.none())
    }))

  it.scoped("while the store stays down, it keeps trying, and replays when it is back", () =>
    Effect.gen(function*() {
      const shared = yield* CacheStore.makeMemory
      const { service, state } = switchable(shared)
      const a = yield* process(service)
      const { get } = usersFunction(fresh("users"))
      yield* get(1).pipe(inside(a))
      state.mode = "down"
      yield* get.invalidate(1).pipe(inside(a))
      state.calls.length = 0
      yield* TestClock.adjust("3 seconds")
      expect(state.calls.filter((call) => call.startsWith("delete")).length).toBe(3)
      state.mode = "up"
      yield* TestClock.adjust("1 second")
      expect(yield* shared.get(get.namespace, "n1")).toEqual(Option.none())
      state.calls.length = 0
      yield* TestClock.adjust("5 seconds")
      expect(state.calls).toEqual([]) // nothing pending: no more tries
    }))
})

describe("Outbox: bounded, nothing forgotten", () => {
  const widened = Metric.counter("request_cache_outbox_widened").pipe(Metric.tagged("store", "switchable"))
  const dropped = Metric.counter("request_cache_outbox_dropped").pipe(Metric.tagged("store", "switchable"))
  const count = (metric: typeof widened) => Effect.map(Metric.value(metric), (state) => state.count)

  it.scoped("past its capacity, a namespace's key invalidations become one of the whole namespace", () =>
    Effect.gen(function*() {
      const shared = yield* CacheStore.makeMemory
      const { service, state } = switchable(shared)
      const outbox = yield* withOutbox(service, { origin: "me", capacity: 3 })
      for (const key of ["a", "b", "c", "d", "e"]) yield* shared.set("users", key, "old", Infinity)
      yield* shared.set("orders", "x", "old", Infinity)
      state.mode = "down"
      const before = yield* count(widened)
      yield* Effect.either(outbox.service.delete("orders", "x"))
      for (const key of ["a", "b", "c", "d"]) yield* Effect.either(outbox.service.delete("users", key))
      expect(outbox.size()).toBe(2) // orders:x, and users as a whole
      expect((yield* count(widened)) - before).toBe(3)
      state.mode = "up"
      yield* outbox.flush
      expect(outbox.size()).toBe(0)
      for (const key of ["a", "b", "c", "d", "e"]) expect(yield* shared.get("users", key)).toEqual(Option.none())
      expect(yield* shared.get("orders", "x")).toEqual(Option.none())
    }))

  it.scoped("only when every pending invalidation is a whole namespace's is the oldest dropped, counted", () =>
    Effect.gen(function*() {
      const shared = yield* CacheStore.makeMemory
      const { service, state } = switchable(shared)
      const outbox = yield* withOutbox(service, { origin: "me", capacity: 2 })
      state.mode = "down"
      const before = yield* count(dropped)
      for (const namespace of ["a", "b", "c"]) yield* Effect.either(outbox.service.clear(namespace))
      expect(outbox.size()).toBe(2)
      expect((yield* count(dropped)) - before).toBe(1)
      state.mode = "up"
      state.calls.length = 0
      yield* outbox.flush
      expect(state.calls).toEqual(["clear b", "publish clear b", "clear c", "publish clear c"])
    }))

  it.scoped("past its capacity, tag invalidations are never widened into a clear of every tag's time", () =>
    Effect.gen(function*() {
      const shared = yield* CacheStore.makeMemory
      const { service, state } = switchable(shared)
      const outbox = yield* withOutbox(service, { origin: "me", capacity: 2 })
      yield* shared.raise!(TAG_NAMESPACE, "t0", 5)
      state.mode = "down"
      // A tag's event and two tags' times that do not reach the store: three, over a capacity of 2.
      yield* Effect.either(
        outbox.service.coordination!.publish({ kind: "delete", namespace: TAG_NAMESPACE, key: "t1", origin: "me" })
      )
      yield* Effect.either(outbox.service.raise!(TAG_NAMESPACE, "t2", 10))
      yield* Effect.either(outbox.service.raise!(TAG_NAMESPACE, "t3", 20))
      state.mode = "up"
      yield* outbox.flush
      // The times the store held, and the ones kept, are all there.
      for (const tag of ["t0", "t2", "t3"]) expect(Option.isSome(yield* shared.get(TAG_NAMESPACE, tag))).toBe(true)
    }))

  it.effect("closing with invalidations the store never took: counted as dropped", () =>
    Effect.gen(function*() {
      const shared = yield* CacheStore.makeMemory
      const { service, state } = switchable(shared)
      const before = yield* count(dropped)
      yield* Effect.scoped(Effect.gen(function*() {
        const outbox = yield* withOutbox(service, { origin: "me" })
        state.mode = "down"
        yield* Effect.either(outbox.service.delete("users", "a"))
        yield* Effect.either(outbox.service.delete("users", "b"))
      }))
      expect((yield* count(dropped)) - before).toBe(2)
    }))

  it.scoped("closing once the store answers: the last replay runs and nothing is dropped", () =>
    Effect.gen(function*() {
      const shared = yield* CacheStore.makeMemory
      const { service, state } = switchable(shared)
      yield* shared.set("users", "a", "old", Infinity)
      yield* Effect.scoped(Effect.gen(function*() {
        const outbox = yield* withOutbox(service, { origin: "me" })
        state.mode = "down"
        yield* Effect.either(outbox.service.delete("users", "a"))
        state.mode = "up"
      }))
      expect(yield* shared.get("users", "a")).toEqual(Option.none())
    }))

  // The model: every write has a new version; an invalidation of a key (a delete, a clear of its
  // namespace, a write) sets the least version a read may see from then on. Whatever the store
  // does (down, reads only, answers lost), a read through the outbox never returns an older
  // version, and once the store answers and the outbox is replayed, the store holds none.
  type Op =
    | { readonly _tag: "Write"; readonly key: number }
    | { readonly _tag: "Delete"; readonly key: number }
    | { readonly _tag: "Clear" }
    | { readonly _tag: "Read"; readonly key: number }
    | { readonly _tag: "Mode"; readonly mode: Mode }
    | { readonly _tag: "Flush" }
  const key = fc.integer({ min: 0, max: 3 })
  const op: fc.Arbitrary<Op> = fc.oneof(
    { arbitrary: key.map((key) => ({ _tag: "Write", key }) as const), weight: 4 },
    { arbitrary: key.map((key) => ({ _tag: "Delete", key }) as const), weight: 3 },
    { arbitrary: fc.constant({ _tag: "Clear" } as const), weight: 1 },
    { arbitrary: key.map((key) => ({ _tag: "Read", key }) as const), weight: 4 },
    {
      arbitrary: fc.constantFrom<Mode>("up", "down", "writes down", "answers lost").map((mode) =>
        ({ _tag: "Mode", mode }) as const
      ),
      weight: 2
    },
    { arbitrary: fc.constant({ _tag: "Flush" } as const), weight: 1 }
  )

  it.effect.prop(
    "a read never returns a value invalidated before it, and after the replay the store holds none",
    { ops: fc.array(op, { maxLength: 60 }), capacity: fc.integer({ min: 1, max: 6 }) },
    ({ capacity, ops }) =>
      Effect.scoped(Effect.gen(function*() {
        const shared = yield* CacheStore.makeMemory
        const { service, state } = switchable(shared)
        const outbox = yield* withOutbox(service, { origin: "me", capacity })
        const least = new Map<number, number>() // key -> least version a read may see
        let version = 0
        const bump = (k: number) => least.set(k, ++version)
        for (const op of ops) {
          switch (op._tag) {
            case "Write": {
              const written = bump(op.key).get(op.key)!
              yield* Effect.either(outbox.service.set("ns", `k${op.key}`, String(written), Infinity))
              break
            }
            case "Delete":
              bump(op.key)
              yield* Effect.either(outbox.service.delete("ns", `k${op.key}`))
              break
            case "Clear":
              for (let k = 0; k <= 3; k++) bump(k)
              yield* Effect.either(outbox.service.clear("ns"))
              break
            case "Read": {
              const read = yield* Effect.either(outbox.service.get("ns", `k${op.key}`))
              if (Either.isRight(read) && Option.isSome(read.right)) {
                expect(Number(read.right.value)).toBeGreaterThanOrEqual(least.get(op.key) ?? 0)
              }
              break
            }
            case "Mode":
              state.mode = op.mode
              break
            case "Flush":
              yield* Effect.either(outbox.flush)
          }
        }
        state.mode = "up"
        yield* outbox.flush
        expect(outbox.size()).toBe(0)
        for (let k = 0; k <= 3; k++) {
          const held = yield* shared.get("ns", `k${k}`)
          if (Option.isSome(held)) expect(Number(held.value)).toBeGreaterThanOrEqual(least.get(k) ?? 0)
        }
      })),
    { fastCheck: { numRuns: 200 } }
  )
})
