/**
 * `npm run demo`: the cache at work, told as a short story: misses, hits, a coalesced stampede,
 * a stale hit with its background refresh, an eviction, and the stats table.
 */
import { Console, Effect } from "effect"
import { CacheStats, RequestCache } from "effect-request-cache"

let lookups = 0

/** A slow "remote" price lookup: 50 ms, and a new price each time it runs. */
const getPrice = RequestCache.cached({
  name: "prices",
  lookup: (symbol: string) =>
    Effect.gen(function*() {
      const run = ++lookups
      yield* Console.log(`  lookup #${run}: fetching ${symbol} from the slow API...`)
      yield* Effect.sleep("50 millis")
      return { symbol, price: 100 + run }
    }),
  policy: { capacity: 3, timeToLive: "200 millis", staleWhileRevalidate: "1 minute" }
})

const timed = <A, E, R>(label: string, effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const start = performance.now()
    const value = yield* effect
    yield* Console.log(`${label} -> ${JSON.stringify(value)} in ${(performance.now() - start).toFixed(1)} ms`)
    return value
  })

const program = Effect.gen(function*() {
  yield* Console.log("1. A miss runs the lookup; the next call is a hit.")
  yield* timed("getPrice(AAPL) miss", getPrice("AAPL"))
  yield* timed("getPrice(AAPL) hit ", getPrice("AAPL"))

  yield* Console.log("2. A stampede: 1,000 concurrent callers of a cold key share one lookup.")
  const before = lookups
  yield* timed(
    "1,000 x getPrice(MSFT)",
    Effect.map(
      Effect.all(Array.from({ length: 1_000 }, () => getPrice("MSFT")), { concurrency: "unbounded" }),
      (all) => `${all.length} answers, ${new Set(all).size} distinct`
    )
  )
  yield* Console.log(`   lookups run for the stampede: ${lookups - before}`)

  yield* Console.log("3. Past its time to live, a value is served stale at once while one refresh runs.")
  yield* Effect.sleep("250 millis")
  yield* timed("getPrice(AAPL) stale", getPrice("AAPL"))
  yield* Effect.sleep("100 millis")
  yield* timed("getPrice(AAPL) fresh", getPrice("AAPL"))

  yield* Console.log("4. Capacity 3: a fourth key evicts the least recently used (MSFT).")
  yield* timed("getPrice(GOOG)", getPrice("GOOG"))
  yield* timed("getPrice(AMZN)", getPrice("AMZN"))
  const msft = yield* getPrice.peek("MSFT")
  yield* Console.log(`   MSFT still cached? ${msft._tag === "Some"}`)

  yield* Console.log("5. The stats:")
  console.log(CacheStats.format(yield* getPrice.stats))
})

Effect.runPromise(program.pipe(Effect.provide(RequestCache.layer())))
