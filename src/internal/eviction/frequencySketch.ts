/**
 * How often a key was seen lately, in 4 bits: TinyLFU's admission filter.
 *
 * @internal
 */
import { powerOfTwoAtLeast } from "../weigher.js"

/** Each nibble's low bit: counts the odd counters that a halving rounds down. */
const ONE_MASK = 0x11111111
/** Each nibble's upper three bits, after a shift right by one: every counter halved. */
const RESET_MASK = 0x77777777
/** The smallest table, in keys: below it the collisions of a count-min sketch add up. */
const MIN_KEYS = 256
/** A block of 16 words is 64 bytes, one cache line: all 4 counters of a key lie in one. */
const BLOCK_SHIFT = 4

/** Bits set in a 32-bit word. */
const bitCount = (word: number): number => {
  word = word - ((word >>> 1) & 0x55555555)
  word = (word & 0x33333333) + ((word >>> 2) & 0x33333333)
  return Math.imul((word + (word >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24
}

/**
 * A supplemental mix of the caller's hash (a three-round function from Hash Function Prospector,
 * as Caffeine uses), so that the block index is uniform even when the hashes are not.
 */
const spread = (x: number): number => {
  x ^= x >>> 17
  x = Math.imul(x, 0xed5ad4bb)
  x ^= x >>> 11
  x = Math.imul(x, 0xac4c1b51)
  return x ^ (x >>> 15)
}

/** A second round for the counters' positions inside the block, independent of its index. */
const rehash = (x: number): number => {
  x = Math.imul(x, 0x31848bab)
  return x ^ (x >>> 14)
}

/**
 * A 4-bit count-min sketch with periodic aging, after Caffeine's `FrequencySketch`: each key has
 * 4 counters (one per row), its estimate is their minimum, they saturate at 15, and after
 * `sampleSize` increments (10 x the capacity) every counter is halved, so the sketch forgets.
 *
 * The table is an `Int32Array` of 8 counters a word, 2 words a key of the capacity (rounded up to
 * a power of two): 8 bytes a key. A key's counters all lie in one 64-byte block (one cache line),
 * each in its own 16-byte quarter of it, so an increment costs one memory access.
 *
 * It grows with the namespace (`ensureCapacity`), so a namespace holding a few keys of a large
 * capacity pays for a few keys. Growth keeps every estimate: each block of the old table is copied
 * to every block of the new one that its keys can map to (a key's block index only gains high
 * bits), so no key's counters change and none falls below its true count.
 *
 * Aging is an O(table) pass once per `sampleSize` increments: amortized O(1), as in Caffeine.
 *
 * @internal
 */
export class FrequencySketch {
  /** The counters, 8 nibbles a word. */
  private table: Int32Array
  /** Blocks minus one: a mask for a block index. */
  private blockMask: number
  /** Increments that raised a counter since the last halving. */
  private size = 0
  /** After this many increments every counter is halved. */
  sampleSize: number

  /** A sketch for `capacity` keys (at least 256). */
  constructor(capacity: number) {
    const keys = powerOfTwoAtLeast(Math.max(capacity, MIN_KEYS))
    this.table = new Int32Array(2 * keys)
    this.blockMask = (this.table.length >>> BLOCK_SHIFT) - 1
    this.sampleSize = 10 * Math.max(capacity, MIN_KEYS)
  }

  /** The number of keys the table is sized for (a power of two). */
  get tableKeys(): number {
    return this.table.length >>> 1
  }

  /** Increments that raised a counter since the last halving. */
  get samples(): number {
    return this.size
  }

  /** The bytes of the counter table. */
  get byteLength(): number {
    return this.table.byteLength
  }

  /** Sizes the sketch for `capacity` keys; never shrinks, keeps every estimate (see above). */
  ensureCapacity(capacity: number): void {
    const max = Math.max(capacity, MIN_KEYS)
    this.sampleSize = Math.max(this.sampleSize, 10 * max)
    const keys = powerOfTwoAtLeast(max)
    if (2 * keys <= this.table.length) return
    const old = this.table
    const table = new Int32Array(2 * keys)
    for (let offset = 0; offset < table.length; offset += old.length) table.set(old, offset)
    this.table = table
    this.blockMask = (table.length >>> BLOCK_SHIFT) - 1
  }

  /** The estimated number of occurrences of `hash` since the last halvings, 0 to 15. */
  frequency(hash: number): number {
    const blockHash = spread(hash)
    const counterHash = rehash(blockHash)
    const block = (blockHash & this.blockMask) << BLOCK_SHIFT
    const table = this.table
    let min = 15
    for (let i = 0; i < 4; i++) {
      const h = counterHash >>> (i << 3)
      const count = (table[block + (i << 2) + (h & 3)]! >>> ((h >>> 2) & 28)) & 15
      if (count < min) min = count
    }
    return min
  }

  /** Counts one occurrence of `hash` (each counter up to 15); halves the table every `sampleSize`. */
  increment(hash: number): void {
    const blockHash = spread(hash)
    const h = rehash(blockHash)
    const block = (blockHash & this.blockMask) << BLOCK_SHIFT
    const table = this.table
    let added = 0
    // Counter i is in the i-th quarter of the block; 2 bits pick the word, 3 the nibble. `| 0`
    // keeps each sum a 32-bit integer (a carry into the sign bit would make it a double).
    for (let i = 0; i < 4; i++) {
      const bits = h >>> (i << 3)
      const index = block + (i << 2) + (bits & 3)
      const shift = (bits >>> 2) & 28
      const word = table[index]!
      if (((word >>> shift) & 15) !== 15) {
        table[index] = (word + (1 << shift)) | 0
        added = 1
      }
    }
    if (added !== 0 && ++this.size >= this.sampleSize) this.halve()
  }

  /** Forgets every count. */
  clear(): void {
    this.table.fill(0)
    this.size = 0
  }

  /** Halves every counter (rounding down); the sample restarts at the halved count of increments. */
  halve(): void {
    const table = this.table
    let odd = 0
    for (let i = 0; i < table.length; i++) {
      const word = table[i]!
      odd += bitCount(word & ONE_MASK)
      table[i] = (word >>> 1) & RESET_MASK
    }
    // Each increment raised up to 4 counters, so odd / 4 increments were rounded away.
    this.size = Math.max(0, (this.size - (odd >>> 2)) >>> 1)
  }
}
