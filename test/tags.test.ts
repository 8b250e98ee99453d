/**
 * 7. Invalidation by tag: `cached`'s `tags` attach tags to an entry when it is stored, and
 * `RequestCache.invalidateTags` invalidates every entry that carries one of them, in every
 * namespace, winning over the loads in flight.
 */
import { describe, expect, it } from "@effect/vitest"
import { Cause, Deferred, Effect, Exit, FastCheck as fc, Fiber, Option } from "effect"
import { RequestCache } from "../src/index.js"

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
