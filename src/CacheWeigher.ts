/**
 * Weighers: what an entry of a cache bounded by `maxWeight` weighs, and an estimate of the heap
 * bytes a value retains to weigh entries by memory.
 *
 * @since 0.1.0
 */
import * as internal from "./internal/weigher.js"

/**
 * The weight of an entry, from its value and its key: a finite number at or above 0. A cache with
 * `maxWeight` keeps the total weight of its entries at or below it.
 *
 * @example
 * ```ts
 * import type { CacheWeigher } from "effect-request-cache"
 *
 * // Weigh a page of search results by its number of hits.
 * const byHits: CacheWeigher.Weigher<string, ReadonlyArray<string>> = (hits) => hits.length
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Weigher<in K, in V> = (value: V, key: K) => number

/**
 * An estimate of the bytes of V8 heap (and of ArrayBuffer backing stores) that `value` retains:
 * a weigher for a cache bounded by memory. It walks the value once, counting each object once
 * (shared and cyclic references included), on an explicit stack, so that no depth overflows the
 * call stack; it takes time in the number of slots it walks, as `JSON.stringify` does, without
 * building a string.
 *
 * What it counts, from V8's layouts on x64 without pointer compression (Node's default build):
 * - the 8-byte slot that refers to the value, and the slot of every element, field and entry;
 * - strings: 16 bytes, then 1 byte a character if all are Latin-1, else 2, rounded up to 8;
 * - numbers: nothing for an integer of 32 bits (held in its slot), 16 bytes for any other held in
 *   an object's field, a Map, a Set or an array that holds more than numbers (an array of numbers
 *   only keeps them unboxed); booleans, `null`, `undefined`, symbols: nothing but the slot;
 * - bigints: 16 bytes and 8 a 64-bit digit;
 * - arrays: 32 bytes and a backing store of 16 + 8 a slot (its length; spare capacity left by
 *   `push` is not seen);
 * - plain objects and class instances: 24 bytes and 8 a field for their own enumerable string
 *   keys (an empty `{}` holds 4 spare fields: 56 bytes); from 128 properties on (and for
 *   `Object.create(null)`), a dictionary of 24 bytes an entry, keys counted as strings;
 * - `Map` and `Set`: their hash tables (capacity the next power of two of their size), then keys
 *   and values; `Date`: 112 bytes; functions: 64 bytes, not their closure;
 * - typed arrays, `DataView`s and `ArrayBuffer`s: the view and buffer objects and the backing
 *   store's bytes (a view of part of a buffer counts the bytes it views, its share of the buffer).
 *
 * It is an estimate. V8 shares what it can (hidden classes, short strings that `JSON.parse` or
 * literals internalize, numbers a compiler reused), keeps spare capacity, turns objects built by
 * `object[key] = value` past 16 keys into dictionaries, and boxes even small integers in a field
 * that once held a double: on typical values the estimate is within 30 % of the heap V8 grows by
 * (test/CacheWeigher.test.ts measures it), but these cases can move it further. Symbol-keyed and
 * non-enumerable properties are not counted; own getters and `Proxy` traps are called.
 *
 * @example
 * ```ts
 * import { CacheWeigher } from "effect-request-cache"
 *
 * const user = { id: 1, name: "Ada Lovelace", email: "ada@example.com", tags: ["admin"] }
 * console.log(CacheWeigher.estimateBytes(user)) // 208
 * console.log(CacheWeigher.estimateBytes("x".repeat(1000))) // 1024
 * ```
 *
 * @since 0.1.0
 * @category weighers
 */
export const estimateBytes: (value: unknown) => number = internal.estimateBytes
