import * as Metric from "effect/Metric"
import * as MetricBoundaries from "effect/MetricBoundaries"
import type * as MetricHook from "effect/MetricHook"
import * as MetricKey from "effect/MetricKey"
import { type Counter, counters } from "./stats.js"

/**
 * One Effect metric per `CacheStats` counter, gauges for `size` and `weight` and a histogram of
 * batch sizes, tagged with the namespace,
 * held as the hooks of the global registry: updating a hook is one closure call, where
 * `Metric.unsafeUpdate` resolves the hook through two more on every hit.
 */
export type NamespaceMetrics =
  & { readonly [K in Counter]: MetricHook.MetricHook.Counter<number> }
  & { readonly size: MetricHook.MetricHook.Gauge<number>; readonly weight: MetricHook.MetricHook.Gauge<number> }
  & { readonly batchSize: MetricHook.MetricHook.Histogram }

/** Keys per batch: 1, 2, 4, ... 2048. */
const batchSizes = MetricBoundaries.exponential({ start: 1, factor: 2, count: 12 })

/** `staleHits` → `request_cache_stale_hits`. */
export const metricName = (counter: Counter | "size" | "weight" | "batchSize"): string =>
  `request_cache_${counter.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}`

/**
 * The hooks of each namespace name, found once: the registry would give the same hooks again (a
 * metric is its key), after hashing the tagged keys, which costs about 100 µs for a namespace's
 * fifteen (a loader made per request would pay it every time).
 */
const byName = new Map<string, NamespaceMetrics>()

export const namespaceMetrics = (namespace: string): NamespaceMetrics => {
  let metrics = byName.get(namespace)
  if (metrics === undefined) byName.set(namespace, metrics = registered(namespace))
  return metrics
}

const registered = (namespace: string): NamespaceMetrics => {
  const registry = Metric.globalMetricRegistry
  const metrics: Record<string, unknown> = {
    size: registry.get(MetricKey.tagged(MetricKey.gauge(metricName("size")), "namespace", namespace)),
    weight: registry.get(MetricKey.tagged(MetricKey.gauge(metricName("weight")), "namespace", namespace)),
    batchSize: registry.get(
      MetricKey.tagged(MetricKey.histogram(metricName("batchSize"), batchSizes), "namespace", namespace)
    )
  }
  for (const counter of counters) {
    metrics[counter] = registry.get(
      MetricKey.tagged(MetricKey.counter(metricName(counter), { incremental: true }), "namespace", namespace)
    )
  }
  return metrics as NamespaceMetrics
}
