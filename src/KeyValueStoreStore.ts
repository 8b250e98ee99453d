/**
 * A `CacheStore` on any `@effect/platform` `KeyValueStore`: `layerFileSystem` (a persistent cache
 * on local disk, no server), `layerMemory`, browser storage... Entries keep their expiry, stale
 * window and cached failures in the cache's own encoding; the store removes an expired entry when
 * it reads it back (a `KeyValueStore` cannot expire anything by itself).
 *
 * A `KeyValueStore` cannot list its keys, so `invalidateAll` starts a new generation of the
 * namespace: its old entries are no longer found, but stay in the `KeyValueStore` until it is
 * cleared (give the cache a store, or a directory, of its own). It has no locks nor events
 * either: processes sharing one directory share its entries, but each runs its own lookups and
 * learns of the others' invalidations only when its first tier expires (`l1.timeToLive`).
 *
 * @since 0.1.0
 */
import type * as KeyValueStore from "@effect/platform/KeyValueStore"
import type * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import type { CacheStore, Service } from "./CacheStore.js"
import * as internal from "./internal/keyValueStoreStore.js"

/**
 * The options of {@link layer}: `prefix` starts every key the cache writes (default
 * `"effect-request-cache/"`), so that several caches, or other data, can share one store.
 *
 * @example
 * ```ts
 * import type { KeyValueStoreStore } from "effect-request-cache"
 *
 * const options: KeyValueStoreStore.Options = { prefix: "my-app/cache/" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly prefix?: string | undefined
}

/**
 * The cache's store on the `KeyValueStore` provided.
 *
 * @example
 * ```ts
 * import { KeyValueStore } from "@effect/platform"
 * import { NodeContext } from "@effect/platform-node"
 * import { Effect, Layer, Schema } from "effect"
 * import { KeyValueStoreStore, RequestCache } from "effect-request-cache"
 *
 * // A cache on local disk that survives restarts.
 * const CacheLive = RequestCache.layerStore({ timeToLive: "1 hour" }).pipe(
 *   Layer.provide(KeyValueStoreStore.layer({ prefix: "prices/" })),
 *   Layer.provide(KeyValueStore.layerFileSystem(".cache")),
 *   Layer.provide(NodeContext.layer)
 * )
 *
 * const getPrice = RequestCache.cached({
 *   name: "prices",
 *   lookup: (symbol: string) => Effect.succeed(100 + symbol.length),
 *   schema: { success: Schema.Number }
 * })
 * const program = getPrice("AAPL").pipe(Effect.provide(CacheLive))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: (options?: Options) => Layer.Layer<CacheStore, never, KeyValueStore.KeyValueStore> = internal.layer

/**
 * Makes the store service from the `KeyValueStore` in the context, for composing by hand.
 *
 * @example
 * ```ts
 * import { KeyValueStore } from "@effect/platform"
 * import { Effect } from "effect"
 * import { KeyValueStoreStore } from "effect-request-cache"
 *
 * const store = KeyValueStoreStore.make().pipe(Effect.provide(KeyValueStore.layerMemory))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (options?: Options) => Effect.Effect<Service, never, KeyValueStore.KeyValueStore> = internal.make
