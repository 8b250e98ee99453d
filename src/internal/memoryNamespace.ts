import type * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as FiberSet from "effect/FiberSet"
import * as Option from "effect/Option"
import type * as RuntimeFlags from "effect/RuntimeFlags"
import type { CacheStats } from "../CacheStats.js"
import type { RequestCache } from "../RequestCache.js"
import { type FlightBatching, flightBatching } from "./batch.js"
import type { MapKey } from "./cacheKey.js"
import { NamespaceCounters } from "./counters.js"
import { CacheClosedError } from "./errors.js"
import { hashKey } from "./eviction/hash.js"
import { LruPolicy } from "./eviction/lru.js"
import type { EvictionPolicy } from "./eviction/policy.js"
import { WindowTinyLfuPolicy } from "./eviction/windowTinyLfu.js"
import { expiresAt, retention } from "./expiry.js"
import { childFlags, type ChildRefs, childRefs, forkDetached, forkPublic, startChild } from "./fiber.js"
import { Flight, type FlightOwner, lookupEffect } from "./flight.js"
import type { CacheRuntime, InternalNamespace } from "./namespace.js"
import { CachePolicyError, expires, type ResolvedPolicy, timeToLiveOf } from "./options.js"
import { invalidatedSince, isTagged } from "./tags.js"
import { traced } from "./tracing.js"

type Lookup = RequestCache.Lookup

type AnyExit = Exit.Exit<unknown, unknown>
type AnyFiber = Fiber.RuntimeFiber<unknown, unknown>
type AnyEffect = Effect.Effect<unknown, unknown, unknown>

/** A typed failure that the policy caches: its `Exit`, replayed to every caller. */
export class CachedFailure {
  constructor(readonly exit: AnyExit) {}
}

const grown = (from: Float64Array, length: number): Float64Array => {
  const to = new Float64Array(length)
  to.set(from)
  return to
}

/** A weigher's answer, checked: a finite weight of zero or more. */
const weightOf = (weigher: (value: unknown, key: unknown) => number, value: unknown, key: unknown): number => {
  let weight: unknown
  try {
    weight = weigher(value, key)
  } catch (error) {
    throw new CachePolicyError({ option: "weigher", reason: `the weigher threw: ${String(error)}` })
  }
  if (typeof weight !== "number" || !Number.isFinite(weight) || weight < 0) {
    throw new CachePolicyError({
      option: "weigher",
      reason: `expected a finite weight of 0 or more, got ${String(weight)}`
    })
  }
  return weight
}

/**
 * What a key holds, as `find` classifies it: every entry point (`get`, `claim`, `peek`, the
 * Promise API, the store namespace) switches over this one decision.
 */
export type Found = typeof MISSING | typeof LOADING | typeof FRESH | typeof STALE | typeof EXPIRED
/** No entry. */
export const MISSING = 0
/** A load in flight: its `Flight` is the slot's value. */
export const LOADING = 1
/** A value or cached failure within its time to live. */
export const FRESH = 2
/** A value past its time to live, inside the stale window: served while one refresh runs. */
export const STALE = 3
/** Past its time to live and its window (a cached failure has no window): to be loaded again. */
export const EXPIRED = 4

/**
 * One namespace of the in-memory cache, in the layout of lru-cache: a `Map` from key to slot, then
 * keys, values and expiry times by slot in preallocated arrays, and the eviction order in the
 * policy's own typed arrays (`eviction/`). A slot's value is the cached value, a `CachedFailure` or
 * the `Flight` of its load, so that "an invalidation wins over a load in flight" and "a pending
 * entry is evictable" are each one assignment. Every operation is O(1), and nothing is read that
 * the policy does not need (no expiry without a time to live).
 */
export class MemoryNamespace implements InternalNamespace, FlightOwner {
  private readonly map = new Map<MapKey, number>()
  private keys: Array<MapKey> = []
  private values: Array<unknown> = []
  /** Milliseconds at which the entry stops being fresh; only once an entry can expire. */
  private expires: Float64Array | undefined
  /** Each entry's weight, with a weigher (a pending entry weighs nothing). */
  private weights: Float64Array | undefined
  /** The sum of `weights`. */
  weight = 0
  /** The slots allocated so far (the arrays grow up to the capacity). */
  private length: number
  private readonly free: Array<number> = []
  /** The first slot never used yet. */
  private unused = 0
  size = 0
  /** The slot of the key that `find` found last. */
  private slot = 0
  /**
   * Per slot, the settled promise that the Promise API's hits return, made on the slot's first
   * hit and dropped when its value changes: a hit then allocates nothing. Only for the Promise API.
   */
  private promises: Array<Promise<unknown> | undefined> | undefined = undefined
  /** Per slot, the tags of its entry; only once an entry has tags. */
  private slotTags: Array<ReadonlyArray<string> | undefined> | undefined = undefined
  /** The keys of the entries that carry each tag. */
  private tagged: Map<string, Set<MapKey>> | undefined = undefined
  /** Refreshes in flight, by key (a slot holds its old value meanwhile). */
  private refreshing: Map<MapKey, Flight> | undefined = undefined
  private readonly eviction: EvictionPolicy
  private readonly clock: Clock.Clock

  /**
   * `counters` are shared with a store namespace that uses this one as its first tier; it counts
   * the calls and loads itself (`countsLoads` false), this one what happens to its entries.
   */
  constructor(
    readonly name: string,
    readonly policy: ResolvedPolicy,
    readonly runtime: CacheRuntime,
    readonly counters: NamespaceCounters = new NamespaceCounters(name),
    private readonly countsLoads = true
  ) {
    const length = Math.min(policy.capacity, 16)
    this.length = length
    // W-TinyLFU needs a finite capacity (its sketch is sized to it); an unbounded namespace never evicts.
    this.eviction = policy.eviction === "w-tinylfu" && policy.capacity !== Infinity
      ? new WindowTinyLfuPolicy(policy.capacity)
      : new LruPolicy(length)
    this.expires = expires(policy) ? new Float64Array(length) : undefined
    this.weights = policy.weigher === undefined ? undefined : new Float64Array(length)
    this.clock = runtime.clock
  }

  // ---------------------------------------------------------------------------------------------
  // The classifier and what it found

  /** What `key` holds now; its slot is left in `slot`. Counts nothing, changes nothing. */
  find(key: MapKey): Found {
    const slot = this.map.get(key)
    if (slot === undefined) return MISSING
    this.slot = slot
    const value = this.values[slot]
    // A load that started before a tag invalidation (this process's, or another's heard as an
    // event) may carry one of its tags, known only when it ends: it is not stored, and a caller
    // that comes after does not join it but loads anew in its slot, as for an expired entry.
    if (value instanceof Flight) return !value.tagged || value.epoch === this.runtime.tags.epoch ? LOADING : EXPIRED
    const expires = this.expires
    if (expires !== undefined) {
      const at = expires[slot]!
      if (at !== Infinity) {
        const now = this.clock.unsafeCurrentTimeMillis()
        if (now >= at) {
          return !(value instanceof CachedFailure) && now < at + this.policy.staleWhileRevalidate ? STALE : EXPIRED
        }
      }
    }
    return FRESH
  }

  /** The entry found `FRESH` is used: it becomes most recent; its value or `CachedFailure`. */
  hit(): unknown {
    const slot = this.slot
    this.eviction.onAccess(slot)
    return this.values[slot]
  }

  /** `hit` as an `Exit`. */
  hitExit(): AnyExit {
    const value = this.hit()
    return value instanceof CachedFailure ? value.exit : Exit.succeed(value)
  }

  /**
   * `hit` as a settled promise for the Promise API, the same object on every hit of the value;
   * `make` makes it on the first (a rejection for a `CachedFailure`).
   */
  hitPromise(make: (value: unknown) => Promise<unknown>): Promise<unknown> {
    const value = this.hit()
    const promises = this.promises ??= []
    return promises[this.slot] ??= make(value)
  }

  /** The flight found `LOADING` is joined: its key becomes most recent. */
  join(): Flight {
    const slot = this.slot
    this.eviction.onAccess(slot)
    return this.values[slot] as Flight
  }

  /**
   * The entry found `STALE` is served: it becomes most recent and one refresh of it starts unless
   * one runs (with `caller`'s context; without a caller, in the default runtime).
   */
  serveStale(
    key: MapKey,
    lookup: Lookup,
    args: ReadonlyArray<unknown>,
    caller: AnyFiber | undefined,
    flags: RuntimeFlags.RuntimeFlags
  ): unknown {
    const value = this.hit()
    if (this.refreshing?.has(key) !== true && !this.runtime.closed) {
      this.startRefresh(key, lookup, args, caller, flags, false)
    }
    return value
  }

  /**
   * A blocking load of a key found `MISSING` or `EXPIRED`: a new flight in its slot, its lookup
   * started in a fiber of the cache with `caller`'s context (without a caller: in the default
   * runtime). The caller has checked that the cache is open.
   */
  load(
    found: Found,
    key: MapKey,
    lookup: Lookup,
    args: ReadonlyArray<unknown>,
    caller: AnyFiber | undefined,
    flags: RuntimeFlags.RuntimeFlags
  ): Flight {
    const flight = new Flight(this, key, false)
    flight.epoch = this.runtime.tags.epoch
    flight.tagged = isTagged(lookup)
    this.values[flight.slot = this.slotFor(found, key)] = flight
    // A key of a batch function: its flight waits in the batch, with no fiber of its own.
    const batching = (lookup as { readonly [flightBatching]?: FlightBatching })[flightBatching]
    if (batching !== undefined && caller !== undefined && this.policy.jitter === 0) {
      batching.enqueue(this, flight, args[0], caller, flags)
      return flight
    }
    this.run(
      flight,
      this.withJitter(flight, lookupEffect(lookup, args)),
      caller,
      caller === undefined ? undefined : childRefs(caller),
      flags,
      true
    )
    return flight
  }

  /**
   * A load that its caller runs itself (the store namespace reads the store on the caller's own
   * fiber): a new flight in the slot of a key found `MISSING` or `EXPIRED`, not started, its
   * caller counted as its first waiter and its context taken now. The caller then settles it
   * (`Flight.settle`), starts its lookup (`start`), or leaves it to whoever joined (`handOver`).
   */
  claim(found: Found, key: MapKey, caller: AnyFiber, flags: RuntimeFlags.RuntimeFlags): Flight {
    const flight = new Flight(this, key, false)
    flight.epoch = this.runtime.tags.epoch
    // What a store's entry carries is known once it is read: any tag may be among them.
    flight.tagged = true
    flight.waiters = 1
    flight.caller = caller
    flight.refs = childRefs(caller)
    flight.flags = flags
    this.values[flight.slot = this.slotFor(found, key)] = flight
    return flight
  }

  /**
   * A load whose result its caller delivers without a fiber (the Promise API's batches): a new
   * flight in the slot of a key found `MISSING` or `EXPIRED`, nothing started. The caller ends it
   * with `Flight.settle` (stored as the policy says) or `Flight.abort` (nothing stored).
   */
  pending(found: Found, key: MapKey): Flight {
    const flight = new Flight(this, key, false)
    flight.epoch = this.runtime.tags.epoch
    this.values[flight.slot = this.slotFor(found, key)] = flight
    return flight
  }

  /** Runs the lookup of a claimed flight, with the context of its claim; a closed cache aborts it. */
  start(flight: Flight, lookup: Lookup, args: ReadonlyArray<unknown>): void {
    if (this.runtime.closed) {
      this.giveUp(flight)
      return flight.abort(this.closedExit())
    }
    this.run(
      flight,
      this.withJitter(flight, lookupEffect(lookup, args)),
      flight.caller,
      flight.refs,
      flight.flags,
      true
    )
  }

  /**
   * The caller that claimed a flight leaves before settling or starting it: the callers that
   * joined meanwhile get its lookup run for them; with none, the flight is dropped.
   */
  handOver(flight: Flight, lookup: Lookup, args: ReadonlyArray<unknown>): void {
    if (flight.exit !== undefined || flight.fiber !== undefined) return
    if (--flight.waiters > 0) this.start(flight, lookup, args)
    else this.giveUp(flight)
  }

  /** What a call of a closed cache gets, hit or miss. */
  closedExit(): Exit.Exit<never> {
    return Exit.die(new CacheClosedError({ namespace: this.name }))
  }

  // ---------------------------------------------------------------------------------------------
  // The Namespace contract

  /** The hot path: a hit is a `Map` lookup, an expiry test, a relink and its `Exit`. */
  unsafeGet(
    key: MapKey,
    lookup: Lookup,
    args: ReadonlyArray<unknown>,
    caller: AnyFiber,
    flags: RuntimeFlags.RuntimeFlags
  ): Effect.Effect<unknown, unknown> {
    const found = this.find(key)
    if (found === FRESH) {
      // `hitExit`, written out: the hit path is this and `find`, nothing else.
      const slot = this.slot
      this.eviction.onAccess(slot)
      this.counters.hit()
      const value = this.values[slot]
      return value instanceof CachedFailure ? value.exit : Exit.succeed(value)
    }
    return this.getFound(found, key, lookup, args, caller, flags)
  }

  private getFound(
    found: Found,
    key: MapKey,
    lookup: Lookup,
    args: ReadonlyArray<unknown>,
    caller: AnyFiber,
    flags: RuntimeFlags.RuntimeFlags
  ): Effect.Effect<unknown, unknown> {
    switch (found) {
      case LOADING: {
        this.counters.joined()
        return this.join().wait()
      }
      case STALE: {
        this.counters.staleHit()
        return Exit.succeed(this.serveStale(key, lookup, args, caller, flags))
      }
      default: {
        if (this.runtime.closed) return this.closedExit()
        this.counters.miss()
        return this.load(found, key, lookup, args, caller, flags).wait()
      }
    }
  }

  get(key: MapKey, lookup: Lookup, args: ReadonlyArray<unknown>): Effect.Effect<unknown, unknown> {
    return Effect.withFiberRuntime((fiber, status) => this.unsafeGet(key, lookup, args, fiber, status.runtimeFlags))
  }

  /** Refreshes a key now: the old value is served until the new one arrives. */
  unsafeRefresh(
    key: MapKey,
    lookup: Lookup,
    args: ReadonlyArray<unknown>,
    caller: AnyFiber,
    flags: RuntimeFlags.RuntimeFlags
  ): Effect.Effect<unknown, unknown> {
    const found = this.find(key)
    // A load in flight (or one a tag invalidation overtook) is joined or replaced, not refreshed.
    if (found === MISSING || found === LOADING || this.values[this.slot] instanceof Flight) {
      return this.getFound(found, key, lookup, args, caller, flags)
    }
    if (this.runtime.closed) return this.closedExit()
    return (this.refreshing?.get(key) ?? this.startRefresh(key, lookup, args, caller, flags, true)).wait()
  }

  refresh(key: MapKey, lookup: Lookup, args: ReadonlyArray<unknown>): Effect.Effect<unknown, unknown> {
    return Effect.withFiberRuntime((fiber, status) => this.unsafeRefresh(key, lookup, args, fiber, status.runtimeFlags))
  }

  set(key: MapKey, value: unknown, timeToLive?: number, tags?: ReadonlyArray<string>): Effect.Effect<void> {
    return Effect.suspend(() => {
      if (this.runtime.closed) return this.closedExit()
      const ttl = timeToLive ?? timeToLiveOf(this.policy, Exit.succeed(value))
      if (timeToLive !== undefined || this.policy.jitter === 0) {
        this.unsafeSetAt(key, value, this.expiry(ttl, 0), tags)
        return Effect.void
      }
      return Effect.map(this.runtime.random.next, (draw) => {
        this.unsafeSetAt(key, value, this.expiry(ttl, draw), tags)
      })
    })
  }

  /** Stores a value now, fresh until `expiresAt`; a load of the key in flight no longer stores. */
  unsafeSetAt(key: MapKey, value: unknown, expiresAt: number, tags?: ReadonlyArray<string>): void {
    let slot = this.map.get(key)
    if (slot === undefined) {
      slot = this.allocate(key)
    } else {
      this.detach(slot)
      this.eviction.onAccess(slot)
    }
    this.store(slot, value, expiresAt, tags)
  }

  /** The value a `get` would serve without a lookup; no recency change, no counting. */
  unsafePeek(key: MapKey): Option.Option<unknown> {
    const found = this.find(key)
    if (found !== FRESH && found !== STALE) return Option.none()
    const value = this.values[this.slot]
    return value instanceof CachedFailure ? Option.none() : Option.some(value)
  }

  peek(key: MapKey): Effect.Effect<Option.Option<unknown>> {
    return Effect.suspend(() => this.runtime.closed ? this.closedExit() : Effect.succeed(this.unsafePeek(key)))
  }

  unsafeInvalidate(key: MapKey): boolean {
    const slot = this.map.get(key)
    if (slot === undefined) return false
    this.remove(slot)
    this.counters.invalidated(1)
    return true
  }

  invalidate(key: MapKey): Effect.Effect<boolean> {
    return Effect.suspend(() => this.runtime.closed ? this.closedExit() : Effect.succeed(this.unsafeInvalidate(key)))
  }

  unsafeInvalidateAll(): void {
    const removed = this.size
    this.clear()
    if (removed > 0) this.counters.invalidated(removed)
  }

  readonly invalidateAll: Effect.Effect<void> = Effect.suspend(() => {
    if (this.runtime.closed) return this.closedExit()
    this.unsafeInvalidateAll()
    return Effect.void
  })

  unsafeStats(): CacheStats {
    return this.counters.snapshot(this.size, this.policy.capacity, this.weight)
  }

  readonly stats: Effect.Effect<CacheStats> = Effect.sync(() => this.unsafeStats())

  /** The cache closed: every entry goes, uncounted, so that every later call is a closed miss. */
  close(): void {
    this.clear()
  }

  /**
   * The inspection door for tests and operators, disturbing nothing: the keys from coldest (the
   * next to be evicted) to hottest, and how many keys the map holds (always `size`).
   */
  inspect(): { readonly coldest: Array<MapKey>; readonly mapped: number } {
    return { coldest: Array.from(this.eviction.coldest(), (slot) => this.keys[slot]), mapped: this.map.size }
  }

  // ---------------------------------------------------------------------------------------------
  // Flights

  private startRefresh(
    key: MapKey,
    lookup: Lookup,
    args: ReadonlyArray<unknown>,
    caller: AnyFiber | undefined,
    flags: RuntimeFlags.RuntimeFlags,
    immediate: boolean
  ): Flight {
    const flight = new Flight(this, key, true)
    flight.epoch = this.runtime.tags.epoch
    ;(this.refreshing ??= new Map()).set(key, flight)
    this.run(
      flight,
      this.withJitter(flight, lookupEffect(lookup, args)),
      caller,
      undefined,
      flags,
      immediate
    )
    return flight
  }

  /** With jitter, the lookup first draws the flight's share of it from the cache's `Random`. */
  private withJitter(flight: Flight, effect: AnyEffect): AnyEffect {
    if (this.policy.jitter === 0) return effect
    return Effect.flatMap(this.runtime.random.next, (draw) => {
      flight.jitter = draw
      return effect
    })
  }

  /**
   * Runs a flight's lookup in a fiber of the cache, which settles the flight. A lookup that is
   * already complete (`Effect.succeed`, `Effect.fail`, a cached `Exit`) needs no fiber. A load
   * starts on the caller's stack, as a child of the caller (`fiber.ts`), so that a synchronous
   * lookup is done when this returns; a refresh is forked with the public `Runtime.runFork` and,
   * from a stale hit, scheduled (`immediate` false): that hit must not wait for it.
   */
  private run(
    flight: Flight,
    effect: AnyEffect,
    caller: AnyFiber | undefined,
    refs: ChildRefs | undefined,
    flags: RuntimeFlags.RuntimeFlags,
    immediate: boolean
  ): void {
    // In a span, when the caller's program has a tracer (`tracing.ts`); otherwise untouched.
    if (caller !== undefined) effect = traced(effect, this.name, flight.refresh ? "refresh" : "load", caller)
    if (Exit.isExit(effect)) return flight.settle(effect)
    const fiber = caller === undefined
      ? forkDetached(effect, immediate)
      : refs !== undefined
      ? startChild(caller, refs, childFlags(flags), effect)
      : forkPublic(caller.getFiberRefs(), childFlags(flags), effect, immediate)
    flight.fiber = fiber
    const exit = fiber.unsafePoll()
    if (exit !== null) return flight.settle(exit)
    FiberSet.unsafeAdd(this.runtime.fibers, fiber)
    fiber.addObserver((exit) => flight.settle(exit))
  }

  complete(flight: Flight, exit: AnyExit): AnyExit {
    try {
      if (flight.refresh) this.completeRefresh(flight, exit)
      else this.completeLoad(flight, exit)
      return exit
    } catch (error) {
      // A policy function failed on this result: the entry is not kept, and its callers learn why.
      if (!flight.refresh) this.giveUp(flight)
      return Exit.die(error)
    }
  }

  private completeLoad(flight: Flight, exit: AnyExit): void {
    if (this.countsLoads) this.counters.loaded(exit)
    if (flight.detached) return
    flight.detached = true
    // Not detached: the flight is still the value of its slot.
    const slot = flight.slot
    const result = flight.result
    const tags = result?.tags
    // A tag of this result was invalidated while it loaded: the invalidation wins.
    if (tags !== undefined && invalidatedSince(this.runtime.tags, tags, flight.epoch)) return this.remove(slot)
    if (result !== undefined && result.ownExpiry) {
      const value = exit._tag === "Success" ? exit.value : new CachedFailure(exit)
      return this.store(slot, value, result.expiresAt(this.clock.unsafeCurrentTimeMillis()), tags)
    }
    const timeToLive = retention(this.policy, exit, false)
    if (timeToLive === undefined) return this.remove(slot)
    const value = exit._tag === "Success"
      ? exit.value
      : new CachedFailure(Exit.fail((exit.cause as { readonly error: unknown }).error))
    this.store(slot, value, this.expiry(timeToLive, flight.jitter), tags)
  }

  private completeRefresh(flight: Flight, exit: AnyExit): void {
    if (this.refreshing?.get(flight.key) === flight) this.refreshing.delete(flight.key)
    this.counters.refreshed(exit)
    // A failed refresh keeps the stale value until its window ends (stale-if-error).
    if (!flight.detached && exit._tag === "Success") {
      flight.detached = true
      const slot = this.map.get(flight.key)!
      const result = flight.result
      const tags = result?.tags
      if (tags !== undefined && invalidatedSince(this.runtime.tags, tags, flight.epoch)) return this.remove(slot)
      this.store(
        slot,
        exit.value,
        result !== undefined && result.ownExpiry
          ? result.expiresAt(this.clock.unsafeCurrentTimeMillis())
          : this.expiry(retention(this.policy, exit, true)!, flight.jitter),
        tags
      )
    }
    flight.detached = true
  }

  giveUp(flight: Flight): void {
    if (flight.refresh) {
      if (this.refreshing?.get(flight.key) === flight) this.refreshing.delete(flight.key)
    } else {
      const slot = this.map.get(flight.key)
      if (slot !== undefined && this.values[slot] === flight) this.remove(slot)
    }
    flight.detached = true
  }

  // ---------------------------------------------------------------------------------------------
  // Slots

  /** When an entry stored now with `timeToLive` and a jitter `draw` stops being fresh. */
  private expiry(timeToLive: number, draw: number): number {
    return timeToLive === Infinity
      ? Infinity
      : expiresAt(this.clock.unsafeCurrentTimeMillis(), timeToLive, draw, this.policy.jitter)
  }

  private store(slot: number, value: unknown, expiresAt: number, tags?: ReadonlyArray<string>): void {
    if (this.weights !== undefined && !this.weigh(slot, value)) return
    this.values[slot] = value
    if (this.promises !== undefined) this.promises[slot] = undefined
    if (tags !== undefined || this.slotTags?.[slot] !== undefined) this.retag(slot, tags)
    // A namespace whose policy never expires has no expiry array until an entry needs one.
    if (this.expires === undefined) {
      if (expiresAt === Infinity) return
      this.expires = new Float64Array(this.length).fill(Infinity)
    }
    this.expires[slot] = expiresAt
  }

  /**
   * Gives the slot its new value's weight and evicts until the total fits `maxWeight`; answers
   * whether the slot is still there to hold the value (a value heavier than the bound is not
   * kept: it is evicted at once). A weigher that throws or answers no weight throws a
   * `CachePolicyError`.
   */
  private weigh(slot: number, value: unknown): boolean {
    const weights = this.weights!
    const weight = value instanceof CachedFailure ? 0 : weightOf(this.policy.weigher!, value, this.keys[slot])
    this.weight += weight - weights[slot]!
    weights[slot] = weight
    this.counters.weighed(this.weight)
    const maxWeight = this.policy.maxWeight
    if (weight > maxWeight) {
      this.remove(slot)
      this.counters.evicted()
      return false
    }
    while (this.weight > maxWeight) {
      const victim = this.eviction.victim()
      this.remove(victim)
      this.counters.evicted()
      if (victim === slot) return false
    }
    return true
  }

  /** Gives the slot's entry its tags (none: `undefined`), in the index of keys by tag. */
  private retag(slot: number, tags: ReadonlyArray<string> | undefined): void {
    const slotTags = this.slotTags ??= []
    const key = this.keys[slot]
    const tagged = this.tagged ??= new Map()
    const old = slotTags[slot]
    if (old !== undefined) {
      for (const tag of old) {
        const keys = tagged.get(tag)
        if (keys !== undefined && keys.delete(key) && keys.size === 0) tagged.delete(tag)
      }
    }
    slotTags[slot] = tags !== undefined && tags.length > 0 ? tags : undefined
    if (tags === undefined) return
    for (const tag of tags) {
      let keys = tagged.get(tag)
      if (keys === undefined) tagged.set(tag, keys = new Set())
      keys.add(key)
    }
  }

  /** Removes every entry that carries one of `tags`; answers how many. */
  unsafeInvalidateTags(tags: Iterable<string>): number {
    const tagged = this.tagged
    if (tagged === undefined) return 0
    let removed = 0
    for (const tag of tags) {
      const keys = tagged.get(tag)
      if (keys === undefined) continue
      for (const key of Array.from(keys)) if (this.unsafeInvalidate(key)) removed++
    }
    return removed
  }

  /** The slot for a load of a key found `MISSING` (a new one) or `EXPIRED` (its own, reused). */
  private slotFor(found: Found, key: MapKey): number {
    if (found !== EXPIRED) return this.allocate(key)
    const slot = this.slot
    this.eviction.onAccess(slot)
    // (A load that a tag invalidation overtook is replaced, not an expired entry.)
    if (!(this.values[slot] instanceof Flight)) this.counters.expired()
    this.detach(slot)
    return slot
  }

  /** Makes room for a key; when the namespace is full the eviction policy chooses who leaves. */
  private allocate(key: MapKey): number {
    if (this.size >= this.policy.capacity) {
      this.remove(this.eviction.victim())
      this.counters.evicted()
    }
    let slot: number
    if (this.free.length > 0) {
      slot = this.free.pop()!
    } else {
      if (this.unused === this.length) this.grow()
      slot = this.unused++
    }
    this.keys[slot] = key
    this.map.set(key, slot)
    const eviction = this.eviction
    eviction.onInsert(slot, eviction.needsHash ? hashKey(key) : 0)
    this.counters.resized(++this.size)
    return slot
  }

  private remove(slot: number): void {
    this.detach(slot)
    if (this.slotTags?.[slot] !== undefined) this.retag(slot, undefined)
    if (this.weights !== undefined && this.weights[slot] !== 0) {
      this.weight -= this.weights[slot]!
      this.weights[slot] = 0
      this.counters.weighed(this.weight)
    }
    this.map.delete(this.keys[slot])
    this.eviction.onRemove(slot)
    this.keys[slot] = undefined
    this.values[slot] = undefined
    if (this.promises !== undefined) this.promises[slot] = undefined
    this.free.push(slot)
    this.counters.resized(--this.size)
  }

  /** Every entry goes at once. */
  private clear(): void {
    for (const slot of this.map.values()) this.detach(slot)
    this.map.clear()
    this.keys = []
    this.values = []
    this.promises = undefined
    this.slotTags = undefined
    this.tagged = undefined
    this.free.length = 0
    this.unused = 0
    this.eviction.clear()
    if (this.weights !== undefined) {
      this.weights.fill(0)
      this.weight = 0
      this.counters.weighed(0)
    }
    this.size = 0
    this.counters.resized(0)
  }

  /** The slot's content is being replaced or removed: a flight writing into it must not. */
  private detach(slot: number): void {
    const value = this.values[slot]
    if (value instanceof Flight) value.detached = true
    const refreshing = this.refreshing
    if (refreshing !== undefined && refreshing.size > 0) {
      const key = this.keys[slot]
      const refresh = refreshing.get(key)
      if (refresh !== undefined) {
        refresh.detached = true
        refreshing.delete(key)
      }
    }
  }

  /** Doubles the slot arrays (up to the capacity): they start small for small namespaces. */
  private grow(): void {
    const length = Math.min(this.policy.capacity, this.length * 2)
    this.length = length
    this.eviction.resize(length)
    if (this.expires !== undefined) this.expires = grown(this.expires, length)
    if (this.weights !== undefined) this.weights = grown(this.weights, length)
  }
}
