/**
 * Typical cached values, for measuring `CacheWeigher.estimateBytes` against V8's heap growth
 * (test/CacheWeigher.test.ts) and for timing it (bench/weigher.ts). `make(i)` builds copy `i`:
 * copies differ in content, so that V8 shares nothing between them but what it shares between
 * any two values of the shape (hidden classes, internalized strings).
 */

export interface Shape {
  readonly name: string
  /** How many copies the heap measurement keeps alive: enough for a few megabytes. */
  readonly copies: number
  /** Where the estimate is expected within 30 % of the measured growth; else why not. */
  readonly expected: "within 30 %" | { readonly over: string }
  readonly make: (i: number) => unknown
}

/** A flat (sequential) copy of a string: what JSON.parse, a socket or a driver hands over. */
const flat = (s: string): string => JSON.parse(JSON.stringify(s)) as string

const digits = (i: number, width: number): string => String(i).padStart(width, "0")

const vocabulary = ["admin", "staff", "billing", "support", "beta", "eu", "us", "vip"]

export const shapes: ReadonlyArray<Shape> = [
  {
    name: "short ASCII string (8 chars)",
    copies: 50_000,
    expected: "within 30 %",
    make: (i) => `k${digits(i, 7)}`
  },
  {
    name: "long ASCII string (2,000 chars)",
    copies: 5_000,
    expected: "within 30 %",
    make: (i) => flat(`${i}:`.padEnd(2_000, "lorem ipsum dolor sit amet "))
  },
  {
    name: "two-byte string (100 chars)",
    copies: 20_000,
    expected: "within 30 %",
    make: (i) => flat(`${i} `.padEnd(100, "Grüße aus Zürich, 你好世界. "))
  },
  {
    name: "array of 100 integers",
    copies: 10_000,
    expected: "within 30 %",
    make: (i) => Array.from({ length: 100 }, (_, j) => i + j)
  },
  {
    name: "array of 100 doubles",
    copies: 10_000,
    expected: "within 30 %",
    make: (i) => Array.from({ length: 100 }, (_, j) => i + j / 8)
  },
  {
    name: "array of 20 { id, score } objects",
    copies: 10_000,
    expected: "within 30 %",
    make: (i) => Array.from({ length: 20 }, (_, j) => ({ id: i * 20 + j, score: j + 0.25 }))
  },
  {
    name: "user { id, name, email, tags } (built)",
    copies: 20_000,
    expected: "within 30 %",
    make: (i) => ({
      id: i,
      name: `User number ${i}`,
      email: `user.${i}@example.com`,
      tags: [`team-${i % 7}`, `region-${i % 3}`, `plan-${i % 4}`]
    })
  },
  {
    name: "user { id, name, email, tags } (JSON.parse, tags from a vocabulary)",
    copies: 20_000,
    // JSON.parse internalizes string values of up to 10 characters: every user shares its tags.
    expected: { over: "short strings that repeat are shared by V8" },
    make: (i) =>
      JSON.parse(JSON.stringify({
        id: i,
        name: `User number ${i}`,
        email: `user.${i}@example.com`,
        tags: [vocabulary[i % 8], vocabulary[(i + 3) % 8], vocabulary[(i + 5) % 8]]
      }))
  },
  {
    name: "nested order { customer { address }, lines [3] }",
    copies: 10_000,
    expected: "within 30 %",
    make: (i) => ({
      id: `order-${digits(i, 8)}`,
      placedAt: 1_700_000_000_000 + i * 1_000,
      customer: {
        id: i % 1_000,
        name: `Customer ${i}`,
        address: { street: `${i} Long Street`, city: `City ${i % 50}`, zip: digits(i % 100_000, 5) }
      },
      lines: [0, 1, 2].map((j) => ({ sku: `sku-${i}-${j}`, quantity: j + 1, price: 9.99 + j })),
      paid: i % 2 === 0
    })
  },
  {
    name: "object of 200 keys (JSON.parse: dictionary mode)",
    copies: 400,
    expected: "within 30 %",
    make: (i) => {
      let json = "{"
      for (let j = 0; j < 200; j++) json += `${j === 0 ? "" : ","}"id${i}-${j}":${j}`
      return JSON.parse(json + "}")
    }
  },
  {
    name: "Map of 100 number -> string",
    copies: 1_000,
    expected: "within 30 %",
    make: (i) => new Map(Array.from({ length: 100 }, (_, j) => [i * 100 + j, `value ${i}/${j}`]))
  },
  {
    name: "Set of 100 strings",
    copies: 1_000,
    expected: "within 30 %",
    make: (i) => new Set(Array.from({ length: 100 }, (_, j) => `member ${i}/${j}`))
  },
  {
    name: "Date",
    copies: 50_000,
    expected: "within 30 %",
    make: (i) => new Date(1_700_000_000_000 + i)
  },
  {
    name: "Uint8Array of 1 KiB",
    copies: 5_000,
    expected: "within 30 %",
    make: (i) => new Uint8Array(1_024).fill(i & 0xff)
  },
  {
    name: "array of 10 bigints (128 bits)",
    copies: 10_000,
    expected: "within 30 %",
    make: (i) => Array.from({ length: 10 }, (_, j) => (BigInt(i) << 100n) + BigInt(j))
  }
]
