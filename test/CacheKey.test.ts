import { describe, expect, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import * as Equal from "effect/Equal"
import * as fc from "effect/FastCheck"
import * as Hash from "effect/Hash"
import * as HashMap from "effect/HashMap"
import * as HashSet from "effect/HashSet"
import * as List from "effect/List"
import * as Option from "effect/Option"
import * as CacheKey from "../src/CacheKey.js"
import { argumentsKey, encode, encodeArguments, MARKER, toMapKey } from "../src/internal/cacheKey.js"

const key = (value: unknown) => toMapKey(value, "key")

/** `toMapKey` and `encode` agree that `a` and `b` are the same key, or agree that they differ. */
const sameKey = (a: unknown, b: unknown): boolean => {
  const byEncode = encode(a, "key") === encode(b, "key")
  const byMap = new Map([[key(a), true]]).has(key(b))
  expect(byMap).toBe(byEncode)
  return byEncode
}

const expectSame = (a: unknown, b: unknown) => expect(sameKey(a, b)).toBe(true)
const expectDifferent = (a: unknown, b: unknown) => expect(sameKey(a, b)).toBe(false)

const encodingError = (f: () => unknown): CacheKey.KeyEncodingError => {
  try {
    f()
  } catch (e) {
    expect(e).toBeInstanceOf(CacheKey.KeyEncodingError)
    return e as CacheKey.KeyEncodingError
  }
  throw new Error("expected a KeyEncodingError")
}

describe("toMapKey fast path", () => {
  it("returns primitives as they are", () => {
    expect(key(1)).toBe(1)
    expect(key(NaN)).toBeNaN()
    expect(key("a")).toBe("a")
    expect(key("")).toBe("")
    expect(key(true)).toBe(true)
    expect(key(false)).toBe(false)
    expect(key(null)).toBe(null)
    expect(key(undefined)).toBe(undefined)
    expect(key(1n)).toBe(1n)
  })

  it("encodes a string that starts with the marker, so it cannot pose as a composite key", () => {
    const posing = MARKER + "[n1]"
    expect(key(posing)).not.toBe(posing)
    expectDifferent(posing, [1])
    expectSame(posing, MARKER + "[n1]")
  })

  it("marks composite keys", () => {
    expect(key([1])).toBe(MARKER + "[n1]")
    expect(key({ a: 1 })).toBe(MARKER + "{\"a\":n1}")
  })
})

describe("primitives", () => {
  it("tags each type", () => {
    expect(encode(1, "key")).toBe("n1")
    expect(encode(1n, "key")).toBe("b1")
    expect(encode("1", "key")).toBe("\"1\"")
    expect(encode(true, "key")).toBe("t")
    expect(encode(false, "key")).toBe("f")
    expect(encode(null, "key")).toBe("null")
    expect(encode(undefined, "key")).toBe("undefined")
  })

  it("keeps values of different types apart", () => {
    const values = [1, 1n, "1", "n1", true, "t", false, 0, "", null, "null", undefined, "undefined", NaN, "NaN"]
    for (const a of values) {
      for (const b of values) {
        if (!Object.is(a, b)) expectDifferent(a, b)
      }
    }
  })

  it("merges -0 with 0, and NaN with NaN", () => {
    expect(encode(-0, "key")).toBe("n0")
    expectSame(-0, 0)
    expectSame([-0], [0])
    expectSame(NaN, NaN)
    expectSame({ a: NaN }, { a: NaN })
  })

  it("encodes Infinity and large numbers", () => {
    expectDifferent(Infinity, -Infinity)
    expectDifferent(Infinity, "Infinity")
    expectSame([Infinity], [Infinity])
    expectDifferent(2 ** 53, 2 ** 53 + 2)
    expectDifferent(1e21, "1e21")
  })

  it("keeps bigint apart from number", () => {
    expectDifferent(1n, 1)
    expectDifferent([1n], [1])
    expectSame([10n ** 30n], [10n ** 30n])
  })

  it("JSON-quotes strings, so separators inside them cannot collide", () => {
    expectDifferent(["a,b"], ["a", "b"])
    expectDifferent(["a\",\"b"], ["a", "b"])
    expectDifferent({ a: "1,\"b\":n2" }, { a: "1", b: 2 })
    expectDifferent(["]"], [[]])
    expectDifferent("n1", 1)
    expectDifferent(["n1"], [1])
  })
})

describe("argumentsKey", () => {
  it("keys one argument like a direct lookup of it", () => {
    expect(argumentsKey([1])).toBe(key(1))
    expect(argumentsKey(["a"])).toBe(key("a"))
    expect(argumentsKey([{ b: 1, a: 2 }])).toBe(key({ a: 2, b: 1 }))
    expect(CacheKey.argumentsKey([1])).toBe(1)
  })

  it("keys zero or several arguments as a list", () => {
    expect(argumentsKey([])).toBe(MARKER + "()")
    expect(argumentsKey([1, "a"])).toBe(MARKER + "(n1,\"a\")")
  })

  it("keeps argument lists apart from single arguments", () => {
    const distinct: ReadonlyArray<ReadonlyArray<unknown>> = [
      [],
      [undefined],
      [[]],
      [1, 2],
      [[1, 2]],
      ["a,b"],
      ["a", "b"],
      [1],
      ["1"],
      [MARKER + "(n1,n2)"],
      [MARKER + "()"],
      [[1], 2],
      [1, [2]]
    ]
    for (const a of distinct) {
      for (const b of distinct) {
        expect(argumentsKey(a) === argumentsKey(b)).toBe(a === b)
        expect(encodeArguments(a) === encodeArguments(b)).toBe(a === b)
      }
    }
  })

  it("is canonical across argument lists", () => {
    expect(argumentsKey([{ a: 1, b: 2 }, -0])).toBe(argumentsKey([{ b: 2, a: 1 }, 0]))
  })

  it("names the argument in errors", () => {
    const error = encodingError(() => argumentsKey([1, { user: { tags: ["a", () => 1] } }]))
    expect(error.path).toBe("argument 2 at .user.tags[1]")
    expect(error.reason).toBe("is a function")
    expect(error.message).toBe(
      "Cannot encode the cache key: argument 2 at .user.tags[1] is a function; give the cached function a `key` option that leaves it out or turns it into plain data"
    )
    expect(encodingError(() => argumentsKey([() => 1])).path).toBe("argument 1")
    expect(encodingError(() => argumentsKey([1, 2, Symbol("s")])).path).toBe("argument 3")
  })
})

describe("arrays", () => {
  it("encodes items in order", () => {
    expect(encode([1, "a", [true]], "key")).toBe("[n1,\"a\",[t]]")
    expectDifferent([1, 2], [2, 1])
    expectDifferent([1, [2, 3]], [[1, 2], 3])
    expectDifferent([], [undefined])
    expectDifferent([[]], [])
  })

  it("encodes Data.array and Data.tuple like arrays", () => {
    expectSame(Data.array([1, 2]), [1, 2])
    expectSame(Data.tuple(1, "a"), [1, "a"])
    expectSame(Data.array([{ b: 1, a: 2 }]), Data.array([{ a: 2, b: 1 }]))
  })
})

describe("plain objects", () => {
  it("sorts the keys", () => {
    expect(encode({ b: 1, a: 2 }, "key")).toBe("{\"a\":n2,\"b\":n1}")
    expectSame({ b: 1, a: 2 }, { a: 2, b: 1 })
    expectSame({ x: { d: 1, c: [{ f: 1, e: 2 }] } }, { x: { c: [{ e: 2, f: 1 }], d: 1 } })
    expectSame({ 10: "a", 9: "b", z: 1 }, { z: 1, 9: "b", 10: "a" })
  })

  it("counts a property whose value is undefined", () => {
    expectDifferent({ a: undefined }, {})
    expectDifferent({ a: undefined }, { b: undefined })
  })

  it("treats null-prototype objects as plain", () => {
    expectSame(Object.assign(Object.create(null), { a: 1 }), { a: 1 })
  })

  it("quotes keys", () => {
    expectDifferent({ "a\":n1,\"b": 2 }, { a: 1, b: 2 })
    expectDifferent({ "": 1 }, { "\"\"": 1 })
  })

  it("keeps objects apart from arrays", () => {
    expectDifferent({ 0: 1 }, [1])
    expectDifferent({}, [])
  })

  it("allows a shared object in siblings", () => {
    const shared = { a: 1 }
    expectSame([shared, shared], [{ a: 1 }, { a: 1 }])
    expectSame({ x: shared, y: [shared] }, { x: { a: 1 }, y: [{ a: 1 }] })
  })
})

describe("Date, Map and Set", () => {
  it("encodes a Date by its time", () => {
    expect(encode(new Date(5), "key")).toBe("D5")
    expectSame(new Date(1_700_000_000_000), new Date(1_700_000_000_000))
    expectDifferent(new Date(1), new Date(2))
    expectDifferent(new Date(1), 1)
    expectSame(new Date(NaN), new Date("not a date"))
  })

  it("encodes a Map by its sorted entries", () => {
    expectSame(
      new Map<unknown, unknown>([["a", 1], [{ y: 1, x: 2 }, 2]]),
      new Map<unknown, unknown>([[{ x: 2, y: 1 }, 2], ["a", 1]])
    )
    expectDifferent(new Map([["a", 1]]), new Map([["a", 2]]))
    expectDifferent(new Map([["a", 1]]), { a: 1 })
    expectDifferent(new Map([[1, "a"]]), new Map([["1", "a"]]))
    expectDifferent(new Map(), new Set())
  })

  it("encodes a Set by its sorted elements", () => {
    expectSame(new Set([3, 1, 2]), new Set([1, 2, 3]))
    expectSame(new Set([{ a: 1 }, { a: 1 }]), new Set([{ a: 1 }]))
    expectDifferent(new Set([1, 2]), [1, 2])
    expectDifferent(new Set([1]), new Set(["1"]))
    expectDifferent(new Set(["a,b"]), new Set(["a", "b"]))
  })
})

class Person extends Data.Class<{ readonly name: string; readonly age: number }> {}
class Tagged extends Data.TaggedClass("Tagged")<{ readonly value: number }> {}
type Shape = Data.TaggedEnum<{ Circle: { readonly radius: number }; Square: { readonly side: number } }>
const Shape = Data.taggedEnum<Shape>()

describe("Effect values", () => {
  it("encodes structural Data values by their fields", () => {
    expectSame(Data.struct({ b: 1, a: 2 }), Data.struct({ a: 2, b: 1 }))
    expectSame(new Person({ name: "a", age: 1 }), new Person({ age: 1, name: "a" }))
    expectDifferent(new Person({ name: "a", age: 1 }), new Person({ name: "a", age: 2 }))
    expectSame(new Tagged({ value: 1 }), new Tagged({ value: 1 }))
    expectSame(Shape.Circle({ radius: 1 }), Shape.Circle({ radius: 1 }))
    expectDifferent(Shape.Circle({ radius: 1 }), Shape.Square({ side: 1 }))
  })

  it("encodes Option by tag and value", () => {
    expectSame(Option.some({ b: 1, a: 2 }), Option.some({ a: 2, b: 1 }))
    expectSame(Option.none(), Option.none())
    expectDifferent(Option.some(1), Option.some(2))
    expectDifferent(Option.some(undefined), Option.none())
    expectDifferent(Option.some(1), 1)
  })

  it("encodes Either by tag and value", () => {
    expectSame(Either.right(1), Either.right(1))
    expectSame(Either.left([1]), Either.left([1]))
    expectDifferent(Either.right(1), Either.left(1))
    expectDifferent(Either.right(1), Option.some(1))
  })

  it("encodes Chunk and List in order", () => {
    expectSame(Chunk.make(1, 2), Chunk.fromIterable([1, 2]))
    expectSame(Chunk.appendAll(Chunk.make(1), Chunk.make(2)), Chunk.make(1, 2))
    expectDifferent(Chunk.make(1, 2), Chunk.make(2, 1))
    expectDifferent(Chunk.make(1, 2), [1, 2])
    expectSame(List.make(1, 2), List.fromIterable([1, 2]))
    expectDifferent(List.make(1, 2), List.make(2, 1))
    expectDifferent(List.make(1, 2), Chunk.make(1, 2))
  })

  it("encodes HashSet and HashMap by sorted entries", () => {
    const many = Array.from({ length: 50 }, (_, i) => i)
    expectSame(HashSet.fromIterable(many), HashSet.fromIterable([...many].reverse()))
    expectSame(HashSet.make(Data.struct({ a: 1 })), HashSet.make(Data.struct({ a: 1 })))
    expectDifferent(HashSet.make(1), HashSet.make(2))
    expectDifferent(HashSet.make(1), new Set([1]))
    const entries = many.map((i) => [`k${i}`, i] as const)
    expectSame(HashMap.fromIterable(entries), HashMap.fromIterable([...entries].reverse()))
    expectDifferent(HashMap.make(["a", 1]), HashMap.make(["a", 2]))
    expectDifferent(HashMap.make(["a", 1]), new Map([["a", 1]]))
  })

  it("gives Equal-equal values the same key", () => {
    const pairs: ReadonlyArray<readonly [unknown, unknown]> = [
      [Data.struct({ a: Option.some(1) }), Data.struct({ a: Option.some(1) })],
      [Chunk.make(Data.tuple(1, 2)), Chunk.make(Data.tuple(1, 2))],
      [
        HashMap.make([Data.struct({ id: 1 }), Either.right("x")]),
        HashMap.make([Data.struct({ id: 1 }), Either.right("x")])
      ]
    ]
    for (const [a, b] of pairs) {
      expect(Equal.equals(a, b)).toBe(true)
      expectSame(a, b)
    }
  })
})

describe("errors", () => {
  it("rejects a function or a symbol, naming where it is", () => {
    const fn = encodingError(() => encode({ user: { tags: ["a", () => 1] } }, "argument 2"))
    expect(fn.message).toContain("argument 2 at .user.tags[1] is a function")
    expect(fn.message).toContain("`key`")
    const symbol = encodingError(() => encode({ "weird key": Symbol("s") }, "key"))
    expect(symbol.path).toBe("key at [\"weird key\"]")
    expect(symbol.message).toContain("key at [\"weird key\"] is a symbol")
    expect(encodingError(() => key(() => 1)).message).toContain("key is a function")
    expect(encodingError(() => CacheKey.encode(Symbol("s"))).path).toBe("key")
    expect(encodingError(() => encode([[1, () => 1]], "key")).path).toBe("key at [0][1]")
  })

  it("names paths inside Effect values and collections", () => {
    expect(encodingError(() => encode([Option.some(() => 1)], "key")).path).toBe("key at [0].value")
    expect(encodingError(() => encode(Either.left(() => 1), "key")).path).toBe("key at .left")
    expect(encodingError(() => encode(Chunk.make(1, () => 1), "key")).path).toBe("key at [1]")
    expect(encodingError(() => encode(new Map([[1, () => 1]]), "key")).path).toBe("key at .values()[0]")
    expect(encodingError(() => encode(new Set([() => 1]), "key")).path).toBe("key at .values()[0]")
    expect(encodingError(() => encode(new Person({ name: "a", age: (() => 1) as never }), "key")).path).toBe(
      "key at .age"
    )
  })

  it("rejects a cycle", () => {
    const cyclic: Record<string, unknown> = { a: 1 }
    cyclic["self"] = { inner: [cyclic] }
    const error = encodingError(() => encode(cyclic, "argument 1"))
    expect(error.path).toBe("argument 1 at .self.inner[0]")
    expect(error.message).toContain("argument 1 at .self.inner[0] is cyclic")
    const array: Array<unknown> = []
    array.push(array)
    expect(encodingError(() => key(array)).message).toContain("key at [0] is cyclic")
  })

  it("rejects a class instance without structural equality, naming its class", () => {
    class Foo {
      readonly a = 1
    }
    const error = encodingError(() => encode({ foo: new Foo() }, "argument 1"))
    expect(error.message).toContain("argument 1 at .foo is an instance of class Foo, which has no structural equality")
    expect(encodingError(() => key(/x/)).message).toContain("key is an instance of class RegExp")
  })

  it("rejects a value implementing Equal in its own way", () => {
    class Id implements Equal.Equal {
      constructor(readonly id: number) {}
      [Equal.symbol](that: Equal.Equal): boolean {
        return that instanceof Id && that.id === this.id
      }
      [Hash.symbol](): number {
        return Hash.number(this.id)
      }
    }
    const error = encodingError(() => encode([new Id(1)], "key"))
    expect(error.message).toContain("key at [0] is an instance of class Id, which implements Equal in its own way")
    expect(error.message).toContain("`key`")
    expect(encodingError(() => key(Duration.seconds(1))).message).toContain("implements Equal in its own way")
  })

  it("is a tagged error", () => {
    const error = encodingError(() => key(() => 1))
    expect(error._tag).toBe("KeyEncodingError")
    expect(error).toBeInstanceOf(Error)
  })
})

/** Structural equality of the generated values: key order ignored, -0 is 0, NaN is NaN. */
const deepEqual = (a: unknown, b: unknown): boolean => {
  if (a === b || (typeof a === "number" && typeof b === "number" && a !== a && b !== b)) return true
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false
    return true
  }
  if (a instanceof Date || b instanceof Date) {
    return a instanceof Date && b instanceof Date && deepEqual(a.getTime(), b.getTime())
  }
  if (a instanceof Set || b instanceof Set) {
    if (!(a instanceof Set && b instanceof Set)) return false
    const as = [...a]
    const bs = [...b]
    return as.every((x) => bs.some((y) => deepEqual(x, y))) && bs.every((y) => as.some((x) => deepEqual(x, y)))
  }
  if (a instanceof Map || b instanceof Map) {
    if (!(a instanceof Map && b instanceof Map)) return false
    const as = [...a]
    const bs = [...b]
    return as.every((x) => bs.some((y) => deepEqual(x, y))) && bs.every((y) => as.some((x) => deepEqual(x, y)))
  }
  const ak = Object.keys(a)
  const bk = Object.keys(b)
  if (ak.length !== bk.length) return false
  return ak.every((k) =>
    Object.prototype.hasOwnProperty.call(b, k) &&
    deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])
  )
}

/** A structural copy with the object keys in reverse order and 0 for -0. */
const reshuffle = (value: unknown): unknown => {
  if (Object.is(value, -0)) return 0
  if (typeof value !== "object" || value === null) return value
  if (Array.isArray(value)) return Array.from(value, reshuffle)
  if (value instanceof Date) return new Date(value.getTime())
  if (value instanceof Set) return new Set([...value].reverse().map(reshuffle))
  if (value instanceof Map) return new Map([...value].reverse().map(([k, v]) => [reshuffle(k), reshuffle(v)]))
  const copy: Record<string, unknown> = Object.getPrototypeOf(value) === null ? Object.create(null) : {}
  for (const k of Object.keys(value).reverse()) {
    Object.defineProperty(copy, k, {
      value: reshuffle((value as Record<string, unknown>)[k]),
      enumerable: true,
      writable: true,
      configurable: true
    })
  }
  return copy
}

const anything = fc.anything({
  maxDepth: 3,
  maxKeys: 4,
  withBigInt: true,
  withDate: true,
  withMap: true,
  withSet: true,
  withNullPrototype: true,
  withSparseArray: false,
  withBoxedValues: false,
  withTypedArray: false,
  withObjectString: false
})

/** Small values, so that two independent draws are often equal. */
const small = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constantFrom<unknown>(0, -0, 1, NaN, 1n, "", "a", "0", true, null, undefined),
    fc.array(tie("value"), { maxLength: 2 }),
    fc.dictionary(fc.constantFrom("a", "b"), tie("value"), { maxKeys: 2 })
  )
})).value

describe("properties", () => {
  it.prop("encode is canonical: a reshuffled copy has the same key", [anything], ([a]) => {
    const b = reshuffle(a)
    expect(deepEqual(a, b)).toBe(true)
    expect(sameKey(a, b)).toBe(true)
  }, { fastCheck: { numRuns: 300 } })

  it.prop("encode is injective on JSON values", [fc.jsonValue(), fc.jsonValue()], ([a, b]) => {
    expect(sameKey(a, b)).toBe(deepEqual(a, b))
  }, { fastCheck: { numRuns: 300 } })

  it.prop("encode is injective on values", [anything, anything], ([a, b]) => {
    expect(sameKey(a, b)).toBe(deepEqual(a, b))
  }, { fastCheck: { numRuns: 300 } })

  it.prop("keys agree with structural equality on small values", [small, small], ([a, b]) => {
    expect(sameKey(a, b)).toBe(deepEqual(a, b))
    expect(argumentsKey([a, b]) === argumentsKey([b, a])).toBe(deepEqual(a, b))
  }, { fastCheck: { numRuns: 500 } })
})
