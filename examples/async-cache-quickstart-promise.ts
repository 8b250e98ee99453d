/**
 * Twin of async-cache's "Quickstart: Function API", on the Promise API: `createCache` is
 * `AsyncCache(maxsize=1000, default_ttl=300)`, with `get(key, loader, { ttl })`, `warmup` and
 * `getMetrics()`, line for line. (`async-cache-quickstart.ts` is the same program in Effect.)
 *
 * The durations are scaled down so the example runs in a moment: the default time to live is 2 s
 * (the seed's 300 s) and the per-key one 100 ms (the seed's 60 s), which we wait out.
 */
import { createCache } from "effect-request-cache/promise"
import { setTimeout as sleep } from "node:timers/promises"

let loaderRuns = 0

/** The slow database: 30 ms a query. */
const fetchFromDb = async (userId: number) => {
  loaderRuns++
  console.log(`  loader: fetch_from_db(${userId})`)
  await sleep(30)
  return { id: userId, name: `user ${userId}` }
}

const loadHotData = async (n: number) => {
  loaderRuns++
  console.log(`  loader: load_hot_data(${n})`)
  await sleep(30)
  return { hot: n }
}

// cache = AsyncCache(maxsize=1000, default_ttl=300)
const cache = createCache({ maxsize: 1000, ttl: "2 seconds" })

// cache.get with a loader caches on a miss; ttl=60 is a per-key override.
const getUser = (userId: number) => cache.get(`user:${userId}`, () => fetchFromDb(userId), { ttl: "100 millis" })

// Preload hot keys at startup.
const startupWarmup = () =>
  cache.warmup(Object.entries({
    "popular:key1": () => loadHotData(1),
    "popular:key2": () => loadHotData(2)
  }))

/** A read of a warmed key: its loader would say so if it ran. */
const readHot = (key: string) =>
  cache.get(key, () => {
    throw new Error(`${key} was not warmed up`)
  })

console.log("startup warmup:")
console.log(`warmup: ${await startupWarmup()} keys loaded`)
console.log("get_user(1) twice:")
const first = await getUser(1)
const second = await getUser(1)
console.log(`same object from the cache: ${first === second}`)
console.log(`popular:key1 -> ${JSON.stringify(await readHot("popular:key1"))}`)
console.log(`popular:key2 -> ${JSON.stringify(await readHot("popular:key2"))}`)
await sleep(200)
console.log("after 200 ms the per-key time to live of user:1 is over; the default one is not:")
await getUser(1)
console.log(`popular:key1 -> ${JSON.stringify(await readHot("popular:key1"))}`)
console.log(`loader runs: ${loaderRuns}`)

// Metrics for monitoring: a hit is a call served without running a loader.
const { hitRate, ...counts } = cache.getMetrics()
console.log(`metrics: ${JSON.stringify({ ...counts, hit_rate: Number(hitRate.toFixed(2)) })}`)
console.log(`getMetrics(): ${JSON.stringify(cache.getMetrics())}`)
await cache.close()
