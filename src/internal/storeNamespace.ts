import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import type * as RuntimeFlags from "effect/RuntimeFlags"
import type * as Scope from "effect/Scope"
import type { CacheStats } from "../CacheStats.js"
import type { Coordination, Service as StoreService, StoreEvent } from "../CacheStore.js"
import type { RequestCache } from "../RequestCache.js"
import type { MapKey } from "./cacheKey.js"
import { NamespaceCounters } from "./counters.js"
import { LookupResult, retention } from "./expiry.js"
import { type Flight, lookupEffect } from "./flight.js"
import { FRESH, LOADING, MemoryNamespace } from "./memoryNamespace.js"
import type { CacheRuntime, InternalNamespace } from "./namespace.js"
import { type ResolvedPolicy, timeToLiveOf } from "./options.js"
import { raiseIn } from "./outbox.js"
import {
  type EntryCodec,
  type EntrySchema,
  fromStoreKey,
  makeCodec,
  type StoredEntry,
  toStoreKey
} from "./storeEntry.js"
import { TAG_NAMESPACE } from "./tags.js"
import { tracedOnFiber } from "./tracing.js"

type Lookup = RequestCache.Lookup

type AnyExit = Exit.Exit<unknown, unknown>
type AnyFiber = Fiber.RuntimeFiber<unknown, unknown>

/** What the store-backed namespaces of one cache share. */
export interface StoreContext {
  readonly runtime: CacheRuntime
  readonly store: StoreService
  readonly coordination: Coordination | undefined
  /** This cache instance's id: the owner of its locks, the origin of its events. */
  readonly id: string
  /** How long a lock lives, and how long a caller waits for another process's load (ms). */
  readonly lockTimeout: number
  /** The first tier's bound on how long it keeps an entry without asking the store (ms). */
  readonly l1TimeToLive: number
  readonly l1Capacity: number
  /** The cache's scope: background refreshes run in it. */
  readonly scope: Scope.Scope
}

/** A lookup in flight whose result goes to the store; an invalidation of its key cancels the write. */
interface Writer {
  cancelled: boolean
}

/** A caller waiting for another process's load of a key (woken by any event on that key). */
interface Waiter {
  fired: boolean
  resume: (() => void) | undefined
}

/** Lock requests made in this process: with the cache's id, each load's own lock owner. */
let lockRequests = 0

/** Logs a burst of store errors once: the first, then at most one line per interval. */
const WARNING_INTERVAL = 10_000

const NONE: Option.Option<never> = Option.none()
const NO_ARGS: ReadonlyArray<never> = []

/**
 * A namespace whose entries live in a `CacheStore`, with a small in-memory first tier (L1) in
 * front. The L1 is a `MemoryNamespace` (its own capacity and time to live; single flight within
 * the process comes from it) whose lookup goes through the store: on an L1 miss the store is read;
 * a fresh entry comes back with its own expiry (`LookupResult`) (capped by the L1's time to live); a
 * stale one inside its window is served while one refresh runs; a missing one is loaded by one
 * process cluster-wide (with `Coordination`: the lock holder runs the lookup, the others wait for
 * its `set` event, bounded) and written back. A store that fails is logged, counted and bypassed:
 * no caller sees a store error.
 */
export class StoreNamespace implements InternalNamespace {
  /** This namespace's counts; the first tier counts what happens to its entries into the same. */
  readonly counters: NamespaceCounters
  readonly l1: MemoryNamespace
  readonly codec: EntryCodec
  private readonly writers = new Map<string, Set<Writer>>()
  private readonly waiters = new Map<string, Set<Waiter>>()
  /** Background refreshes in flight in this process, by store key. */
  private readonly refreshing = new Set<string>()
  private lastWarning = -Infinity
  private suppressed = 0
  /**
   * How long the store remembers a key's last write or invalidation (`Fence`): longer than any
   * lookup should take (twice the lock's lifetime, at least a minute). A lookup slower than that
   * is not written to the store.
   */
  private readonly fenceWindow: number

  constructor(
    readonly name: string,
    readonly policy: ResolvedPolicy,
    readonly schema: EntrySchema,
    private readonly context: StoreContext
  ) {
    // Every entry reaches the L1 with its own expiry (from the store, capped by the L1's time to
    // live): the policy's own times only matter for the store's envelope. Stale entries are served
    // by this class, not by the L1, so the L1 has no window of its own; failures that the policy
    // caches come with their own expiry, so the L1 caches none by itself. The calls and loads are
    // counted here, where their outcome is known; the L1 counts what happens to its entries.
    this.counters = new NamespaceCounters(name)
    this.l1 = new MemoryNamespace(
      name,
      {
        capacity: Math.min(context.l1Capacity, policy.capacity),
        eviction: policy.eviction,
        timeToLive: context.l1TimeToLive,
        timeToLiveOf: undefined,
        jitter: 0,
        staleWhileRevalidate: 0,
        errorTimeToLive: context.l1TimeToLive,
        cacheErrors: undefined,
        maxWeight: policy.maxWeight,
        weigher: policy.weigher
      },
      context.runtime,
      this.counters,
      false
    )
    this.codec = makeCodec(schema)
    this.fenceWindow = Math.max(60_000, 2 * context.lockTimeout)
  }

  // ---------------------------------------------------------------------------------------------
  // The Namespace interface

  unsafeGet(
    key: MapKey,
    lookup: Lookup,
    args: ReadonlyArray<unknown>,
    caller: AnyFiber,
    flags: RuntimeFlags.RuntimeFlags
  ): Effect.Effect<unknown, unknown> {
    const l1 = this.l1
    const found = l1.find(key)
    if (found === FRESH) {
      this.counters.hit()
      return l1.hitExit()
    }
    if (found === LOADING) {
      this.counters.joined()
      return l1.join().wait()
    }
    if (this.context.runtime.closed) return l1.closedExit()
    return this.loadClaimed(l1.claim(found, key, caller, flags), key, lookup, args)
  }

  get(key: MapKey, lookup: Lookup, args: ReadonlyArray<unknown>): Effect.Effect<unknown, unknown> {
    return Effect.withFiberRuntime((fiber, status) => this.unsafeGet(key, lookup, args, fiber, status.runtimeFlags))
  }

  unsafeRefresh(
    key: MapKey,
    lookup: Lookup,
    args: ReadonlyArray<unknown>,
    caller: AnyFiber,
    flags: RuntimeFlags.RuntimeFlags
  ): Effect.Effect<unknown, unknown> {
    return this.l1.unsafeRefresh(key, this.runNow, [key, lookup, args], caller, flags)
  }

  refresh(key: MapKey, lookup: Lookup, args: ReadonlyArray<unknown>): Effect.Effect<unknown, unknown> {
    return Effect.withFiberRuntime((fiber, status) => this.unsafeRefresh(key, lookup, args, fiber, status.runtimeFlags))
  }

  set(key: MapKey, value: unknown, timeToLive?: number, tags?: ReadonlyArray<string>): Effect.Effect<void> {
    return Effect.suspend(() => {
      if (this.context.runtime.closed) return this.l1.closedExit()
      const storeKey = toStoreKey(key)
      this.cancelWriters(storeKey)
      const exit = Exit.succeed(value)
      const since = this.now()
      return Effect.flatMap(this.freshness(exit, timeToLive), ({ freshUntil, staleUntil }) => {
        this.l1.unsafeSetAt(key, value, this.l1Expiry(freshUntil), tags)
        return this.write(storeKey, exit, freshUntil, staleUntil, since, undefined, tags)
      })
    })
  }

  peek(key: MapKey): Effect.Effect<Option.Option<unknown>> {
    return Effect.suspend(() => {
      if (this.context.runtime.closed) return this.l1.closedExit()
      const local = this.l1.unsafePeek(key)
      if (Option.isSome(local)) return Effect.succeed(local)
      return Effect.map(this.read(toStoreKey(key)), (found) => {
        if (Option.isNone(found)) return NONE
        const entry = found.value
        return entry.exit._tag === "Success" && this.now() < entry.staleUntil ? Option.some(entry.exit.value) : NONE
      })
    })
  }

  invalidate(key: MapKey): Effect.Effect<boolean> {
    return Effect.suspend(() => {
      if (this.context.runtime.closed) return this.l1.closedExit()
      const storeKey = toStoreKey(key)
      // Fences the writes of lookups that started before now, in every process.
      const fence = { version: this.now(), window: this.fenceWindow }
      this.cancelWriters(storeKey)
      const local = this.l1.unsafeInvalidate(key)
      return this.attempt(this.context.store.delete(this.name, storeKey, fence), "delete", false).pipe(
        Effect.zipLeft(this.publish({ kind: "delete", namespace: this.name, key: storeKey, origin: this.context.id })),
        Effect.map((remote) => local || remote)
      )
    })
  }

  readonly invalidateAll: Effect.Effect<void> = Effect.suspend(() => {
    if (this.context.runtime.closed) return this.l1.closedExit()
    for (const writers of this.writers.values()) for (const writer of writers) writer.cancelled = true
    this.l1.unsafeInvalidateAll()
    return this.attempt(this.context.store.clear(this.name), "clear", undefined).pipe(
      Effect.zipRight(this.publish({ kind: "clear", namespace: this.name, origin: this.context.id }))
    )
  })

  readonly stats: Effect.Effect<CacheStats> = Effect.sync(() => this.l1.unsafeStats())

  unsafeStats(): CacheStats {
    return this.l1.unsafeStats()
  }

  close(): void {
    this.l1.close()
  }

  /** Drops the entries that carry one of `tags` from the first tier. */
  unsafeInvalidateTags(tags: ReadonlyArray<string>): void {
    this.l1.unsafeInvalidateTags(tags)
  }

  /** Another process (or this one) changed the shared cache. */
  onEvent(event: StoreEvent): void {
    const foreign = event.origin !== this.context.id
    if (event.kind === "clear" || event.kind === "reset" || event.key === undefined) {
      if (foreign) {
        for (const writers of this.writers.values()) for (const writer of writers) writer.cancelled = true
        this.l1.unsafeInvalidateAll()
      }
      for (const key of Array.from(this.waiters.keys())) this.wake(key)
      return
    }
    if (foreign) {
      // A newer value was written, or the key invalidated, elsewhere: this process's copy goes.
      if (event.kind === "delete") this.cancelWriters(event.key)
      try {
        this.l1.unsafeInvalidate(fromStoreKey(event.key))
      } catch {
        // Not a key this cache wrote (a malformed event): nothing of ours to drop.
      }
    }
    this.wake(event.key)
  }

  // ---------------------------------------------------------------------------------------------
  // Loads

  /**
   * An L1 miss: this caller reads the store on its own fiber (no fiber of the flight's, no hop
   * through the scheduler to join it) while the callers of the same key join the flight. A usable
   * entry settles the flight; a missing one starts the lookup in the flight's own fiber, which
   * outlives this caller if others wait. A caller interrupted during the read hands the load over
   * to those who joined (or drops the flight if none did). The caller is counted once its outcome
   * is known: a hit or stale hit from the store, or (in `loadMissing`) a miss or a caller served
   * by another process's load.
   */
  private loadClaimed(
    flight: Flight,
    key: MapKey,
    lookup: Lookup,
    args: ReadonlyArray<unknown>
  ): Effect.Effect<unknown, unknown> {
    const storeKey = toStoreKey(key)
    const writer = this.addWriter(storeKey)
    // (`Effect.exit` and one continuation rather than `matchCauseEffect`'s two.)
    return Effect.uninterruptibleMask((restore) => {
      // The first tier's copy is as old as this read: it lives `l1.timeToLive` from its start.
      const readAt = this.now()
      return Effect.flatMap(Effect.exit(restore(this.read(storeKey))), (read) => {
        if (read._tag === "Failure") {
          this.removeWriter(storeKey, writer)
          // Interrupted: whoever joined meanwhile loads without this caller, and what that load
          // finds is this caller's outcome too; with nobody to hand over to, a call the cache did
          // not serve (a miss). Otherwise a defect (`read` fails in no other way), which every
          // caller gets, as from a failed load.
          if (!Cause.isInterruptedOnly(read.cause)) {
            this.counters.miss()
            flight.settle(read)
          } else {
            if (flight.waiters <= 1) this.counters.miss()
            this.l1.handOver(flight, this.throughStore, [key, lookup, args])
          }
          return read
        }
        const found = read.value
        if (Option.isSome(found)) {
          const entry = found.value
          const now = this.now()
          if (now < entry.freshUntil) {
            this.removeWriter(storeKey, writer)
            this.counters.hit()
            flight.settle(Exit.succeed(this.own(entry, readAt)))
            return entry.exit
          }
          if (entry.exit._tag === "Success" && now < entry.staleUntil) {
            this.removeWriter(storeKey, writer)
            this.counters.staleHit()
            flight.settle(Exit.succeed(this.own(entry, readAt)))
            return Effect.as(this.refreshInBackground(key, storeKey, lookup, args), entry.exit.value)
          }
        }
        const load = Effect.ensuring(
          this.loadMissing(storeKey, lookup, args, writer, false, true),
          Effect.sync(() => this.removeWriter(storeKey, writer))
        )
        this.l1.start(flight, () => load, NO_ARGS)
        // No fiber: the layer had closed, and the flight failed without running `load`.
        if (flight.fiber === undefined && flight.exit !== undefined) this.removeWriter(storeKey, writer)
        return restore(flight.waitClaimed())
      })
    })
  }

  /** The L1's lookup on a get whose caller left its load to others: read the store, load on a miss. */
  private readonly throughStore =
    ((key: MapKey, lookup: Lookup, args: ReadonlyArray<unknown>) => this.load(key, lookup, args)) as unknown as Lookup

  /** The L1's lookup on an explicit refresh: run the lookup now and write its result. */
  private readonly runNow = ((key: MapKey, lookup: Lookup, args: ReadonlyArray<unknown>) =>
    Effect.suspend(() => {
      const storeKey = toStoreKey(key)
      const writer = this.addWriter(storeKey)
      return this.runAndWrite(storeKey, lookup, args, writer, false, false).pipe(
        Effect.ensuring(Effect.sync(() => this.removeWriter(storeKey, writer)))
      )
    })) as unknown as Lookup

  private load(key: MapKey, lookup: Lookup, args: ReadonlyArray<unknown>): Effect.Effect<unknown, unknown> {
    return Effect.suspend(() => {
      const storeKey = toStoreKey(key)
      const writer = this.addWriter(storeKey)
      const readAt = this.now()
      return Effect.flatMap(this.read(storeKey), (found) => {
        if (Option.isSome(found)) {
          const entry = found.value
          const now = this.now()
          // The outcome of the caller that handed this load over (those who joined were counted
          // when they joined).
          if (now < entry.freshUntil) {
            this.counters.hit()
            return Effect.succeed(this.own(entry, readAt))
          }
          if (entry.exit._tag === "Success" && now < entry.staleUntil) {
            this.counters.staleHit()
            return Effect.as(this.refreshInBackground(key, storeKey, lookup, args), this.own(entry, readAt))
          }
        }
        return this.loadMissing(storeKey, lookup, args, writer, false, true)
      }).pipe(Effect.ensuring(Effect.sync(() => this.removeWriter(storeKey, writer))))
    })
  }

  /**
   * Nothing usable in the store: with coordination, one process (the lock's holder) runs the
   * lookup while the others wait for its result; without, this process runs it. `countsCaller`:
   * the claiming caller's outcome is decided here (a miss when the lookup runs here, a caller
   * served by another process's load otherwise).
   */
  private loadMissing(
    storeKey: string,
    lookup: Lookup,
    args: ReadonlyArray<unknown>,
    writer: Writer,
    refresh: boolean,
    countsCaller: boolean
  ): Effect.Effect<unknown, unknown> {
    const coordination = this.context.coordination
    const run = (state?: { published: boolean }) => {
      if (countsCaller) this.counters.miss()
      return this.runAndWrite(storeKey, lookup, args, writer, refresh, !refresh, state)
    }
    if (coordination === undefined) return run()
    const { id, lockTimeout } = this.context
    // Each load its own owner: a request asked twice is this load's, never another's of the key.
    const owner = `${id}#${++lockRequests}`
    // Listening before trying the lock: the holder's event cannot slip between the two.
    const waiter = this.listen(storeKey)
    return Effect.flatMap(this.lock(coordination, storeKey, owner, lockTimeout), (acquired) => {
      if (acquired !== false) {
        this.unlisten(storeKey, waiter)
        // Holding the lock (or the store cannot say): run the lookup. Waiters elsewhere are woken
        // by the `set`, or by a `delete` when there is nothing to share (a failure, interrupted).
        const state = { published: false }
        if (acquired === undefined) return run(state)
        // The previous holder may have written the entry and released the lock between this
        // load's read and its lock: read again, and run the lookup only if it is still missing.
        const locked = Effect.flatMap(this.readFresh(storeKey), (ready) => {
          if (Option.isNone(ready)) return run(state)
          state.published = true // its writer told the others
          if (countsCaller) this.counters.joined()
          return Effect.succeed(ready.value)
        })
        return locked.pipe(Effect.ensuring(
          this.attempt(coordination.release(this.name, storeKey, owner), "release", undefined).pipe(
            Effect.zipRight(Effect.suspend(() =>
              state.published
                ? Effect.void
                : this.publish({ kind: "delete", namespace: this.name, key: storeKey, origin: id })
            ))
          )
        ))
      }
      // Another process is loading: take its result from the store once it says so (or the lock
      // lapses); run the lookup here only if it never comes.
      return this.readFresh(storeKey).pipe(
        Effect.flatMap((ready) =>
          Option.isSome(ready)
            ? Effect.succeed(ready)
            : Effect.zipRight(this.wait(waiter, lockTimeout), this.readFresh(storeKey))
        ),
        Effect.ensuring(Effect.sync(() => this.unlisten(storeKey, waiter))),
        Effect.flatMap((ready) => {
          if (Option.isNone(ready)) return run()
          if (countsCaller) this.counters.joined()
          return Effect.succeed(ready.value)
        })
      )
    })
  }

  /**
   * Asks for the lock of a key. A request that fails may still have taken it (a timeout: Redis
   * did it, the answer was lost), so it is asked once more: the lock is re-entrant for its owner,
   * so that answer says whether this load holds it, and a lost answer never makes a second
   * lookup beside the real holder's. `undefined`: the store does not answer; run without it.
   */
  private lock(
    coordination: Coordination,
    storeKey: string,
    owner: string,
    lockTimeout: number
  ): Effect.Effect<boolean | undefined> {
    const request = this.attempt(coordination.acquire(this.name, storeKey, owner, lockTimeout), "acquire", undefined)
    return Effect.flatMap(request, (acquired) => acquired === undefined ? request : Effect.succeed(acquired))
  }

  /** The first tier's copy of the store's entry of a key, if that is fresh now. */
  private readFresh(storeKey: string): Effect.Effect<Option.Option<LookupResult>> {
    return Effect.suspend(() => {
      const readAt = this.now()
      return Effect.map(
        this.read(storeKey),
        (found) =>
          Option.isSome(found) && this.now() < found.value.freshUntil
            ? Option.some(this.own(found.value, readAt))
            : NONE
      )
    })
  }

  /**
   * Runs the lookup and writes what the policy keeps (a value; a typed failure that `cacheErrors`
   * caches, unless this is a refresh: a failed refresh keeps the stale value). Returns the result
   * for the L1 with its own expiry, or the failure as it is. `countsLoad`: a blocking load, counted
   * when it ends.
   */
  private runAndWrite(
    storeKey: string,
    lookup: Lookup,
    args: ReadonlyArray<unknown>,
    writer: Writer,
    refresh: boolean,
    countsLoad: boolean,
    state?: { published: boolean }
  ): Effect.Effect<unknown, unknown> {
    return Effect.suspend(() => {
      // An invalidation of one of the result's tags at or after this moment voids the entry.
      const since = this.now()
      // (The first tier keeps the result `l1.timeToLive` from this moment: it is as old as that.)
      return Effect.flatMap(Effect.exit(lookupEffect(lookup, args) as Effect.Effect<unknown, unknown>), (result) => {
        let exit: AnyExit = result
        let freshUntil: number | undefined
        let tags: ReadonlyArray<string> | undefined
        if (exit._tag === "Success" && exit.value instanceof LookupResult) {
          // A lookup that sets its own expiry (`RequestCache.get` with a time to live), or tags.
          const said = exit.value
          if (said.ownExpiry) freshUntil = said.expiresAt(this.now())
          tags = said.tags
          exit = said.exit
        }
        if (countsLoad) this.counters.loaded(exit)
        if (freshUntil === undefined && retention(this.policy, exit, refresh) === undefined) return exit
        return Effect.flatMap(this.freshness(exit, undefined, freshUntil), ({ freshUntil, staleUntil }) => {
          const own = LookupResult.at(exit, this.l1Expiry(freshUntil, since), tags)
          if (writer.cancelled) return Effect.succeed(own)
          return Effect.as(this.write(storeKey, exit, freshUntil, staleUntil, since, state, tags), own)
        })
      })
    })
  }

  /** One refresh per key in this process (and, under the lock, in the cluster), in the cache's scope. */
  private refreshInBackground(
    key: MapKey,
    storeKey: string,
    lookup: Lookup,
    args: ReadonlyArray<unknown>
  ): Effect.Effect<void> {
    if (this.refreshing.has(storeKey) || this.context.runtime.closed) return Effect.void
    this.refreshing.add(storeKey)
    const writer = this.addWriter(storeKey)
    const load = tracedOnFiber(this.loadMissing(storeKey, lookup, args, writer, true, false), this.name, "refresh")
    const refresh = Effect.exit(Effect.interruptible(load)).pipe(
      Effect.flatMap((exit) =>
        Effect.sync(() => {
          this.counters.refreshed(exit)
          const own = exit._tag === "Success" ? exit.value : undefined
          if (!writer.cancelled && own instanceof LookupResult && own.exit._tag === "Success") {
            this.l1.unsafeSetAt(key, own.exit.value, own.expiresAt(this.now()), own.tags)
          }
        })
      ),
      Effect.ensuring(Effect.sync(() => {
        this.refreshing.delete(storeKey)
        this.removeWriter(storeKey, writer)
      }))
    )
    // Forked from the caller's fiber (or the L1's load fiber), so the refresh has the caller's
    // context; the cache's scope owns it, so it outlives that fiber and ends with the cache. Forked
    // uninterruptible, so that the cleanup above is in place before an interruption can land;
    // the refresh itself is interruptible.
    return Effect.asVoid(Effect.uninterruptible(Effect.forkIn(refresh, this.context.scope)))
  }

  // ---------------------------------------------------------------------------------------------
  // The store, with every fault caught

  private read(storeKey: string): Effect.Effect<Option.Option<StoredEntry>> {
    return Effect.flatMap(
      this.attempt(this.context.store.get(this.name, storeKey), "get", NONE),
      (found) => {
        if (Option.isNone(found)) return Effect.succeed(NONE)
        const decoded = this.codec.decode(found.value)
        if (Either.isLeft(decoded)) {
          // Treated as a miss; the next write replaces it.
          return Effect.as(this.storeError("decode", `the entry of key ${storeKey} ${decoded.left}`), NONE)
        }
        const entry = decoded.right
        return entry.tags === undefined ? Effect.succeed(Option.some(entry)) : this.unlessTagInvalidated(entry)
      }
    )
  }

  /**
   * A tagged entry read from the store, unless one of its tags was invalidated (anywhere in the
   * cluster) at or after its lookup started: then a miss. One read of each tag's invalidation
   * time, concurrently; a tag whose time cannot be read voids the entry too (the safe answer).
   */
  private unlessTagInvalidated(entry: StoredEntry): Effect.Effect<Option.Option<StoredEntry>> {
    const since = entry.since!
    return Effect.map(
      Effect.forEach(
        entry.tags!,
        (tag) => this.attempt(this.context.store.get(TAG_NAMESPACE, tag), "get a tag", undefined),
        { concurrency: "unbounded" }
      ),
      (times) =>
        times.every((time) => time !== undefined && (Option.isNone(time) || Number(time.value) < since))
          ? Option.some(entry)
          : NONE
    )
  }

  /**
   * Writes an entry whose value was made at `since` (its lookup's start, or the `set`), fenced by
   * that time: the store refuses it if another process set or invalidated the key later (its
   * event may come after this write, or never; this write may reach the store late).
   */
  private write(
    storeKey: string,
    exit: AnyExit,
    freshUntil: number,
    staleUntil: number,
    since: number,
    state?: { published: boolean },
    tags?: ReadonlyArray<string>
  ): Effect.Effect<void> {
    return Effect.suspend(() => {
      // Older than the versions the store remembers: a set or invalidation made since could no
      // longer fence it, so it is not written (the safe side: a later read misses).
      if (this.now() - since > this.fenceWindow) return Effect.void
      const encoded = this.codec.encode(
        exit,
        freshUntil,
        staleUntil,
        tags === undefined ? undefined : { tags, since }
      )
      if (Either.isLeft(encoded)) {
        // A typed failure outside the failure schema stays in this process's memory; a value
        // that does not encode is a mistake worth a warning.
        return exit._tag === "Success" ? this.storeError("encode", encoded.left) : Effect.void
      }
      // Whole milliseconds: Redis's PX takes an integer.
      const timeToLive = staleUntil === Infinity ? Infinity : Math.ceil(staleUntil - this.now())
      if (timeToLive <= 0) return Effect.void
      const fence = { version: since, window: this.fenceWindow }
      return this.attempt(this.context.store.set(this.name, storeKey, encoded.right, timeToLive, fence), "set", false)
        .pipe(
          Effect.flatMap((written) => {
            if (written === false) return Effect.void
            if (state !== undefined) state.published = true
            return this.publish({ kind: "set", namespace: this.name, key: storeKey, origin: this.context.id })
          })
        )
    })
  }

  private publish(event: StoreEvent): Effect.Effect<void> {
    const coordination = this.context.coordination
    return coordination === undefined ? Effect.void : this.attempt(coordination.publish(event), "publish", undefined)
  }

  /** A store command whose failure (or defect) is logged and counted, and gives `fallback`. */
  private attempt<A, F>(effect: Effect.Effect<A, unknown>, operation: string, fallback: F): Effect.Effect<A | F> {
    return Effect.catchAllCause(effect, (cause) => {
      if (Cause.isInterruptedOnly(cause)) return Effect.failCause(cause) as Effect.Effect<never>
      const failure = Cause.squash(cause)
      const reason = failure instanceof Error ? failure.message : String(failure)
      return Effect.as(this.storeError(operation, reason), fallback)
    })
  }

  private storeError(operation: string, reason: string): Effect.Effect<void> {
    this.counters.storeError()
    const now = this.now()
    if (now - this.lastWarning < WARNING_INTERVAL) {
      this.suppressed++
      return Effect.void
    }
    const more = this.suppressed > 0 ? ` (and ${this.suppressed} more store errors since the last warning)` : ""
    this.lastWarning = now
    this.suppressed = 0
    return Effect.logWarning(
      `RequestCache: store ${this.context.store.name}, namespace "${this.name}": ${operation} failed: ${reason}; ` +
        `serving from memory or running the lookup instead${more}`
    )
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers

  private now(): number {
    return this.context.runtime.clock.unsafeCurrentTimeMillis()
  }

  /**
   * How long the L1 keeps an entry fresh until `freshUntil` in the store: capped by its time to
   * live, counted `from` when its value was read or made (a lookup's start).
   */
  private l1Expiry(freshUntil: number, from = this.now()): number {
    return Math.min(freshUntil, from + this.context.l1TimeToLive)
  }

  /**
   * The L1's copy of a store entry read at `readAt` (the read's start: however long the read took,
   * the copy is no older than the store's entry then): the store's expiry, capped by the L1's time
   * to live from then.
   */
  private own(entry: StoredEntry, readAt: number): LookupResult {
    return LookupResult.at(entry.exit, this.l1Expiry(entry.freshUntil, readAt), entry.tags)
  }

  /**
   * When a new entry stops being fresh and leaves its stale window, by the policy (`timeToLive`:
   * milliseconds overriding the policy's; `freshUntil`: the lookup's own expiry).
   */
  private freshness(
    exit: AnyExit,
    timeToLive: number | undefined,
    freshUntil?: number
  ): Effect.Effect<{ readonly freshUntil: number; readonly staleUntil: number }> {
    const policy = this.policy
    const failure = exit._tag === "Failure"
    const build = (draw: number) => {
      const now = this.now()
      const ttl = timeToLive ?? (freshUntil === undefined ? timeToLiveOf(policy, exit) : 0)
      const fresh = freshUntil ?? (ttl === Infinity ? Infinity : now + ttl + draw * policy.jitter)
      return { freshUntil: fresh, staleUntil: failure ? fresh : fresh + policy.staleWhileRevalidate }
    }
    return policy.jitter > 0 && timeToLive === undefined && freshUntil === undefined
      ? Effect.map(this.context.runtime.random.next, build)
      : Effect.sync(() => build(0))
  }

  private addWriter(storeKey: string): Writer {
    const writer: Writer = { cancelled: false }
    let writers = this.writers.get(storeKey)
    if (writers === undefined) this.writers.set(storeKey, writers = new Set())
    writers.add(writer)
    return writer
  }

  private removeWriter(storeKey: string, writer: Writer): void {
    const writers = this.writers.get(storeKey)
    if (writers !== undefined && writers.delete(writer) && writers.size === 0) this.writers.delete(storeKey)
  }

  /** A write or invalidation of a key wins over the lookups of it still in flight. */
  private cancelWriters(storeKey: string): void {
    const writers = this.writers.get(storeKey)
    if (writers !== undefined) { for (const writer of writers) writer.cancelled = true }
  }

  private listen(storeKey: string): Waiter {
    const waiter: Waiter = { fired: false, resume: undefined }
    let waiters = this.waiters.get(storeKey)
    if (waiters === undefined) this.waiters.set(storeKey, waiters = new Set())
    waiters.add(waiter)
    return waiter
  }

  private unlisten(storeKey: string, waiter: Waiter): void {
    const waiters = this.waiters.get(storeKey)
    if (waiters !== undefined && waiters.delete(waiter) && waiters.size === 0) this.waiters.delete(storeKey)
  }

  private wake(storeKey: string): void {
    const waiters = this.waiters.get(storeKey)
    if (waiters === undefined) return
    this.waiters.delete(storeKey)
    for (const waiter of waiters) {
      waiter.fired = true
      waiter.resume?.()
    }
  }

  /** Waits until the waiter is woken, at most `timeout` ms. */
  private wait(waiter: Waiter, timeout: number): Effect.Effect<void> {
    const woken = Effect.async<void>((resume) => {
      if (waiter.fired) return resume(Effect.void)
      waiter.resume = () => resume(Effect.void)
      return Effect.sync(() => {
        waiter.resume = undefined
      })
    })
    return Effect.asVoid(Effect.timeoutOption(woken, timeout))
  }
}

/**
 * A tag invalidation through a shared store: each tag's invalidation time raised in the store
 * (the later time wins, so invalidations commute), then an event per tag (a `delete` of the tag
 * in the tags' namespace) so that every process drops its first-tier entries that carry it. A
 * store that does not answer keeps it in the outbox. Answers whether the store took every tag.
 */
export const invalidateTagsInStore = (
  store: StoreService,
  coordination: Coordination | undefined,
  origin: string,
  now: number,
  tags: ReadonlyArray<string>
): Effect.Effect<boolean> =>
  Effect.forEach(
    tags,
    (tag) =>
      raiseIn(store, TAG_NAMESPACE, tag, now).pipe(
        Effect.zipRight(
          coordination === undefined
            ? Effect.void
            : coordination.publish({ kind: "delete", namespace: TAG_NAMESPACE, key: tag, origin })
        ),
        Effect.as(true),
        Effect.catchAllCause((cause) =>
          Cause.isInterruptedOnly(cause) ? Effect.failCause(cause as Cause.Cause<never>) : Effect.succeed(false)
        )
      ),
    { concurrency: "unbounded" }
  ).pipe(Effect.map((done) => done.every((ok) => ok)))
