import type { EvictionPolicy } from "./policy.js"

/** The end of a list. */
const NIL = -1

/**
 * A true LRU: one doubly linked list of slots in an `Int32Array` (`links[2 * slot]` is the less
 * recent neighbour, `links[2 * slot + 1]` the more recent), as lru-cache keeps it. Every hit, join,
 * load and set makes its slot the most recent; the least recent is the victim.
 */
export class LruPolicy implements EvictionPolicy {
  readonly needsHash = false
  private links: Int32Array
  /** Least recently used. */
  private head = NIL
  /** Most recently used. */
  private tail = NIL

  constructor(length: number) {
    this.links = new Int32Array(2 * length)
  }

  onAccess(slot: number): void {
    if (slot !== this.tail) {
      this.unlink(slot)
      this.linkTail(slot)
    }
  }

  onInsert(slot: number): void {
    this.linkTail(slot)
  }

  onRemove(slot: number): void {
    this.unlink(slot)
  }

  victim(): number {
    return this.head
  }

  resize(length: number): void {
    const links = new Int32Array(2 * length)
    links.set(this.links.subarray(0, Math.min(this.links.length, links.length)))
    this.links = links
  }

  *coldest(): Iterable<number> {
    for (let slot = this.head; slot !== NIL; slot = this.links[2 * slot + 1]!) yield slot
  }

  clear(): void {
    this.head = this.tail = NIL
  }

  private unlink(slot: number): void {
    const links = this.links
    const prev = links[2 * slot]!
    const next = links[2 * slot + 1]!
    if (prev === NIL) this.head = next
    else links[2 * prev + 1] = next
    if (next === NIL) this.tail = prev
    else links[2 * next] = prev
  }

  private linkTail(slot: number): void {
    const links = this.links
    links[2 * slot] = this.tail
    links[2 * slot + 1] = NIL
    if (this.tail === NIL) this.head = slot
    else links[2 * this.tail + 1] = slot
    this.tail = slot
  }
}
