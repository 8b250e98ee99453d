import { describe, expect, it } from "@effect/vitest"
import { CacheStats } from "../src/index.js"

describe("CacheStats", () => {
  it("derives the hit rate: callers served without a lookup of their own", () => {
    expect(CacheStats.empty.hitRate).toBe(0)
    expect(CacheStats.make({ hits: 6, staleHits: 1, coalesced: 1, misses: 2 }).hitRate).toBe(0.8)
  })

  it("sums namespaces; one unbounded namespace makes the total unbounded", () => {
    const total = CacheStats.sum([
      CacheStats.make({ hits: 1, misses: 1, size: 1, capacity: 10 }),
      CacheStats.make({ hits: 2, evictions: 3, size: 2, capacity: Infinity })
    ])
    expect(total).toMatchObject({ hits: 3, misses: 1, evictions: 3, size: 3, capacity: Infinity })
    expect(total.hitRate).toBe(0.75)
  })

  it("subtracts snapshots to get a window, in both forms", () => {
    const earlier = CacheStats.make({ hits: 10, misses: 5, size: 4, capacity: 8 })
    const later = CacheStats.make({ hits: 13, misses: 6, size: 5, capacity: 8 })
    const window = CacheStats.minus(later, earlier)
    expect(window).toMatchObject({ hits: 3, misses: 1, size: 5, capacity: 8, hitRate: 0.75 })
    expect(CacheStats.minus(earlier)(later)).toEqual(window)
  })

  it("formats an aligned table", () => {
    const table = CacheStats.format(CacheStats.make({ hits: 3, misses: 1, capacity: 10 }))
    expect(table.split("\n")).toHaveLength(17)
    expect(table).toContain("hits             3")
    expect(table).toContain("hitRate          75.00 %")
  })

  it("formats bytes with one decimal and binary units, whole bytes under 1 KiB", () => {
    expect(CacheStats.formatBytes(0)).toBe("0 B")
    expect(CacheStats.formatBytes(1023)).toBe("1023 B")
    expect(CacheStats.formatBytes(1024)).toBe("1.0 KiB")
    expect(CacheStats.formatBytes(1536)).toBe("1.5 KiB")
    expect(CacheStats.formatBytes(1_258_291)).toBe("1.2 MiB")
    expect(CacheStats.formatBytes(64 * 1024 * 1024)).toBe("64.0 MiB")
    expect(CacheStats.formatBytes(5 * 2 ** 30)).toBe("5.0 GiB")
    expect(CacheStats.formatBytes(2 ** 40)).toBe("1.0 TiB")
  })

  it("formats a size that rounds up to the next unit in that unit", () => {
    expect(CacheStats.formatBytes(1023.6)).toBe("1.0 KiB")
    expect(CacheStats.formatBytes(1024 * 1024 - 1)).toBe("1.0 MiB")
    expect(CacheStats.formatBytes(1024 * 1023.9)).toBe("1023.9 KiB")
  })

  it("formats a negative difference with its sign, and what is not finite as it is", () => {
    expect(CacheStats.formatBytes(-2048)).toBe("-2.0 KiB")
    expect(CacheStats.formatBytes(Infinity)).toBe("Infinity")
    expect(CacheStats.formatBytes(Number.NaN)).toBe("NaN")
  })
})
