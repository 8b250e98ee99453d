/**
 * How a lookup's fiber is started: the one file that touches Effect's internals, fenced here so
 * that an Effect minor that changes them breaks one place (and `test/fiber.test.ts` says so).
 *
 * A lookup runs in a fiber of its own that the cache owns, so that it outlives the caller that
 * started it. That fiber must get what a child of `Effect.fork` gets: the caller's `FiberRefs`
 * forked (each `FiberRef`'s `fork` applied; in particular a pending interruption of the caller is
 * not inherited, so a cached call made in a finalizer or an interrupted region still runs its
 * lookup), the supervisor's `onStart`/`onEnd`, and the caller's runtime flags, made interruptible
 * (the last waiter to leave interrupts the lookup). Unlike `Effect.fork`, the fiber belongs to the
 * cache's `FiberSet`, not to the caller's scope, and it is started on the current stack, so that a
 * synchronous lookup is done when the start returns and an uncontended miss takes no trip through
 * the scheduler. The public `Runtime.runFork` does all of this too, at about twice the cost of a
 * miss (it rebuilds the refs with `FiberRefs.updateManyAs` on every fork), so the hot path builds
 * the fiber with Effect's `FiberRuntime` constructor and reuses the forked refs of a caller whose
 * refs have not changed. Should the internals it relies on be missing, every start takes
 * `Runtime.runFork` instead: slower, the same semantics.
 */
import type * as Effect from "effect/Effect"
import type * as Fiber from "effect/Fiber"
import * as FiberId from "effect/FiberId"
import * as FiberRef from "effect/FiberRef"
import * as FiberRefs from "effect/FiberRefs"
import * as Option from "effect/Option"
import * as Runtime from "effect/Runtime"
import * as RuntimeFlags from "effect/RuntimeFlags"
import * as Supervisor from "effect/Supervisor"

type AnyFiber = Fiber.RuntimeFiber<unknown, unknown>
type AnyEffect = Effect.Effect<unknown, unknown, unknown>

/** What Effect 3's `FiberRuntime` has beyond the public `RuntimeFiber` interface. */
interface FiberInternals {
  /** The fiber's refs as they are (`getFiberRefs()` copies them first, to record the flags). */
  readonly _fiberRefs?: FiberRefs.FiberRefs | undefined
  /** Runs `effect` on the current stack (`resume` would schedule it). */
  readonly start?: (effect: AnyEffect) => void
}
type FiberConstructor = new(id: FiberId.Runtime, refs: FiberRefs.FiberRefs, flags: RuntimeFlags.RuntimeFlags) =>
  & AnyFiber
  & FiberInternals

/**
 * The refs a lookup's fiber starts with: on the fast path the caller's refs already forked; on
 * the public path the caller's refs as they are (`Runtime.runFork` forks them itself).
 */
export type ChildRefs = FiberRefs.FiberRefs & { readonly ChildRefs: unique symbol }

let fastConstructor: FiberConstructor | undefined
let publicConstructor: unknown

/** Whether fibers of this constructor have what the fast start needs (checked once). */
const isFast = (caller: AnyFiber): boolean => {
  const constructor = caller.constructor
  if (constructor === fastConstructor) return true
  if (constructor === publicConstructor) return false
  const fast = typeof constructor === "function" &&
    typeof (constructor.prototype as FiberInternals).start === "function" &&
    (caller as FiberInternals)._fiberRefs !== undefined &&
    constructor.length === 3
  if (fast) fastConstructor = constructor as FiberConstructor
  else publicConstructor = constructor
  return fast
}

/** `true` when lookups start on the fast path (for the canary test). */
export const startsFast = (caller: AnyFiber): boolean => isFast(caller)

let lastParentRefs: FiberRefs.FiberRefs | undefined
let lastChildRefs: ChildRefs | undefined

/**
 * The refs of a child of `caller`, forked as `Effect.fork` forks them. A caller whose refs are the
 * same object as last time (refs are immutable: any change makes a new one) gets the same forked
 * refs: the child's id recorded in them only matters when a child is joined back into its parent,
 * which a lookup's fiber never is.
 */
export const childRefs = (caller: AnyFiber): ChildRefs => {
  if (!isFast(caller)) return caller.getFiberRefs() as ChildRefs
  const refs = (caller as FiberInternals)._fiberRefs!
  if (refs === lastParentRefs) return lastChildRefs!
  lastParentRefs = refs
  return lastChildRefs = FiberRefs.forkAs(refs, FiberId.unsafeMake()) as ChildRefs
}

/** The caller's flags for its child: interruptible (even where the caller is not), not winding down. */
export const childFlags = (flags: RuntimeFlags.RuntimeFlags): RuntimeFlags.RuntimeFlags =>
  RuntimeFlags.disable(RuntimeFlags.enable(flags, RuntimeFlags.Interruption), RuntimeFlags.WindDown)

/**
 * Starts `effect` in a child of `caller` (see the module's comment) with `refs` from `childRefs`
 * and `flags` from `childFlags`, on the current stack. The caller adds the fiber to its `FiberSet`.
 */
export const startChild = (
  caller: AnyFiber,
  refs: ChildRefs,
  flags: RuntimeFlags.RuntimeFlags,
  effect: AnyEffect
): AnyFiber => {
  if (!isFast(caller)) return forkPublic(refs, flags, effect, true)
  const child = new fastConstructor!(FiberId.unsafeMake(), refs, flags)
  const supervisor = child.currentSupervisor
  // `Supervisor.none` is a global value, so comparing by reference is enough (as Effect does).
  if (supervisor !== Supervisor.none) {
    supervisor.onStart(
      child.currentContext,
      effect as Effect.Effect<unknown, unknown, never>,
      Option.some(caller),
      child
    )
    child.addObserver((exit) => supervisor.onEnd(exit, child))
  }
  child.start!(effect)
  return child
}

/**
 * Forks `effect` with the public `Runtime.runFork`, with the context, refs and flags of a caller
 * (`getFiberRefs()`, not forked: `runFork` forks them): for refreshes, which are off the hit path.
 * `immediate`: start on the current stack; otherwise the fiber is scheduled.
 */
export const forkPublic = (
  refs: FiberRefs.FiberRefs,
  flags: RuntimeFlags.RuntimeFlags,
  effect: AnyEffect,
  immediate: boolean
): AnyFiber =>
  Runtime.runFork(
    Runtime.make({
      context: FiberRefs.getOrDefault(refs, FiberRef.currentContext),
      fiberRefs: refs,
      runtimeFlags: flags
    })
  )(effect as Effect.Effect<unknown, unknown, never>, { immediate })

/**
 * Forks `effect` in the default runtime, for the Promise API, whose callers are no fibers: its
 * loads start on the current stack (`immediate`), its refreshes are scheduled.
 */
export const forkDetached = (effect: AnyEffect, immediate: boolean): AnyFiber =>
  Runtime.runFork(Runtime.defaultRuntime)(effect as Effect.Effect<unknown, unknown, never>, { immediate })
