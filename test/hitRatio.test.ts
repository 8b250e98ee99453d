/**
 * Hit ratios on the third-party traces (found where bench/traces.ts looks for them, which a clone
 * of the repository alone does not have), replayed through the eviction policies driven as the storage drives them
 * (bench/policySimulator.ts): LRU must reproduce the ARC paper's OLTP counts exactly, and
 * W-TinyLFU must meet issue 9's targets (bench/hitRatioTargets.ts). Without the traces the suite
 * is skipped with a notice, except under CI=true, where it fails.
 */
import { expect, it } from "@effect/vitest"
import { MEAN_SLACK, SIZE_SLACK, targets } from "../bench/hitRatioTargets.js"
import { PolicySimulator } from "../bench/policySimulator.js"
import { GLIMPSE, loadTrace, OLTP } from "../bench/traces.js"
import { LruPolicy } from "../src/internal/eviction/lru.js"
import type { EvictionPolicy } from "../src/internal/eviction/policy.js"
import { WindowTinyLfuPolicy } from "../src/internal/eviction/windowTinyLfu.js"
import { describeTraces } from "./support/traces.js"

/** Every access of `accesses` through a fresh namespace of `capacity`; the simulator at the end. */
const replay = (accesses: Int32Array, capacity: number, policy: EvictionPolicy): PolicySimulator => {
  const simulator = new PolicySimulator(capacity, policy)
  for (let i = 0; i < accesses.length; i++) simulator.access(accesses[i]!)
  expect(simulator.hits + simulator.misses).toBe(accesses.length)
  expect(simulator.size).toBeLessThanOrEqual(capacity)
  return simulator
}

describeTraces("LruPolicy on the OLTP trace (ARC paper)", [OLTP], () => {
  it("capacity 1,000: 300,122 hits; 2,000: 388,235 hits", () => {
    const accesses = loadTrace(OLTP)
    expect(accesses.length).toBe(OLTP.accesses)
    expect(replay(accesses, 1_000, new LruPolicy(1_000)).hits).toBe(300_122)
    expect(replay(accesses, 2_000, new LruPolicy(2_000)).hits).toBe(388_235)
  })
})

describeTraces("WindowTinyLfuPolicy: issue 9's hit-ratio targets", [OLTP, GLIMPSE], () => {
  for (const { rows, trace } of targets) {
    it(`${trace.name}: the mean within ${MEAN_SLACK} of max(LRU, Caffeine), no size more than ${SIZE_SLACK} below`, () => {
      const accesses = loadTrace(trace)
      expect(accesses.length).toBe(trace.accesses)
      const measured = rows.map(({ caffeine, lru, size }) => {
        const simulator = replay(accesses, size, new WindowTinyLfuPolicy(size))
        const ours = (100 * simulator.hits) / accesses.length
        return { size, lru, caffeine, ours, target: Math.max(lru, caffeine), below: Math.max(lru, caffeine) - ours }
      })
      console.log(
        `${trace.name} hit ratio %: ` +
          measured.map((m) => `${m.size}: ${m.ours.toFixed(2)} (target ${m.target.toFixed(2)})`).join(", ")
      )
      for (const m of measured) {
        expect(m.below, `${trace.name} at ${m.size}: ${m.ours.toFixed(2)} against ${m.target}`).toBeLessThanOrEqual(
          SIZE_SLACK
        )
      }
      const mean = (xs: ReadonlyArray<number>) => xs.reduce((a, b) => a + b, 0) / xs.length
      expect(mean(measured.map((m) => m.ours))).toBeGreaterThanOrEqual(
        mean(measured.map((m) => m.target)) - MEAN_SLACK
      )
    })
  }

  it("OLTP: the window grows for a recency-biased trace, within a point of LRU at 18,688 and 37,376 entries", () => {
    const accesses = loadTrace(OLTP)
    for (const { lru, size } of targets[0]!.rows.filter((row) => row.size >= 18_688)) {
      const policy = new WindowTinyLfuPolicy(size)
      const ours = (100 * replay(accesses, size, policy).hits) / accesses.length
      expect(ours).toBeGreaterThan(lru - 1)
      // Caffeine 3.2.2's window stays near 1 % there; this one ends far larger.
      expect(policy.inspect().windowMax).toBeGreaterThan(size / 10)
    }
  })

  it("Glimpse (a loop): the window stays small", () => {
    const accesses = loadTrace(GLIMPSE)
    const policy = new WindowTinyLfuPolicy(1_000)
    replay(accesses, 1_000, policy)
    expect(policy.inspect().windowMax).toBeLessThanOrEqual(1_000 * 0.05)
  })
})
