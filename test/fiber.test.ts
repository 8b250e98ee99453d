/**
 * 1. Single flight: a lookup's fiber starts as `Effect.fork` starts a child (its refs forked, the
 * supervisor told, the caller's flags made interruptible), so a cached call behaves where an
 * uncached one does: in a finalizer, in an interrupted region, in cleanup code. And the canary:
 * the Effect internals that `src/internal/fiber.ts` relies on are still what it expects.
 */
import { describe, expect, it } from "@effect/vitest"
import {
  Deferred,
  Effect,
  Exit,
  Fiber,
  FiberRef,
  Option,
  RuntimeFlags,
  RuntimeFlagsPatch,
  Scope,
  Supervisor,
  TestClock
} from "effect"
import { childFlags, childRefs, startChild, startsFast } from "../src/internal/fiber.js"
import { RequestCache } from "../src/RequestCache.js"

const layer = RequestCache.layer({ capacity: 100 })

/** A cached function whose lookup counts its runs and reads what its fiber was given. */
const counted = (name: string) => {
  const state = { runs: 0 }
  const get = RequestCache.cached({
    name,
    lookup: (id: number) => Effect.sync(() => (state.runs++, id * 10))
  })
  return { get, state }
}

describe("1. Single flight: the lookup's fiber is forked as Effect.fork forks a child", () => {
  it.effect("a cached call in Effect.onInterrupt, after the interruption, runs its lookup and gets its value", () =>
    Effect.gen(function*() {
      const { get, state } = counted("on-interrupt")
      let got: number | undefined
      const started = yield* Deferred.make<void>()
      const fiber = yield* Effect.fork(
        Deferred.succeed(started, undefined).pipe(
          Effect.zipRight(Effect.never),
          Effect.onInterrupt(() => Effect.map(get(1), (v) => void (got = v)))
        )
      )
      yield* Deferred.await(started)
      yield* Fiber.interrupt(fiber)
      expect(got).toBe(10)
      expect(state.runs).toBe(1)
    }).pipe(Effect.provide(layer)))

  it.effect("a lookup that suspends, called in cleanup code, completes too (not only a synchronous one)", () =>
    Effect.gen(function*() {
      let runs = 0
      const get = RequestCache.cached({
        name: "on-interrupt-async",
        lookup: (id: number) => Effect.sleep("1 millis").pipe(Effect.as(id), Effect.tap(() => void runs++))
      })
      let got: Exit.Exit<number> | undefined
      const started = yield* Deferred.make<void>()
      const fiber = yield* Effect.fork(
        Deferred.succeed(started, undefined).pipe(
          Effect.zipRight(Effect.never),
          Effect.onInterrupt(() => Effect.map(Effect.exit(get(7)), (exit) => void (got = exit)))
        )
      )
      yield* Deferred.await(started)
      yield* Fiber.interrupt(fiber).pipe(Effect.fork)
      yield* Effect.yieldNow()
      yield* TestClock.adjust("1 millis")
      yield* Fiber.await(fiber)
      expect(got).toStrictEqual(Exit.succeed(7))
      expect(runs).toBe(1)
    }).pipe(Effect.provide(layer)))

  it.effect("a cached call in Effect.addFinalizer and Effect.ensuring runs its lookup", () =>
    Effect.gen(function*() {
      const { get, state } = counted("finalizers")
      const got: Array<number> = []
      yield* Effect.scoped(Effect.addFinalizer(() => Effect.map(get(2), (v) => void got.push(v))))
      yield* Effect.void.pipe(Effect.ensuring(Effect.map(get(3), (v) => void got.push(v))))
      // And when the region ends by an interruption.
      const fiber = yield* Effect.fork(
        Effect.never.pipe(Effect.ensuring(Effect.map(get(4), (v) => void got.push(v))))
      )
      yield* Effect.yieldNow()
      yield* Fiber.interrupt(fiber)
      expect(got).toStrictEqual([20, 30, 40])
      expect(state.runs).toBe(3)
    }).pipe(Effect.provide(layer)))

  it.effect("inside Effect.uninterruptible after an interrupt was delivered, the lookup runs", () =>
    Effect.gen(function*() {
      const { get, state } = counted("uninterruptible")
      const interrupted = yield* Deferred.make<void>()
      const result = yield* Deferred.make<number>()
      const fiber = yield* Effect.fork(Effect.uninterruptible(
        Deferred.await(interrupted).pipe(
          Effect.zipRight(get(5)),
          Effect.flatMap((v) => Deferred.succeed(result, v))
        )
      ))
      yield* Effect.yieldNow()
      // The interruption is delivered to the fiber (pending, since it is uninterruptible)...
      const interrupting = yield* Effect.fork(Fiber.interrupt(fiber))
      yield* Effect.yieldNow()
      // ...and then it makes the cached call.
      yield* Deferred.succeed(interrupted, undefined)
      expect(yield* Deferred.await(result)).toBe(50)
      yield* Fiber.join(interrupting)
      expect(state.runs).toBe(1)
    }).pipe(Effect.provide(layer)))

  it.scoped("the lookup sees the caller's FiberRefs forked: a FiberRef's fork is applied, its value otherwise kept", () =>
    Effect.gen(function*() {
      const depth = yield* FiberRef.make(0, { fork: (n) => n + 1 })
      const label = yield* FiberRef.make("none")
      const get = RequestCache.cached({
        name: "fiber-refs",
        lookup: (_: number) => Effect.all([FiberRef.get(depth), FiberRef.get(label)])
      })
      // What a child of Effect.fork sees (awaited, not joined: a join would copy its refs back).
      const forked = yield* Effect.fork(Effect.all([FiberRef.get(depth), FiberRef.get(label)])).pipe(
        Effect.locally(label, "caller")
      )
      const expected = yield* Fiber.await(forked)
      const got = yield* get(1).pipe(Effect.locally(label, "caller"))
      expect(Exit.succeed(got)).toStrictEqual(expected)
      expect(got).toStrictEqual([1, "caller"])
    }).pipe(Effect.provide(layer)))

  it.effect("the supervisor sees the lookup's fiber start and end, a child of the caller", () =>
    Effect.gen(function*() {
      const events: Array<string> = []
      let parentOfLookup: Option.Option<unknown> = Option.none()
      const supervisor = new (class extends Supervisor.AbstractSupervisor<void> {
        value = Effect.void
        override onStart<A, E, R>(
          _context: unknown,
          _effect: Effect.Effect<A, E, R>,
          parent: Option.Option<Fiber.RuntimeFiber<unknown, unknown>>,
          fiber: Fiber.RuntimeFiber<A, E>
        ) {
          events.push(`start ${fiber.id().id}`)
          parentOfLookup = Option.map(parent, (p) => p.id().id)
        }
        override onEnd<A, E>(_value: Exit.Exit<A, E>, fiber: Fiber.RuntimeFiber<A, E>) {
          events.push(`end ${fiber.id().id}`)
        }
      })()
      const gate = yield* Deferred.make<void>()
      let lookupFiber = -1
      const get = RequestCache.cached({
        name: "supervised",
        lookup: (id: number) =>
          Effect.withFiberRuntime<number>((fiber) => {
            lookupFiber = fiber.id().id
            return Effect.as(Deferred.await(gate), id)
          })
      })
      const caller = yield* Effect.fork(get(1).pipe(Effect.supervised(supervisor)))
      yield* Effect.yieldNow()
      const callerId = caller.id().id
      yield* Deferred.succeed(gate, undefined)
      expect(yield* Fiber.join(caller)).toBe(1)
      expect(events).toContain(`start ${lookupFiber}`)
      expect(events).toContain(`end ${lookupFiber}`)
      expect(parentOfLookup).toStrictEqual(Option.some(callerId))
    }).pipe(Effect.provide(layer)))

  it.effect("the lookup runs with the caller's runtime flags, made interruptible", () =>
    Effect.gen(function*() {
      const get = RequestCache.cached({
        name: "flags",
        lookup: (_: number) => Effect.getRuntimeFlags
      })
      const patch = RuntimeFlagsPatch.disable(RuntimeFlags.CooperativeYielding)
      const flags = yield* get(1).pipe(Effect.uninterruptible, Effect.withRuntimeFlagsPatch(patch))
      expect(RuntimeFlags.interruption(flags)).toBe(true)
      expect(RuntimeFlags.cooperativeYielding(flags)).toBe(false)
    }).pipe(Effect.provide(layer)))

  it.effect("the lookup outlives its first caller and belongs to the cache's scope, not the caller's", () =>
    Effect.gen(function*() {
      const gate = yield* Deferred.make<void>()
      let runs = 0
      const get = RequestCache.cached({
        name: "outlives",
        lookup: (id: number) => Effect.sync(() => runs++).pipe(Effect.zipRight(Deferred.await(gate)), Effect.as(id))
      })
      // The first caller's scope ends (a daemon-free fork that is interrupted) while another waits.
      const first = yield* Effect.fork(get(1))
      yield* Effect.yieldNow()
      const second = yield* Effect.fork(get(1))
      yield* Effect.yieldNow()
      yield* Fiber.interrupt(first)
      yield* Deferred.succeed(gate, undefined)
      expect(yield* Fiber.join(second)).toBe(1)
      expect(runs).toBe(1)
    }).pipe(Effect.provide(layer)))
})

describe("The canary: what src/internal/fiber.ts relies on in Effect's FiberRuntime", () => {
  it.effect("this Effect's fibers take the fast start (constructor, start, _fiberRefs)", () =>
    Effect.withFiberRuntime<void>((fiber) => {
      // If this fails, an Effect minor changed FiberRuntime: lookups still start (through the
      // public Runtime.runFork), but a miss costs about twice as much. Update src/internal/fiber.ts.
      expect(startsFast(fiber)).toBe(true)
      expect(typeof (fiber.constructor as { prototype: { start?: unknown } }).prototype.start).toBe("function")
      expect((fiber as unknown as { _fiberRefs?: unknown })._fiberRefs).toBeDefined()
      return Effect.void
    }))

  it.scoped("a child started on the fast path runs on the caller's stack with forked refs", () =>
    Effect.gen(function*() {
      const depth = yield* FiberRef.make(0, { fork: (n) => n + 1 })
      const child = yield* Effect.withFiberRuntime<Fiber.RuntimeFiber<unknown, unknown>>((fiber, status) =>
        Effect.succeed(startChild(fiber, childRefs(fiber), childFlags(status.runtimeFlags), FiberRef.get(depth)))
      )
      // Started on the current stack: already done.
      expect(child.unsafePoll()).toStrictEqual(Exit.succeed(1))
    }))

  it.effect("the forked refs of an interrupted caller carry no interruption", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const exit = yield* Effect.exit(
        Effect.interrupt.pipe(
          Effect.onInterrupt(() =>
            Effect.withFiberRuntime<void>((fiber, status) => {
              const child = startChild(fiber, childRefs(fiber), childFlags(status.runtimeFlags), Effect.succeed("ran"))
              expect(child.unsafePoll()).toStrictEqual(Exit.succeed("ran"))
              return Effect.void
            })
          )
        )
      )
      expect(Exit.isInterrupted(exit)).toBe(true)
      yield* Scope.close(scope, Exit.void)
    }))
})
