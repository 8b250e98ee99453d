import { dual } from "effect/Function"
import type { CacheStats } from "../CacheStats.js"

/** @internal */
export const counters = [
  "hits",
  "misses",
  "staleHits",
  "coalesced",
  "loads",
  "loadFailures",
  "refreshes",
  "refreshFailures",
  "batches",
  "evictions",
  "expirations",
  "invalidations",
  "storeErrors"
] as const

/** @internal */
export type Counter = typeof counters[number]

/** Callers served without running a lookup of their own, over all callers. */
const hitRate = (s: Omit<CacheStats, "hitRate">): number => {
  const served = s.hits + s.staleHits + s.coalesced
  const requests = served + s.misses
  return requests === 0 ? 0 : served / requests
}

/** @internal */
export const make = (counts: Partial<Omit<CacheStats, "hitRate">>): CacheStats => {
  const base = { size: counts.size ?? 0, capacity: counts.capacity ?? 0, weight: counts.weight ?? 0 } as Record<
    Counter | "size" | "capacity" | "weight",
    number
  >
  for (const name of counters) base[name] = counts[name] ?? 0
  return { ...base, hitRate: hitRate(base) }
}

/** @internal */
export const empty: CacheStats = make({})

/** @internal */
export const sum = (all: Iterable<CacheStats>): CacheStats => {
  const total: Record<string, number> = { size: 0, capacity: 0, weight: 0 }
  for (const name of counters) total[name] = 0
  for (const stats of all) {
    for (const name of counters) total[name]! += stats[name]
    total.size! += stats.size
    total.capacity! += stats.capacity
    total.weight! += stats.weight
  }
  return make(total)
}

/** @internal */
export const minus = dual(2, (later: CacheStats, earlier: CacheStats): CacheStats => {
  const window: Record<string, number> = { size: later.size, capacity: later.capacity, weight: later.weight }
  for (const name of counters) window[name] = later[name] - earlier[name]
  return make(window)
})

/** @internal */
export const format = (stats: CacheStats): string => {
  const rows: Array<[string, string]> = [
    ...counters.map((name): [string, string] => [name, String(stats[name])]),
    ["size", String(stats.size)],
    ["capacity", String(stats.capacity)],
    ["weight", stats.weight === 0 ? "0" : `${stats.weight} (${formatBytes(stats.weight)})`],
    ["hitRate", `${(stats.hitRate * 100).toFixed(2)} %`]
  ]
  const width = Math.max(...rows.map(([name]) => name.length))
  return rows.map(([name, value]) => `${name.padEnd(width)}  ${value}`).join("\n")
}

const BYTE_UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"] as const

/** What a size shows as in `unit`: whole bytes, else one decimal. */
const shown = (value: number, unit: number): number => unit === 0 ? Math.round(value) : Math.round(value * 10) / 10

/** @internal */
export const formatBytes = (bytes: number): string => {
  if (!Number.isFinite(bytes)) return String(bytes)
  const sign = bytes < 0 ? "-" : ""
  let value = Math.abs(bytes)
  let unit = 0
  // Up a unit while the size would show as 1024 or more (1023.96 KiB shows as 1.0 MiB).
  while (shown(value, unit) >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024
    unit++
  }
  return unit === 0 ? `${sign}${shown(value, 0)} B` : `${sign}${value.toFixed(1)} ${BYTE_UNITS[unit]}`
}
