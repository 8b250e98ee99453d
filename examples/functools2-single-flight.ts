/**
 * Twin of functools2's "Single-Flight Execution": 10 concurrent calls of an uncached slow
 * function run it once; the other nine wait for that one result.
 */
import { alruCache } from "effect-request-cache/promise"
import { setTimeout as sleep } from "node:timers/promises"

let lookups = 0

// @async_lru_cache(ttl=10)
const slowOperation = alruCache(
  async () => {
    lookups++
    console.log("Executing slow operation...")
    await sleep(200)
    return 42
  },
  { ttl: "10 seconds" }
)

// Run 10 concurrent calls (anyio's task group: Promise.all).
const results = await Promise.all(Array.from({ length: 10 }, () => slowOperation()))

// "Executing slow operation..." is printed only once.
console.log(`results: ${results.join(" ")}`)
console.log(`lookups: ${lookups}`)
const info = slowOperation.cacheInfo()
console.log(`cacheInfo: hits=${info.hits} misses=${info.misses}`)
console.log(`joined the call in flight: ${slowOperation.cacheStats().coalesced}`)
