/**
 * An estimate of the V8 heap bytes a value retains, from V8's object layouts on x64 without
 * pointer compression (Node's default build: 8-byte tagged slots, 32-bit small integers). The
 * sizes below were read off `process.memoryUsage()` growth on Node 20 (V8 11.3) for each kind of
 * object; test/CacheWeigher.test.ts measures them again for typical shapes.
 */

/** A tagged slot: a pointer, or a small integer (Smi) held in the slot itself. */
const SLOT = 8
/** A number that is not a Smi, boxed in a slot: map + float64. */
const HEAP_NUMBER = 16
/** A sequential string: map + hash + length, then 1 or 2 bytes a character, to 8 bytes. */
const STRING_HEADER = 16
/** A BigInt: map + sign and length, then 8 bytes a 64-bit digit. */
const BIGINT_HEADER = 16
/** A JSObject: map + properties + elements, then its in-object fields. */
const OBJECT_HEADER = 24
/** `{}` and `JSON.parse("{}")`: V8 preallocates 4 in-object fields for properties to come. */
const EMPTY_OBJECT = OBJECT_HEADER + 4 * SLOT
/** A JSArray: the object header + length. */
const ARRAY = 32
/** A FixedArray or FixedDoubleArray (an array's elements, a hash table): map + length. */
const FIXED_ARRAY_HEADER = 16
/** A NameDictionary's prefix: element count, deleted count, capacity, enumeration index, hash. */
const DICTIONARY_PREFIX = 5 * SLOT
/** A NameDictionary entry: key, value, property details. */
const DICTIONARY_ENTRY = 3 * SLOT
/**
 * JSON.parse builds an object of 128 or more properties in dictionary mode (one of 17 or more
 * built by `object[key] = value` in a loop already is, which the estimate cannot see).
 */
const MAX_FAST_PROPERTIES = 127
/** A JSMap or JSSet: the object header + its table. */
const COLLECTION = 32
/** An OrderedHashTable's prefix: element count, deleted count, bucket count. */
const HASH_TABLE_PREFIX = 3 * SLOT
/**
 * A JSDate: the header, its time value and the cached year, month, day, ... fields, and its time
 * value boxed as a heap number (any date after 25 January 1970 is more than 2^31 milliseconds).
 */
const DATE = 96 + HEAP_NUMBER
/** A JSTypedArray: the header, buffer, offset, lengths, data pointers. */
const TYPED_ARRAY = 96
/** A JSDataView. */
const DATA_VIEW = 80
/** A JSArrayBuffer (its backing store is outside the heap, counted on its own). */
const ARRAY_BUFFER = 88
/** A JSFunction alone (its code, closure context and prototype are not counted). */
const FUNCTION = 64
/**
 * An array longer than this is walked over its present indices (Object.keys), so that a sparse
 * array with a huge length (`a[4e9] = 1`) costs its elements in time, not its length.
 */
const SPARSE_WALK_LENGTH = 1 << 24

/** Absent where a browser page is not cross-origin isolated. */
const SharedArrayBufferClass: Function | undefined = typeof SharedArrayBuffer === "function"
  ? SharedArrayBuffer
  : undefined

const SMI_MIN = -(2 ** 31)
const SMI_MAX = 2 ** 31 - 1
const TWO_BYTE_CHARACTER = /[^\u0000-\u00ff]/
/** 2^64, 2^128, 2^192, 2^256: a magnitude below the k-th has at most k + 1 digits. */
const DIGIT_LIMITS = [1n << 64n, 1n << 128n, 1n << 192n, 1n << 256n]

const alignTo8 = (bytes: number): number => Math.ceil(bytes / 8) * 8

/** Held in a slot itself: an integer of 32 bits, but -0. */
const isSmi = (n: number): boolean => Number.isInteger(n) && n >= SMI_MIN && n <= SMI_MAX && (n !== 0 || 1 / n > 0)

const numberBytes = (n: number): number => isSmi(n) ? 0 : HEAP_NUMBER

/** A flat string; the empty string is a shared constant. */
const stringBytes = (s: string): number =>
  s.length === 0 ? 0 : alignTo8(STRING_HEADER + (TWO_BYTE_CHARACTER.test(s) ? 2 : 1) * s.length)

const bigintBytes = (b: bigint): number => {
  if (b === 0n) return BIGINT_HEADER
  const magnitude = b < 0n ? -b : b
  for (let k = 0; k < DIGIT_LIMITS.length; k++) {
    if (magnitude < DIGIT_LIMITS[k]!) return BIGINT_HEADER + (k + 1) * 8
  }
  return BIGINT_HEADER + Math.ceil(magnitude.toString(16).length / 16) * 8
}

/** What a slot holding a primitive adds beyond the slot. */
const primitiveBytes = (value: unknown): number => {
  switch (typeof value) {
    case "number":
      return numberBytes(value)
    case "string":
      return stringBytes(value)
    case "bigint":
      return bigintBytes(value)
    default:
      // booleans, undefined, null (shared constants), symbols (almost always shared)
      return 0
  }
}

/** The smallest power of two at least `n` (n >= 1). */
export const powerOfTwoAtLeast = (n: number): number => n <= 1 ? 1 : 2 ** (32 - Math.clz32(n - 1))

/** A Map's or Set's OrderedHashTable: capacity a power of two (at least 4), half as many buckets. */
const hashTableBytes = (size: number, slotsPerEntry: number): number => {
  const capacity = Math.max(4, powerOfTwoAtLeast(size))
  return FIXED_ARRAY_HEADER + HASH_TABLE_PREFIX + SLOT * (capacity / 2 + capacity * slotsPerEntry)
}

/** A NameDictionary holding `n` properties: capacity the power of two at least 1.5 n (at least 4). */
const dictionaryBytes = (n: number): number => {
  const capacity = Math.max(4, powerOfTwoAtLeast(n + (n >> 1)))
  return FIXED_ARRAY_HEADER + DICTIONARY_PREFIX + DICTIONARY_ENTRY * capacity
}

/** Up to this many objects, a walk remembers them in an array: a scan is cheaper than hashing. */
const FEW_OBJECTS = 32

/**
 * One walk: objects already seen are counted once (shared and cyclic references), and objects
 * wait on an explicit stack rather than the call stack, so any depth is walked.
 */
class Walk {
  /** The objects seen, while they are few; then `many` holds them. */
  readonly few: Array<object | undefined> = []
  fewCount = 0
  many: Set<object> | undefined = undefined
  usesMany = false
  readonly pending: Array<object | undefined> = []
  pendingCount = 0

  /** Whether `value` was seen before. */
  seen(value: object): boolean {
    if (this.usesMany) return this.many!.has(value)
    const few = this.few
    for (let i = 0; i < this.fewCount; i++) if (few[i] === value) return true
    return false
  }

  /** Remembers `value`; true the first time. */
  firstVisit(value: object): boolean {
    if (!this.usesMany) {
      const few = this.few
      const count = this.fewCount
      for (let i = 0; i < count; i++) if (few[i] === value) return false
      if (count < FEW_OBJECTS) {
        few[count] = value
        this.fewCount = count + 1
        return true
      }
      const many = this.many ??= new Set()
      for (let i = 0; i < count; i++) many.add(few[i]!)
      this.usesMany = true
    }
    const many = this.many!
    const size = many.size
    return many.add(value).size !== size
  }

  /** What a slot holding `value` adds beyond the slot: a primitive's heap object, or nothing yet for an object. */
  slot(value: unknown): number {
    if ((typeof value === "object" && value !== null) || typeof value === "function") {
      if (this.firstVisit(value)) this.pending[this.pendingCount++] = value
      return 0
    }
    return primitiveBytes(value)
  }

  /** Counts objects until none is pending. */
  run(root: object): number {
    this.slot(root)
    const pending = this.pending
    let bytes = 0
    while (this.pendingCount > 0) {
      const next = pending[--this.pendingCount]!
      pending[this.pendingCount] = undefined
      bytes += this.objectBytes(next)
    }
    return bytes
  }

  objectBytes(value: object): number {
    const prototype = Object.getPrototypeOf(value)
    if (prototype === Object.prototype) return this.propertiesBytes(value, false)
    if (Array.isArray(value)) return this.arrayBytes(value)
    if (typeof value === "function") return FUNCTION
    if (value instanceof Map) return this.mapBytes(value)
    if (value instanceof Set) return this.setBytes(value)
    if (value instanceof Date) return DATE
    if (ArrayBuffer.isView(value)) return this.viewBytes(value)
    if (value instanceof ArrayBuffer) return ARRAY_BUFFER + value.byteLength
    if (SharedArrayBufferClass !== undefined && value instanceof SharedArrayBufferClass) {
      return ARRAY_BUFFER + (value as SharedArrayBuffer).byteLength
    }
    // `Object.create(null)` objects are dictionaries from the start; class instances are not.
    return this.propertiesBytes(value, prototype === null)
  }

  /**
   * A plain object or class instance: its own enumerable string-keyed properties (`Object.keys`:
   * faster than `for...in` on dictionaries, and as fast on the rest).
   */
  propertiesBytes(value: object, dictionary: boolean): number {
    const record = value as Record<string, unknown>
    const keys = Object.keys(value)
    const n = keys.length
    let fields = 0
    for (let i = 0; i < n; i++) fields += this.slot(record[keys[i]!])
    if (dictionary || n > MAX_FAST_PROPERTIES) return fields + this.dictionaryKeysBytes(keys)
    return fields + (n === 0 ? EMPTY_OBJECT : OBJECT_HEADER + SLOT * n)
  }

  /** A dictionary-mode object holds its keys (a fast object's keys live in its hidden class, shared). */
  dictionaryKeysBytes(keys: ReadonlyArray<string>): number {
    let bytes = OBJECT_HEADER + dictionaryBytes(keys.length)
    for (let i = 0; i < keys.length; i++) bytes += stringBytes(keys[i]!)
    return bytes
  }

  /**
   * Elements in one FixedArray. An array of numbers only keeps them unboxed (a Smi array, or a
   * FixedDoubleArray once one is a double); mixed with anything else, each double is boxed.
   */
  arrayBytes(array: ReadonlyArray<unknown>): number {
    const length = array.length
    if (length > SPARSE_WALK_LENGTH) return this.sparseArrayBytes(array)
    let bytes = length === 0 ? ARRAY : ARRAY + FIXED_ARRAY_HEADER + SLOT * length
    let boxes = 0
    let numbersOnly = true
    for (let i = 0; i < length; i++) {
      const element = array[i]
      if (typeof element === "number") {
        if (!isSmi(element)) boxes += HEAP_NUMBER
      } else {
        numbersOnly = false
        bytes += this.slot(element)
      }
    }
    return numbersOnly ? bytes : bytes + boxes
  }

  sparseArrayBytes(array: ReadonlyArray<unknown>): number {
    const record = array as unknown as Record<string, unknown>
    const keys = Object.keys(array)
    let bytes = ARRAY + FIXED_ARRAY_HEADER + SLOT * keys.length
    for (let i = 0; i < keys.length; i++) bytes += this.slot(record[keys[i]!])
    return bytes
  }

  mapBytes(map: ReadonlyMap<unknown, unknown>): number {
    let bytes = COLLECTION + hashTableBytes(map.size, 3)
    for (const [key, value] of map) bytes += this.slot(key) + this.slot(value)
    return bytes
  }

  setBytes(set: ReadonlySet<unknown>): number {
    let bytes = COLLECTION + hashTableBytes(set.size, 2)
    for (const element of set) bytes += this.slot(element)
    return bytes
  }

  /**
   * A view of its whole buffer counts the buffer once; a view of part of one counts only the bytes
   * it views: its fair share of a buffer others view too (Node's 8 KiB Buffer pool, a socket read).
   */
  viewBytes(view: ArrayBufferView): number {
    const own = view instanceof DataView ? DATA_VIEW : TYPED_ARRAY
    const buffer = view.buffer
    if (view.byteLength === buffer.byteLength) {
      return this.firstVisit(buffer) ? own + ARRAY_BUFFER + buffer.byteLength : own
    }
    return this.seen(buffer) ? own : own + view.byteLength
  }

  /** Forgets the walk's objects (a walk kept for the next call must not keep them alive). */
  reset(): void {
    this.few.fill(undefined, 0, this.fewCount)
    this.fewCount = 0
    if (this.usesMany) {
      this.many!.clear()
      this.usesMany = false
    }
    this.pending.fill(undefined, 0, this.pendingCount)
    this.pendingCount = 0
  }
}

/** One walk kept for the next call; a call made while it is in use (from a getter) makes its own. */
let idleWalk: Walk | undefined = new Walk()

/** @internal */
export const estimateBytes = (value: unknown): number => {
  if ((typeof value !== "object" || value === null) && typeof value !== "function") {
    return SLOT + primitiveBytes(value)
  }
  const walk = idleWalk ?? new Walk()
  idleWalk = undefined
  try {
    return SLOT + walk.run(value)
  } finally {
    walk.reset()
    idleWalk = walk
  }
}
