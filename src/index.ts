/**
 * effect-request-cache: a caching layer for Effect programs.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as CacheKey from "./CacheKey.js"

/** @since 0.1.0 */
export * as CachePolicy from "./CachePolicy.js"

/** @since 0.1.0 */
export * as CacheStats from "./CacheStats.js"

/** @since 0.1.0 */
export * as CacheWeigher from "./CacheWeigher.js"

/** @since 0.1.0 */
export { CacheClosedError, RequestCache } from "./RequestCache.js"

/** @since 0.1.0 */
export * as CacheStore from "./CacheStore.js"

/** @since 0.1.0 */
export * as KeyValueStoreStore from "./KeyValueStoreStore.js"
