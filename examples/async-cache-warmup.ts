/**
 * Twin of async-cache's "Cache Warmup": preload popular keys at startup
 * (`await cache.warmup({key: loader for key, loader in hot_keys})`) so that the first requests
 * after a deploy are hits, not cold-start misses. In Effect, `warmup` on the cached function takes
 * the argument lists to load (the Promise API's `createCache(...).warmup` takes key and loader
 * pairs, as the seed does).
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

const getProduct = RequestCache.cached({ name: "products", lookup: loadProduct })

// hot_keys: the popular products
const hotKeys = ["p1", "p2", "p3"]

const program = Effect.gen(function*() {
  const start = performance.now()
  // cache.warmup(...): what is not cached is loaded, concurrently; it answers how many
  const loaded = yield* getProduct.warmup(hotKeys.map((id) => [id] as const))
  yield* Console.log(`warmup: ${loaded} keys loaded in ${Math.round(performance.now() - start)} ms (concurrently)`)
  const before = loads
  for (const id of ["p1", "p2", "p3"]) {
    const t0 = performance.now()
    const product = yield* getProduct(id)
    yield* Console.log(`getProduct(${id}) -> ${product.title} in ${(performance.now() - t0).toFixed(2)} ms`)
  }
  yield* Console.log(`loads after warmup for the hot keys: ${loads - before}`)
  yield* getProduct("p4")
  const stats = yield* getProduct.stats
  yield* Console.log(`hits=${stats.hits} misses=${stats.misses} size=${stats.size}`)
})

Effect.runPromise(program.pipe(Effect.provide(RequestCache.layer({ capacity: 1000, timeToLive: "5 minutes" }))))
