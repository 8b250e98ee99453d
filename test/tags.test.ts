/**
 * 7. Invalidation by tag: `cached`'s `tags` attach tags to an entry when it is stored, and
 * `RequestCache.invalidateTags` invalidates every entry that carries one of them, in every
 * namespace, winning over the loads in flight.
 */
import { afterAll, describe, expect, it } from "@effect/vitest"
import {
  Cause,
  Deferred,
  Effect,
  Exit,
  FastCheck as fc,
  Fiber,
  Layer,
  Option,
  Schema,
  type Scope,
  TestClock
} from "effect"
import { CacheStore, RequestCache } from "../src/index.js"
import { RedisStore } from "../src/redis.js"
import { deletePrefix, describeRedis, freshPrefix, REDIS_URL, redisAnswers } from "./support/redis.js"

const layer = RequestCache.layer({ capacity: 100 })

interface User {
  readonly id: number
  readonly orgId: number
  readonly version: number
}

/** Users of org `id % 3`, each load a new version. */
const usersAndOrgs = () => {
  let loads = 0
  const getUser = RequestCache.cached({
    name: "tagged-users",
    lookup: (id: number) => Effect.sync((): User => ({ id, orgId: id % 3, version: ++loads })),
    tags: (user, id) => [`user:${id}`, `org:${user.orgId}`]
  })
  const getOrg = RequestCache.cached({
    name: "tagged-orgs",
    lookup: (orgId: number) => Effect.succeed({ orgId }),
    tags: (org) => [`org:${org.orgId}`]
  })
  const getPlain = RequestCache.cached({ name: "untagged", lookup: (id: number) => Effect.succeed(id) })
  return { getOrg, getPlain, getUser }
}

describe("7. Invalidation by tag", () => {
  it.effect("invalidateTags drops every entry carrying a tag, in every namespace, and only those", () =>
    Effect.gen(function*() {
      const { getOrg, getPlain, getUser } = usersAndOrgs()
      yield* Effect.forEach([1, 2, 3, 4], (id) => getUser(id))
      yield* getOrg(1)
      yield* getPlain(1)
      yield* RequestCache.invalidateTags(["org:1"])
      // Users 1 and 4 are in org 1; the org entry too; nothing else.
      expect(Option.isNone(yield* getUser.peek(1))).toBe(true)
      expect(Option.isNone(yield* getUser.peek(4))).toBe(true)
      expect(Option.isSome(yield* getUser.peek(2))).toBe(true)
      expect(Option.isSome(yield* getUser.peek(3))).toBe(true)
      expect(Option.isNone(yield* getOrg.peek(1))).toBe(true)
      expect(yield* getPlain.peek(1)).toStrictEqual(Option.some(1))
      expect((yield* getUser.stats).invalidations).toBe(2)
      yield* RequestCache.invalidateTags(["user:2", "nobody"])
      expect(Option.isNone(yield* getUser.peek(2))).toBe(true)
      expect((yield* getUser(2)).version).toBe(5)
    }).pipe(Effect.provide(layer)))

  it.effect("wins over a load in flight: its result reaches its callers but is not stored", () =>
    Effect.gen(function*() {
      const gate = yield* Deferred.make<void>()
      const getUser = RequestCache.cached({
        name: "tagged-in-flight",
        lookup: (id: number) => Effect.as(Deferred.await(gate), { id }),
        tags: (_user, id) => [`user:${id}`]
      })
      const caller = yield* Effect.fork(getUser(1))
      yield* Effect.yieldNow()
      yield* RequestCache.invalidateTags(["user:1"])
      yield* Deferred.succeed(gate, undefined)
      expect(yield* Fiber.join(caller)).toStrictEqual({ id: 1 })
      expect(yield* getUser.peek(1)).toStrictEqual(Option.none())
      // A load that starts after the invalidation is stored as usual.
      yield* getUser(2)
      expect(yield* getUser.peek(2)).toStrictEqual(Option.some({ id: 2 }))
    }).pipe(Effect.provide(layer)))

  it.effect("a caller that comes after the invalidation does not join a load that started before it", () =>
    Effect.gen(function*() {
      const gates = [yield* Deferred.make<void>(), yield* Deferred.make<void>()]
      let loads = 0
      const getUser = RequestCache.cached({
        name: "tagged-late-caller",
        lookup: (id: number) => Effect.suspend(() => Effect.as(Deferred.await(gates[loads++]!), { id, load: loads })),
        tags: (_user, id) => [`user:${id}`]
      })
      const before = yield* Effect.fork(getUser(1))
      yield* Effect.yieldNow()
      const joined = yield* Effect.fork(getUser(1)) // joins: it came before the invalidation
      yield* Effect.yieldNow()
      yield* RequestCache.invalidateTags(["user:1"])
      // The load's tags are known only when it ends: a caller after the invalidation loads anew.
      const after = yield* Effect.fork(getUser(1))
      yield* Effect.yieldNow()
      expect(loads).toBe(2)
      yield* Deferred.succeed(gates[0]!, undefined)
      expect(yield* Fiber.join(before)).toStrictEqual({ id: 1, load: 1 })
      expect(yield* Fiber.join(joined)).toStrictEqual({ id: 1, load: 1 })
      yield* Deferred.succeed(gates[1]!, undefined)
      expect(yield* Fiber.join(after)).toStrictEqual({ id: 1, load: 2 })
      expect(yield* getUser.peek(1)).toStrictEqual(Option.some({ id: 1, load: 2 }))
      expect(yield* getUser.stats).toMatchObject({ misses: 2, coalesced: 1, expirations: 0 })
    }).pipe(Effect.provide(layer)))

  it.effect("a load of a function without tags is still joined after a tag invalidation (single flight kept)", () =>
    Effect.gen(function*() {
      const gate = yield* Deferred.make<void>()
      let runs = 0
      const get = RequestCache.cached({
        name: "untagged-in-flight",
        lookup: (id: number) => Effect.sync(() => runs++).pipe(Effect.zipRight(Deferred.await(gate)), Effect.as(id))
      })
      const first = yield* Effect.fork(get(1))
      yield* Effect.yieldNow()
      yield* RequestCache.invalidateTags(["anything"])
      const second = yield* Effect.fork(get(1))
      yield* Effect.yieldNow()
      yield* Deferred.succeed(gate, undefined)
      expect([yield* Fiber.join(first), yield* Fiber.join(second)]).toStrictEqual([1, 1])
      expect(runs).toBe(1)
    }).pipe(Effect.provide(layer)))

  it.effect("set attaches the tags of the value it stores; a new value's tags replace the old ones", () =>
    Effect.gen(function*() {
      const { getUser } = usersAndOrgs()
      yield* getUser(1) // org 1
      yield* getUser.set(1, { id: 1, orgId: 2, version: 99 })
      yield* RequestCache.invalidateTags(["org:1"])
      expect(yield* getUser.peek(1)).toStrictEqual(Option.some({ id: 1, orgId: 2, version: 99 }))
      yield* RequestCache.invalidateTags(["org:2"])
      expect(yield* getUser.peek(1)).toStrictEqual(Option.none())
    }).pipe(Effect.provide(layer)))

  it.effect("a tags function that throws or answers no array: a CachePolicyError defect naming tags", () =>
    Effect.gen(function*() {
      const get = RequestCache.cached({
        name: "tags-bad",
        lookup: (id: number) => Effect.succeed(id),
        tags: (id) => (id < 0 ? "oops" : [String(id)]) as ReadonlyArray<string>
      })
      expect(yield* get(1)).toBe(1)
      const exit = yield* Effect.exit(get(-1))
      expect(Exit.isFailure(exit) && Cause.pretty(exit.cause)).toContain(`Invalid cache option "tags"`)
    }).pipe(Effect.provide(layer)))

  it.effect.prop(
    "against a model: after random loads, sets and tag invalidations, exactly the entries with no invalidated tag remain",
    {
      ops: fc.array(
        fc.oneof(
          fc.tuple(fc.constant("get" as const), fc.integer({ min: 0, max: 9 })),
          fc.tuple(fc.constant("set" as const), fc.integer({ min: 0, max: 9 })),
          fc.tuple(fc.constant("tags" as const), fc.integer({ min: 0, max: 4 }))
        ),
        { maxLength: 60 }
      )
    },
    ({ ops }) =>
      Effect.gen(function*() {
        // Key k carries tags "t(k % 5)" and "u(k % 2)"; invalidating tag i takes "t(i)", and "u(i)" for i < 2.
        const tagsOf = (k: number) => [`t${k % 5}`, `u${k % 2}`]
        const get = RequestCache.cached({
          name: "tags-prop",
          lookup: (k: number) => Effect.succeed(k),
          tags: (_v, k) => tagsOf(k)
        })
        const held = new Set<number>()
        for (const [op, n] of ops) {
          if (op === "get") {
            yield* get(n)
            held.add(n)
          } else if (op === "set") {
            yield* get.set(n, n)
            held.add(n)
          } else {
            const tags = n < 2 ? [`t${n}`, `u${n}`] : [`t${n}`]
            yield* RequestCache.invalidateTags(tags)
            for (const k of Array.from(held)) if (tagsOf(k).some((tag) => tags.includes(tag))) held.delete(k)
          }
          for (let k = 0; k <= 9; k++) {
            expect(Option.isSome(yield* get.peek(k)), `key ${k}`).toBe(held.has(k))
          }
        }
      }).pipe(Effect.provide(RequestCache.layer())),
    { fastCheck: { numRuns: 200 } }
  )
})

/** A tagged users function whose entries a store can hold. */
const storedUsers = (name: string) => {
  const state = { loads: 0 }
  const getUser = RequestCache.cached({
    name,
    lookup: (id: number) => Effect.sync(() => ({ id, orgId: id % 3, version: ++state.loads })),
    schema: { success: Schema.Struct({ id: Schema.Number, orgId: Schema.Number, version: Schema.Number }) },
    tags: (user, id) => [`user:${id}`, `org:${user.orgId}`]
  })
  return { getUser, state }
}

interface Environment {
  readonly label: string
  readonly store: Effect.Effect<Layer.Layer<CacheStore.CacheStore, unknown>, unknown, Scope.Scope>
  /** `it.scoped` with the TestClock, `it.scopedLive` for a real server (its events take real time). */
  readonly test: (name: string, self: () => Effect.Effect<void, unknown, Scope.Scope>) => void
  /** Lets a little time pass: an entry loaded in the very millisecond of a tag invalidation is void in the store. */
  readonly tick: Effect.Effect<void>
  /** Waits for what travels through the store's subscription. */
  readonly pause: Effect.Effect<void>
}

const sharedStoreCases = ({ label, pause, store, test, tick }: Environment) => {
  /** Waits until `condition` holds (events travel through the store's subscription). */
  const until = (condition: () => boolean | Effect.Effect<boolean>) =>
    Effect.gen(function*() {
      for (let i = 0; i < 400; i++) {
        const held = condition()
        if (typeof held === "boolean" ? held : yield* held) return
        yield* pause
      }
      return yield* Effect.dieMessage("condition never held")
    })

  describe(`7. Invalidation by tag through a shared store (${label})`, () => {
    test("an invalidation reaches every process: their first tiers drop it, and the store's entry is a miss", () =>
      Effect.gen(function*() {
        const shared = yield* store
        const process = () => Layer.build(RequestCache.layerStore().pipe(Layer.provide(shared)))
        const a = yield* process()
        const b = yield* process()
        const { getUser, state } = storedUsers(`tags-shared-${label}`)
        yield* getUser(1).pipe(Effect.provide(a))
        expect((yield* getUser(1).pipe(Effect.provide(b))).version).toBe(1) // from the store
        yield* getUser(2).pipe(Effect.provide(b))
        yield* RequestCache.invalidateTags(["org:1"]).pipe(Effect.provide(a))
        // b's first tier drops user 1 on the event; user 2 (org 2) stays.
        yield* until(() => Effect.map(getUser.peek(1).pipe(Effect.provide(b)), Option.isNone))
        expect(Option.isSome(yield* getUser.peek(2).pipe(Effect.provide(b)))).toBe(true)
        // A fresh process finds the store's entry of user 1 invalidated: it loads again.
        yield* tick
        const c = yield* process()
        expect((yield* getUser(1).pipe(Effect.provide(c))).version).toBe(3)
        expect((yield* getUser(2).pipe(Effect.provide(c))).version).toBe(2)
        // Loaded after the invalidation: a hit everywhere again.
        expect((yield* getUser(1).pipe(Effect.provide(a))).version).toBe(3)
        expect(state.loads).toBe(3)
      }))

    test("a caller that comes after the invalidation does not join this process's load that started before it", () =>
      Effect.gen(function*() {
        const shared = yield* store
        const a = yield* Layer.build(RequestCache.layerStore().pipe(Layer.provide(shared)))
        const gates = [yield* Deferred.make<void>(), yield* Deferred.make<void>()]
        let loads = 0
        const getUser = RequestCache.cached({
          name: `tags-late-caller-${label}`,
          lookup: (id: number) => Effect.suspend(() => Effect.as(Deferred.await(gates[loads++]!), { id, load: loads })),
          schema: { success: Schema.Struct({ id: Schema.Number, load: Schema.Number }) },
          tags: (_user, id) => [`user:${id}`]
        })
        const before = yield* Effect.fork(getUser(1).pipe(Effect.provide(a)))
        yield* until(() => loads === 1)
        yield* tick
        yield* RequestCache.invalidateTags(["user:1"]).pipe(Effect.provide(a))
        yield* tick
        // It does not join the load in flight; it waits for that load's lock (single flight across
        // processes), then finds its entry void in the store and loads anew.
        const after = yield* Effect.fork(getUser(1).pipe(Effect.provide(a)))
        yield* pause
        yield* Deferred.succeed(gates[0]!, undefined)
        expect((yield* Fiber.join(before)).load).toBe(1)
        yield* until(() => loads === 2)
        yield* Deferred.succeed(gates[1]!, undefined)
        expect((yield* Fiber.join(after)).load).toBe(2)
      }))

    test("wins over another process's load in flight: its result is not served from the store", () =>
      Effect.gen(function*() {
        const shared = yield* store
        const process = () => Layer.build(RequestCache.layerStore().pipe(Layer.provide(shared)))
        const a = yield* process()
        const b = yield* process()
        const gate = yield* Deferred.make<void>()
        let loads = 0
        const getUser = RequestCache.cached({
          name: `tags-flight-${label}`,
          lookup: (id: number) => Effect.as(Deferred.await(gate), { id, load: ++loads }),
          schema: { success: Schema.Struct({ id: Schema.Number, load: Schema.Number }) },
          tags: (_user, id) => [`user:${id}`]
        })
        const loading = yield* Effect.fork(getUser(1).pipe(Effect.provide(b)))
        yield* until(() => loads === 1)
        yield* RequestCache.invalidateTags(["user:1"]).pipe(Effect.provide(a))
        yield* Deferred.succeed(gate, undefined)
        expect((yield* Fiber.join(loading)).load).toBe(1)
        // Neither b's first tier nor the store serves that result.
        yield* tick
        expect((yield* getUser(1).pipe(Effect.provide(a))).load).toBe(2)
        yield* until(() =>
          Effect.map(getUser.peek(1).pipe(Effect.provide(b)), (held) => Option.isNone(held) || held.value.load === 2)
        )
      }))
  })
}

sharedStoreCases({
  label: "memory",
  store: Effect.map(CacheStore.makeMemory, (store) => Layer.succeed(CacheStore.CacheStore, store)),
  test: (name, self) => it.scoped(name, self),
  tick: TestClock.adjust("1 millis"),
  pause: Effect.yieldNow()
})
describeRedis("Tags on Redis", () => {
  sharedStoreCases({
    label: "Redis",
    store: Effect.sync(() => {
      const prefix = freshPrefix("tags")
      redisPrefixes.push(prefix)
      return RedisStore.layer({ url: REDIS_URL, prefix })
    }),
    test: (name, self) => it.scopedLive(name, self),
    tick: Effect.sleep("2 millis"),
    pause: Effect.sleep("5 millis")
  })
})

const redisPrefixes: Array<string> = []
afterAll(async () => {
  if (redisAnswers) await Promise.all(redisPrefixes.map(deletePrefix))
})

describe("7. Invalidation by tag: never lost when the store is down", () => {
  it.scoped("a tag invalidation made while the store is down is kept and replayed; a fresh process then loads again", () =>
    Effect.gen(function*() {
      const memory = yield* CacheStore.makeMemory
      let down = false
      const fault = <A>(effect: Effect.Effect<A, CacheStore.CacheStoreError>, operation: string) =>
        Effect.suspend(() =>
          down ? Effect.fail(new CacheStore.CacheStoreError({ operation, reason: "connection refused" })) : effect
        )
      const coordination = memory.coordination!
      const flaky: CacheStore.Service = {
        ...memory,
        get: (namespace, key) => fault(memory.get(namespace, key), "get"),
        set: (namespace, key, entry, ttl, fence) => fault(memory.set(namespace, key, entry, ttl, fence), "set"),
        raise: (namespace, key, time) => fault(memory.raise!(namespace, key, time), "raise"),
        coordination: { ...coordination, publish: (event) => fault(coordination.publish(event), "publish") }
      }
      const shared = Layer.succeed(CacheStore.CacheStore, flaky)
      const process = () => Layer.build(RequestCache.layerStore().pipe(Layer.provide(shared)))
      const a = yield* process()
      const { getUser, state } = storedUsers("tags-outage")
      yield* getUser(1).pipe(Effect.provide(a))
      down = true
      yield* RequestCache.invalidateTags(["user:1"]).pipe(Effect.provide(a))
      down = false
      // The outbox replays it at its next try (every second, by the clock).
      yield* TestClock.adjust("1 second")
      yield* Effect.yieldNow()
      const b = yield* process()
      expect((yield* getUser(1).pipe(Effect.provide(b))).version).toBe(2)
      expect(state.loads).toBe(2)
    }))
})
