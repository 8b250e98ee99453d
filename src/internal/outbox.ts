import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import type * as Scope from "effect/Scope"
import { CacheStoreError, type Coordination, type Fence, type Service, type StoreEvent } from "../CacheStore.js"
import { TAG_NAMESPACE } from "./tags.js"

/*
 * The outbox: invalidations that did not reach the store, kept until it answers, so that none is
 * forgotten. A store wrapper for any store (Redis, a KeyValueStore, one of the user's); the cache
 * puts one in front of its store, per cache instance.
 *
 * - What is kept: a failed `delete` or `clear`, and a failed `set` (an explicit `set`, or a
 *   lookup's write-back), each as the deletion of what the store holds for the key (or the
 *   namespace), and the events that were not published. A `set` is replayed as a deletion, not as
 *   the write: replayed late, the write could put back a value that another process invalidated
 *   meanwhile; a deletion only costs a miss. So every replayed command deletes: they commute, and
 *   replaying them twice, or in another order, leaves the store as once in order.
 * - One entry per key (or namespace), deduplicated; a namespace's entry covers its keys'.
 * - Replayed in the order they were made, each followed by its event (`delete` or `clear`, from
 *   this cache's id), so other processes drop their first tiers: when a command of the store
 *   succeeds again, when the store's subscription is back (a `reset`), and every `retryInterval`.
 * - Before a key with a pending invalidation is read (or written) again, that invalidation is
 *   replayed: the store's old entry is never served. If it cannot be, the command fails (a miss).
 * - Bounded: past `capacity` entries, the namespace with the most key entries is invalidated as a
 *   whole instead (its entries become one: nothing is forgotten, more is invalidated); only when
 *   every entry is a namespace's is the oldest dropped. Both are logged and counted
 *   (`request_cache_outbox_widened`, `request_cache_outbox_dropped`, tagged with the store).
 */

export interface OutboxOptions {
  /** The cache instance's id: the origin of the events the outbox replays. */
  readonly origin: string
  /** At most this many pending invalidations (keys or namespaces). */
  readonly capacity?: number | undefined
  /** Milliseconds between replays while something is pending. */
  readonly retryInterval?: number | undefined
}

const outboxDefaults = { capacity: 10_000, retryInterval: 1_000 } as const

/** One pending invalidation, of a key or (no key) of a whole namespace. */
class Pending {
  /** Every new record bumps it: a replay settles the entry only if none came meanwhile. */
  version = 0
  constructor(
    readonly namespace: string,
    readonly key: string | undefined,
    /** The store may still hold what was invalidated: delete it. Else only the event is owed. */
    public store: boolean,
    /** The event owed when only the event failed. */
    public kind: "set" | "delete" | "clear",
    /**
     * A tag's invalidation time to raise (`Service.raise`) instead of a deletion: replayed late it
     * is still right (the later time wins), and the tag's event (a `delete` of the tag) follows.
     */
    public time: number | undefined = undefined,
    /** The latest fence of the sets and invalidations it stands for: its deletion carries it. */
    public fence: Fence | undefined = undefined
  ) {}
}

/** The later of two fences (a deletion replayed late fences what its latest record fenced). */
const laterFence = (a: Fence | undefined, b: Fence | undefined): Fence | undefined =>
  a === undefined ? b : b === undefined ? a : {
    version: Math.max(a.version, b.version),
    window: Math.max(a.window, b.window)
  }

/** `Service.raise`, or, for a store without it, a read and a write of the later time. */
export const raiseIn = (
  store: Service,
  namespace: string,
  key: string,
  time: number
): Effect.Effect<void, CacheStoreError> =>
  store.raise !== undefined
    ? store.raise(namespace, key, time)
    : Effect.flatMap(store.get(namespace, key), (held) =>
      held._tag === "Some" && Number(held.value) >= time
        ? Effect.void
        : store.set(namespace, key, String(time), Infinity))

const keyId = (namespace: string, key: string) => `${namespace.length}:${namespace}:${key}`
const namespaceId = (namespace: string) => `${namespace.length}:${namespace}`

/** An outbox in front of `service`; what the cache uses instead of the store. */
export interface Outboxed {
  readonly service: Service
  /** Pending invalidations now. */
  readonly size: () => number
  /** Replays what is pending now; fails at the first command the store does not take. */
  readonly flush: Effect.Effect<void, CacheStoreError>
}

export const withOutbox = (service: Service, options: OutboxOptions): Effect.Effect<Outboxed, never, Scope.Scope> =>
  Effect.gen(function*() {
    const outbox = new Outbox(service, options)
    // Closing: the replay loop stops, then one last replay; what is left is lost, and said so.
    yield* Effect.addFinalizer(() => outbox.close)
    yield* Effect.forkScoped(outbox.loop)
    return { service: outbox.wrapped(), size: () => outbox.pending.size, flush: outbox.flushOnce }
  })

class Outbox {
  /** In the order recorded (a `Map` keeps insertion order; a record moves its entry last). */
  readonly pending = new Map<string, Pending>()
  /** Key entries per namespace, to widen the fullest one first. */
  private readonly keysOf = new Map<string, number>()
  private readonly capacity: number
  private readonly retryInterval: number
  private readonly widened: Metric.Metric.Counter<number>
  private readonly dropped: Metric.Metric.Counter<number>
  /** The replay loop's wake-up, while it waits. */
  private wake: (() => void) | undefined
  private idle = true
  private kicked = false

  constructor(readonly store: Service, readonly options: OutboxOptions) {
    this.capacity = options.capacity ?? outboxDefaults.capacity
    this.retryInterval = options.retryInterval ?? outboxDefaults.retryInterval
    this.widened = Metric.counter("request_cache_outbox_widened").pipe(Metric.tagged("store", store.name))
    this.dropped = Metric.counter("request_cache_outbox_dropped").pipe(Metric.tagged("store", store.name))
  }

  wrapped(): Service {
    const store = this.store
    const coordination = store.coordination
    return {
      name: store.name,
      get: (namespace, key) => {
        if (this.pending.size === 0) return store.get(namespace, key)
        const read = this.succeeded(store.get(namespace, key))
        return this.covered(namespace, key) ? Effect.zipRight(this.replayFor(namespace, key, "get"), read) : read
      },
      set: (namespace, key, entry, timeToLive, fence) => {
        const write = store.set(namespace, key, entry, timeToLive, fence)
        const first = this.pending.size === 0
          ? write
          : this.covered(namespace, key)
          ? Effect.zipRight(this.replayFor(namespace, key, "set"), write)
          : this.succeeded(write)
        return Effect.tapError(first, () => this.record(namespace, key, true, "delete", undefined, fence))
      },
      delete: (namespace, key, fence) =>
        Effect.tapError(
          this.succeeded(store.delete(namespace, key, fence)),
          () => this.record(namespace, key, true, "delete", undefined, fence)
        ),
      clear: (namespace) =>
        Effect.tapError(this.succeeded(store.clear(namespace)), () => this.record(namespace, undefined, true, "clear")),
      raise: (namespace, key, time) =>
        Effect.tapError(
          this.succeeded(raiseIn(store, namespace, key, time)),
          () => this.record(namespace, key, true, "delete", time)
        ),
      coordination: coordination === undefined ? undefined : {
        acquire: coordination.acquire,
        release: coordination.release,
        publish: (event) =>
          Effect.tapError(
            this.succeeded(coordination.publish(event)),
            () => event.kind === "reset" ? Effect.void : this.record(event.namespace, event.key, false, event.kind)
          ),
        // A subscription made again after a loss: the store answers again, replay now.
        subscribe: (onEvent) =>
          coordination.subscribe((event) => {
            if (event.kind === "reset") this.kick()
            onEvent(event)
          })
      } satisfies Coordination
    }
  }

  /** A command that succeeded while something is pending: the store answers, replay now. */
  private succeeded<A>(command: Effect.Effect<A, CacheStoreError>): Effect.Effect<A, CacheStoreError> {
    return this.pending.size === 0 ? command : Effect.tap(command, () => this.kick())
  }

  /** Whether the store may hold an entry of the key that this process invalidated. */
  private covered(namespace: string, key: string): boolean {
    return this.pending.get(keyId(namespace, key))?.store === true ||
      this.pending.get(namespaceId(namespace))?.store === true
  }

  /** Replays the invalidations that cover a key before the key is used again. */
  private replayFor(namespace: string, key: string, operation: string): Effect.Effect<void, CacheStoreError> {
    return Effect.suspend(() => {
      const covering = [this.pending.get(namespaceId(namespace)), this.pending.get(keyId(namespace, key))]
        .filter((item): item is Pending => item !== undefined && item.store)
      return Effect.forEach(covering, (item) => this.replay(item), { discard: true })
    }).pipe(Effect.mapError((error) =>
      new CacheStoreError({
        operation,
        reason: `an invalidation of this key waits to be replayed, and the store does not take it: ${error.reason}`,
        cause: error
      })
    ))
  }

  /** Keeps an invalidation (or its event) that did not reach the store. */
  private record(
    namespace: string,
    key: string | undefined,
    store: boolean,
    kind: "set" | "delete" | "clear",
    time?: number,
    fence?: Fence
  ): Effect.Effect<void> {
    return Effect.suspend(() => {
      const wasEmpty = this.pending.size === 0
      if (time !== undefined) this.put(keyId(namespace, key!), namespace, key, true, "delete", undefined, time)
      else this.note(namespace, key, store, kind, fence)
      const bounded = this.pending.size > this.capacity ? this.bound() : Effect.void
      if (!wasEmpty) return bounded
      this.wakeIdle()
      return Effect.zipRight(
        Effect.logWarning(
          `Cache store ${this.store.name}: an invalidation did not reach the store; it is kept and replayed ` +
            `when the store answers (reads of its key replay it first)`
        ),
        bounded
      )
    })
  }

  private note(
    namespace: string,
    key: string | undefined,
    store: boolean,
    kind: Pending["kind"],
    fence?: Fence
  ): void {
    if (key === undefined) {
      // The namespace's entry covers its keys' (all of them when it deletes; their events else).
      for (const [id, item] of this.pending) {
        if (item.namespace === namespace && item.key !== undefined && (store || !item.store)) this.remove(id, item)
      }
      this.put(namespaceId(namespace), namespace, undefined, store, "clear")
      return
    }
    const all = this.pending.get(namespaceId(namespace))
    if (all !== undefined && (all.store || !store)) return
    this.put(keyId(namespace, key), namespace, key, store, kind, fence)
  }

  /**
   * Records an entry, or makes the existing one of `id` the latest (a tag's invalidation `time`
   * kept at its latest). Keys are counted per namespace for `bound`, except the tags' times and
   * events: a clear of those would forget every tag's invalidation.
   */
  private put(
    id: string,
    namespace: string,
    key: string | undefined,
    store: boolean,
    kind: Pending["kind"],
    fence?: Fence,
    time?: number
  ): void {
    const existing = this.pending.get(id)
    if (existing !== undefined) {
      existing.version++
      existing.fence = laterFence(existing.fence, fence)
      if (time !== undefined) existing.time = Math.max(existing.time ?? time, time)
      if (store) existing.store = true
      else if (!existing.store) existing.kind = kind
      // The latest record is the latest in the order.
      this.pending.delete(id)
      this.pending.set(id, existing)
      return
    }
    this.pending.set(id, new Pending(namespace, key, store, kind, time, fence))
    if (key !== undefined && namespace !== TAG_NAMESPACE) {
      this.keysOf.set(namespace, (this.keysOf.get(namespace) ?? 0) + 1)
    }
  }

  private remove(id: string, item: Pending): void {
    if (!this.pending.delete(id) || item.key === undefined || item.namespace === TAG_NAMESPACE) return
    const left = (this.keysOf.get(item.namespace) ?? 1) - 1
    if (left === 0) this.keysOf.delete(item.namespace)
    else this.keysOf.set(item.namespace, left)
  }

  /** Over capacity: invalidate the fullest namespaces as a whole, or drop the oldest entries. */
  private bound(): Effect.Effect<void> {
    const logs: Array<Effect.Effect<void>> = []
    while (this.pending.size > this.capacity && this.keysOf.size > 0) {
      let fullest = ""
      let most = 0
      for (const [namespace, count] of this.keysOf) {
        if (count > most) {
          fullest = namespace
          most = count
        }
      }
      this.note(fullest, undefined, true, "clear")
      logs.push(
        Metric.incrementBy(this.widened, most),
        Effect.logWarning(
          `Cache store ${this.store.name}: the outbox is full (${this.capacity} pending invalidations); the ` +
            `${most} pending invalidations of keys of namespace "${fullest}" become one of the whole namespace`
        )
      )
    }
    while (this.pending.size > this.capacity) {
      const [id, oldest] = this.pending.entries().next().value!
      this.remove(id, oldest)
      logs.push(
        Metric.increment(this.dropped),
        Effect.logError(
          `Cache store ${this.store.name}: the outbox is full (${this.capacity} pending invalidations of whole ` +
            `namespaces); the oldest, of namespace "${oldest.namespace}", is dropped and will not be replayed`
        )
      )
    }
    return Effect.all(logs, { discard: true })
  }

  /** Replays one entry: its deletion, then its event. */
  private replay(item: Pending): Effect.Effect<void, CacheStoreError> {
    return Effect.suspend(() => {
      const { key, namespace } = item
      const version = item.version
      const id = key === undefined ? namespaceId(namespace) : keyId(namespace, key)
      const deletion = !item.store
        ? Effect.void
        : item.time !== undefined
        ? raiseIn(this.store, namespace, key!, item.time)
        : key === undefined
        ? this.store.clear(namespace)
        : Effect.asVoid(this.store.delete(namespace, key, item.fence))
      const kind = item.store ? (key === undefined ? "clear" : "delete") : item.kind
      const coordination = this.store.coordination
      const event: StoreEvent = { kind, namespace, key, origin: this.options.origin }
      return deletion.pipe(
        Effect.tap(() => {
          // Done in the store: only the event is owed now (unless it was invalidated again).
          if (item.version === version && item.store) {
            item.store = false
            item.kind = kind
          }
        }),
        Effect.zipRight(coordination === undefined ? Effect.void : coordination.publish(event)),
        Effect.tap(() => {
          if (item.version === version && this.pending.get(id) === item) this.remove(id, item)
        })
      )
    })
  }

  /** Replays every entry pending now, in order; stops at the first the store does not take. */
  readonly flushOnce: Effect.Effect<void, CacheStoreError> = Effect.suspend(() =>
    Effect.forEach(Array.from(this.pending.values()), (item) => this.replay(item), { discard: true })
  )

  /** The store answers again: replay now rather than at the next try. */
  private kick(): void {
    this.kicked = true
    const wake = this.wake
    this.wake = undefined
    wake?.()
  }

  /** Something was recorded: an idle loop starts counting to its first try. */
  private wakeIdle(): void {
    if (!this.idle) return
    const wake = this.wake
    this.wake = undefined
    wake?.()
  }

  /** Waits until `ready` holds (checked now, then on each wake-up), at most `millis` if given. */
  private nap(millis: number | undefined, ready: () => boolean): Effect.Effect<void> {
    const woken = Effect.async<void>((resume) => {
      if (ready()) {
        this.kicked = false
        return resume(Effect.void)
      }
      this.wake = () => {
        this.kicked = false
        resume(Effect.void)
      }
      return Effect.sync(() => {
        this.wake = undefined
      })
    })
    return millis === undefined ? woken : Effect.asVoid(Effect.timeoutOption(woken, millis))
  }

  private readonly kickedOrPending = () => this.kicked || this.pending.size > 0
  private readonly wasKicked = () => this.kicked

  /** Idle while nothing is pending; then a replay every `retryInterval`, or as soon as kicked. */
  readonly loop: Effect.Effect<never> = Effect.forever(Effect.suspend(() => {
    if (this.pending.size === 0) {
      this.idle = true
      return this.nap(undefined, this.kickedOrPending)
    }
    this.idle = false
    const before = this.pending.size
    return Effect.zipRight(
      this.nap(this.retryInterval, this.wasKicked),
      Effect.flatMap(Effect.either(this.flushOnce), (result) =>
        result._tag === "Right" && this.pending.size === 0
          ? Effect.logInfo(`Cache store ${this.store.name}: the store answers; ${before} kept invalidations replayed`)
          : Effect.void)
    )
  }))

  readonly close: Effect.Effect<void> = Effect.suspend(() => {
    if (this.pending.size === 0) return Effect.void
    return Effect.flatMap(Effect.either(this.flushOnce), () => {
      const left = this.pending.size
      if (left === 0) return Effect.void
      this.pending.clear()
      this.keysOf.clear()
      return Effect.zipRight(
        Metric.incrementBy(this.dropped, left),
        Effect.logError(
          `Cache store ${this.store.name}: closing with ${left} invalidations the store never took; ` +
            `its entries of those keys are served until they expire`
        )
      )
    })
  })
}
