/**
 * A model of the namespace's slot storage, driving an eviction policy exactly as the real storage
 * does (src/internal/eviction/policy.ts): a `Map` from key to slot, slots allocated from 0
 * upward in arrays that start at 16 and double up to the capacity (`resize`), a stack of freed
 * slots taken first; a hit is `onAccess`; a miss of a full namespace removes `victim()` first
 * (`onRemove`) and then inserts (`onInsert`, with the key's hash when the policy asks for it).
 */
import type { MapKey } from "../src/internal/cacheKey.js"
import { hashKey } from "../src/internal/eviction/hash.js"
import type { EvictionPolicy } from "../src/internal/eviction/policy.js"

export class PolicySimulator {
  readonly map = new Map<MapKey, number>()
  /** The key of each slot (for the map's delete on eviction). */
  private keys: Array<MapKey> = []
  /** Which slots hold a key: a policy's victim must be one of them. */
  private occupied: Array<boolean> = []
  private readonly free: Array<number> = []
  /** Slots allocated so far; the arrays' length. */
  private fresh = 0
  private length: number
  private readonly needsHash: boolean
  hits = 0
  misses = 0
  evictions = 0

  constructor(readonly capacity: number, readonly policy: EvictionPolicy) {
    this.length = Math.min(capacity, 16)
    this.needsHash = policy.needsHash
  }

  get size(): number {
    return this.map.size
  }

  /** A read of `key`: true on a hit; a miss inserts it (evicting when full). */
  access(key: MapKey): boolean {
    const slot = this.map.get(key)
    if (slot !== undefined) {
      this.policy.onAccess(slot)
      this.hits++
      return true
    }
    this.misses++
    this.insert(key)
    return false
  }

  /** Invalidation of `key`: its slot is emptied. */
  remove(key: MapKey): boolean {
    const slot = this.map.get(key)
    if (slot === undefined) return false
    this.removeSlot(slot)
    return true
  }

  /** invalidateAll. */
  clear(): void {
    this.map.clear()
    this.keys = []
    this.occupied = []
    this.free.length = 0
    this.fresh = 0
    this.policy.clear()
  }

  /** The live keys from coldest to hottest, by the policy's `coldest`. */
  coldestKeys(): Array<MapKey> {
    const keys: Array<MapKey> = []
    for (const slot of this.policy.coldest()) keys.push(this.keys[slot])
    return keys
  }

  /** The slots that hold a key, in increasing order. */
  liveSlots(): Array<number> {
    const slots: Array<number> = []
    for (let slot = 0; slot < this.occupied.length; slot++) if (this.occupied[slot] === true) slots.push(slot)
    return slots
  }

  private insert(key: MapKey): void {
    if (this.map.size >= this.capacity) {
      const victim = this.policy.victim()
      if (this.occupied[victim] !== true) {
        throw new Error(`the policy's victim is slot ${victim}, which holds no key (${this.map.size} live)`)
      }
      this.removeSlot(victim)
      this.evictions++
    }
    let slot: number
    if (this.free.length > 0) {
      slot = this.free.pop()!
    } else {
      if (this.fresh === this.length) {
        this.length = Math.min(this.capacity, this.length * 2)
        this.policy.resize(this.length)
      }
      slot = this.fresh++
    }
    this.keys[slot] = key
    this.occupied[slot] = true
    this.map.set(key, slot)
    this.policy.onInsert(slot, this.needsHash ? hashKey(key) : 0)
  }

  private removeSlot(slot: number): void {
    this.policy.onRemove(slot)
    this.map.delete(this.keys[slot])
    this.keys[slot] = undefined
    this.occupied[slot] = false
    this.free.push(slot)
  }
}
