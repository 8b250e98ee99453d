/**
 * Twin of functools2's "Stale-While-Revalidate (SWR)": `@async_lru_cache(ttl=1, swr=True)`.
 * Once the value has expired, a call gets the stale value at once and starts one background
 * refresh; the calls after the refresh get the new value.
 *
 * The time to live is 200 ms here (the seed's 1 s) and the wait 300 ms (the seed's 1.5 s).
 */
import { alruCache } from "effect-request-cache/promise"
import { setTimeout as sleep } from "node:timers/promises"

let computations = 0

// @async_lru_cache(ttl=1, swr=True): swr true serves a stale value however old it is.
const getLiveData = alruCache(
  async () => {
    const version = ++computations
    console.log(`  computing data v${version} (slow)...`)
    await sleep(300) // slow computation
    return `data v${version}`
  },
  { ttl: "200 millis", swr: true }
)

const timed = async (label: string) => {
  const start = performance.now()
  const value = await getLiveData()
  console.log(`${label}: ${value} in ${(performance.now() - start).toFixed(1)} ms`)
}

// The first call is computed.
await timed("first call")

// Wait for the cache to expire.
await sleep(300)

// This call returns the stale value at once and starts a background task for the new value.
await timed("after expiry (stale)")

// Wait for the background refresh to land, then the new value is a plain hit.
while (getLiveData.cacheStats().refreshes === 0) await sleep(10)
await timed("after the refresh")

const stats = getLiveData.cacheStats()
console.log(`computations: ${computations}`)
console.log(
  `stats: hits=${stats.hits} staleHits=${stats.staleHits} refreshes=${stats.refreshes} misses=${stats.misses}`
)
