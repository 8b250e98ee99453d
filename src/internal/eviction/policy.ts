/**
 * The seam between storage and eviction: storage owns keys and values; an eviction policy orders
 * the slots and chooses which one leaves. A policy sees slot numbers and a key's 32-bit hash, never
 * keys or values (Caffeine's `onAccess(node)` / `admit(candidate, victim)` split).
 */
export interface EvictionPolicy {
  /** Whether `onInsert` needs the key's hash (LRU: false, so storage never hashes for it). */
  readonly needsHash: boolean
  /**
   * A live slot was read or rewritten (hit, stale hit, join of a load in flight, set of an existing
   * key, reload of an expired entry in place). The only call on the hit path: O(1), allocation-free.
   */
  onAccess(slot: number): void
  /** A new key took `slot` (a miss, or a set of a new key); `hash` is its hash when `needsHash`, else 0. */
  onInsert(slot: number, hash: number): void
  /** `slot` was emptied: invalidated, expired and dropped, its load given up, or evicted after `victim`. */
  onRemove(slot: number): void
  /**
   * The namespace is full and a new key arrives: the slot to evict (storage then removes it, which
   * calls `onRemove`, and inserts the new key). Never called on an empty namespace.
   */
  victim(): number
  /** The slot arrays grew to `length` slots (storage starts small and doubles up to the capacity). */
  resize(length: number): void
  /** Live slots from coldest (the next to be evicted) to hottest: for tests and operators. */
  coldest(): Iterable<number>
  /** Every slot emptied at once. */
  clear(): void
}
