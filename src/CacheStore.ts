/**
 * The seam between the cache's policy and where entries are kept. The in-memory LRU is the
 * default and needs no store; a remote store (Redis, an `@effect/platform` `KeyValueStore`)
 * implements this interface, and `RequestCache.layerStore` builds the cache on whichever
 * `CacheStore` is provided.
 *
 * A store moves opaque strings: the cache encodes each entry (its value or typed failure, with
 * the `Schema` of its namespace, and its freshness) and decodes what it reads back, so every
 * store keeps expiry, stale-while-revalidate windows and cached failures the same way.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import type * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as internalMemory from "./internal/memoryStore.js"

/**
 * A store command that failed: the connection is down, the command timed out, the store
 * answered something unexpected. The cache never passes it to a caller: it logs it, counts it
 * (`storeErrors` in the stats) and runs the lookup instead.
 *
 * @example
 * ```ts
 * import { CacheStore } from "effect-request-cache"
 *
 * const error = new CacheStore.CacheStoreError({ operation: "get", reason: "timed out after 50 ms" })
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class CacheStoreError extends Data.TaggedError("CacheStoreError")<{
  /** The store operation, e.g. `get`, `set`, `acquire`. */
  readonly operation: string
  readonly reason: string
  readonly cause?: unknown
}> {
  override get message(): string {
    return `Cache store ${this.operation} failed: ${this.reason}`
  }
}

/**
 * A change of the shared cache, told to every process that shares it, so that each drops the
 * key from its in-memory first tier (and wakes the callers waiting for another process's load).
 *
 * - `set`: a new entry was written under `key`.
 * - `delete`: `key` was invalidated.
 * - `clear`: every key of `namespace` was invalidated (`key` is absent).
 * - `reset`: this process's subscription was lost and is made again, so it may have missed
 *   events: every namespace drops its first tier (`namespace` and `origin` are `""`). A store
 *   gives it to its own subscribers; it is never published.
 *
 * @example
 * ```ts
 * import type { CacheStore } from "effect-request-cache"
 *
 * const event: CacheStore.StoreEvent = { kind: "delete", namespace: "users", key: "n1", origin: "process-a" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface StoreEvent {
  readonly kind: "set" | "delete" | "clear" | "reset"
  readonly namespace: string
  readonly key?: string | undefined
  /** The id of the process (of the cache instance) that made the change. */
  readonly origin: string
}

/**
 * What a store shared by several processes adds: a lock per key, so that one process runs a
 * lookup while the others wait for its result, and events, so that every process hears of
 * writes and invalidations.
 *
 * @example
 * ```ts
 * import type { CacheStore } from "effect-request-cache"
 *
 * type Shared = CacheStore.Coordination
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Coordination {
  /**
   * Takes the lock of `key` for `owner` unless another owner holds it; it lapses after
   * `timeToLive` ms. Answers `true` when `owner` already holds it (and renews it), so that an
   * owner whose request timed out can ask again and learn whether its first request took it.
   */
  readonly acquire: (
    namespace: string,
    key: string,
    owner: string,
    timeToLive: number
  ) => Effect.Effect<boolean, CacheStoreError>
  /** Releases the lock of `key` if `owner` still holds it. */
  readonly release: (namespace: string, key: string, owner: string) => Effect.Effect<void, CacheStoreError>
  /** Tells every subscribed process, this one included, of a change. */
  readonly publish: (event: StoreEvent) => Effect.Effect<void, CacheStoreError>
  /**
   * Calls `onEvent` for every event published from now until the scope closes (the
   * subscription is made before the effect succeeds), and with a `reset` event each time the
   * subscription is made again after it was lost.
   */
  readonly subscribe: (
    onEvent: (event: StoreEvent) => void
  ) => Effect.Effect<void, CacheStoreError, Scope.Scope>
}

/**
 * When a write's value was made (a lookup's start, a `set`) or an invalidation was made, so that a
 * store shared by processes can refuse a write that lands after a later set or invalidation of
 * its key: a lookup that started before another process invalidated the key, or a command that
 * reached the store after the cache had given up on it. The store keeps each key's latest
 * `version` (of its writes and deletions) for `window` ms and skips a `set` whose version is
 * older (an equal one is applied); a `delete` always deletes. A store without coordination may
 * ignore fences: one process's own invalidations win over its loads without them.
 *
 * @example
 * ```ts
 * import type { CacheStore } from "effect-request-cache"
 *
 * // A lookup that started at 1,700,000,000,000 ms; remembered for a minute.
 * const fence: CacheStore.Fence = { version: 1_700_000_000_000, window: 60_000 }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Fence {
  /** Milliseconds, by the cache's `Clock`. */
  readonly version: number
  /** How long the store remembers the version, ms. */
  readonly window: number
}

/**
 * What a backend implements. Keys are namespaced by the store (`prefix:namespace:key` in
 * Redis); `entry` is the cache's encoding of one entry.
 *
 * @example
 * ```ts
 * import { Effect, Option } from "effect"
 * import { CacheStore } from "effect-request-cache"
 *
 * // A store on a plain Map (no expiry, one process): the shape of every store.
 * const entries = new Map<string, string>()
 * const store: CacheStore.Service = {
 *   name: "map",
 *   get: (namespace, key) => Effect.sync(() => Option.fromNullable(entries.get(`${namespace}:${key}`))),
 *   set: (namespace, key, entry) => Effect.sync(() => void entries.set(`${namespace}:${key}`, entry)),
 *   delete: (namespace, key) => Effect.sync(() => entries.delete(`${namespace}:${key}`)),
 *   clear: (namespace) =>
 *     Effect.sync(() => {
 *       for (const key of entries.keys()) if (key.startsWith(`${namespace}:`)) entries.delete(key)
 *     })
 * }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** For logs and errors: `redis`, `key-value-store`. */
  readonly name: string
  /** The entry under `key` of `namespace`, if there is one. */
  readonly get: (namespace: string, key: string) => Effect.Effect<Option.Option<string>, CacheStoreError>
  /**
   * Writes `entry`; the store drops it after `timeToLive` ms (`Infinity`: never). With a `fence`,
   * not if the store holds a later version of the key (see `Fence`).
   */
  readonly set: (
    namespace: string,
    key: string,
    entry: string,
    timeToLive: number,
    fence?: Fence
  ) => Effect.Effect<void, CacheStoreError>
  /**
   * Removes the entry of `key`; answers whether there was one. With a `fence`, the store also
   * remembers its version, so that older writes landing later are refused.
   */
  readonly delete: (namespace: string, key: string, fence?: Fence) => Effect.Effect<boolean, CacheStoreError>
  /** Removes every entry of `namespace`. */
  readonly clear: (namespace: string) => Effect.Effect<void, CacheStoreError>
  /**
   * Stores the time `time` (milliseconds) under `key` unless a later time is there, never to
   * expire, atomically: how a tag's invalidation time is kept (two processes invalidating one
   * tag at once leave the later time). Optional: without it the cache reads and then writes,
   * which a concurrent invalidation of the same tag can interleave with.
   */
  readonly raise?: ((namespace: string, key: string, time: number) => Effect.Effect<void, CacheStoreError>) | undefined
  /** Present when several processes share the store (Redis). */
  readonly coordination?: Coordination | undefined
}

/**
 * The store service, provided by a store's layer (`RedisStore.layer`, `KeyValueStoreStore.layer`)
 * to `RequestCache.layerStore`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { CacheStore } from "effect-request-cache"
 *
 * const name = Effect.map(CacheStore.CacheStore, (store) => store.name)
 * ```
 *
 * @since 0.1.0
 * @category tags
 */
export class CacheStore extends Context.Tag("effect-request-cache/CacheStore")<CacheStore, Service>() {}

/**
 * Makes a store in this process's memory that behaves like a shared one: entries with expiry
 * (by the `Clock`), a lock per key and events. Caches built on the same instance see each other's
 * entries, locks and invalidations, as processes sharing a Redis do: for tests of code that runs
 * on several processes, and of the two-tier cache itself.
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { CacheStore, RequestCache } from "effect-request-cache"
 *
 * const program = Effect.gen(function* () {
 *   const shared = Layer.succeed(CacheStore.CacheStore, yield* CacheStore.makeMemory)
 *   const processA = RequestCache.layerStore().pipe(Layer.provide(shared))
 *   const processB = RequestCache.layerStore().pipe(Layer.provide(shared))
 *   return { processA, processB }
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeMemory: Effect.Effect<Service> = internalMemory.makeMemory

/**
 * A store in this process's memory (see {@link makeMemory}), for tests of code that uses
 * `RequestCache.layerStore`.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { CacheStore, RequestCache } from "effect-request-cache"
 *
 * const CacheTest = RequestCache.layerStore({ timeToLive: "1 minute" }).pipe(Layer.provide(CacheStore.layerMemory))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory: Layer.Layer<CacheStore> = Layer.effect(CacheStore, internalMemory.makeMemory)
