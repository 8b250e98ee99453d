import { describe, expect, it } from "@effect/vitest"
import * as fc from "effect/FastCheck"
import { beforeAll } from "vitest"
import { CacheWeigher } from "../src/index.js"
import { type Growth, measureShapes } from "./support/heapGrowth.js"
import { shapes } from "./support/weigherShapes.js"

const { estimateBytes } = CacheWeigher

describe("CacheWeigher.estimateBytes", () => {
  describe("is within 30 % of V8's own heap growth on typical values", () => {
    // Each shape is measured in a `node --expose-gc` child process of its own (two at a time).
    const growth = new Map<string, Growth>()
    beforeAll(async () => {
      for (const g of await measureShapes(shapes.map((s) => s.name))) growth.set(g.name, g)
    }, 240_000)

    for (const shape of shapes) {
      const reason = shape.expected === "within 30 %" ? "within 30 %" : `over (${shape.expected.over})`
      it(`${shape.name}: ${reason}`, () => {
        const g = growth.get(shape.name)!
        const ratio = g.estimate / g.measured
        const report = `estimate ${g.estimate.toFixed(0)} B, measured ${g.measured.toFixed(0)} B a copy ` +
          `(rounds ${g.rounds.map((r) => r.toFixed(0)).join(", ")}), ratio ${ratio.toFixed(2)}`
        if (shape.expected === "within 30 %") {
          expect(ratio, report).toBeGreaterThanOrEqual(0.7)
          expect(ratio, report).toBeLessThanOrEqual(1.3)
        } else {
          // What V8 shares the estimate counts in each value: an overestimate, never an under.
          expect(ratio, report).toBeGreaterThanOrEqual(1)
          expect(ratio, report).toBeLessThanOrEqual(1.6)
        }
      })
    }
  })

  describe("counts V8's layouts (x64, no pointer compression)", () => {
    it("numbers: an integer of 32 bits lives in its slot, any other number is a 16-byte heap number", () => {
      expect(estimateBytes(1)).toBe(8)
      expect(estimateBytes(-(2 ** 31))).toBe(8)
      expect(estimateBytes(2 ** 31)).toBe(24)
      expect(estimateBytes(1.5)).toBe(24)
      expect(estimateBytes(-0)).toBe(24)
      expect(estimateBytes(Number.NaN)).toBe(24)
    })

    it("strings: 16 bytes and 1 byte a Latin-1 character or 2 for any other, rounded up to 8", () => {
      expect(estimateBytes("")).toBe(8)
      expect(estimateBytes("abc")).toBe(8 + 24)
      expect(estimateBytes("abcdefghi")).toBe(8 + 32)
      expect(estimateBytes("é".repeat(8))).toBe(8 + 24)
      expect(estimateBytes("€".repeat(8))).toBe(8 + 32)
      expect(estimateBytes("x".repeat(1000))).toBe(8 + 1016)
    })

    it("booleans, null, undefined and symbols: the slot only", () => {
      for (const value of [true, false, null, undefined, Symbol("s")]) expect(estimateBytes(value)).toBe(8)
    })

    it("bigints: 16 bytes and 8 a 64-bit digit", () => {
      expect(estimateBytes(0n)).toBe(8 + 16)
      expect(estimateBytes(1n)).toBe(8 + 24)
      expect(estimateBytes(-(2n ** 64n) + 1n)).toBe(8 + 24)
      expect(estimateBytes(2n ** 64n)).toBe(8 + 32)
      expect(estimateBytes(2n ** 300n)).toBe(8 + 16 + 5 * 8)
    })

    it("arrays: 32 bytes and 16 + 8 a slot; doubles unboxed in an array of numbers only", () => {
      expect(estimateBytes([])).toBe(8 + 32)
      expect(estimateBytes([1, 2, 3])).toBe(8 + 32 + 16 + 24)
      expect(estimateBytes([1.5, 2.5])).toBe(8 + 32 + 16 + 16)
      expect(estimateBytes([1.5, "a"])).toBe(8 + 32 + 16 + 16 + 16 + 24)
    })

    it("objects: 24 bytes and 8 a field; `{}` has 4 spare fields; a double field is boxed", () => {
      expect(estimateBytes({})).toBe(8 + 56)
      expect(estimateBytes({ a: 1 })).toBe(8 + 32)
      expect(estimateBytes({ a: 1.5 })).toBe(8 + 32 + 16)
      class Point {
        constructor(readonly x: number, readonly y: number) {}
        norm() {
          return Math.hypot(this.x, this.y)
        }
      }
      expect(estimateBytes(new Point(1, 2))).toBe(8 + 24 + 16)
    })

    it("objects of 128 properties and more, and prototype-less objects, are dictionaries holding their keys", () => {
      const withKeys = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${100 + i}`, i]))
      expect(estimateBytes(withKeys(127))).toBe(8 + 24 + 127 * 8)
      // capacity 256 (the power of two at least 1.5 x 128), keys of 4 characters
      expect(estimateBytes(withKeys(128))).toBe(8 + 24 + 16 + 40 + 256 * 24 + 128 * 24)
      expect(estimateBytes(Object.create(null))).toBe(8 + 24 + 16 + 40 + 4 * 24)
    })

    it("Map and Set: their hash table (capacity the next power of two, at least 4), then entries", () => {
      expect(estimateBytes(new Map())).toBe(8 + 32 + 16 + 24 + 8 * (2 + 4 * 3))
      expect(estimateBytes(new Set([1, 2, 3, 4, 5]))).toBe(8 + 32 + 16 + 24 + 8 * (4 + 8 * 2))
      expect(estimateBytes(new Map([["abc", 1.5]]))).toBe(8 + 32 + 16 + 24 + 8 * (2 + 4 * 3) + 24 + 16)
    })

    it("Date and functions: fixed sizes", () => {
      expect(estimateBytes(new Date())).toBe(8 + 112)
      expect(estimateBytes(() => 1)).toBe(8 + 64)
    })

    it("typed arrays and buffers: the objects and the backing store, each buffer once", () => {
      const bytes = new Uint8Array(1024)
      expect(estimateBytes(bytes)).toBe(8 + 96 + 88 + 1024)
      expect(estimateBytes(new ArrayBuffer(100))).toBe(8 + 88 + 100)
      expect(estimateBytes(new DataView(new ArrayBuffer(100)))).toBe(8 + 80 + 88 + 100)
      // Two views of one buffer, and the buffer itself: the buffer counts once.
      expect(estimateBytes([bytes, new Uint16Array(bytes.buffer), bytes.buffer])).toBe(
        8 + 32 + 16 + 24 + 96 + 88 + 1024 + 96
      )
    })

    it("a view of part of a buffer counts the bytes it views (a pooled Buffer shares 8 KiB)", () => {
      const pooled = Buffer.from("abc")
      expect(pooled.buffer.byteLength).toBeGreaterThan(3)
      expect(estimateBytes(pooled)).toBe(8 + 96 + 3)
      expect(estimateBytes(new Uint8Array(4096).subarray(0, 100))).toBe(8 + 96 + 100)
    })
  })

  describe("counts each object once", () => {
    it("a shared reference adds its slot only", () => {
      const shared = { name: "x".repeat(100), tags: ["a", "b"] }
      expect(estimateBytes([shared, shared])).toBe(estimateBytes([shared]) + 8)
      expect(estimateBytes({ a: shared, b: shared })).toBe(estimateBytes({ a: shared, b: null }))
      expect(estimateBytes(new Map([[shared, shared]]))).toBe(estimateBytes(new Map([[shared, 1]])))
    })

    it("cycles terminate", () => {
      const node: { self?: unknown } = {}
      node.self = node
      expect(estimateBytes(node)).toBe(8 + 32)
      const list: Array<unknown> = []
      list.push(list, list)
      expect(estimateBytes(list)).toBe(8 + 32 + 16 + 16)
      const map = new Map<unknown, unknown>()
      map.set(map, map)
      expect(estimateBytes(map)).toBe(8 + 32 + 16 + 24 + 8 * (2 + 4 * 3))
    })

    it("many shared objects (past the walk's small array, into its Set) count once each", () => {
      const objects = Array.from({ length: 100 }, (_, i) => ({ i }))
      const once = estimateBytes(objects)
      expect(estimateBytes([objects, [...objects].reverse()])).toBe(8 + 32 + 16 + 16 + once - 8 + 32 + 16 + 800)
    })
  })

  describe("walks any depth without the call stack", () => {
    it("a list a million objects deep", () => {
      let list: object = {}
      for (let i = 0; i < 1_000_000; i++) list = { next: list }
      expect(estimateBytes(list)).toBe(8 + 56 + 1_000_000 * 32)
    })

    it("arrays, Maps and Sets nested 100,000 deep", () => {
      let nested: unknown = 1
      for (let i = 0; i < 100_000; i++) {
        nested = i % 3 === 0
          ? [nested]
          : i % 3 === 1
          ? new Map([[1, nested]])
          : new Set([nested])
      }
      expect(Number.isFinite(estimateBytes(nested))).toBe(true)
    })

    it("a sparse array of a huge length costs its elements, not its length", () => {
      const sparse: Array<string> = []
      sparse[2 ** 32 - 2] = "x"
      expect(estimateBytes(sparse)).toBe(8 + 32 + 16 + 8 + 24)
    })
  })

  describe("calls into the value", () => {
    it("a getter that weighs another value does not disturb the walk", () => {
      const value = {
        text: "abc",
        get inner() {
          return estimateBytes({ a: "x".repeat(100) })
        }
      }
      expect(estimateBytes(value)).toBe(8 + 24 + 16 + 24)
      expect(estimateBytes({ a: 1 })).toBe(8 + 32)
    })

    it("a getter that throws makes the call throw its error; the next call is not disturbed", () => {
      const shared = { a: 1 }
      const failing = {
        shared,
        get broken(): number {
          throw new Error("broken getter")
        }
      }
      expect(() => estimateBytes(failing)).toThrow("broken getter")
      expect(estimateBytes([shared])).toBe(8 + 32 + 16 + 8 + 32)
    })
  })

  describe("properties", () => {
    const anything = fc.anything({
      withBigInt: true,
      withBoxedValues: true,
      withDate: true,
      withMap: true,
      withNullPrototype: true,
      withObjectString: true,
      withSet: true,
      withSparseArray: true,
      withTypedArray: true
    })

    it.prop("is positive and finite", [anything], ([value]) => {
      const bytes = estimateBytes(value)
      expect(Number.isFinite(bytes)).toBe(true)
      expect(bytes).toBeGreaterThan(0)
    }, { fastCheck: { numRuns: 500 } })

    it.prop("grows when an array gains an element", [fc.array(anything), anything], ([array, element]) => {
      expect(estimateBytes([...array, element])).toBeGreaterThan(estimateBytes(array))
    }, { fastCheck: { numRuns: 500 } })

    it.prop(
      "adds up over a tree: an object of two fields weighs its header and its fields' values",
      [fc.jsonValue(), fc.jsonValue()],
      ([a, b]) => {
        expect(estimateBytes({ a, b })).toBe(8 + 24 + estimateBytes(a) + estimateBytes(b))
      },
      { fastCheck: { numRuns: 300 } }
    )

    it.prop("a value referred to twice weighs one more slot", [fc.object()], ([value]) => {
      expect(estimateBytes([value, value])).toBe(estimateBytes([value]) + 8)
    }, { fastCheck: { numRuns: 300 } })
  })
})
