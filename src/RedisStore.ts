/**
 * A `CacheStore` on Redis, through node-redis (`redis` 6.x, an optional peer dependency):
 * `import { RedisStore } from "effect-request-cache/redis"`. Give it to
 * `RequestCache.layerStore`, which keeps a small in-memory first tier in front of it.
 *
 * - Entries are kept under `prefix:namespace:key` and expire in Redis (`PX`) at the end of their
 *   stale window; locks under `prefix::lock:namespace:key`.
 * - Processes that share the prefix share the entries, take a lock per key so that one of them
 *   runs a lookup (`SET NX PX` with the owner's id, released by a script only by its owner), and
 *   hear each other's writes and invalidations on the channel `prefix:events`.
 * - Every command has a time limit, and a circuit breaker stops calling Redis for a while after
 *   repeated failures; the layer builds even when Redis is down, and the store is used again as
 *   soon as Redis is back. A failed command is a `CacheStoreError`, which the cache logs, counts
 *   and answers by running the lookup: Redis never fails a caller.
 * - `layerCluster` is the same store on a Redis Cluster: an entry and its lock share a hash slot
 *   (`prefix:{namespace:key}`), `invalidateAll` scans every master, and events go on a channel
 *   that every node carries.
 *
 * @since 0.1.0
 */
import type * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import type { CachePolicyError } from "./CachePolicy.js"
import type { CacheStore, Service } from "./CacheStore.js"
import * as internalCluster from "./internal/redisCluster.js"
import * as internal from "./internal/redisStore.js"

/**
 * The options of the Redis store. Only `prefix` is required.
 *
 * @example
 * ```ts
 * import type { RedisStore } from "effect-request-cache/redis"
 *
 * const options: RedisStore.Options = {
 *   url: "redis://cache.internal:6379",
 *   prefix: "myapp",
 *   commandTimeout: "100 millis",
 *   breaker: { failures: 5, cooldown: "5 seconds" }
 * }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** `redis[s]://[[user][:password]@][host][:port][/db]`; default `redis://127.0.0.1:6379`. */
  readonly url?: string | undefined
  /** The first part of every key and of the default channel; processes that share it share the cache. */
  readonly prefix: string
  /** How long a command may take before the cache gives up on it; default 250 ms. */
  readonly commandTimeout?: Duration.DurationInput | undefined
  /** How long connecting may take, at start and on each reconnection; default 2 seconds. */
  readonly connectTimeout?: Duration.DurationInput | undefined
  /**
   * After `failures` consecutive failed commands (default 5) Redis is not called for `cooldown`
   * (default 5 seconds); then one command probes it, and its success closes the circuit.
   */
  readonly breaker?: {
    readonly failures?: number | undefined
    readonly cooldown?: Duration.DurationInput | undefined
  } | undefined
  /** The pub/sub channel of writes and invalidations; default `${prefix}:events`. */
  readonly channel?: string | undefined
}

/**
 * The options of the Redis Cluster store: those of {@link Options} but `url`, and the nodes to
 * discover the cluster from. Only `rootNodes` and `prefix` are required.
 *
 * @example
 * ```ts
 * import type { RedisStore } from "effect-request-cache/redis"
 *
 * const options: RedisStore.ClusterOptions = {
 *   rootNodes: ["redis://10.0.0.1:7000", "redis://10.0.0.2:7000", "redis://10.0.0.3:7000"],
 *   prefix: "myapp"
 * }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface ClusterOptions extends Omit<Options, "url"> {
  /**
   * Some nodes of the cluster, `redis[s]://[[user][:password]@]host[:port]` (no database: a
   * cluster has only 0); the others are discovered from them. Every node is reached with the
   * scheme, user and password of these.
   */
  readonly rootNodes: ReadonlyArray<string>
}

/**
 * The Redis store, connected in the layer's scope and closed with it. Fails only on a bad option
 * (a `CachePolicyError` naming it, as the cache's own options do); when Redis is down at start the
 * layer still builds, and the store is used once Redis answers.
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { RequestCache } from "effect-request-cache"
 * import { RedisStore } from "effect-request-cache/redis"
 *
 * const CacheLive = RequestCache.layerStore({ timeToLive: "5 minutes" }).pipe(
 *   Layer.provide(RedisStore.layer({ url: "redis://127.0.0.1:6379", prefix: "myapp" }))
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: (options: Options) => Layer.Layer<CacheStore, CachePolicyError> = internal.layer

/**
 * The Redis store with its options read from `Config` (see {@link config}).
 *
 * @example
 * ```ts
 * import { Config } from "effect"
 * import { RedisStore } from "effect-request-cache/redis"
 *
 * // REDIS_URL, REDIS_PREFIX, REDIS_COMMAND_TIMEOUT, REDIS_BREAKER_FAILURES... with
 * // ConfigProvider.fromEnv().pipe(ConfigProvider.constantCase)
 * const StoreLive = RedisStore.layerConfig(RedisStore.config.pipe(Config.nested("redis")))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig: (
  config: Config.Config<Options>
) => Layer.Layer<CacheStore, CachePolicyError | ConfigError.ConfigError> = internal.layerConfig

/**
 * Reads the options from `Config`: `prefix` (required), `url`, `channel`, `commandTimeout`,
 * `connectTimeout` (durations such as `"100 millis"`), and `breaker.failures` (integer) and
 * `breaker.cooldown` (duration).
 *
 * @example
 * ```ts
 * import { Config } from "effect"
 * import { RedisStore } from "effect-request-cache/redis"
 *
 * const options = RedisStore.config.pipe(Config.nested("redis"))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const config: Config.Config<Options> = internal.config

/**
 * Builds the store in a scope, for composing it by hand (the layer is this in `Layer.scoped`).
 *
 * @example
 * ```ts
 * import { Effect, Option } from "effect"
 * import { RedisStore } from "effect-request-cache/redis"
 *
 * const program = Effect.scoped(Effect.gen(function* () {
 *   const store = yield* RedisStore.make({ prefix: "myapp" })
 *   yield* store.set("users", "n1", "entry", 60_000)
 *   return yield* store.get("users", "n1").pipe(Effect.orElseSucceed(() => Option.none()))
 * }))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (options: Options) => Effect.Effect<Service, CachePolicyError, Scope.Scope> = internal.make

/**
 * The store on a Redis Cluster (node-redis `createCluster`), connected in the layer's scope and
 * closed with it, with the timeouts, breaker and option checks of {@link layer}:
 *
 * - An entry is `prefix:{namespace:key}` and its lock `prefix::lock:{namespace:key}`: the hash tag
 *   `{namespace:key}` puts both in one slot, so the lock's scripts run on the entry's master.
 * - `invalidateAll` scans and unlinks on every master.
 * - Events are `PUBLISH`ed on the channel: a cluster carries classic pub/sub to every node, so the
 *   subscriber (one connection, on any node) hears every event; it moves to another node when its
 *   own is lost, and then tells the cache to drop its first tier (`reset`).
 *
 * The layer builds when the cluster is unreachable at start and keeps trying to discover it.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { RequestCache } from "effect-request-cache"
 * import { RedisStore } from "effect-request-cache/redis"
 *
 * const CacheLive = RequestCache.layerStore({ timeToLive: "5 minutes" }).pipe(
 *   Layer.provide(RedisStore.layerCluster({
 *     rootNodes: ["redis://10.0.0.1:7000", "redis://10.0.0.2:7000"],
 *     prefix: "myapp"
 *   }))
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerCluster: (options: ClusterOptions) => Layer.Layer<CacheStore, CachePolicyError> =
  internalCluster.layerCluster

/**
 * The Redis Cluster store with its options read from `Config` (see {@link clusterConfig}).
 *
 * @example
 * ```ts
 * import { Config } from "effect"
 * import { RedisStore } from "effect-request-cache/redis"
 *
 * // REDIS_ROOT_NODES=redis://10.0.0.1:7000,redis://10.0.0.2:7000 REDIS_PREFIX=myapp ...
 * const StoreLive = RedisStore.layerClusterConfig(RedisStore.clusterConfig.pipe(Config.nested("redis")))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerClusterConfig: (
  config: Config.Config<ClusterOptions>
) => Layer.Layer<CacheStore, CachePolicyError | ConfigError.ConfigError> = internalCluster.layerClusterConfig

/**
 * Reads the cluster options from `Config`: `rootNodes` (a comma-separated list of URLs), and
 * `prefix`, `channel`, `commandTimeout`, `connectTimeout`, `breaker.failures`, `breaker.cooldown`
 * as in {@link config}.
 *
 * @example
 * ```ts
 * import { Config } from "effect"
 * import { RedisStore } from "effect-request-cache/redis"
 *
 * const options = RedisStore.clusterConfig.pipe(Config.nested("redis"))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const clusterConfig: Config.Config<ClusterOptions> = internalCluster.clusterConfig

/**
 * Builds the Redis Cluster store in a scope (the layer is this in `Layer.scoped`).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { RedisStore } from "effect-request-cache/redis"
 *
 * const program = Effect.scoped(Effect.gen(function* () {
 *   const store = yield* RedisStore.makeCluster({ rootNodes: ["redis://127.0.0.1:7000"], prefix: "myapp" })
 *   yield* store.set("users", "n1", "entry", 60_000).pipe(Effect.ignore)
 * }))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeCluster: (options: ClusterOptions) => Effect.Effect<Service, CachePolicyError, Scope.Scope> =
  internalCluster.makeCluster
