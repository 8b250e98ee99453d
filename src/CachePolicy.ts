/**
 * The cache policy: capacity, time to live with jitter, stale-while-revalidate and the caching
 * of typed failures. Options are validated when a layer is built (or a cached function defined).
 *
 * @since 0.1.0
 */
import type * as Config from "effect/Config"
import type * as Duration from "effect/Duration"
import type * as Exit from "effect/Exit"
import * as internal from "./internal/options.js"

/**
 * The policy options, each optional. Defaults: `capacity` 1,000 entries per namespace
 * (`Infinity` for unbounded), `eviction` `"lru"`, `timeToLive` infinite, `jitter` 0,
 * `staleWhileRevalidate` 0 (off; `Infinity` serves stale values for ever while refreshing),
 * `cacheErrors` false, `errorTimeToLive` the `timeToLive`, no weight bound.
 *
 * @example
 * ```ts
 * import type { CachePolicy } from "effect-request-cache"
 *
 * const policy: CachePolicy.Options = {
 *   capacity: 10_000,
 *   eviction: "w-tinylfu",
 *   timeToLive: "5 minutes",
 *   jitter: "30 seconds",
 *   staleWhileRevalidate: "1 minute",
 *   cacheErrors: true,
 *   errorTimeToLive: "10 seconds"
 * }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Options<E = unknown, A = unknown> {
  /** Entries per namespace; a positive integer or `Infinity`. Default 1,000. */
  readonly capacity?: number | undefined
  /**
   * Which entry leaves a full namespace: `"lru"` (default), the least recently used; or
   * `"w-tinylfu"`, Caffeine's Window TinyLFU: a small LRU window, then admission by frequency
   * (a sketch of how often each key was asked for) into a segmented LRU, with the window's size
   * adapted to the workload. It keeps what is used often, not only what was used last.
   */
  readonly eviction?: "lru" | "w-tinylfu" | undefined
  /**
   * How long a value is fresh. Default: for ever. A function of the lookup's `Exit` gives each
   * result its own (a "not found" for 10 seconds, a user for 5 minutes), as Effect's
   * `Cache.makeWith` does; it applies to cached failures too unless `errorTimeToLive` is given.
   */
  readonly timeToLive?: Duration.DurationInput | ((exit: Exit.Exit<A, E>) => Duration.DurationInput) | undefined
  /** Each entry lives `timeToLive + uniform[0, jitter]`, drawn from `Random`. Default 0. */
  readonly jitter?: Duration.DurationInput | undefined
  /** Window after `timeToLive` in which the stale value is served while one refresh runs. */
  readonly staleWhileRevalidate?: Duration.DurationInput | undefined
  /** Which typed failures are cached: all (`true`), none (`false`, default) or a predicate. */
  readonly cacheErrors?: boolean | ((error: E) => boolean) | undefined
  /** How long a cached failure lives. Default: `timeToLive`. */
  readonly errorTimeToLive?: Duration.DurationInput | undefined
  /**
   * A bound on the total weight of a namespace's entries (with `weigher`): when a new value
   * would pass it, entries are evicted until it fits; a value heavier than the bound is given
   * to its callers but not kept. `Infinity` (default): no bound.
   */
  readonly maxWeight?: number | undefined
  /**
   * The weight of a value (`key` is its encoded key): bytes with `CacheWeigher.estimateBytes`,
   * or any unit of your own. A cached failure weighs nothing. Without `maxWeight` it only
   * counts (`weight` in the stats).
   */
  readonly weigher?: ((value: A, key: unknown) => number) | undefined
}

/**
 * The error of an invalid option: which option and why.
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { RequestCache } from "effect-request-cache"
 *
 * const program = Layer.launch(RequestCache.layer({ capacity: -1 })).pipe(
 *   Effect.catchTag("CachePolicyError", (e) => Effect.log(e.message))
 * ) // Invalid cache option "capacity": expected a positive integer or Infinity, got -1
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export const CachePolicyError: typeof internal.CachePolicyError = internal.CachePolicyError

/**
 * The type of {@link CachePolicyError}: `option` names the option, `reason` says what is wrong.
 *
 * @example
 * ```ts
 * import type { CachePolicy } from "effect-request-cache"
 *
 * const explain = (e: CachePolicy.CachePolicyError) => `${e.option}: ${e.reason}`
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export type CachePolicyError = internal.CachePolicyError

/**
 * The default options.
 *
 * @example
 * ```ts
 * import { CachePolicy } from "effect-request-cache"
 *
 * console.log(CachePolicy.defaults.capacity) // 1000
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const defaults: {
  readonly capacity: number
  readonly timeToLive: Duration.DurationInput
  readonly jitter: Duration.DurationInput
  readonly staleWhileRevalidate: Duration.DurationInput
  readonly cacheErrors: boolean
} = internal.defaults

/**
 * A `cacheErrors` predicate that caches the typed failures whose `_tag` is one of `tags`.
 *
 * @example
 * ```ts
 * import { CachePolicy, RequestCache } from "effect-request-cache"
 *
 * const CacheLive = RequestCache.layer({ cacheErrors: CachePolicy.cacheTags("NotFound") })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const cacheTags: (...tags: ReadonlyArray<string>) => (error: unknown) => boolean = internal.cacheTags

/**
 * Reads the options from Effect `Config` (every key optional): `capacity` and `maxWeight`
 * (numbers), `eviction` (`lru` or `w-tinylfu`), `timeToLive`, `jitter`, `staleWhileRevalidate`,
 * `errorTimeToLive` (durations such as `"5 minutes"`) and `cacheErrors` (boolean), each under the
 * given prefix (e.g.
 * `CACHE_TIME_TO_LIVE` with `ConfigProvider.fromEnv` and `constantCase`).
 *
 * @example
 * ```ts
 * import { Config } from "effect"
 * import { CachePolicy, RequestCache } from "effect-request-cache"
 *
 * const CacheLive = RequestCache.layerConfig(CachePolicy.config.pipe(Config.nested("cache")))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const config: Config.Config<Options> = internal.config
