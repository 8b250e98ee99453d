/**
 * Generated workloads for the hit-ratio benchmark: deterministic (seeded) access sequences of
 * integer keys, each a shape that favours a different policy.
 */

/** A seeded PRNG (mulberry32): the same seed, the same workload, on every machine. */
export const seededRandom = (seed: number): () => number => {
  let state = seed | 0
  return () => {
    state = (state + 0x6d2b79f5) | 0
    let t = Math.imul(state ^ (state >>> 15), 1 | state)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Draws ranks 0 .. n-1 with P(rank k) ∝ 1 / (k + 1)^skew, by binary search in the CDF. */
export const zipfSampler = (n: number, skew: number, random: () => number): () => number => {
  const cdf = new Float64Array(n)
  let sum = 0
  for (let k = 0; k < n; k++) cdf[k] = sum += 1 / Math.pow(k + 1, skew)
  for (let k = 0; k < n; k++) cdf[k]! /= sum
  return () => {
    const u = random()
    let lo = 0
    let hi = n - 1
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (cdf[mid]! < u) lo = mid + 1
      else hi = mid
    }
    return lo
  }
}

/** A bijection of 0 .. 2^32-1 that scatters ranks over the key space (hot keys are not 0, 1, 2...). */
const scatter = (rank: number): number => {
  let x = Math.imul(rank ^ 0x5bd1e995, 0x9e3779b1)
  x ^= x >>> 15
  return x >>> 1
}

export interface Workload {
  readonly name: string
  /** What the workload stands for, for the tables. */
  readonly description: string
  /** The cache sizes it is replayed at. */
  readonly sizes: ReadonlyArray<number>
  /** The accesses (made on first use). */
  readonly accesses: () => Int32Array
}

/** Independent draws from a Zipf distribution over `keys` keys. */
export const zipf = (keys: number, skew: number, length: number, seed: number): Int32Array => {
  const draw = zipfSampler(keys, skew, seededRandom(seed))
  const out = new Int32Array(length)
  for (let i = 0; i < length; i++) out[i] = scatter(draw())
  return out
}

/** The keys 0 .. keys-1 over and over: LRU's worst case when the loop is larger than the cache. */
export const loop = (keys: number, length: number): Int32Array => {
  const out = new Int32Array(length)
  for (let i = 0; i < length; i++) out[i] = i % keys
  return out
}

/**
 * A Zipf hot set interrupted by scans: every `period` accesses, `scan` keys never seen before
 * pass once (a batch job, a crawler). Recency alone lets each scan flush the hot set.
 */
export const scansOverHotSet = (
  keys: number,
  skew: number,
  period: number,
  scan: number,
  length: number,
  seed: number
): Int32Array => {
  const draw = zipfSampler(keys, skew, seededRandom(seed))
  const out = new Int32Array(length)
  let next = 0x40000000
  for (let i = 0; i < length;) {
    for (let j = 0; j < period && i < length; j++) out[i++] = scatter(draw())
    for (let j = 0; j < scan && i < length; j++) out[i++] = next++
  }
  return out
}

/**
 * Recency: each access is, with probability `reuse`, one of the last `recent` distinct keys
 * (uniformly), else a new key. Frequency says little here; LRU is near the best.
 */
export const recentReuse = (recent: number, reuse: number, length: number, seed: number): Int32Array => {
  const random = seededRandom(seed)
  const out = new Int32Array(length)
  const ring = new Int32Array(recent)
  let next = 0
  for (let i = 0; i < length; i++) {
    let key: number
    if (next > 0 && random() < reuse) {
      key = ring[Math.floor(random() * Math.min(next, recent)) % recent]!
    } else {
      key = next
      ring[next % recent] = next
      next++
    }
    out[i] = key
  }
  return out
}

/**
 * Phases: the Zipf hot set moves to other keys every `phase` accesses, so what was frequent stops
 * being used: the sketch must forget (and the window help) for the cache to follow.
 */
export const shiftingHotSet = (keys: number, skew: number, phase: number, length: number, seed: number): Int32Array => {
  const draw = zipfSampler(keys, skew, seededRandom(seed))
  const out = new Int32Array(length)
  for (let i = 0; i < length; i++) out[i] = scatter(draw() + keys * Math.floor(i / phase))
  return out
}

const memo = (make: () => Int32Array): () => Int32Array => {
  let made: Int32Array | undefined
  return () => made ??= make()
}

/** The generated workloads of the benchmark (fixed seeds). */
export const workloads: ReadonlyArray<Workload> = [
  {
    name: "Zipf 0.8",
    description: "100,000 keys, skew 0.8; 2 M accesses",
    sizes: [500, 2_000, 8_000, 32_000],
    accesses: memo(() => zipf(100_000, 0.8, 2_000_000, 1))
  },
  {
    name: "Zipf 1.0",
    description: "100,000 keys, skew 1.0; 2 M accesses",
    sizes: [500, 2_000, 8_000, 32_000],
    accesses: memo(() => zipf(100_000, 1.0, 2_000_000, 2))
  },
  {
    name: "loop",
    description: "a loop over 5,000 keys; 1 M accesses",
    sizes: [1_000, 2_500, 4_000, 4_900],
    accesses: memo(() => loop(5_000, 1_000_000))
  },
  {
    name: "scans + hot set",
    description: "Zipf 0.9, 20,000 keys; 5,000 new keys scanned every 20,000; 2 M accesses",
    sizes: [500, 2_000, 5_000, 10_000],
    accesses: memo(() => scansOverHotSet(20_000, 0.9, 20_000, 5_000, 2_000_000, 3))
  },
  {
    name: "recency",
    description: "80 % reuse of the last 10,000 keys, else a new key; 2 M accesses",
    sizes: [1_000, 2_500, 5_000, 9_000],
    accesses: memo(() => recentReuse(10_000, 0.8, 2_000_000, 4))
  },
  {
    name: "shifting hot set",
    description: "Zipf 0.9, 50,000 keys, moving to new keys every 250,000; 2 M accesses",
    sizes: [500, 2_000, 8_000, 20_000],
    accesses: memo(() => shiftingHotSet(50_000, 0.9, 250_000, 2_000_000, 5))
  }
]
