/**
 * Twin of async-cache's "Cache Warmup": preload popular keys at startup
 * (`await cache.warmup({key: loader for key, loader in hot_keys})`) so that the first requests
 * after a deploy are hits, not cold-start misses.
 */
import { Console, Effect } from "effect"
import { RequestCache } from "effect-request-cache"

let loads = 0

const loadProduct = (id: string) =>
  Effect.gen(function*() {
    loads++
    yield* Effect.sleep("50 millis")
    return { id, title: `product ${id}` }
  })

// hot_keys: (key, loader) pairs
const hotKeys = ["p1", "p2", "p3"].map((id) => [`product:${id}`, loadProduct(id)] as const)

/** `cache.warmup(loaders)`: every loader runs once, concurrently, and its value is stored. */
const warmup = <A, E, R>(loaders: Iterable<readonly [string, Effect.Effect<A, E, R>]>) =>
  Effect.forEach(loaders, ([key, loader]) => RequestCache.get("products", key, loader), {
    concurrency: "unbounded",
    discard: true
  })

const getProduct = (id: string) => RequestCache.get("products", `product:${id}`, loadProduct(id))

const program = Effect.gen(function*() {
  const start = performance.now()
  yield* warmup(hotKeys)
  yield* Console.log(`warmup: ${loads} keys loaded in ${Math.round(performance.now() - start)} ms (concurrently)`)
  const before = loads
  for (const id of ["p1", "p2", "p3"]) {
    const t0 = performance.now()
    const product = yield* getProduct(id)
    yield* Console.log(`getProduct(${id}) -> ${product.title} in ${(performance.now() - t0).toFixed(2)} ms`)
  }
  yield* Console.log(`loads after warmup for the hot keys: ${loads - before}`)
  yield* getProduct("p4")
  const stats = yield* RequestCache.statsFor("products")
  yield* Console.log(`hits=${stats.hits} misses=${stats.misses} size=${stats.size}`)
})

Effect.runPromise(program.pipe(Effect.provide(RequestCache.layer({ capacity: 1000, timeToLive: "5 minutes" }))))
