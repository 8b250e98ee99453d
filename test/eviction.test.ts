/**
 * The eviction policies behind the storage seam (src/internal/eviction), driven through a model
 * of the storage (bench/policySimulator.ts) exactly as the namespace drives them: LRU against an
 * array model, W-TinyLFU's invariants after random operations, the frequency sketch's counting
 * and aging, and the key hash.
 */
import { describe, expect, it } from "@effect/vitest"
import * as fc from "effect/FastCheck"
import { PolicySimulator } from "../bench/policySimulator.js"
import type { MapKey } from "../src/internal/cacheKey.js"
import { FrequencySketch } from "../src/internal/eviction/frequencySketch.js"
import { hashKey } from "../src/internal/eviction/hash.js"
import { LruPolicy } from "../src/internal/eviction/lru.js"
import { WindowClimber } from "../src/internal/eviction/windowClimber.js"
import { WindowTinyLfuPolicy } from "../src/internal/eviction/windowTinyLfu.js"

type Command =
  | { readonly _tag: "Access"; readonly key: number }
  | { readonly _tag: "Remove"; readonly key: number }
  | { readonly _tag: "Clear" }

/** Mostly reads, some invalidations, rarely an invalidateAll; keys from a small space so they repeat. */
const commands = (keys: number, maxLength: number): fc.Arbitrary<Array<Command>> =>
  fc.array(
    fc.oneof(
      { arbitrary: fc.nat(keys - 1).map((key): Command => ({ _tag: "Access", key })), weight: 20 },
      { arbitrary: fc.nat(keys - 1).map((key): Command => ({ _tag: "Remove", key })), weight: 2 },
      { arbitrary: fc.constant<Command>({ _tag: "Clear" }), weight: 1 }
    ),
    { maxLength }
  )

const apply = (simulator: PolicySimulator, command: Command): void => {
  switch (command._tag) {
    case "Access":
      simulator.access(command.key)
      return
    case "Remove":
      simulator.remove(command.key)
      return
    case "Clear":
      simulator.clear()
  }
}

describe("LruPolicy", () => {
  it.prop(
    "orders keys and evicts as an array model of recency",
    // Capacities past 16 and 32 make the storage grow its slot arrays (resize) mid-run.
    { capacity: fc.integer({ min: 1, max: 40 }), commands: commands(60, 400) },
    ({ capacity, commands }) => {
      const simulator = new PolicySimulator(capacity, new LruPolicy(capacity))
      // Least recent first, as coldest() lists them.
      let model: Array<MapKey> = []
      for (const command of commands) {
        apply(simulator, command)
        switch (command._tag) {
          case "Access": {
            const at = model.indexOf(command.key)
            if (at >= 0) model.splice(at, 1)
            else if (model.length >= capacity) model.shift()
            model.push(command.key)
            break
          }
          case "Remove":
            model = model.filter((key) => key !== command.key)
            break
          case "Clear":
            model = []
        }
        expect(simulator.coldestKeys()).toEqual(model)
      }
    }
  )

  it("the victim is the least recently used key", () => {
    const simulator = new PolicySimulator(3, new LruPolicy(3))
    for (const key of ["a", "b", "c", "a", "b"]) simulator.access(key)
    simulator.access("d")
    expect(simulator.coldestKeys()).toEqual(["a", "b", "d"])
    expect(simulator.evictions).toBe(1)
  })
})

/** Checks every structural invariant of the policy against the storage's live slots. */
const checkInvariants = (simulator: PolicySimulator, policy: WindowTinyLfuPolicy, capacity: number): void => {
  const state = policy.inspect()
  const live = simulator.liveSlots()
  const queues = [
    { name: "window", id: 1, queue: state.window },
    { name: "probation", id: 2, queue: state.probation },
    { name: "protected", id: 3, queue: state.protected }
  ]
  const seen = new Map<number, string>()
  for (const { id, name, queue } of queues) {
    // The links agree both ways, the count is the list's length, and each slot knows its queue.
    expect(queue.backward, `${name}: prev links`).toEqual([...queue.slots].reverse())
    expect(queue.size, `${name}: size`).toBe(queue.slots.length)
    expect(queue.ids, `${name}: queue ids`).toEqual(queue.slots.map(() => id))
    for (const slot of queue.slots) {
      expect(seen.get(slot), `slot ${slot} in two queues`).toBeUndefined()
      seen.set(slot, name)
    }
  }
  // Every live slot is in exactly one list, and the lists hold nothing else.
  expect([...seen.keys()].sort((a, b) => a - b)).toEqual(live)
  expect(state.window.size + state.probation.size + state.protected.size).toBe(simulator.size)
  expect(simulator.size).toBeLessThanOrEqual(capacity)
  expect(state.windowMax).toBeGreaterThanOrEqual(1)
  expect(state.windowMax).toBeLessThanOrEqual(capacity)
  expect(state.protectedMax).toBeGreaterThanOrEqual(0)
  expect(state.windowMax + state.protectedMax).toBeLessThanOrEqual(capacity)
  // coldest() lists every live slot once.
  const coldest = [...policy.coldest()]
  expect(coldest.length).toBe(live.length)
  expect([...coldest].sort((a, b) => a - b)).toEqual(live)
}

describe("WindowTinyLfuPolicy", () => {
  it.prop(
    "keeps its lists consistent under random reads, invalidations and clears",
    { capacity: fc.integer({ min: 1, max: 40 }), commands: commands(80, 300), seed: fc.integer() },
    ({ capacity, commands, seed }) => {
      const policy = new WindowTinyLfuPolicy(capacity, { seed })
      const simulator = new PolicySimulator(capacity, policy)
      for (const command of commands) {
        apply(simulator, command)
        checkInvariants(simulator, policy, capacity)
      }
    }
  )

  it.prop(
    "stays consistent while the climber moves the window (long runs, skewed and looping keys)",
    {
      capacity: fc.integer({ min: 1, max: 60 }),
      seed: fc.integer(),
      // Skewed keys (frequency wins: the window stays small), a loop larger than the cache, recent
      // keys (recency wins: the window grows), or phases of each, so the window moves both ways.
      shape: fc.constantFrom("skewed", "loop", "recent", "mixed")
    },
    ({ capacity, seed, shape }) => {
      const policy = new WindowTinyLfuPolicy(capacity, { seed })
      const simulator = new PolicySimulator(capacity, policy)
      let state = seed
      const next = () => (state = (Math.imul(state, 1103515245) + 12345) | 0) >>> 8
      const windowSizes = new Set<number>()
      for (let i = 0; i < 30_000; i++) {
        const r = next()
        const phase = shape === "mixed" ? ["skewed", "loop", "recent"][Math.floor(i / 5_000) % 3] : shape
        const key = phase === "loop"
          ? i % (capacity * 2)
          : phase === "recent"
          ? Math.max(0, i - (r % (2 * capacity)))
          : Math.floor(Math.sqrt(r % 10_000) * capacity / 10)
        if (r % 97 === 0) simulator.remove(key)
        else simulator.access(key)
        if (i % 500 === 0) {
          checkInvariants(simulator, policy, capacity)
          windowSizes.add(policy.inspect().windowMax)
        }
      }
      checkInvariants(simulator, policy, capacity)
      // 30,000 accesses are several samples at these capacities: recency has grown the window.
      if (shape === "recent" && capacity >= 20) expect(Math.max(...windowSizes)).toBeGreaterThan(capacity / 10)
    },
    { fastCheck: { numRuns: 30 } }
  )

  it("stays consistent when a new phase grows the window at once (a large cache)", () => {
    const capacity = 20_000
    const policy = new WindowTinyLfuPolicy(capacity)
    const simulator = new PolicySimulator(capacity, policy)
    let state = 1
    const next = () => (state = (Math.imul(state, 1103515245) + 12345) | 0) >>> 8
    let largest = 0
    // Skewed keys from one set, then from another: the second phase starts with a main space
    // full of the first one's frequent keys, and the hit ratio falls.
    for (let i = 0; i < 600_000; i++) {
      const base = i < 300_000 ? 0 : 1_000_000
      simulator.access(base + Math.floor(Math.sqrt(next() % 1_000_000) * 30))
      if (i % 50_000 === 0) checkInvariants(simulator, policy, capacity)
      if (i % 2_000 === 0) largest = Math.max(largest, policy.inspect().windowMax)
    }
    checkInvariants(simulator, policy, capacity)
    expect(largest).toBeGreaterThanOrEqual(capacity / 4)
  })

  it("works at capacities 1, 2 and 3", () => {
    for (const capacity of [1, 2, 3]) {
      const policy = new WindowTinyLfuPolicy(capacity)
      const simulator = new PolicySimulator(capacity, policy)
      for (let i = 0; i < 5_000; i++) {
        simulator.access(i % 7 === 0 ? 0 : i % 5)
        if (i < 200 || i % 100 === 0) checkInvariants(simulator, policy, capacity)
      }
      expect(simulator.size).toBe(capacity)
      // The key read every 7th access is kept by its frequency at least some of the time.
      expect(simulator.hits).toBeGreaterThan(0)
    }
  })

  it("admits a frequent key over a scan of one-time keys", () => {
    const capacity = 100
    const simulator = new PolicySimulator(capacity, new WindowTinyLfuPolicy(capacity))
    const hot = Array.from({ length: 50 }, (_, i) => `hot:${i}`)
    for (let round = 0; round < 20; round++) for (const key of hot) simulator.access(key)
    // A scan of 10,000 keys seen once: LRU would keep none of the hot keys after it.
    for (let i = 0; i < 10_000; i++) simulator.access(`scan:${i}`)
    // All but the one or two hot keys in the window when the scan began (1 % of 100).
    expect(hot.filter((key) => simulator.map.has(key)).length).toBeGreaterThanOrEqual(hot.length - 2)
    const lru = new PolicySimulator(capacity, new LruPolicy(capacity))
    for (let round = 0; round < 20; round++) for (const key of hot) lru.access(key)
    for (let i = 0; i < 10_000; i++) lru.access(`scan:${i}`)
    expect(hot.filter((key) => lru.map.has(key)).length).toBe(0)
  })

  it("is reproducible: the same seed, the same hits", () => {
    const run = (seed: number) => {
      const simulator = new PolicySimulator(50, new WindowTinyLfuPolicy(50, { seed }))
      let x = 7
      for (let i = 0; i < 20_000; i++) {
        x = (Math.imul(x, 1103515245) + 12345) | 0
        simulator.access((x >>> 16) % 400)
      }
      return simulator.hits
    }
    expect(run(1)).toBe(run(1))
  })

  it("rejects a capacity that is not a positive integer", () => {
    expect(() => new WindowTinyLfuPolicy(0)).toThrow("capacity must be a positive integer, got 0")
    expect(() => new WindowTinyLfuPolicy(Infinity)).toThrow("got Infinity")
    expect(() => new WindowTinyLfuPolicy(1.5)).toThrow("got 1.5")
  })
})

describe("WindowClimber", () => {
  // Samples as the policy gives them: hits in the window, hits in the main space, misses, the
  // window's size during the sample.
  it("grows the window to a quarter of the capacity when a large sample's hit ratio falls by 5 points", () => {
    const climber = new WindowClimber(100_000)
    expect(climber.samplePeriod).toBe(400_000)
    // 77.5 % with a thin window: the density law keeps it small.
    const first = climber.target(10_000, 300_000, 90_000, 2_000)
    expect(first).toBeLessThan(25_000)
    // 51.25 %: a new phase; the new keys get a window to earn their frequency in.
    expect(climber.target(5_000, 200_000, 195_000, first)).toBeGreaterThanOrEqual(25_000)
    // A window already larger is kept.
    const large = new WindowClimber(100_000)
    large.target(100_000, 210_000, 90_000, 60_000)
    expect(large.target(50_000, 155_000, 195_000, 60_000)).toBeGreaterThanOrEqual(60_000)
  })

  it("does not jump on a rise, or on a drop in a sample of fewer than 65,536 requests", () => {
    const rising = new WindowClimber(100_000)
    rising.target(5_000, 200_000, 195_000, 2_000)
    expect(rising.target(10_000, 300_000, 90_000, 2_000)).toBeLessThan(25_000)
    // Capacity 1,000: samples of 4,000 requests, where drops include loops' phases.
    const small = new WindowClimber(1_000)
    small.target(100, 3_000, 900, 20)
    expect(small.target(50, 2_000, 1_950, 20)).toBeLessThan(250)
  })
})

describe("FrequencySketch", () => {
  const hashes = fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { maxLength: 2_000 })

  it.prop(
    "never estimates below the true count (count-min) before a halving, and at most 15",
    { hashes, capacity: fc.integer({ min: 1, max: 5_000 }) },
    ({ capacity, hashes }) => {
      const sketch = new FrequencySketch(capacity)
      // Fewer increments than a sample: no halving yet.
      expect(hashes.length).toBeLessThan(sketch.sampleSize)
      const counts = new Map<number, number>()
      for (const hash of hashes) {
        sketch.increment(hash)
        counts.set(hash, (counts.get(hash) ?? 0) + 1)
      }
      for (const [hash, count] of counts) {
        const estimate = sketch.frequency(hash)
        expect(estimate).toBeGreaterThanOrEqual(Math.min(count, 15))
        expect(estimate).toBeLessThanOrEqual(15)
      }
    }
  )

  it("saturates at 15", () => {
    const sketch = new FrequencySketch(1_000)
    for (let i = 0; i < 100; i++) sketch.increment(42)
    expect(sketch.frequency(42)).toBe(15)
  })

  it.prop(
    "a halving halves every estimate (rounding down)",
    { hashes, probes: fc.array(fc.integer(), { maxLength: 50 }) },
    ({ hashes, probes }) => {
      const sketch = new FrequencySketch(256)
      for (const hash of hashes) sketch.increment(hash)
      const all = [...hashes, ...probes]
      const before = all.map((hash) => sketch.frequency(hash))
      sketch.halve()
      expect(all.map((hash) => sketch.frequency(hash))).toEqual(before.map((estimate) => estimate >> 1))
    }
  )

  it("halves itself after 10 x capacity increments", () => {
    const capacity = 1_000
    const sketch = new FrequencySketch(capacity)
    expect(sketch.sampleSize).toBe(10 * capacity)
    for (let i = 0; i < 8; i++) sketch.increment(-1)
    expect(sketch.frequency(-1)).toBeGreaterThanOrEqual(8)
    // Distinct keys raise a counter each time, so the count of samples rises by one each time,
    // until the halving drops it.
    let increments = sketch.samples
    while (sketch.samples === increments) sketch.increment(hashKey(increments++))
    expect(increments).toBe(sketch.sampleSize)
    expect(sketch.samples).toBeLessThan(sketch.sampleSize / 2)
    const halved = sketch.frequency(-1)
    expect(halved).toBeGreaterThanOrEqual(4)
    expect(halved).toBeLessThanOrEqual(7)
  })

  it.prop(
    "growing keeps every estimate",
    { hashes, from: fc.integer({ min: 1, max: 2_000 }), factor: fc.integer({ min: 2, max: 64 }) },
    ({ factor, from, hashes }) => {
      const sketch = new FrequencySketch(from)
      for (const hash of hashes) sketch.increment(hash)
      const before = hashes.map((hash) => sketch.frequency(hash))
      sketch.ensureCapacity(from * factor)
      expect(sketch.tableKeys).toBeGreaterThanOrEqual(from * factor)
      expect(hashes.map((hash) => sketch.frequency(hash))).toEqual(before)
    }
  )

  it("sizes its table to the capacity, a power of two, 8 bytes a key", () => {
    expect(new FrequencySketch(1).byteLength).toBe(256 * 8)
    expect(new FrequencySketch(1_000).byteLength).toBe(1_024 * 8)
    expect(new FrequencySketch(1_024).byteLength).toBe(1_024 * 8)
    expect(new FrequencySketch(1_000_000).byteLength).toBe(1_048_576 * 8)
  })
})

describe("hashKey", () => {
  it("hashes keys that a Map holds equal alike", () => {
    expect(hashKey(0)).toBe(hashKey(-0))
    expect(hashKey(NaN)).toBe(hashKey(Number("x")))
    expect(hashKey("abc")).toBe(hashKey(["a", "b", "c"].join("")))
    expect(hashKey(10n ** 30n)).toBe(hashKey(BigInt("1" + "0".repeat(30))))
  })

  it("keeps keys of different types apart", () => {
    const keys: Array<MapKey> = [1, "1", 1n, true, false, null, undefined, 0, "", 0n, 1.5, -1, -1n, 2 ** 32, 2n ** 32n]
    expect(new Set(keys.map(hashKey)).size).toBe(keys.length)
  })

  it("returns a 32-bit integer", () => {
    for (const key of [0, 1, -1, 2 ** 53, 1e-300, Infinity, -Infinity, "x".repeat(1_000), 123456789n, -(2n ** 100n)]) {
      const hash = hashKey(key)
      expect(hash | 0).toBe(hash)
    }
  })

  /** The largest bucket count of `hashes` spread over `buckets` (a power of two) by their low bits. */
  const worstBucket = (hashes: ReadonlyArray<number>, buckets: number): number => {
    const counts = new Int32Array(buckets)
    for (const hash of hashes) counts[hash & (buckets - 1)]!++
    return Math.max(...counts)
  }

  it("spreads sequential numbers and similar strings evenly over the low bits", () => {
    const n = 65_536
    const buckets = 1_024
    // A uniform spread puts 64 in each bucket; the largest of 1,024 stays below 64 + 6 sigma.
    const bound = n / buckets + 6 * Math.sqrt(n / buckets)
    expect(worstBucket(Array.from({ length: n }, (_, i) => hashKey(i)), buckets)).toBeLessThan(bound)
    expect(worstBucket(Array.from({ length: n }, (_, i) => hashKey(i * 1_024)), buckets)).toBeLessThan(bound)
    expect(worstBucket(Array.from({ length: n }, (_, i) => hashKey(`user:${i}`)), buckets)).toBeLessThan(bound)
    expect(worstBucket(Array.from({ length: n }, (_, i) => hashKey(i + 0.5)), buckets)).toBeLessThan(bound)
    expect(worstBucket(Array.from({ length: n }, (_, i) => hashKey(BigInt(i) << 40n)), buckets)).toBeLessThan(bound)
  })

  it.prop("flips about half the bits when one input bit flips (avalanche)", [fc.integer()], ([x]) => {
    let flipped = 0
    for (let bit = 0; bit < 31; bit++) {
      const d = hashKey(x) ^ hashKey(x ^ (1 << bit))
      let c = 0
      for (let v = d >>> 0; v !== 0; v &= v - 1) c++
      flipped += c
    }
    const mean = flipped / 31
    expect(mean).toBeGreaterThan(12)
    expect(mean).toBeLessThan(20)
  })
})
