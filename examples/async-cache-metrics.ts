/**
 * Twin of async-cache's "Metrics & Observability": hits, misses, size and hit rate for the whole
 * cache (`cache.get_metrics()`) or for one function (`func.get_metrics()`), to tune time to live
 * and capacity; and the same counts fed to a metrics system ("integrate with Prometheus, logs").
 *
 * `RequestCache.stats` is the whole cache, `getUser.stats` one cached function; every count is
 * also an Effect metric tagged with its namespace, so an OpenTelemetry or Prometheus exporter
 * sees them as they are. Here `Metric.snapshot` plays the exporter.
 */
import { Console, Effect, Metric, MetricState } from "effect"
import { CacheStats, RequestCache } from "effect-request-cache"

const getUser = RequestCache.cached({
  name: "users",
  lookup: (id: number) => Effect.as(Effect.sleep("10 millis"), { id, name: `user ${id}` })
})

const getOrder = RequestCache.cached({
  name: "orders",
  lookup: (id: number) => Effect.as(Effect.sleep("10 millis"), { id, total: id * 10 })
})

/** `get_metrics()`: the dictionary async-cache gives. */
const metrics = (stats: CacheStats.CacheStats) => ({
  hits: stats.hits + stats.staleHits + stats.coalesced,
  misses: stats.misses,
  size: stats.size,
  hit_rate: Number(stats.hitRate.toFixed(2))
})

/** Prometheus text format for the cache's counters and gauge. */
const prometheusLines = Effect.map(Metric.snapshot, (pairs) =>
  pairs.flatMap((pair) => {
    const name = pair.metricKey.name
    if (!name.startsWith("request_cache_")) return []
    const labels = pair.metricKey.tags.map((tag) => `${tag.key}="${tag.value}"`).join(",")
    const state = pair.metricState
    const value = MetricState.isCounterState(state) ? state.count : MetricState.isGaugeState(state) ? state.value : null
    return value === null || Number(value) === 0 ? [] : [`${name}{${labels}} ${value}`]
  }).sort())

const program = Effect.gen(function*() {
  for (const id of [1, 2, 1, 1, 3, 2]) yield* getUser(id)
  for (const id of [7, 7, 7, 7]) yield* getOrder(id)

  yield* Console.log(`cache.get_metrics(): ${JSON.stringify(metrics(yield* RequestCache.stats))}`)
  yield* Console.log(`getUser.get_metrics(): ${JSON.stringify(metrics(yield* getUser.stats))}`)
  yield* Console.log(`getOrder.get_metrics(): ${JSON.stringify(metrics(yield* getOrder.stats))}`)
  yield* Console.log("getUser's full stats:")
  yield* Console.log(CacheStats.format(yield* getUser.stats))
  yield* Console.log("as Effect metrics (what a Prometheus exporter would scrape):")
  for (const line of yield* prometheusLines) yield* Console.log(line)
})

Effect.runPromise(program.pipe(Effect.provide(RequestCache.layer({ capacity: 1000, timeToLive: "5 minutes" }))))
