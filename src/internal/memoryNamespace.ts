import * as Cause from "effect/Cause"
import type * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as FiberId from "effect/FiberId"
import * as Option from "effect/Option"
import type * as Random from "effect/Random"
import * as RuntimeFlags from "effect/RuntimeFlags"
import type { CacheStats } from "../CacheStats.js"
import type { Lookup, Namespace } from "../RequestCache.js"
import type { MapKey } from "./cacheKey.js"
import { type NamespaceMetrics, namespaceMetrics } from "./metrics.js"
import { cachesError, type ResolvedPolicy } from "./policy.js"
import * as stats from "./stats.js"
import { traced } from "./tracing.js"

/** What every namespace of one cache shares: its time, its randomness, its running fibers. */
export interface CacheHost {
  readonly clock: Clock.Clock
  readonly random: Random.Random
  /** Lookup and refresh fibers still running; interrupted when the layer's scope closes. */
  readonly running: Set<Fiber.RuntimeFiber<unknown, unknown>>
  closed: boolean
}

type AnyExit = Exit.Exit<unknown, unknown>
type AnyFiber = Fiber.RuntimeFiber<unknown, unknown>
type FiberRefs = ReturnType<AnyFiber["getFiberRefs"]>
/** Fields of Effect's `FiberRuntime` that its public interface does not declare. */
type FiberInternals = AnyFiber & {
  readonly currentRuntimeFlags: RuntimeFlags.RuntimeFlags
  readonly _fiberRefs: FiberRefs | undefined
}
type FiberConstructor = new(
  id: FiberId.Runtime,
  refs: FiberRefs,
  flags: RuntimeFlags.RuntimeFlags
) => AnyFiber & {
  start(effect: Effect.Effect<unknown, unknown, unknown>): void
  resume(effect: Effect.Effect<unknown, unknown, unknown>): void
}

/** A typed failure that the policy caches: its `Exit`, replayed to every caller. */
export class CachedFailure {
  constructor(readonly exit: AnyExit) {}
}

/**
 * A lookup's result that sets its own expiry, overriding the policy's: a per-key time to live,
 * or an entry read from a store, which keeps the expiry it has there. `exit` is what the callers
 * get; a failure given here is stored as a cached failure (its source already decided to cache
 * it). Only internal code makes these, so the check on completion is one `instanceof`.
 */
export class Timed {
  constructor(
    readonly exit: AnyExit,
    /** Milliseconds from completion, or, with `absolute`, the time at which it stops being fresh. */
    readonly timeToLive: number,
    readonly absolute: boolean
  ) {}
}

/** How the Promise API turns a flight and a cached failure into promises. */
export interface PromiseAdapter {
  readonly flight: (flight: Flight) => Promise<unknown>
  readonly failure: (exit: AnyExit) => Promise<never>
}
/** The end of a list. */
const NIL = -1

/**
 * The context that a flight's fiber inherits from its caller. `getFiberRefs()` first copies the
 * caller's refs to record its runtime flags, which the child is given directly; the immutable
 * snapshot itself is what the child needs.
 */
const refsOf = (caller: AnyFiber): FiberRefs => (caller as FiberInternals)._fiberRefs ?? caller.getFiberRefs()

const grown = <A extends Uint8Array | Float64Array | Int32Array>(from: A, to: A): A => {
  to.set(from)
  return to
}

/**
 * One lookup in flight: a blocking load (the value of its slot) or a refresh (the slot keeps
 * serving the old value). Its callers share its completion: each waits with one `Effect.async`
 * registered in `joiners`, whose canceler is also how a leaving caller is counted. That is what
 * `Deferred.await` does, without making a `Deferred` (8 µs here: it copies a large prototype) and
 * without a second interruption hook per caller around `Deferred.await`: an uncontended miss pays
 * for neither, and a stampede of 10,000 callers costs about what 10,000 awaits of one `Deferred` do.
 */
export class Flight {
  fiber: AnyFiber | undefined = undefined
  exit: AnyExit | undefined = undefined
  joiners: Array<((exit: AnyExit) => void) | undefined> | undefined = undefined
  /** Callers still waiting for a load; the last one to leave interrupts it. */
  waiters = 0
  /** No longer the entry of its key (invalidated, evicted, replaced): its result is not stored. */
  detached = false
  /** The draw in [0, 1) that spreads this entry's expiry over the jitter. */
  jitter = 0
  /** The lookup's own expiry, if it gave one. */
  timed: Timed | undefined = undefined
  /**
   * A claimed flight's context: its caller's refs as they were at the claim. Its fiber, if it
   * needs one later, takes these: by then that caller may be interrupted, which its refs record.
   */
  refs: FiberRefs | undefined = undefined
  /** The one promise that every caller of the Promise API awaits (made on first use). */
  promise: Promise<unknown> | undefined = undefined

  constructor(readonly namespace: MemoryNamespace, readonly key: MapKey, readonly refresh: boolean) {}

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
   * `wait` for the caller that claimed the flight (`MemoryNamespace.claim`): it is counted among
   * the waiters from the claim on, and leaves like any other, also when it is interrupted before
   * it starts waiting.
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

  settle(exit: AnyExit): void {
    if (exit._tag === "Success" && exit.value instanceof Timed) {
      this.timed = exit.value
      exit = exit.value.exit
    }
    this.exit = exit
    this.namespace.complete(this, exit)
    this.resume(exit)
  }

  /** Ends a flight whose lookup never ran (its namespace closed first): nothing is counted or stored. */
  abort(exit: AnyExit): void {
    this.exit = exit
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
    if (!this.detached) this.namespace.removeFlight(this)
    this.fiber?.unsafeInterruptAsFork(FiberId.none)
  }
}

/**
 * One namespace of the in-memory cache: a true LRU over preallocated parallel arrays (the
 * layout of lru-cache): a `Map` from key to slot, then keys, values and expiry times by slot,
 * and the recency list as one `Int32Array` of links. A slot's value is the cached value, a
 * `CachedFailure` or the `Flight` of its load. Every operation is O(1); the slot's links lie side
 * by side and nothing is read that the policy does not need (no expiry without a time to live),
 * so a large cache touches few cache lines per operation.
 */
export class MemoryNamespace implements Namespace {
  readonly map = new Map<MapKey, number>()
  private keys: Array<MapKey> = []
  private values: Array<unknown> = []
  /** Milliseconds at which the entry stops being fresh; only where entries can expire. */
  private expires: Float64Array | undefined
  /** `links[2 * slot]` is the slot's previous (less recent), `links[2 * slot + 1]` its next. */
  private links: Int32Array
  /** The slots allocated so far (the arrays grow up to the capacity). */
  private length: number
  /** Least recently used. */
  private head = NIL
  /** Most recently used. */
  private tail = NIL
  private readonly free: Array<number> = []
  /** The first slot never used yet. */
  private fresh = 0
  size = 0
  /**
   * Per slot, the settled promise that the Promise API's hits return, made on the slot's first
   * hit and dropped when its value changes: a hit then allocates nothing. Only for the Promise API.
   */
  private promises: Array<Promise<unknown> | undefined> | undefined = undefined
  /** Refreshes in flight, by key (a slot holds its old value meanwhile). */
  private refreshing: Map<MapKey, Flight> | undefined = undefined
  private readonly metrics: NamespaceMetrics
  private readonly clock: Clock.Clock
  readonly counts: Record<stats.Counter, number> = {
    hits: 0,
    misses: 0,
    staleHits: 0,
    coalesced: 0,
    loads: 0,
    loadFailures: 0,
    refreshes: 0,
    refreshFailures: 0,
    evictions: 0,
    expirations: 0,
    invalidations: 0,
    storeErrors: 0
  }

  constructor(readonly name: string, readonly policy: ResolvedPolicy, private readonly host: CacheHost) {
    const length = Math.min(policy.capacity, 16)
    this.length = length
    this.links = new Int32Array(2 * length)
    this.expires = policy.timeToLive !== Infinity || policy.errorTimeToLive !== Infinity
      ? new Float64Array(length)
      : undefined
    this.metrics = namespaceMetrics(name)
    this.clock = host.clock
  }

  // ---------------------------------------------------------------------------------------------
  // Lookups

  /** The hot path: a hit is a `Map` lookup, an expiry test and a relink, nothing allocated. */
  get(key: MapKey, lookup: Lookup, args: ReadonlyArray<unknown>, caller: AnyFiber): Effect.Effect<unknown, unknown> {
    const slot = this.map.get(key)
    if (slot === undefined) {
      this.count("misses")
      return this.load(this.allocate(key), key, lookup, args, caller)
    }
    this.touch(slot)
    const value = this.values[slot]
    if (value instanceof Flight) return this.join(value)
    if (this.expires !== undefined) {
      const expiresAt = this.expires[slot]!
      if (expiresAt !== Infinity) {
        const now = this.clock.unsafeCurrentTimeMillis()
        if (now >= expiresAt) return this.getExpired(slot, key, lookup, args, caller, now, expiresAt)
      }
    }
    this.counts.hits++
    this.metrics.hits.update(1)
    return value instanceof CachedFailure ? value.exit : Exit.succeed(value)
  }

  private getExpired(
    slot: number,
    key: MapKey,
    lookup: Lookup,
    args: ReadonlyArray<unknown>,
    caller: AnyFiber,
    now: number,
    expiresAt: number
  ): Effect.Effect<unknown, unknown> {
    const value = this.values[slot]
    if (!(value instanceof CachedFailure) && now < expiresAt + this.policy.staleWhileRevalidate) {
      this.count("staleHits")
      if (this.refreshing?.has(key) !== true) this.startRefresh(key, lookup, args, caller, false)
      return Exit.succeed(value)
    }
    this.count("expirations")
    this.count("misses")
    this.detach(slot)
    return this.load(slot, key, lookup, args, caller)
  }

  private load(
    slot: number,
    key: MapKey,
    lookup: Lookup,
    args: ReadonlyArray<unknown>,
    caller: AnyFiber
  ): Effect.Effect<unknown, unknown> {
    const flight = this.startLoad(slot, key, lookup, args, caller)
    // A synchronous lookup has completed on this stack: `wait` returns its exit.
    return flight instanceof Flight ? flight.wait() : flight
  }

  private startLoad(
    slot: number,
    key: MapKey,
    lookup: Lookup,
    args: ReadonlyArray<unknown>,
    caller: AnyFiber
  ): Flight | Effect.Effect<never> {
    const flight = new Flight(this, key, false)
    this.values[slot] = flight
    return this.run(flight, lookup, args, caller, true) ?? flight
  }

  /**
   * `get` without Effect, for the Promise API: the value of a fresh or stale hit, a
   * `CachedFailure`, or the `Flight` to wait for (joined, or started on a miss in a fiber with
   * `caller`'s context). The same counting, recency and refreshes as `get`. The caller checks
   * that the cache is open first.
   */
  unsafeGet(key: MapKey, lookup: Lookup, args: ReadonlyArray<unknown>, caller: AnyFiber): unknown {
    const slot = this.map.get(key)
    if (slot === undefined) {
      this.count("misses")
      return this.startLoad(this.allocate(key), key, lookup, args, caller)
    }
    this.touch(slot)
    const value = this.values[slot]
    if (value instanceof Flight) {
      this.counts.coalesced++
      this.metrics.coalesced.update(1)
      return value
    }
    if (this.expires !== undefined) {
      const expiresAt = this.expires[slot]!
      if (expiresAt !== Infinity) {
        const now = this.clock.unsafeCurrentTimeMillis()
        if (now >= expiresAt) {
          if (!(value instanceof CachedFailure) && now < expiresAt + this.policy.staleWhileRevalidate) {
            this.count("staleHits")
            if (this.refreshing?.has(key) !== true) this.startRefresh(key, lookup, args, caller, false)
            return value
          }
          this.count("expirations")
          this.count("misses")
          this.detach(slot)
          return this.startLoad(slot, key, lookup, args, caller)
        }
      }
    }
    this.counts.hits++
    this.metrics.hits.update(1)
    return value
  }

  /**
   * `get` for a first tier whose caller loads a missing entry itself (the store's namespace reads
   * the store on its own fiber): a fresh hit's result, the load in flight to join (single flight),
   * or, on a miss, a new `Flight` in the key's slot, not started, with its caller counted as its
   * first waiter. The caller settles it (`Flight.settle`), or starts its lookup (`start`), or
   * leaves it to whoever joined (`handOver`). The same counting and recency as `get`; an entry
   * past its expiry is a miss (the stale window is for the caller to serve: this namespace's
   * policy has none). A hit allocates nothing but its `Exit`.
   */
  claim(key: MapKey, caller: AnyFiber): Effect.Effect<unknown, unknown> | Flight {
    const slot = this.map.get(key)
    if (slot === undefined) {
      this.count("misses")
      if (this.host.closed) return this.closed()
      return this.claimSlot(this.allocate(key), key, caller)
    }
    this.touch(slot)
    const value = this.values[slot]
    if (value instanceof Flight) return this.join(value)
    if (this.expires !== undefined) {
      const expiresAt = this.expires[slot]!
      if (expiresAt !== Infinity && this.clock.unsafeCurrentTimeMillis() >= expiresAt) {
        this.count("expirations")
        this.count("misses")
        this.detach(slot)
        if (this.host.closed) {
          this.remove(slot)
          return this.closed()
        }
        return this.claimSlot(slot, key, caller)
      }
    }
    this.counts.hits++
    this.metrics.hits.update(1)
    return value instanceof CachedFailure ? value.exit : Exit.succeed(value)
  }

  private claimSlot(slot: number, key: MapKey, caller: AnyFiber): Flight {
    const flight = new Flight(this, key, false)
    flight.waiters = 1
    flight.refs = refsOf(caller)
    this.values[slot] = flight
    return flight
  }

  /**
   * Runs the lookup of a claimed flight in a fiber of its own (see `run`; its context is the one
   * of the claim), which settles it; on a namespace whose layer has closed, the flight fails with
   * a defect at once.
   */
  start(flight: Flight, lookup: Lookup, args: ReadonlyArray<unknown>, caller: AnyFiber): void {
    const closed = this.run(flight, lookup, args, caller, true)
    if (closed !== undefined) flight.abort(closed)
  }

  /**
   * The caller that claimed a flight leaves before settling or starting it: the callers that
   * joined meanwhile get its lookup run for them; with none, the flight is dropped.
   */
  handOver(flight: Flight, lookup: Lookup, args: ReadonlyArray<unknown>, caller: AnyFiber): void {
    if (flight.exit !== undefined || flight.fiber !== undefined) return
    if (--flight.waiters > 0) this.start(flight, lookup, args, caller)
    else this.removeFlight(flight)
  }

  private closed(): Exit.Exit<never> {
    return Exit.die(new Error(`RequestCache: namespace "${this.name}" was used after its layer's scope closed`))
  }

  /** A caller that finds a load in flight joins it (single flight). */
  private join(flight: Flight): Effect.Effect<unknown, unknown> {
    this.counts.coalesced++
    this.metrics.coalesced.update(1)
    return flight.wait()
  }

  private startRefresh(
    key: MapKey,
    lookup: Lookup,
    args: ReadonlyArray<unknown>,
    caller: AnyFiber,
    immediate: boolean
  ): Flight | Effect.Effect<never> {
    const flight = new Flight(this, key, true)
    if (this.refreshing === undefined) this.refreshing = new Map()
    this.refreshing.set(key, flight)
    return this.run(flight, lookup, args, caller, immediate) ?? flight
  }

  /**
   * Runs a flight's lookup in a fiber of its own, so that it outlives the caller that started
   * it, with that caller's context. `Effect.fork` would schedule the fiber and cost a `Fiber.join`;
   * here the fiber is started on the current stack (`immediate`), so a synchronous lookup is done
   * when `start` returns. Refreshes are scheduled instead (`immediate` false): a stale hit must
   * not wait for the synchronous part of its refresh.
   */
  private run(
    flight: Flight,
    lookup: Lookup,
    args: ReadonlyArray<unknown>,
    caller: AnyFiber,
    immediate: boolean
  ): Exit.Exit<never> | undefined {
    if (this.host.closed) {
      this.removeFlight(flight)
      return this.closed()
    }
    let effect: Effect.Effect<unknown, unknown, unknown>
    try {
      effect = lookup(...(args as ReadonlyArray<never>))
    } catch (error) {
      // A lookup that throws instead of returning an Effect fails its flight with a defect.
      effect = Effect.die(error)
    }
    effect = traced(effect, this.name, flight.refresh ? "refresh" : "load", caller)
    // A lookup that is already complete (`Effect.succeed`, `Effect.fail`, a cached `Exit`) needs
    // no fiber: its exit is the flight's result. (With jitter the draw from `Random` needs one.)
    if (Exit.isExit(effect) && this.policy.jitter === 0) {
      flight.settle(effect)
      return undefined
    }
    if (this.policy.jitter > 0) {
      const inner = effect
      effect = Effect.flatMap(this.host.random.next, (draw) => {
        flight.jitter = draw
        return inner
      })
    }
    const fiber = new (caller.constructor as FiberConstructor)(
      FiberId.unsafeMake(),
      flight.refs ?? refsOf(caller),
      // Interruptible, even where the caller is not; and not winding down, even where the
      // caller has finished (the Promise API's callers are a finished fiber's context).
      (((caller as FiberInternals).currentRuntimeFlags | RuntimeFlags.Interruption) &
        ~RuntimeFlags.WindDown) as RuntimeFlags.RuntimeFlags
    )
    flight.fiber = fiber
    if (immediate) fiber.start(effect)
    else fiber.resume(effect)
    const exit = fiber.unsafePoll()
    if (exit !== null) {
      flight.settle(exit)
    } else {
      const running = this.host.running
      running.add(fiber)
      fiber.addObserver((exit) => {
        running.delete(fiber)
        flight.settle(exit)
      })
    }
    return undefined
  }

  /** Stores a flight's result where the policy says so. */
  complete(flight: Flight, exit: AnyExit): void {
    if (flight.refresh) return this.completeRefresh(flight, exit)
    const interrupted = exit._tag === "Failure" && Cause.isInterruptedOnly(exit.cause)
    if (!interrupted) {
      this.count("loads")
      if (exit._tag === "Failure") this.count("loadFailures")
    }
    if (flight.detached) return
    flight.detached = true
    const slot = this.map.get(flight.key)!
    const timed = flight.timed
    if (timed !== undefined) {
      this.storeTimed(slot, exit._tag === "Success" ? exit.value : new CachedFailure(exit), timed)
    } else if (exit._tag === "Success") {
      this.store(slot, exit.value, this.policy.timeToLive, flight.jitter)
    } else if (exit.cause._tag === "Fail" && this.cachesError(exit.cause.error)) {
      this.store(slot, new CachedFailure(Exit.fail(exit.cause.error)), this.policy.errorTimeToLive, flight.jitter)
    } else {
      this.remove(slot)
    }
  }

  private completeRefresh(flight: Flight, exit: AnyExit): void {
    if (this.refreshing?.get(flight.key) === flight) this.refreshing.delete(flight.key)
    if (exit._tag === "Success") {
      this.count("refreshes")
      if (!flight.detached) {
        const slot = this.map.get(flight.key)!
        if (flight.timed !== undefined) this.storeTimed(slot, exit.value, flight.timed)
        else this.store(slot, exit.value, this.policy.timeToLive, flight.jitter)
      }
    } else if (!Cause.isInterruptedOnly(exit.cause)) {
      // Stale-if-error: the old value stays until its window ends.
      this.count("refreshFailures")
    }
    flight.detached = true
  }

  private cachesError(error: unknown): boolean {
    return cachesError(this.policy, error)
  }

  private store(slot: number, value: unknown, timeToLive: number, jitter: number): void {
    this.values[slot] = value
    if (this.promises !== undefined) this.promises[slot] = undefined
    if (this.expires !== undefined) {
      this.expires[slot] = timeToLive === Infinity
        ? Infinity
        : this.clock.unsafeCurrentTimeMillis() + timeToLive + jitter * this.policy.jitter
    }
  }

  private storeTimed(slot: number, value: unknown, timed: Timed): void {
    this.values[slot] = value
    if (this.promises !== undefined) this.promises[slot] = undefined
    const expiresAt = timed.absolute
      ? timed.timeToLive
      : timed.timeToLive === Infinity
      ? Infinity
      : this.clock.unsafeCurrentTimeMillis() + timed.timeToLive
    // A namespace whose policy never expires has no expiry array until an entry needs one.
    if (this.expires === undefined) {
      if (expiresAt === Infinity) return
      this.expires = new Float64Array(this.length).fill(Infinity)
    }
    this.expires[slot] = expiresAt
  }

  /**
   * The Promise API's hit: the settled promise of a fresh entry (made on the slot's first hit,
   * then the same one), or `undefined` when the call needs `unsafeGetPromise`.
   */
  unsafeHitPromise(key: MapKey, adapter: PromiseAdapter): Promise<unknown> | undefined {
    const slot = this.map.get(key)
    if (slot === undefined) return undefined
    const value = this.values[slot]
    if (value instanceof Flight) return undefined
    if (this.expires !== undefined) {
      const expiresAt = this.expires[slot]!
      if (expiresAt !== Infinity && this.clock.unsafeCurrentTimeMillis() >= expiresAt) return undefined
    }
    this.touch(slot)
    this.counts.hits++
    this.metrics.hits.update(1)
    const promises = this.promises ??= []
    return promises[slot] ??= value instanceof CachedFailure ? adapter.failure(value.exit) : Promise.resolve(value)
  }

  /**
   * The Promise API's call: a fresh hit as `unsafeHitPromise`; anything else takes `unsafeGet`,
   * and `adapter` turns its flight or cached failure into a promise.
   */
  unsafeGetPromise(
    key: MapKey,
    lookup: Lookup,
    args: ReadonlyArray<unknown>,
    caller: AnyFiber,
    adapter: PromiseAdapter
  ): Promise<unknown> {
    const hit = this.unsafeHitPromise(key, adapter)
    if (hit !== undefined) return hit
    const result = this.unsafeGet(key, lookup, args, caller)
    return result instanceof Flight
      ? adapter.flight(result)
      : result instanceof CachedFailure
      ? adapter.failure(result.exit)
      : Promise.resolve(result)
  }

  // ---------------------------------------------------------------------------------------------
  // Operations without a lookup

  /** Refreshes a key now: the old value is served until the new one arrives. */
  refresh(
    key: MapKey,
    lookup: Lookup,
    args: ReadonlyArray<unknown>,
    caller: AnyFiber
  ): Effect.Effect<unknown, unknown> {
    const slot = this.map.get(key)
    if (slot === undefined) return this.get(key, lookup, args, caller)
    const value = this.values[slot]
    if (value instanceof Flight) return this.join(value)
    const flight = this.refreshing?.get(key) ?? this.startRefresh(key, lookup, args, caller, true)
    return flight instanceof Flight ? flight.wait() : flight
  }

  /** Stores a value now; `timeToLive` (milliseconds) overrides the policy's for this entry. */
  unsafeSet(key: MapKey, value: unknown, jitter: number, timeToLive?: number): void {
    let slot = this.map.get(key)
    if (slot === undefined) {
      slot = this.allocate(key)
    } else {
      this.detach(slot)
      this.touch(slot)
    }
    if (timeToLive === undefined) this.store(slot, value, this.policy.timeToLive, jitter)
    else this.storeTimed(slot, value, new Timed(Exit.void, timeToLive, false))
  }

  /** The value a `get` would serve without a lookup; no recency change, no counting. */
  unsafePeek(key: MapKey): Option.Option<unknown> {
    const slot = this.map.get(key)
    if (slot === undefined) return Option.none()
    const value = this.values[slot]
    if (value instanceof Flight || value instanceof CachedFailure) return Option.none()
    const expiresAt = this.expires === undefined ? Infinity : this.expires[slot]!
    if (
      expiresAt !== Infinity &&
      this.clock.unsafeCurrentTimeMillis() >= expiresAt + this.policy.staleWhileRevalidate
    ) return Option.none()
    return Option.some(value)
  }

  unsafeInvalidate(key: MapKey): boolean {
    const slot = this.map.get(key)
    if (slot === undefined) return false
    this.remove(slot)
    this.count("invalidations")
    return true
  }

  unsafeInvalidateAll(): void {
    const removed = this.size
    for (const slot of this.map.values()) this.detach(slot)
    this.map.clear()
    this.keys = []
    this.values = []
    this.promises = undefined
    this.free.length = 0
    this.fresh = 0
    this.head = this.tail = NIL
    this.size = 0
    this.metrics.size.update(0)
    if (removed > 0) this.count("invalidations", removed)
  }

  unsafeStats(): CacheStats {
    return stats.make({ ...this.counts, size: this.size, capacity: this.policy.capacity })
  }

  set(key: MapKey, value: unknown, timeToLive?: number): Effect.Effect<void> {
    return this.policy.jitter > 0 && timeToLive === undefined
      ? Effect.map(this.host.random.next, (draw) => this.unsafeSet(key, value, draw))
      : Effect.sync(() => this.unsafeSet(key, value, 0, timeToLive))
  }

  peek(key: MapKey): Effect.Effect<Option.Option<unknown>> {
    return Effect.sync(() => this.unsafePeek(key))
  }

  invalidate(key: MapKey): Effect.Effect<boolean> {
    return Effect.sync(() => this.unsafeInvalidate(key))
  }

  readonly invalidateAll: Effect.Effect<void> = Effect.sync(() => this.unsafeInvalidateAll())

  readonly stats: Effect.Effect<CacheStats> = Effect.sync(() => this.unsafeStats())

  /** Keys from least to most recently used (for tests and the `Policy`-style view). */
  keysByRecency(): Array<MapKey> {
    const keys: Array<MapKey> = []
    for (let slot = this.head; slot !== NIL; slot = this.links[2 * slot + 1]!) keys.push(this.keys[slot])
    return keys
  }

  // ---------------------------------------------------------------------------------------------
  // Slots and the recency list

  /** Removes the pending entry of a flight that is given up (no waiter left, or a failed start). */
  removeFlight(flight: Flight): void {
    if (flight.refresh) {
      if (this.refreshing?.get(flight.key) === flight) this.refreshing.delete(flight.key)
    } else {
      const slot = this.map.get(flight.key)
      if (slot !== undefined && this.values[slot] === flight) this.remove(slot)
    }
    flight.detached = true
  }

  /** Makes room for a key and links it as the most recent; evicts the least recent when full. */
  private allocate(key: MapKey): number {
    if (this.size >= this.policy.capacity) {
      this.remove(this.head)
      this.count("evictions")
    }
    let slot: number
    if (this.free.length > 0) {
      slot = this.free.pop()!
    } else {
      if (this.fresh === this.length) this.grow()
      slot = this.fresh++
    }
    this.keys[slot] = key
    this.map.set(key, slot)
    this.linkTail(slot)
    this.size++
    this.metrics.size.update(this.size)
    return slot
  }

  private remove(slot: number): void {
    this.detach(slot)
    this.map.delete(this.keys[slot])
    this.unlink(slot)
    this.keys[slot] = undefined
    this.values[slot] = undefined
    if (this.promises !== undefined) this.promises[slot] = undefined
    this.free.push(slot)
    this.size--
    this.metrics.size.update(this.size)
  }

  /** The slot's content is being replaced or removed: a flight writing into it must not. */
  private detach(slot: number): void {
    const value = this.values[slot]
    if (value instanceof Flight) value.detached = true
    if (this.refreshing !== undefined && this.refreshing.size > 0) {
      const key = this.keys[slot]
      const refresh = this.refreshing.get(key)
      if (refresh !== undefined) {
        refresh.detached = true
        this.refreshing.delete(key)
      }
    }
  }

  /** Doubles the slot arrays (up to the capacity): they start small for small namespaces. */
  private grow(): void {
    const length = Math.min(this.policy.capacity, this.length * 2)
    this.length = length
    this.links = grown(this.links, new Int32Array(2 * length))
    if (this.expires !== undefined) this.expires = grown(this.expires, new Float64Array(length))
  }

  private touch(slot: number): void {
    if (slot !== this.tail) {
      this.unlink(slot)
      this.linkTail(slot)
    }
  }

  private unlink(slot: number): void {
    const links = this.links
    const prev = links[2 * slot]!
    const next = links[2 * slot + 1]!
    if (prev === NIL) this.head = next
    else links[2 * prev + 1] = next
    if (next === NIL) this.tail = prev
    else links[2 * next] = prev
  }

  private linkTail(slot: number): void {
    const links = this.links
    links[2 * slot] = this.tail
    links[2 * slot + 1] = NIL
    if (this.tail === NIL) this.head = slot
    else links[2 * this.tail + 1] = slot
    this.tail = slot
  }

  /** Counts in `counts` and in the namespace's metrics (`by` may be negative: a correction). */
  count(counter: stats.Counter, by = 1): void {
    this.counts[counter] += by
    this.metrics[counter].update(by)
  }
}
