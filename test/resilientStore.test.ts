import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Fiber, Option, TestClock } from "effect"
import { CacheStore } from "../src/index.js"
import { resilient } from "../src/internal/resilientStore.js"

/** A store whose `get` answers as `mode` says, counting the calls that reach it. */
const scripted = () => {
  const state = { calls: 0, mode: "ok" as "ok" | "fail" | "hang" }
  const get = (): Effect.Effect<Option.Option<string>, CacheStore.CacheStoreError> =>
    Effect.suspend(() => {
      state.calls++
      switch (state.mode) {
        case "ok":
          return Effect.succeed(Option.some("entry"))
        case "fail":
          return Effect.fail(new CacheStore.CacheStoreError({ operation: "get", reason: "connection refused" }))
        case "hang":
          return Effect.never
      }
    })
  const service: CacheStore.Service = {
    name: "scripted",
    get,
    set: () => Effect.void,
    delete: () => Effect.succeed(false),
    clear: () => Effect.void
  }
  const store = resilient(service, { commandTimeout: 100, breaker: { failures: 3, cooldown: 1_000 } })
  const get1 = Effect.either(store.get("ns", "k"))
  return { state, store, get: get1 }
}

/** Yields to the scheduler until `condition` holds. */
const eventually = (condition: () => boolean) =>
  Effect.gen(function*() {
    for (let i = 0; i < 1_000 && !condition(); i++) yield* Effect.yieldNow()
    expect(condition()).toBe(true)
  })

const isOpenError = (result: Either.Either<unknown, CacheStore.CacheStoreError>) =>
  Either.isLeft(result) && result.left.reason.includes("circuit")

describe("time limit", () => {
  it.effect("a command that does not answer fails with a CacheStoreError after commandTimeout", () =>
    Effect.gen(function*() {
      const { get, state } = scripted()
      state.mode = "hang"
      const fiber = yield* Effect.fork(get)
      yield* TestClock.adjust(99)
      expect(fiber.unsafePoll()).toBeNull()
      yield* TestClock.adjust(1)
      const result = yield* Fiber.join(fiber)
      expect(Either.isLeft(result) && result.left.reason).toContain("within 100 ms")
      expect(Either.isLeft(result) && result.left.operation).toBe("get")
    }))

  it.effect("a command that answers in time passes its value through", () =>
    Effect.gen(function*() {
      const { get } = scripted()
      expect(yield* get).toEqual(Either.right(Option.some("entry")))
    }))
})

describe("circuit breaker", () => {
  it.effect("opens after N consecutive failures and then fails fast without calling the store", () =>
    Effect.gen(function*() {
      const { get, state } = scripted()
      state.mode = "fail"
      for (let i = 0; i < 3; i++) expect(isOpenError(yield* get)).toBe(false)
      expect(state.calls).toBe(3)
      const rejected = yield* get
      expect(isOpenError(rejected)).toBe(true)
      expect(state.calls).toBe(3)
    }))

  it.effect("a success in between resets the count", () =>
    Effect.gen(function*() {
      const { get, state } = scripted()
      for (const mode of ["fail", "fail", "ok", "fail", "fail"] as const) {
        state.mode = mode
        yield* get
      }
      state.mode = "ok"
      expect(yield* get).toEqual(Either.right(Option.some("entry")))
      expect(state.calls).toBe(6)
    }))

  it.effect("timeouts count as failures", () =>
    Effect.gen(function*() {
      const { get, state } = scripted()
      state.mode = "hang"
      for (let i = 0; i < 3; i++) {
        const fiber = yield* Effect.fork(get)
        yield* TestClock.adjust(100)
        yield* Fiber.join(fiber)
      }
      expect(isOpenError(yield* get)).toBe(true)
      expect(state.calls).toBe(3)
    }))

  it.effect("after the cooldown one probe runs; its success closes the circuit", () =>
    Effect.gen(function*() {
      const { get, state } = scripted()
      state.mode = "fail"
      for (let i = 0; i < 3; i++) yield* get
      yield* TestClock.adjust(999)
      expect(isOpenError(yield* get)).toBe(true)
      expect(state.calls).toBe(3)
      yield* TestClock.adjust(1)
      state.mode = "ok"
      expect(yield* get).toEqual(Either.right(Option.some("entry")))
      expect(state.calls).toBe(4)
      // Closed again: every command reaches the store.
      yield* get
      yield* get
      expect(state.calls).toBe(6)
    }))

  it.effect("a failed probe opens the circuit for another cooldown", () =>
    Effect.gen(function*() {
      const { get, state } = scripted()
      state.mode = "fail"
      for (let i = 0; i < 3; i++) yield* get
      yield* TestClock.adjust(1_000)
      const probe = yield* get
      expect(isOpenError(probe)).toBe(false) // it reached the store
      expect(state.calls).toBe(4)
      state.mode = "ok"
      expect(isOpenError(yield* get)).toBe(true)
      yield* TestClock.adjust(999)
      expect(isOpenError(yield* get)).toBe(true)
      expect(state.calls).toBe(4)
      yield* TestClock.adjust(1)
      expect(yield* get).toEqual(Either.right(Option.some("entry")))
    }))

  it.effect("while the probe runs the other commands fail fast", () =>
    Effect.gen(function*() {
      const { get, state } = scripted()
      state.mode = "fail"
      for (let i = 0; i < 3; i++) yield* get
      yield* TestClock.adjust(1_000)
      state.mode = "hang"
      const probe = yield* Effect.fork(get)
      yield* eventually(() => state.calls === 4)
      expect(state.calls).toBe(4)
      expect(isOpenError(yield* get)).toBe(true)
      expect(state.calls).toBe(4)
      // The probe times out: open again, from now.
      yield* TestClock.adjust(100)
      expect(isOpenError(yield* Fiber.join(probe))).toBe(false)
      yield* TestClock.adjust(999)
      expect(isOpenError(yield* get)).toBe(true)
      state.mode = "ok"
      yield* TestClock.adjust(1)
      expect(yield* get).toEqual(Either.right(Option.some("entry")))
    }))

  it.effect("an interrupted probe leaves the circuit open; the next command probes", () =>
    Effect.gen(function*() {
      const { get, state } = scripted()
      state.mode = "fail"
      for (let i = 0; i < 3; i++) yield* get
      yield* TestClock.adjust(1_000)
      state.mode = "hang"
      const probe = yield* Effect.fork(get)
      yield* eventually(() => state.calls === 4)
      yield* Fiber.interrupt(probe)
      state.mode = "ok"
      expect(yield* get).toEqual(Either.right(Option.some("entry")))
      expect(state.calls).toBe(5)
    }))

  it.effect("interrupting callers does not count as a failure", () =>
    Effect.gen(function*() {
      const { get, state } = scripted()
      state.mode = "hang"
      for (let i = 0; i < 5; i++) {
        const fiber = yield* Effect.fork(get)
        yield* Effect.yieldNow()
        yield* Fiber.interrupt(fiber)
      }
      state.mode = "ok"
      expect(yield* get).toEqual(Either.right(Option.some("entry")))
    }))

  it.effect("every command of the store and of its coordination goes through the one circuit", () =>
    Effect.gen(function*() {
      let calls = 0
      const failing = <A>(): Effect.Effect<A, CacheStore.CacheStoreError> =>
        Effect.suspend(() => {
          calls++
          return Effect.fail(new CacheStore.CacheStoreError({ operation: "any", reason: "down" }))
        })
      const store = resilient({
        name: "down",
        get: failing,
        set: failing,
        delete: failing,
        clear: failing,
        coordination: {
          acquire: failing,
          release: failing,
          publish: failing,
          subscribe: () => Effect.void
        }
      }, { commandTimeout: 100, breaker: { failures: 3, cooldown: 1_000 } })
      const coordination = store.coordination!
      yield* Effect.either(store.set("ns", "k", "v", 10))
      yield* Effect.either(coordination.acquire("ns", "k", "me", 10))
      yield* Effect.either(coordination.publish({ kind: "delete", namespace: "ns", key: "k", origin: "me" }))
      expect(calls).toBe(3)
      for (
        const command of [
          store.get("ns", "k"),
          store.delete("ns", "k"),
          store.clear("ns"),
          coordination.release("ns", "k", "me")
        ]
      ) {
        expect(isOpenError(yield* Effect.either(command))).toBe(true)
      }
      expect(calls).toBe(3)
      yield* coordination.subscribe(() => {}).pipe(Effect.scoped)
    }))

  it.effect("with circuits per key (a cluster's masters): one circuit opens, the others still reach the store", () =>
    Effect.gen(function*() {
      const calls = { a: 0, b: 0 }
      const down = new Set(["a"])
      const get = (_namespace: string, key: string) =>
        Effect.suspend(() => {
          const circuit = key.startsWith("a") ? "a" : "b"
          calls[circuit]++
          return down.has(circuit)
            ? Effect.fail(new CacheStore.CacheStoreError({ operation: "get", reason: "connection refused" }))
            : Effect.succeed(Option.some("entry"))
        })
      const store = resilient(
        {
          name: "cluster",
          get,
          set: () => Effect.void,
          delete: () => Effect.succeed(false),
          clear: () => Effect.void
        },
        { commandTimeout: 100, breaker: { failures: 3, cooldown: 1_000 } },
        (_namespace, key) => key[0]!
      )
      for (let i = 0; i < 3; i++) yield* Effect.either(store.get("ns", `a${i}`))
      expect(isOpenError(yield* Effect.either(store.get("ns", "a9")))).toBe(true)
      expect(calls.a).toBe(3)
      for (let i = 0; i < 5; i++) {
        expect(yield* Effect.either(store.get("ns", `b${i}`))).toEqual(Either.right(Option.some("entry")))
      }
      expect(calls.b).toBe(5)
    }))
})
