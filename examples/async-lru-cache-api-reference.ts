/**
 * Twin of async-lru-cache's "API Reference" snippets: the methods every cached function has.
 *
 *   await func.get_cache_stats()         -> func.cacheStats()       (synchronous here)
 *   await func.cache_invalidate(*args)   -> await func.cacheInvalidate(...args)
 *   await func.clear_cache()             -> func.cacheClear()
 *   func.cache_info()  (configuration)   -> func.cacheParameters()  (cacheInfo() is functools'
 *                                           CacheInfo: hits, misses, maxsize, currsize)
 *
 * One difference: `clear_cache()` there also resets the statistics. Here counters only grow
 * (they are Effect metrics too, and a cleared cache is an event worth counting), so a fresh
 * count is a window: `CacheStats.minus(later, earlier)`.
 */
import { CacheStats } from "effect-request-cache"
import { alruCache } from "effect-request-cache/promise"

// @alru_cache()  (async-lru-cache's default maxsize is 1024)
const myFunc = alruCache(async (x: number, y: string) => `${x}-${y}`, { maxsize: 1024, name: "my_func" })

// Cache an entry, then invalidate that entry.
const result = await myFunc(1, "test")
console.log(`myFunc(1, "test") -> ${result}`)
console.log(`cacheInvalidate(1, "test") -> ${await myFunc.cacheInvalidate(1, "test")}`)
console.log(`cacheInvalidate(1, "test") again -> ${await myFunc.cacheInvalidate(1, "test")}`)

// get_cache_stats()
await myFunc(1, "test")
await myFunc(1, "test")
await myFunc(2, "other")
const stats = myFunc.cacheStats()
console.log(
  `stats: current_size=${stats.size} max_size=${stats.capacity} hits=${stats.hits} misses=${stats.misses}`
)

// clear_cache(): every entry goes; the counts since the clear are a window.
myFunc.cacheClear()
const atClear = myFunc.cacheStats()
console.log(`after cacheClear: current_size=${atClear.size}`)
await myFunc(1, "test") // a miss: the entry is gone
await myFunc(1, "test") // a hit
const sinceClear = CacheStats.minus(myFunc.cacheStats(), atClear)
console.log(`since the clear: hits=${sinceClear.hits} misses=${sinceClear.misses}`)

// cache_info(): the configuration.
const parameters = myFunc.cacheParameters()
console.log(`cacheParameters: maxsize=${parameters.maxsize} ttl=${parameters.ttl} name=${parameters.name}`)
const info = myFunc.cacheInfo()
console.log(`cacheInfo: hits=${info.hits} misses=${info.misses} maxsize=${info.maxsize} currsize=${info.currsize}`)
