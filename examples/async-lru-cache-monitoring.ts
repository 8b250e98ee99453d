/**
 * Twin of async-lru-cache's "Advanced Cache Statistics and Monitoring": four concurrent calls,
 * two of them with the same arguments, then the statistics and the configuration.
 *
 * async-lru-cache's README says that concurrent calls with the same arguments may each run the
 * function; here they share one run (single flight), so "dataset1" is computed once. Its memory
 * estimate (`total_size_in_memory_bytes`, `total_size_in_memory_pretty`) is the stats' `weight`
 * with `CacheWeigher.estimateBytes` as the weigher (an estimate of the V8 heap each value holds),
 * printed as a size by `CacheStats.formatBytes`.
 */
import { CacheStats, CacheWeigher } from "effect-request-cache"
import { alruCache } from "effect-request-cache/promise"
import { setTimeout as sleep } from "node:timers/promises"

let runs = 0

// @alru_cache(maxsize=1000, ttl=3600)
const expensiveComputation = alruCache(
  async (data: string, iterations: number = 1000) => {
    runs++
    await sleep(iterations * 1) // simulate expensive computation
    return `processed_${data}_x${iterations}`
  },
  { maxsize: 1000, ttl: "3600 seconds", name: "expensive_computation", weigher: CacheWeigher.estimateBytes }
)

const results = await Promise.all([
  expensiveComputation("dataset1", 100),
  expensiveComputation("dataset2", 200),
  expensiveComputation("dataset1", 100), // joins the first call
  expensiveComputation("dataset3", 150)
])
console.log(`results: ${results.join(", ")}`)
console.log(`function runs: ${runs}`)

const stats = expensiveComputation.cacheStats()
const parameters = expensiveComputation.cacheParameters()
console.log("Cache Statistics:")
console.log(`   Current size: ${stats.size}/${stats.capacity}`)
console.log(`   Hit rate: ${(stats.hitRate * 100).toFixed(2)}%`)
console.log(`   Joined a call in flight: ${stats.coalesced}`)
console.log(`   Memory usage: ${CacheStats.formatBytes(stats.weight)}`)
console.log(`   total_size_in_memory_bytes: ${stats.weight}`)
console.log(Number.isFinite(parameters.ttl) ? `   TTL: ${parameters.ttl / 1000}s` : "   TTL: No expiration")

const info = expensiveComputation.cacheInfo()
console.log("Configuration:")
console.log(`   Max size: ${info.maxsize}`)
console.log(`   TTL: ${parameters.ttl} ms`)
console.log("   Ignored params: none (the key is every argument)")

console.log("All the counters:")
console.log(CacheStats.format(stats))
