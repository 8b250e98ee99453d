/**
 * Window TinyLFU: recency for newcomers, frequency for the rest (Caffeine's eviction policy).
 *
 * @internal
 */
import { FrequencySketch } from "./frequencySketch.js"
import type { EvictionPolicy } from "./policy.js"
import { WindowClimber } from "./windowClimber.js"

/** No slot: the end of a list. */
const NIL = -1
/** A slot's queue: none (free), the admission window, or the main space's two segments. */
const FREE = 0
const WINDOW = 1
const PROBATION = 2
const PROTECTED = 3

/** The window's share of the capacity at the start (Caffeine: 1 %). */
const INITIAL_WINDOW = 0.01
/** The protected segment's share of the main space (Caffeine: 80 %). */
const PROTECTED_SHARE = 0.8
/** A candidate this warm is admitted against a warmer victim once in 128 (Caffeine). */
const ADMIT_HASHDOS_THRESHOLD = 6
/** Entries moved between queues per miss while the queues converge to new targets. */
const TRANSFERS_PER_MISS = 2

/** One queue as `inspect` sees it; `ids` is the queue id stored for each of its slots (1, 2, 3). */
export interface QueueState {
  readonly slots: ReadonlyArray<number>
  readonly backward: ReadonlyArray<number>
  readonly size: number
  readonly ids: ReadonlyArray<number>
}

/** What `inspect` returns: the targets and the three queues. */
export interface WindowTinyLfuState {
  readonly windowMax: number
  readonly protectedMax: number
  readonly window: QueueState
  readonly probation: QueueState
  readonly protected: QueueState
}

/**
 * Caffeine's W-TinyLFU over slots. A new key enters the admission window, an LRU of 1 % of the
 * capacity at the start. When the namespace is full, the window's least recent entry (the
 * candidate) goes on to the main space, a segmented LRU, only if the frequency sketch has seen it
 * more often than the main space's victim (probation's least recent; protected's when probation
 * is empty), else it is the one evicted; a warm candidate (frequency 6 or more) that loses is
 * still admitted once in 128, from a seeded xorshift, so that hash collisions cannot lock the
 * main space. A hit in probation promotes an entry to the protected segment (80 % of the main
 * space), whose least recent entry falls back to probation. Every access and insert counts in the
 * sketch. `WindowClimber` resizes the window after each sample, so that a workload rewarding
 * recency gets a large window and a loop a small one.
 *
 * Where this differs from Caffeine, and why:
 * - The window may grow to the whole capacity (Caffeine's stops near 80 %) and the main space
 *   keeps its 80/20 split at any size: a purely recency-driven workload then gets LRU's ratio.
 * - A window below its target grows by one entry a miss, the main space giving up its victim
 *   unjudged; a shrinking window and an oversized protected segment hand 2 entries a miss to
 *   probation. Caffeine moves up to 1,000 entries at once; here every operation stays O(1).
 * - The protected segment's overflow after a promotion falls back at once (Caffeine defers it).
 * - The sketch starts small and grows with the slot arrays (`resize`), keeping its counts.
 *
 * Storage: the three lists in one `Int32Array` of links (`links[2 * slot]` the previous slot,
 * `links[2 * slot + 1]` the next, head = least recent), a `Uint8Array` queue id and an
 * `Int32Array` key hash per slot: 13 bytes a slot, plus the sketch's 8 bytes a key (capacity
 * rounded up to a power of two): 21.4 bytes an entry at 1,000,000.
 *
 * @internal
 */
export class WindowTinyLfuPolicy implements EvictionPolicy {
  readonly needsHash = true
  private links: Int32Array
  private queue: Uint8Array
  private hashes: Int32Array
  /** Head (least recent) and tail of each queue: `ends[2 * q]`, `ends[2 * q + 1]`. */
  private readonly ends = new Int32Array(8).fill(NIL)
  /** The number of slots in each queue. */
  private readonly sizes = new Int32Array(4)
  /** The window's target size. */
  private windowMax: number
  /** The protected segment's target size; probation has the rest. */
  private protectedMax: number
  private readonly sketch: FrequencySketch
  private readonly climber: WindowClimber
  /** Hits in the climber's current sample, in the window and in the main space. */
  private windowHits = 0
  private mainHits = 0
  /** Misses (inserts) in the climber's sample. */
  private misses = 0
  /** False until the namespace is full for the first time: the climber samples from then on. */
  private filled = false
  /** Xorshift32 state, for the random admission against hash flooding. */
  private random: number

  constructor(readonly capacity: number, options: { readonly seed?: number } = {}) {
    if (!(Number.isSafeInteger(capacity) && capacity >= 1)) {
      throw new RangeError(`WindowTinyLfuPolicy: capacity must be a positive integer, got ${capacity}`)
    }
    const length = Math.min(capacity, 16)
    this.links = new Int32Array(2 * length)
    this.queue = new Uint8Array(length)
    this.hashes = new Int32Array(length)
    this.windowMax = capacity - Math.floor((1 - INITIAL_WINDOW) * capacity)
    this.protectedMax = Math.floor(PROTECTED_SHARE * (capacity - this.windowMax))
    this.sketch = new FrequencySketch(length)
    this.climber = new WindowClimber(capacity)
    this.random = (options.seed ?? 0x9e3779b9) | 0 || 1
  }

  onAccess(slot: number): void {
    this.sketch.increment(this.hashes[slot]!)
    const queue = this.queue[slot]!
    if (queue === WINDOW) {
      this.windowHits++
      this.moveToTail(slot, WINDOW)
    } else if (queue === PROBATION) {
      this.mainHits++
      this.promote(slot)
    } else {
      this.mainHits++
      this.moveToTail(slot, PROTECTED)
    }
  }

  onInsert(slot: number, hash: number): void {
    this.hashes[slot] = hash
    this.sketch.increment(hash)
    this.misses++
    this.link(slot, WINDOW)
    // Not full yet (or the window shrank): the window's overflow goes to probation unjudged.
    for (let i = 0; i < TRANSFERS_PER_MISS && this.sizes[WINDOW]! > this.windowMax; i++) {
      this.transfer(this.ends[2 * WINDOW]!, PROBATION)
    }
    for (let i = 0; i < TRANSFERS_PER_MISS && this.sizes[PROTECTED]! > this.protectedMax; i++) {
      this.transfer(this.ends[2 * PROTECTED]!, PROBATION)
    }
    if (this.filled && this.windowHits + this.mainHits + this.misses >= this.climber.samplePeriod) this.climb()
  }

  onRemove(slot: number): void {
    this.unlink(slot)
  }

  victim(): number {
    if (!this.filled) {
      this.filled = true
      this.windowHits = this.mainHits = this.misses = 0
    }
    const candidate = this.ends[2 * WINDOW]!
    let victim = this.ends[2 * PROBATION]!
    if (victim === NIL) victim = this.ends[2 * PROTECTED]!
    if (victim === NIL) return candidate
    if (candidate === NIL) return victim
    // A window below its target grows: the newcomer enters without pushing the candidate out.
    if (this.sizes[WINDOW]! < this.windowMax) return victim
    if (this.admit(this.hashes[candidate]!, this.hashes[victim]!)) {
      this.transfer(candidate, PROBATION)
      return victim
    }
    return candidate
  }

  resize(length: number): void {
    if (length <= this.queue.length) return
    const links = new Int32Array(2 * length)
    links.set(this.links)
    this.links = links
    const queue = new Uint8Array(length)
    queue.set(this.queue)
    this.queue = queue
    const hashes = new Int32Array(length)
    hashes.set(this.hashes)
    this.hashes = hashes
    this.sketch.ensureCapacity(length)
  }

  /**
   * Caffeine's order: the window and probation merged, the less frequent first (the candidates and
   * victims of the next evictions), then protected. A live walk of the links: read it through
   * before the namespace changes.
   */
  *coldest(): IterableIterator<number> {
    const links = this.links
    let window = this.ends[2 * WINDOW]!
    let probation = this.ends[2 * PROBATION]!
    while (window !== NIL || probation !== NIL) {
      if (
        probation === NIL ||
        (window !== NIL &&
          this.sketch.frequency(this.hashes[window]!) <= this.sketch.frequency(this.hashes[probation]!))
      ) {
        yield window
        window = links[2 * window + 1]!
      } else {
        yield probation
        probation = links[2 * probation + 1]!
      }
    }
    for (let slot = this.ends[2 * PROTECTED]!; slot !== NIL; slot = links[2 * slot + 1]!) yield slot
  }

  clear(): void {
    this.queue.fill(FREE)
    this.ends.fill(NIL)
    this.sizes.fill(0)
  }

  /** The bytes of the policy's arrays: links, queue ids, hashes and the sketch. */
  get byteLength(): number {
    return this.links.byteLength + this.queue.byteLength + this.hashes.byteLength + this.sketch.byteLength
  }

  /**
   * The policy's state, walked through its links: each queue's slots from least to most recent
   * (by `next`) and from most to least recent (by `prev`), the size it counts, and the queue id
   * of each slot it holds. For tests: one door to the internals instead of casts.
   */
  inspect(): WindowTinyLfuState {
    const walk = (queue: number, forward: boolean): Array<number> => {
      const slots: Array<number> = []
      // Bounded by the slot count, so that a corrupted (cyclic) list shows up instead of hanging.
      for (
        let slot = this.ends[2 * queue + (forward ? 0 : 1)]!;
        slot !== NIL && slots.length <= this.queue.length;
        slot = this.links[2 * slot + (forward ? 1 : 0)]!
      ) slots.push(slot)
      return slots
    }
    const queueState = (queue: number): QueueState => {
      const slots = walk(queue, true)
      return {
        slots,
        backward: walk(queue, false),
        size: this.sizes[queue]!,
        ids: slots.map((slot) => this.queue[slot]!)
      }
    }
    return {
      windowMax: this.windowMax,
      protectedMax: this.protectedMax,
      window: queueState(WINDOW),
      probation: queueState(PROBATION),
      protected: queueState(PROTECTED)
    }
  }

  /** Whether the candidate should replace the victim in the main space (Caffeine's `admit`). */
  private admit(candidateHash: number, victimHash: number): boolean {
    const candidateFrequency = this.sketch.frequency(candidateHash)
    if (candidateFrequency > this.sketch.frequency(victimHash)) return true
    if (candidateFrequency < ADMIT_HASHDOS_THRESHOLD) return false
    // An attacker can keep a victim hot by hash collisions: a warm candidate sometimes gets in.
    let x = this.random
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    this.random = x
    return (x & 127) === 0
  }

  /** A probation hit: to the protected segment, whose least recent falls back when it is full. */
  private promote(slot: number): void {
    if (this.protectedMax === 0) return this.moveToTail(slot, PROBATION)
    this.unlink(slot)
    this.link(slot, PROTECTED)
    if (this.sizes[PROTECTED]! > this.protectedMax) this.transfer(this.ends[2 * PROTECTED]!, PROBATION)
  }

  /** Asks the climber for the window's size at the end of a sample; the queues follow, a few entries a miss. */
  private climb(): void {
    const target = this.climber.target(this.windowHits, this.mainHits, this.misses, this.windowMax)
    this.windowHits = this.mainHits = this.misses = 0
    this.windowMax = Math.max(1, Math.min(this.capacity, target))
    this.protectedMax = Math.floor(PROTECTED_SHARE * (this.capacity - this.windowMax))
  }

  /** Relinks a slot as its queue's most recent (the hit path: no size or queue id changes). */
  private moveToTail(slot: number, queue: number): void {
    const ends = this.ends
    const tail = ends[2 * queue + 1]!
    if (slot === tail) return
    const links = this.links
    const prev = links[2 * slot]!
    // Not the tail, so it has a next.
    const next = links[2 * slot + 1]!
    if (prev === NIL) ends[2 * queue] = next
    else links[2 * prev + 1] = next
    links[2 * next] = prev
    links[2 * slot] = tail
    links[2 * slot + 1] = NIL
    links[2 * tail + 1] = slot
    ends[2 * queue + 1] = slot
  }

  private transfer(slot: number, queue: number): void {
    this.unlink(slot)
    this.link(slot, queue)
  }

  private unlink(slot: number): void {
    const links = this.links
    const queue = this.queue[slot]!
    const prev = links[2 * slot]!
    const next = links[2 * slot + 1]!
    if (prev === NIL) this.ends[2 * queue] = next
    else links[2 * prev + 1] = next
    if (next === NIL) this.ends[2 * queue + 1] = prev
    else links[2 * next] = prev
    this.sizes[queue]--
    this.queue[slot] = FREE
  }

  private link(slot: number, queue: number): void {
    const links = this.links
    const tail = this.ends[2 * queue + 1]!
    links[2 * slot] = tail
    links[2 * slot + 1] = NIL
    if (tail === NIL) this.ends[2 * queue] = slot
    else links[2 * tail + 1] = slot
    this.ends[2 * queue + 1] = slot
    this.sizes[queue]++
    this.queue[slot] = queue
  }
}
