/**
 * The traces replayed through the public API (`RequestCache.cached`), as a user's program would
 * call it: a true LRU must reproduce the ARC paper's LRU hit counts on OLTP exactly (Megiddo and
 * Modha, "ARC: A Self-Tuning, Low Overhead Replacement Cache", USENIX FAST 2003), and
 * `eviction: "w-tinylfu"` must meet issue 9's targets on OLTP and Glimpse, with the same hit
 * counts as the policy driven alone (test/hitRatio.test.ts), which shows the storage drives it as
 * the model does. The traces live outside the repository (see test/support/traces.ts).
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { MEAN_SLACK, SIZE_SLACK, targets } from "../bench/hitRatioTargets.js"
import { PolicySimulator } from "../bench/policySimulator.js"
import { GLIMPSE, loadTrace, OLTP, type Trace } from "../bench/traces.js"
import { WindowTinyLfuPolicy } from "../src/internal/eviction/windowTinyLfu.js"
import { RequestCache } from "../src/RequestCache.js"
import { describeTraces } from "./support/traces.js"

/** Every access of the trace as a call of a cached function; the namespace's stats at the end. */
const replay = (trace: Trace, capacity: number, eviction: "lru" | "w-tinylfu") =>
  Effect.gen(function*() {
    const blocks = loadTrace(trace)
    expect(blocks.length).toBe(trace.accesses)
    let lookups = 0
    const readBlock = RequestCache.cached({
      name: `${trace.name}-${eviction}-${capacity}`,
      lookup: (block: number) =>
        Effect.sync(() => {
          lookups++
          return block
        })
    })
    for (let i = 0; i < blocks.length; i++) {
      yield* readBlock(blocks[i]!)
    }
    const stats = yield* readBlock.stats
    expect(stats.hits + stats.misses).toBe(blocks.length)
    expect(lookups).toBe(stats.misses)
    expect(stats.size).toBeLessThanOrEqual(capacity)
    expect(stats.evictions).toBe(stats.misses - stats.size)
    return stats
  }).pipe(Effect.provide(RequestCache.layer({ capacity, eviction })))

describeTraces("6. LRU: the OLTP trace (ARC paper)", [OLTP], () => {
  it.effect("capacity 1,000: 300,122 hits", () =>
    Effect.gen(function*() {
      expect((yield* replay(OLTP, 1_000, "lru")).hits).toBe(300_122)
    }))

  it.effect("capacity 2,000: 388,235 hits", () =>
    Effect.gen(function*() {
      expect((yield* replay(OLTP, 2_000, "lru")).hits).toBe(388_235)
    }))
})

describeTraces(
  "6. W-TinyLFU through RequestCache.cached: issue 9's hit-ratio targets",
  [OLTP, GLIMPSE],
  () => {
    for (const { rows, trace } of targets) {
      it.effect(
        `${trace.name}: the mean within ${MEAN_SLACK} of max(LRU, Caffeine), no size more than ${SIZE_SLACK} below, the policy's own counts`,
        () =>
          Effect.gen(function*() {
            const accesses = loadTrace(trace)
            const measured: Array<{ size: number; ours: number; target: number }> = []
            for (const { caffeine, lru, size } of rows) {
              const stats = yield* replay(trace, size, "w-tinylfu")
              // The same hits as the policy driven by the storage model.
              const model = new PolicySimulator(size, new WindowTinyLfuPolicy(size))
              for (let i = 0; i < accesses.length; i++) model.access(accesses[i]!)
              expect(stats.hits, `${trace.name} at ${size}`).toBe(model.hits)
              measured.push({ size, ours: (100 * stats.hits) / accesses.length, target: Math.max(lru, caffeine) })
            }
            console.log(
              `${trace.name} through RequestCache.cached, hit ratio %: ` +
                measured.map((m) => `${m.size}: ${m.ours.toFixed(2)} (target ${m.target.toFixed(2)})`).join(", ")
            )
            for (const m of measured) {
              expect(m.target - m.ours, `${trace.name} at ${m.size}`).toBeLessThanOrEqual(SIZE_SLACK)
            }
            const mean = (xs: ReadonlyArray<number>) => xs.reduce((a, b) => a + b, 0) / xs.length
            expect(mean(measured.map((m) => m.ours))).toBeGreaterThanOrEqual(
              mean(measured.map((m) => m.target)) - MEAN_SLACK
            )
          }),
        120_000
      )
    }
  }
)

describe("6. W-TinyLFU needs no trace to be exercised", () => {
  it.effect("a small namespace: size never above capacity, hot keys kept against a scan", () =>
    Effect.gen(function*() {
      let runs = 0
      const get = RequestCache.cached({
        name: "w-tinylfu-scan",
        lookup: (k: number) => Effect.sync(() => (runs++, k)),
        policy: { capacity: 100, eviction: "w-tinylfu" }
      })
      // 20 hot keys, asked for often; then a scan of 10,000 cold keys between their uses.
      for (let round = 0; round < 50; round++) for (let k = 0; k < 20; k++) yield* get(k)
      for (let k = 1_000; k < 11_000; k++) {
        yield* get(k)
        if (k % 100 === 0) { for (let h = 0; h < 20; h++) yield* get(h) }
      }
      const stats = yield* get.stats
      expect(stats.size).toBeLessThanOrEqual(100)
      runs = 0
      for (let k = 0; k < 20; k++) yield* get(k)
      expect(runs).toBe(0) // the hot keys survived the scan, where an LRU of 100 keeps only the scan's tail
    }).pipe(Effect.provide(RequestCache.layer())))
})
