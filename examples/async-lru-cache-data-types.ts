/**
 * Twin of async-lru-cache's "Basic Usage with Different Data Types": lists and dicts as
 * arguments. Keys are encoded structurally (arrays, plain objects in any key order, numbers,
 * strings, dates...), so equal arguments hit the same entry. The memory usage that the seed
 * prints (`total_size_in_memory_pretty`) is the stats' `weight` with `CacheWeigher.estimateBytes`
 * as the weigher, as a size by `CacheStats.formatBytes`.
 */
import { CacheStats, CacheWeigher } from "effect-request-cache"
import { alruCache } from "effect-request-cache/promise"
import { setTimeout as sleep } from "node:timers/promises"

let runs = 0

// @alru_cache(maxsize=100)
const processData = alruCache(
  async (numbers: ReadonlyArray<number>, _config: Record<string, unknown>, multiplier: number = 1.0) => {
    runs++
    await sleep(100) // simulate processing
    return numbers.map((n) => n * multiplier)
  },
  { maxsize: 100, weigher: CacheWeigher.estimateBytes }
)

// Works with lists, dicts and any other structured arguments.
const result1 = await processData([1, 2, 3], { mode: "fast" }, 2.0)
const result2 = await processData([1, 2, 3], { mode: "fast" }, 2.0) // cache hit
console.log(`result: ${JSON.stringify(result1)}`)
console.log(
  `Results equal: ${JSON.stringify(result1) === JSON.stringify(result2)} (the same object: ${result1 === result2})`
)
console.log(`function runs: ${runs}`)
const afterOne = processData.cacheStats()
console.log(`Memory usage: ${CacheStats.formatBytes(afterOne.weight)} (total_size_in_memory_bytes: ${afterOne.weight})`)

// A dict's key order does not matter; a different list is another entry.
await processData([1, 2, 3], { level: 2, mode: "fast" }, 2.0)
await processData([1, 2, 3], { mode: "fast", level: 2 }, 2.0) // hit: same dict
await processData([3, 2, 1], { mode: "fast" }, 2.0) // miss: another list
console.log(`function runs after 3 more calls: ${runs}`)

const stats = processData.cacheStats()
console.log(`entries: ${stats.size}, hits: ${stats.hits}, misses: ${stats.misses}`)
console.log(`Memory usage: ${CacheStats.formatBytes(stats.weight)} (total_size_in_memory_bytes: ${stats.weight})`)
