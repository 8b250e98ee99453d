import * as Cause from "effect/Cause"
import type * as Exit from "effect/Exit"
import type { CacheStats } from "../CacheStats.js"
import { type NamespaceMetrics, namespaceMetrics } from "./metrics.js"
import * as stats from "./stats.js"

/**
 * One namespace's counts, recorded once where each outcome is decided (Caffeine's
 * `StatsCounter`), in the namespace's fields and its Effect metrics. Every count only rises: a
 * Prometheus or OpenTelemetry counter that drops reads as a reset.
 */
export class NamespaceCounters {
  hits = 0
  misses = 0
  staleHits = 0
  coalesced = 0
  loads = 0
  loadFailures = 0
  refreshes = 0
  refreshFailures = 0
  batches = 0
  evictions = 0
  expirations = 0
  invalidations = 0
  storeErrors = 0
  private readonly metrics: NamespaceMetrics

  constructor(namespace: string) {
    this.metrics = namespaceMetrics(namespace)
  }

  /** A caller served a fresh entry. */
  hit(): void {
    this.hits++
    this.metrics.hits.update(1)
  }

  /** A caller served a stale entry while it is refreshed. */
  staleHit(): void {
    this.staleHits++
    this.metrics.staleHits.update(1)
  }

  /** A caller that joined a load in flight (here, or in another process through a shared store). */
  joined(): void {
    this.coalesced++
    this.metrics.coalesced.update(1)
  }

  /** A caller whose call runs the lookup. */
  miss(): void {
    this.misses++
    this.metrics.misses.update(1)
  }

  /** A blocking lookup ended; an interruption is no load. */
  loaded(exit: Exit.Exit<unknown, unknown>): void {
    if (exit._tag === "Failure") {
      if (Cause.isInterruptedOnly(exit.cause)) return
      this.loadFailures++
      this.metrics.loadFailures.update(1)
    }
    this.loads++
    this.metrics.loads.update(1)
  }

  /** A refresh ended; an interruption is neither a refresh nor a failure of one. */
  refreshed(exit: Exit.Exit<unknown, unknown>): void {
    if (exit._tag === "Success") {
      this.refreshes++
      this.metrics.refreshes.update(1)
    } else if (!Cause.isInterruptedOnly(exit.cause)) {
      this.refreshFailures++
      this.metrics.refreshFailures.update(1)
    }
  }

  /** A batch lookup was called for `keys` keys. */
  batched(keys: number): void {
    this.batches++
    this.metrics.batches.update(1)
    this.metrics.batchSize.update(keys)
  }

  evicted(): void {
    this.evictions++
    this.metrics.evictions.update(1)
  }

  expired(): void {
    this.expirations++
    this.metrics.expirations.update(1)
  }

  invalidated(entries: number): void {
    this.invalidations += entries
    this.metrics.invalidations.update(entries)
  }

  storeError(): void {
    this.storeErrors++
    this.metrics.storeErrors.update(1)
  }

  /** The entries held now (a gauge, a figure that may fall). */
  resized(size: number): void {
    this.metrics.size.update(size)
  }

  /** The total weight held now (a gauge). */
  weighed(weight: number): void {
    this.metrics.weight.update(weight)
  }

  snapshot(size: number, capacity: number, weight: number): CacheStats {
    return stats.make({
      hits: this.hits,
      misses: this.misses,
      staleHits: this.staleHits,
      coalesced: this.coalesced,
      loads: this.loads,
      loadFailures: this.loadFailures,
      refreshes: this.refreshes,
      refreshFailures: this.refreshFailures,
      batches: this.batches,
      evictions: this.evictions,
      expirations: this.expirations,
      invalidations: this.invalidations,
      storeErrors: this.storeErrors,
      size,
      capacity,
      weight
    })
  }
}
