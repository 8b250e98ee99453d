/**
 * Scenario eviction: the cost of the eviction policies themselves, through the model of the slot
 * storage (bench/policySimulator.ts: a `Map` from key to slot and the policy calls the storage
 * makes). A hit is `Map.get` + `onAccess`; a miss of a full namespace is `Map.get`, `victim`,
 * `onRemove`, a `Map.delete`, a `Map.set` and `onInsert` (W-TinyLFU also hashes the key). The
 * target: W-TinyLFU at most 1.3x LRU for a hit and for a miss. Also the bytes per entry of each
 * policy's arrays at 1,000,000 entries. The whole cache is re-measured through the public API by
 * the hit, miss and memory scenarios once the storage uses the policies.
 */
import { LruPolicy } from "../src/internal/eviction/lru.js"
import { WindowTinyLfuPolicy } from "../src/internal/eviction/windowTinyLfu.js"
import { type Case, measure, met, num, ratio, table } from "./harness.js"
import { PolicySimulator } from "./policySimulator.js"
import { seededRandom } from "./workloads.js"

const TARGET = 1.3
const ITERATIONS = 1_000_000

/** A full simulator of `capacity` keys 0 .. capacity-1, read a few times so the policy has settled. */
const filled = (capacity: number, lfu: boolean): PolicySimulator => {
  const simulator = new PolicySimulator(capacity, lfu ? new WindowTinyLfuPolicy(capacity) : new LruPolicy(capacity))
  for (let round = 0; round < 3; round++) for (let key = 0; key < capacity; key++) simulator.access(key)
  return simulator
}

/** The keys 0 .. n-1 in a random (seeded) order: hits that do not walk the lists in order. */
const shuffled = (n: number): Int32Array => {
  const keys = Int32Array.from({ length: n }, (_, i) => i)
  const random = seededRandom(42)
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    const t = keys[i]!
    keys[i] = keys[j]!
    keys[j] = t
  }
  return keys
}

const hitCase = (name: string, simulator: PolicySimulator, keys: Int32Array): Case => ({
  name,
  run: async (n) => {
    let hits = 0
    for (let i = 0, k = 0; i < n; i++) {
      if (simulator.access(keys[k]!)) hits++
      if (++k === keys.length) k = 0
    }
    if (hits !== n) throw new Error(`${name}: expected only hits, got ${n - hits} misses`)
  }
})

/** 1,000 hot keys read in turn in a namespace of 2,000, as the hit scenario reads them. */
const hotKeysCase = (name: string, lfu: boolean): Case => {
  const simulator = new PolicySimulator(2_000, lfu ? new WindowTinyLfuPolicy(2_000) : new LruPolicy(2_000))
  for (let round = 0; round < 3; round++) for (let key = 0; key < 1_000; key++) simulator.access(key)
  return hitCase(name, simulator, Int32Array.from({ length: 1_000 }, (_, i) => i))
}

/** Keys never seen before, from `next` on: every access a miss that evicts. */
const missCase = (name: string, simulator: PolicySimulator, capacity: number): Case => {
  let next = capacity
  return {
    name,
    run: async (n) => {
      let hits = 0
      for (let i = 0; i < n; i++) if (simulator.access(next++)) hits++
      if (hits !== 0) throw new Error(`${name}: expected only misses`)
    }
  }
}

export const run = async (): Promise<void> => {
  console.log("\neviction: the policies through the storage model (ns per operation, best of 5 rounds)")
  const hot = [hotKeysCase("LRU hit", false), hotKeysCase("W-TinyLFU hit", true)]
  const hotNs = await measure(hot, ITERATIONS)
  const hotRatio = hotNs[1]! / hotNs[0]!
  table("1,000 hot keys in turn, capacity 2,000 (the hit scenario's shape: every hit in protected)", [
    "case",
    "ns/op",
    "vs LRU",
    "target",
    "met"
  ], [
    [hot[0]!.name, num(hotNs[0]!), "", "", ""],
    [hot[1]!.name, num(hotNs[1]!), ratio(hotRatio), `<= ${TARGET}x`, met(hotRatio <= TARGET)]
  ])
  for (const capacity of [1_000, 1_000_000]) {
    const keys = shuffled(capacity)
    // The miss cases evict everything: they get simulators of their own.
    const cases = [
      hitCase("LRU hit", filled(capacity, false), keys),
      hitCase("W-TinyLFU hit", filled(capacity, true), keys),
      missCase("LRU miss", filled(capacity, false), capacity),
      missCase("W-TinyLFU miss", filled(capacity, true), capacity)
    ]
    const ns = await measure(cases, ITERATIONS)
    const hit = ns[1]! / ns[0]!
    const miss = ns[3]! / ns[2]!
    table(
      `${num(capacity, 0)} entries, full, hits in random order (a fifth of them promotions from probation)`,
      ["case", "ns/op", "vs LRU", "target", "met"],
      [
        [cases[0]!.name, num(ns[0]!), "", "", ""],
        [cases[1]!.name, num(ns[1]!), ratio(hit), `<= ${TARGET}x`, met(hit <= TARGET)],
        [cases[2]!.name, num(ns[2]!), "", "", ""],
        [cases[3]!.name, num(ns[3]!), ratio(miss), `<= ${TARGET}x`, met(miss <= TARGET)]
      ]
    )
  }
  const entries = 1_000_000
  const lru = filled(entries, false).policy as LruPolicy
  const lfu = filled(entries, true).policy as WindowTinyLfuPolicy
  table(
    `the policy's arrays at ${num(entries, 0)} entries`,
    ["policy", "bytes", "bytes per entry"],
    [
      ["LRU (links)", num(lru.byteLength, 0), num(lru.byteLength / entries, 2)],
      ["W-TinyLFU (links, queue ids, hashes, sketch)", num(lfu.byteLength, 0), num(lfu.byteLength / entries, 2)]
    ]
  )
}
