/**
 * Twin of async-lru-cache's "TTL (Time-To-Live) Caching": `@alru_cache(maxsize=50, ttl=60.0)`.
 * A second call within the time to live is a hit; after it, the price is fetched again.
 *
 * The time to live is 200 ms here (the seed's 60 s) and the wait 300 ms (the seed's 61 s).
 */
import { alruCache } from "effect-request-cache/promise"
import { setTimeout as sleep } from "node:timers/promises"

/** Python's `hash(symbol) % 50`, made deterministic. */
const hash = (text: string) => Array.from(text).reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7)

let apiCalls = 0

// @alru_cache(maxsize=50, ttl=60.0)
const fetchStockPrice = alruCache(
  async (symbol: string) => {
    apiCalls++
    await sleep(50) // simulate an API call
    return 100.0 + (hash(symbol) % 50)
  },
  { maxsize: 50, ttl: "200 millis" }
)

// First call: fetched from the "API".
const price1 = await fetchStockPrice("AAPL")
// Second call within the time to live: a hit.
const price2 = await fetchStockPrice("AAPL")
// Wait for the entry to expire.
await sleep(300)
// Third call: a miss, fetched again.
const price3 = await fetchStockPrice("AAPL")

console.log(`prices: ${price1} ${price2} ${price3}`)
const stats = fetchStockPrice.cacheStats()
console.log(`Hits: ${stats.hits}, Misses: ${stats.misses}`)
console.log(`API calls: ${apiCalls}, expirations: ${stats.expirations}`)
