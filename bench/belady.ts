/**
 * The optimal hit count of a cache of a given size on a known sequence (Belady's MIN, as
 * Caffeine's simulator computes it, `ClairvoyantPolicy`): on a miss the cache keeps, of its
 * entries and the new key, those used again soonest; the one used again latest (or never) is
 * dropped, the new key included. No online policy can do better.
 */

/** For each access, the index of the next access to the same key; `accesses.length` when none. */
export const nextUses = (accesses: Int32Array): Int32Array => {
  const n = accesses.length
  const next = new Int32Array(n)
  let max = 0
  let min = 0
  for (let i = 0; i < n; i++) {
    const key = accesses[i]!
    if (key > max) max = key
    if (key < min) min = key
  }
  if (min >= 0 && max < 1 << 26) {
    const last = new Int32Array(max + 1).fill(n)
    for (let i = n - 1; i >= 0; i--) {
      const key = accesses[i]!
      next[i] = last[key]!
      last[key] = i
    }
  } else {
    const last = new Map<number, number>()
    for (let i = n - 1; i >= 0; i--) {
      const key = accesses[i]!
      next[i] = last.get(key) ?? n
      last.set(key, i)
    }
  }
  return next
}

/**
 * Belady's hits at `capacity`. The cache is the set of its entries' next-use times (each time
 * belongs to one access, so they are distinct); an access at time t hits when t is in the set.
 * A max-heap with lazy deletion finds the latest next use: O(n log n).
 */
export const beladyHits = (next: Int32Array, capacity: number): number => {
  const n = next.length
  // Times n .. 2n-1 stand for "never again", one each, so that they stay distinct.
  const present = new Uint8Array(2 * n + 1)
  // One push per access, so the heap never holds more than n entries.
  const heap = new Int32Array(n + 1)
  let heapSize = 0
  let size = 0
  let never = n
  let hits = 0
  const push = (value: number) => {
    let i = heapSize++
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (heap[parent]! >= value) break
      heap[i] = heap[parent]!
      i = parent
    }
    heap[i] = value
  }
  const pop = (): number => {
    const top = heap[0]!
    const last = heap[--heapSize]!
    let i = 0
    for (;;) {
      let child = 2 * i + 1
      if (child >= heapSize) break
      if (child + 1 < heapSize && heap[child + 1]! > heap[child]!) child++
      if (heap[child]! <= last) break
      heap[i] = heap[child]!
      i = child
    }
    heap[i] = last
    return top
  }
  for (let t = 0; t < n; t++) {
    if (present[t] === 1) {
      present[t] = 0
      size--
      hits++
    }
    const use = next[t]! === n ? never++ : next[t]!
    present[use] = 1
    size++
    push(use)
    if (size > capacity) {
      // Stale heap entries (already hit) are skipped.
      let victim = pop()
      while (present[victim] !== 1) victim = pop()
      present[victim] = 0
      size--
    }
  }
  return hits
}
