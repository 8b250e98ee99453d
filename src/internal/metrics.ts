import * as Metric from "effect/Metric"
import * as MetricKey from "effect/MetricKey"
import { type Counter, counters } from "./stats.js"

/** Extra tags for `unsafeUpdate`: none, so each metric keeps its one resolved hook. */
export const NO_TAGS: ReadonlyArray<never> = []

/** One Effect metric per `CacheStats` counter and a gauge for `size`, tagged with the namespace. */
export type NamespaceMetrics =
  & { readonly [K in Counter]: Metric.Metric.Counter<number> }
  & { readonly size: Metric.Metric.Gauge<number> }

/** `staleHits` → `request_cache_stale_hits`. */
export const metricName = (counter: Counter | "size"): string =>
  `request_cache_${counter.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}`

export const namespaceMetrics = (namespace: string): NamespaceMetrics => {
  const metrics: Record<string, unknown> = {
    size: Metric.fromMetricKey(MetricKey.tagged(MetricKey.gauge(metricName("size")), "namespace", namespace))
  }
  for (const counter of counters) {
    metrics[counter] = Metric.fromMetricKey(
      MetricKey.tagged(MetricKey.counter(metricName(counter)), "namespace", namespace)
    )
  }
  return metrics as NamespaceMetrics
}
