import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as FiberId from "effect/FiberId"
import type * as RuntimeFlags from "effect/RuntimeFlags"
import type { RequestCache } from "../RequestCache.js"
import type { MapKey } from "./cacheKey.js"
import { LookupResult } from "./expiry.js"
import type { ChildRefs } from "./fiber.js"

type Lookup = RequestCache.Lookup

type AnyExit = Exit.Exit<unknown, unknown>
type AnyFiber = Fiber.RuntimeFiber<unknown, unknown>

/** Where a flight's result goes: the storage whose slot (or refresh) it is. */
export interface FlightOwner {
  /**
   * Stores the flight's result where the policy says so; answers what the callers get: the
   * result, or the defect of a policy function that failed on it (a `timeToLive` function or a
   * weigher that throws or answers nonsense).
   */
  complete(flight: Flight, exit: AnyExit): AnyExit
  /** Removes the pending entry of a flight that nobody waits for any more. */
  giveUp(flight: Flight): void
}

/** `lookup(...args)`; a lookup that throws instead of returning an Effect fails with that defect. */
export const lookupEffect = (
  lookup: Lookup,
  args: ReadonlyArray<unknown>
): Effect.Effect<unknown, unknown, unknown> => {
  try {
    return lookup(...(args as ReadonlyArray<never>))
  } catch (error) {
    return Effect.die(error)
  }
}

/**
 * One lookup in flight: a blocking load (the value of its slot) or a refresh (the slot keeps
 * serving the old value). Its callers share its completion: each waits with one `Effect.async`
 * registered in `joiners`, whose canceler is also how a leaving caller is counted. That is what
 * `Deferred.await` does, without making a `Deferred` (it copies a large prototype) and without a
 * second interruption hook per caller: an uncontended miss pays for neither, and a stampede of
 * 10,000 callers costs about what 10,000 awaits of one `Deferred` do.
 */
export class Flight {
  fiber: AnyFiber | undefined = undefined
  exit: AnyExit | undefined = undefined
  joiners: Array<((exit: AnyExit) => void) | undefined> | undefined = undefined
  /** Callers still waiting for a load; the last one to leave interrupts it. */
  waiters = 0
  /** A load's slot (while not `detached`, its value is this flight); -1 for a refresh. */
  slot = -1
  /** No longer the entry of its key (invalidated, evicted, replaced): its result is not stored. */
  detached = false
  /** The draw in [0, 1) that spreads this entry's expiry over the jitter. */
  jitter = 0
  /** The epoch of tag invalidations the load started in (see `tags.ts`). */
  epoch = 0
  /** Its result may carry tags (known only when it ends): a tag invalidation overtakes it. */
  tagged = false
  /** The lookup's result with its own expiry or tags, if it gave them. */
  result: LookupResult | undefined = undefined
  /**
   * A claimed flight's context (`MemoryNamespace.claim`): its caller, and the refs and flags its
   * fiber will start with, taken at the claim, when that caller was still there to give them.
   */
  caller: AnyFiber | undefined = undefined
  refs: ChildRefs | undefined = undefined
  flags: RuntimeFlags.RuntimeFlags = 0 as RuntimeFlags.RuntimeFlags
  /** A batch that holds this flight, told when the last caller leaves (see `batch.ts`). */
  batch: { readonly left: () => void } | undefined = undefined
  /** The one promise that every caller of the Promise API awaits (made on first use). */
  promise: Promise<unknown> | undefined = undefined

  constructor(readonly owner: FlightOwner, readonly key: MapKey, readonly refresh: boolean) {}

  /** Waits for the result; a load's caller that is interrupted leaves (see `leave`). */
  wait(): Effect.Effect<unknown, unknown> {
    if (this.exit !== undefined) return this.exit
    return Effect.async<unknown, unknown>((resume) => {
      if (this.exit !== undefined) return resume(this.exit)
      // Counted here, where its canceler is registered, so every waiter counted can leave.
      this.waiters++
      return this.enqueue(resume)
    })
  }

  /**
   * `wait` for the caller that claimed the flight: it is counted among the waiters from the claim
   * on, and leaves like any other, also when it is interrupted before it starts waiting.
   */
  waitClaimed(): Effect.Effect<unknown, unknown> {
    if (this.exit !== undefined) return this.exit
    let waiting = false
    return Effect.onInterrupt(
      Effect.async<unknown, unknown>((resume) => {
        if (this.exit !== undefined) return resume(this.exit)
        waiting = true
        return this.enqueue(resume)
      }),
      () =>
        Effect.sync(() => {
          if (!waiting) this.leave()
        })
    )
  }

  private enqueue(resume: (exit: AnyExit) => void): Effect.Effect<void> {
    const joiners = this.joiners ??= []
    const index = joiners.push(resume) - 1
    return Effect.sync(() => {
      joiners[index] = undefined
      this.leave()
    })
  }

  /**
   * Registers a callback for the result that never leaves: a Promise caller cannot be
   * interrupted, so it keeps the lookup running whatever the Effect callers do.
   */
  onSettle(callback: (exit: AnyExit) => void): void {
    if (this.exit !== undefined) return callback(this.exit)
    this.waiters++
    ;(this.joiners ??= []).push(callback)
  }

  /** The lookup ended: its result is stored (by the owner) and given to every caller. */
  settle(exit: AnyExit): void {
    if (this.exit !== undefined) return
    if (exit._tag === "Success" && exit.value instanceof LookupResult) {
      this.result = exit.value
      exit = exit.value.exit
    }
    this.exit = exit
    this.exit = exit = this.owner.complete(this, exit)
    this.resume(exit)
  }

  /** Ends a flight whose lookup never ran: nothing is stored. */
  abort(exit: AnyExit): void {
    if (this.exit !== undefined) return
    this.exit = exit
    this.detached = true
    this.resume(exit)
  }

  private resume(exit: AnyExit): void {
    const joiners = this.joiners
    if (joiners === undefined) return
    this.joiners = undefined
    for (let i = 0; i < joiners.length; i++) joiners[i]?.(exit)
  }

  /** A waiter leaves: the last one to leave a load stops it. */
  leave(): void {
    if (this.refresh || this.exit !== undefined || --this.waiters > 0) return
    // The last waiter has left: nobody needs the result, so stop the lookup and let the next
    // caller start afresh.
    if (!this.detached) this.owner.giveUp(this)
    this.fiber?.unsafeInterruptAsFork(FiberId.none)
    this.batch?.left()
  }
}

/**
 * One flight that lives as long as the module, so that the hidden class of a flight does. V8
 * keeps a class's shape (its map with all the fields) only while an instance holds it, and
 * throws away the optimized code that refers to it when a full collection finds none: a program
 * that makes a loader per request and has no load in flight at a full collection would otherwise
 * run its next loads unoptimized until V8 compiles them again (measured: a new loader's batch of
 * 10,000 keys beside DataLoader took 23 ms instead of 10, each run after a full collection).
 */
export const flightShape: unknown = new Flight({ complete: (_, exit) => exit, giveUp: () => {} }, 0, false)
