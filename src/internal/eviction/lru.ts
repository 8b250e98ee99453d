/**
 * True LRU: every access makes a slot the most recent; the least recent is evicted.
 *
 * @internal
 */
import type { EvictionPolicy } from "./policy.js"

/** No slot: the end of the list. */
const NIL = -1

/**
 * One doubly linked recency list over the slots, in a single `Int32Array`: `links[2 * slot]` is
 * the slot's previous (less recent) slot, `links[2 * slot + 1]` its next. A slot's two links lie
 * side by side, so a relink touches few cache lines even in a large namespace. 8 bytes a slot.
 *
 * @internal
 */
export class LruPolicy implements EvictionPolicy {
  readonly needsHash = false
  private links: Int32Array
  /** The least recent slot (the next victim), or NIL. */
  private head = NIL
  /** The most recent slot, or NIL. */
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

  onInsert(slot: number, _hash: number): void {
    this.linkTail(slot)
  }

  onRemove(slot: number): void {
    this.unlink(slot)
  }

  victim(): number {
    return this.head
  }

  resize(length: number): void {
    if (2 * length <= this.links.length) return
    const links = new Int32Array(2 * length)
    links.set(this.links)
    this.links = links
  }

  /** Least recent first. A live walk of the links: read it through before the namespace changes. */
  *coldest(): IterableIterator<number> {
    const links = this.links
    for (let slot = this.head; slot !== NIL; slot = links[2 * slot + 1]!) yield slot
  }

  clear(): void {
    this.head = this.tail = NIL
  }

  /** The bytes of the links. */
  get byteLength(): number {
    return this.links.byteLength
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
    const tail = this.tail
    links[2 * slot] = tail
    links[2 * slot + 1] = NIL
    if (tail === NIL) this.head = slot
    else links[2 * tail + 1] = slot
    this.tail = slot
  }
}
