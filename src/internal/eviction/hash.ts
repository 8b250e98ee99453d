/**
 * A 32-bit hash of a storage key, for W-TinyLFU's frequency sketch.
 *
 * @internal
 */
import type { MapKey } from "../cacheKey.js"

/** Seeds that keep `1`, `"1"`, `1n` and `true` apart. */
const STRING_SEED = 0x811c9dc5
const NUMBER_SEED = 0x2545f491
const BIGINT_SEED = 0x1b873593
const TRUE_HASH = 0x5f356495
const FALSE_HASH = 0x3c6ef372
const NULL_HASH = 0x6a09e667
const UNDEFINED_HASH = 0x510e527f
const NAN_HASH = 0x7ff80000

/** MurmurHash3's finalizer: every input bit reaches every output bit. */
const fmix32 = (h: number): number => {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  return h ^ (h >>> 16)
}

/** A number's IEEE 754 bits, for numbers that are not 32-bit integers. */
const float = new Float64Array(1)
const floatWords = new Int32Array(float.buffer)

/**
 * A well-spread 32-bit hash of a storage key (an `int32`; equal keys, as a `Map` compares them,
 * hash alike: `0` and `-0`, every `NaN`). A 32-bit integer costs one finalizer; another number
 * hashes its 64 bits; a string takes one pass over its char codes (FNV-1a's xor-multiply step)
 * and the finalizer.
 *
 * @internal
 */
export const hashKey = (key: MapKey): number => {
  switch (typeof key) {
    case "number": {
      if ((key | 0) === key) return fmix32(key ^ NUMBER_SEED)
      if (key !== key) return NAN_HASH
      float[0] = key
      return fmix32(floatWords[0]! ^ Math.imul(floatWords[1]! ^ NUMBER_SEED, 0x9e3779b1))
    }
    case "string": {
      let h = STRING_SEED
      for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193)
      return fmix32(h ^ key.length)
    }
    case "boolean":
      return key ? TRUE_HASH : FALSE_HASH
    case "bigint": {
      let h = BIGINT_SEED
      let rest = key
      do {
        h = Math.imul(h ^ Number(BigInt.asUintN(32, rest)), 0x9e3779b1)
        rest >>= 32n
      } while (rest !== 0n && rest !== -1n)
      return fmix32(rest === 0n ? h : ~h)
    }
    default:
      return key === null ? NULL_HASH : UNDEFINED_HASH
  }
}
