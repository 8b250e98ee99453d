import { LRUCache } from "lru-cache"

/**
 * The floor of the miss scenario: the least a Map-based LRU can do. A hit refreshes the key's
 * recency by delete + set (a `Map` iterates in insertion order); a miss evicts the first key when
 * full, then computes and stores the value.
 *
 * Not O(1) in V8: a deleted entry leaves a hole in the `Map`'s table until the table is rehashed,
 * and `keys().next()` steps over every hole before the first live entry. Evicting from the front
 * piles holes up there, so each eviction costs up to the table's size: about 1 us more per miss at
 * 1,000 entries, tens of us at 1,000,000. The O(1) scenario uses lru-cache as its floor instead.
 */
export class PlainLru<K, V> {
  readonly map = new Map<K, V>()
  constructor(readonly capacity: number) {}

  getOrSet(key: K, compute: (key: K) => V): V {
    const map = this.map
    const value = map.get(key)
    if (value !== undefined) {
      map.delete(key)
      map.set(key, value)
      return value
    }
    if (map.size >= this.capacity) map.delete(map.keys().next().value!)
    const computed = compute(key)
    map.set(key, computed)
    return computed
  }
}

/** The "expensive" function every lookup of these scenarios calls. */
export const compute = (k: number): number => k * 2 + 1

/** The same get-or-set over lru-cache (a true O(1) LRU: typed-array links, like ours). */
export const lruCacheGetOrSet = (cache: LRUCache<number, number>, key: number): number => {
  const value = cache.get(key)
  if (value !== undefined) return value
  const computed = compute(key)
  cache.set(key, computed)
  return computed
}
