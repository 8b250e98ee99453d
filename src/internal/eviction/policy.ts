/**
 * The seam between a namespace's slot storage and its eviction order. Storage owns keys and
 * values in slots numbered from 0; a policy orders the live slots and, when the namespace is
 * full, names the one to evict. It never sees a key or a value: only slot numbers and, when it
 * asks for one, a key's 32-bit hash (Caffeine's `onAccess(node)` / `admit(candidate, victim)`).
 *
 * @internal
 */

/** Orders one namespace's slots and chooses what leaves. Storage owns keys and values; a policy sees slot numbers and a key's 32-bit hash only. */
export interface EvictionPolicy {
  /** Whether `onInsert` needs the key's hash (LRU: false, so storage never hashes for it). */
  readonly needsHash: boolean
  /** A live slot was read or rewritten (hit, stale hit, join of a load in flight, set of an existing key, reload of an expired entry in place). The only call on the hit path: O(1), allocation-free. */
  onAccess(slot: number): void
  /** A new key took `slot` (a miss: its load starts, or a set of a new key). `hash` is its 32-bit hash when needsHash, else 0. */
  onInsert(slot: number, hash: number): void
  /** `slot` was emptied (invalidated, expired and dropped, its load given up, or evicted after `victim`). */
  onRemove(slot: number): void
  /** The namespace holds `capacity` entries and a new key arrives: the slot to evict (storage then removes it, calling onRemove, and inserts the new key). Never called when empty. */
  victim(): number
  /** The slot arrays grew to `length` slots (storage starts at 16 and doubles up to the capacity). */
  resize(length: number): void
  /** Live slots from coldest (next to be evicted) to hottest: for tests and operators (Caffeine's `coldest`). */
  coldest(): Iterable<number>
  /** Every slot emptied at once (invalidateAll). */
  clear(): void
}
