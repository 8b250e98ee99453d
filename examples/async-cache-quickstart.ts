/**
 * Twin of async-cache's "Quickstart: Function API": one application cache (`AsyncCache(maxsize=1000,
 * default_ttl=300)`) read through `get(key, loader, ttl)` with a per-key time to live, warmed up
 * at startup, and its metrics.
 *
 * In Effect the cache is the `RequestCache` layer; `RequestCache.get(namespace, key, loader,
 * { timeToLive })` is `cache.get(key, loader=..., ttl=...)`. The durations are scaled down so the
 * example runs in a moment: the default time to live is 2 s (the seed's 300 s) and the per-key
 * one 100 ms (the seed's 60 s), which we wait out.
 */
import { Console, Effect } from "effect"
import { RequestCache } from "effect-request-cache"

let loaderRuns = 0

/** The slow database: 30 ms a query. */
const fetchFromDb = (userId: number) =>
  Effect.gen(function*() {
    loaderRuns++
    yield* Console.log(`  loader: fetch_from_db(${userId})`)
    yield* Effect.sleep("30 millis")
    return { id: userId, name: `user ${userId}` }
  })

const loadHotData = (n: number) =>
  Effect.gen(function*() {
    loaderRuns++
    yield* Console.log(`  loader: load_hot_data(${n})`)
    yield* Effect.sleep("30 millis")
    return { hot: n }
  })

// cache = AsyncCache(maxsize=1000, default_ttl=300)
const AppCache = RequestCache.layer({ capacity: 1000, timeToLive: "2 seconds" })

// cache.get with a loader caches on a miss; ttl=60 is a per-key override.
const getUser = (userId: number) =>
  RequestCache.get("app", `user:${userId}`, fetchFromDb(userId), { timeToLive: "100 millis" })

// Preload hot keys at startup.
const warmup = <A, E, R>(loaders: Record<string, Effect.Effect<A, E, R>>) =>
  Effect.forEach(Object.entries(loaders), ([key, loader]) => RequestCache.get("app", key, loader), {
    concurrency: "unbounded",
    discard: true
  })

const startupWarmup = warmup({
  "popular:key1": loadHotData(1),
  "popular:key2": loadHotData(2)
})

// Metrics for monitoring: a hit is a caller served without running a loader.
const getMetrics = Effect.map(RequestCache.statsFor("app"), (stats) => ({
  hits: stats.hits + stats.staleHits + stats.coalesced,
  misses: stats.misses,
  size: stats.size,
  hit_rate: Number(stats.hitRate.toFixed(2))
}))

/** A read of a warmed key: its loader would say so if it ran. */
const readHot = (key: string) => RequestCache.get("app", key, Effect.dieMessage(`${key} was not warmed up`))

const program = Effect.gen(function*() {
  yield* Console.log("startup warmup:")
  yield* startupWarmup
  yield* Console.log("get_user(1) twice:")
  const first = yield* getUser(1)
  const second = yield* getUser(1)
  yield* Console.log(`same object from the cache: ${first === second}`)
  yield* Console.log(`popular:key1 -> ${JSON.stringify(yield* readHot("popular:key1"))}`)
  yield* Console.log(`popular:key2 -> ${JSON.stringify(yield* readHot("popular:key2"))}`)
  yield* Effect.sleep("200 millis")
  yield* Console.log("after 200 ms the per-key time to live of user:1 is over; the default one is not:")
  yield* getUser(1)
  yield* Console.log(`popular:key1 -> ${JSON.stringify(yield* readHot("popular:key1"))}`)
  yield* Console.log(`loader runs: ${loaderRuns}`)
  yield* Console.log(`metrics: ${JSON.stringify(yield* getMetrics)}`)
})

Effect.runPromise(program.pipe(Effect.provide(AppCache)))
