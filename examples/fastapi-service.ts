/**
 * Twin of functools2's "Example with FastAPI": a price service whose slow remote lookup is
 * cached (time to live 10 s, 512 entries, stale-while-revalidate), with debug endpoints for the
 * cache's counters and for clearing it.
 *
 *   GET  /price/:symbol       -> { symbol, price, elapsed_sec }
 *   GET  /debug/cache_info    -> { hits, misses, maxsize, currsize, stats }
 *   POST /debug/clear_cache   -> { status: "cache cleared" }
 *
 * `npx tsx examples/fastapi-service.ts` serves on an ephemeral port, calls itself a few times,
 * prints what it got and exits; add `--serve` to keep serving (on $PORT, default 8000).
 * The test imports `ServiceLive` and serves it on port 0.
 */
import { HttpRouter, HttpServer, HttpServerResponse } from "@effect/platform"
import { NodeHttpServer, NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer, Random } from "effect"
import { RequestCache } from "effect-request-cache"
import { createServer } from "node:http"
import { pathToFileURL } from "node:url"

/** How many times the "remote API" ran: what the cache saves. */
export const remoteCalls = { count: 0 }

// @async_lru_cache(ttl=10, maxsize=512, swr=True)
export const getPrice = RequestCache.cached({
  name: "prices",
  lookup: (_symbol: string) =>
    Effect.gen(function*() {
      remoteCalls.count++
      yield* Effect.sleep("200 millis") // pretend this hits a slow remote API
      return 100 + (yield* Random.next)
    }),
  // swr=True: a stale price is served at once, however old, while one refresh runs.
  policy: { capacity: 512, timeToLive: "10 seconds", staleWhileRevalidate: Infinity }
})

export const router = HttpRouter.empty.pipe(
  HttpRouter.get(
    "/price/:symbol",
    Effect.gen(function*() {
      const { symbol = "" } = yield* HttpRouter.params
      const t0 = performance.now()
      const price = yield* getPrice(symbol)
      const elapsed = (performance.now() - t0) / 1000
      // First hit per symbol waits ~200 ms; later hits within 10 s are instant; after 10 s the
      // first caller gets the stale price at once while a background fiber fetches a new one.
      return yield* HttpServerResponse.json({ symbol, price, elapsed_sec: Number(elapsed.toFixed(4)) })
    })
  ),
  HttpRouter.post(
    "/debug/clear_cache",
    Effect.zipRight(getPrice.invalidateAll, HttpServerResponse.json({ status: "cache cleared" }))
  ),
  HttpRouter.get(
    "/debug/cache_info",
    Effect.flatMap(getPrice.stats, (stats) =>
      HttpServerResponse.json({
        // functools-style counts: a hit is a caller served without a lookup of its own.
        hits: stats.hits + stats.staleHits + stats.coalesced,
        misses: stats.misses,
        maxsize: stats.capacity,
        currsize: stats.size,
        stats
      }))
  )
)

/** The service on `port` (0: an ephemeral port), with its cache. */
export const ServiceLive = (port: number) =>
  HttpServer.serve(router).pipe(
    Layer.provideMerge(NodeHttpServer.layer(() => createServer(), { port })),
    Layer.provide(RequestCache.layer())
  )

/** The base URL a client of this process reaches the server at. */
export const baseUrl = HttpServer.addressWith((address) =>
  Effect.succeed(address._tag === "TcpAddress" ? `http://127.0.0.1:${address.port}` : address.path)
)

const call = (method: "GET" | "POST", url: string) =>
  Effect.promise(async () => {
    const response = await fetch(url, { method })
    return (await response.json()) as unknown
  })

/** Calls the running service a few times and prints what it answers. */
const demo = Effect.gen(function*() {
  const base = yield* baseUrl
  yield* Console.log(`serving on ${base}`)
  const show = (method: "GET" | "POST", path: string) =>
    Effect.flatMap(call(method, base + path), (body) => Console.log(`${method} ${path} -> ${JSON.stringify(body)}`))
  yield* show("GET", "/price/AAPL") // miss: ~0.2 s
  yield* show("GET", "/price/AAPL") // hit: instant, same price
  yield* show("GET", "/price/MSFT") // another symbol: a miss
  const info = (yield* call("GET", `${base}/debug/cache_info`)) as { hits: number; misses: number; currsize: number }
  yield* Console.log(`cache_info: hits=${info.hits} misses=${info.misses} currsize=${info.currsize}`)
  yield* show("POST", "/debug/clear_cache")
  const cleared = (yield* call("GET", `${base}/debug/cache_info`)) as { currsize: number }
  yield* Console.log(`after clear_cache: currsize=${cleared.currsize}`)
  yield* show("GET", "/price/AAPL") // a miss again
  yield* Console.log(`remote API calls: ${remoteCalls.count}`)
})

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  if (process.argv.includes("--serve")) {
    const port = Number(process.env.PORT ?? 8000)
    NodeRuntime.runMain(Layer.launch(HttpServer.withLogAddress(ServiceLive(port))))
  } else {
    NodeRuntime.runMain(demo.pipe(Effect.provide(ServiceLive(0))))
  }
}
