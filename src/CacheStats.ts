/**
 * The statistics of a cache: a value type with derived rates, per namespace or in total.
 *
 * @since 0.1.0
 */
import * as internal from "./internal/stats.js"

/**
 * A snapshot of a cache's counters. Counters only grow; `size`, `capacity` and `weight` are read
 * at the moment of the snapshot. Subtract two snapshots with {@link minus} to get the counts of a window.
 *
 * - `hits`: fresh values (or cached failures) served without a lookup.
 * - `staleHits`: stale values served inside the stale-while-revalidate window.
 * - `misses`: callers that found nothing usable and started a lookup.
 * - `coalesced`: callers that joined a lookup another caller had started (single flight).
 * - `loads` / `loadFailures`: blocking lookups that ran to completion / of those, the failed ones
 *   (typed failure or defect; interrupted lookups count in neither).
 * - `refreshes` / `refreshFailures`: background or explicit refreshes that succeeded / failed.
 * - `batches`: calls of a batch lookup (`cachedBatch`, `cachedRequest`), each for many keys.
 * - `evictions`: entries removed to make room (by the eviction policy, for the capacity or the
 *   weight bound), and values heavier than the whole weight bound, never kept.
 * - `expirations`: entries found past their time to live (and stale window) and dropped.
 * - `invalidations`: entries removed by `invalidate` / `invalidateAll` (with a store, also the
 *   first-tier entries dropped because another process changed or invalidated them).
 * - `storeErrors`: store commands that failed (down, slow, an entry that does not decode); the
 *   cache served from memory or ran the lookup instead. Always 0 without a store.
 * - `size`, `capacity`: entries held now (pending lookups included) and the bound.
 * - `weight`: the total weight of the entries held now, by the policy's `weigher` (0 without one).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { RequestCache } from "effect-request-cache"
 *
 * const program = Effect.gen(function* () {
 *   const stats = yield* RequestCache.statsFor("users")
 *   console.log(`${stats.hits} hits, hit rate ${(stats.hitRate * 100).toFixed(1)} %`)
 * })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface CacheStats {
  readonly hits: number
  readonly misses: number
  readonly staleHits: number
  readonly coalesced: number
  readonly loads: number
  readonly loadFailures: number
  readonly refreshes: number
  readonly refreshFailures: number
  readonly batches: number
  readonly evictions: number
  readonly expirations: number
  readonly invalidations: number
  readonly storeErrors: number
  readonly size: number
  readonly capacity: number
  readonly weight: number
  /**
   * The share of callers served without a lookup of their own:
   * `(hits + staleHits + coalesced) / (hits + staleHits + coalesced + misses)`; 0 before any call.
   */
  readonly hitRate: number
}

/**
 * The names of the counters of {@link CacheStats} (everything but `size`, `capacity`, `hitRate`).
 *
 * @example
 * ```ts
 * import type { CacheStats } from "effect-request-cache"
 *
 * const field: CacheStats.Counter = "evictions"
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Counter = internal.Counter

/**
 * Builds a snapshot from counters; `hitRate` is derived.
 *
 * @example
 * ```ts
 * import { CacheStats } from "effect-request-cache"
 *
 * const stats = CacheStats.make({ hits: 3, misses: 1, capacity: 10, size: 1 })
 * console.log(stats.hitRate) // 0.75
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (counts: Partial<Omit<CacheStats, "hitRate">>) => CacheStats = internal.make

/**
 * A snapshot with every counter at zero.
 *
 * @example
 * ```ts
 * import { CacheStats } from "effect-request-cache"
 *
 * console.log(CacheStats.empty.hits) // 0
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const empty: CacheStats = internal.empty

/**
 * Adds snapshots together (the total of several namespaces). Capacities add up; one unbounded
 * namespace makes the total unbounded.
 *
 * @example
 * ```ts
 * import { CacheStats } from "effect-request-cache"
 *
 * const total = CacheStats.sum([CacheStats.make({ hits: 1 }), CacheStats.make({ hits: 2 })])
 * console.log(total.hits) // 3
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const sum: (all: Iterable<CacheStats>) => CacheStats = internal.sum

/**
 * The counts between two snapshots (`later - earlier`): the activity of a window. `size` and
 * `capacity` are those of `later`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { CacheStats, RequestCache } from "effect-request-cache"
 *
 * const window = Effect.gen(function* () {
 *   const before = yield* RequestCache.stats
 *   yield* Effect.sleep("1 minute")
 *   return CacheStats.minus(yield* RequestCache.stats, before)
 * })
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const minus: {
  (earlier: CacheStats): (later: CacheStats) => CacheStats
  (later: CacheStats, earlier: CacheStats): CacheStats
} = internal.minus

/**
 * Renders a snapshot as an aligned two-column table, one counter a line.
 *
 * @example
 * ```ts
 * import { CacheStats } from "effect-request-cache"
 *
 * console.log(CacheStats.format(CacheStats.make({ hits: 3, misses: 1 })))
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const format: (stats: CacheStats) => string = internal.format

/**
 * A number of bytes as a size a person reads at a glance, as async-lru-cache's
 * `total_size_in_memory_pretty` shows memory: one decimal and a binary unit (1 KiB = 1,024 bytes,
 * the units a `maxWeight` such as `64 * 1024 * 1024` is written in, and V8's heap limits are given
 * in); under 1 KiB, whole bytes.
 *
 * @example
 * ```ts
 * import { CacheStats, CacheWeigher } from "effect-request-cache"
 *
 * console.log(CacheStats.formatBytes(512)) // "512 B"
 * console.log(CacheStats.formatBytes(1_258_291)) // "1.2 MiB"
 * console.log(CacheStats.formatBytes(CacheWeigher.estimateBytes("x".repeat(10_000)))) // "9.8 KiB"
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const formatBytes: (bytes: number) => string = internal.formatBytes
