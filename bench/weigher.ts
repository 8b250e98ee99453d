/**
 * Scenario weigher: what `CacheWeigher.estimateBytes` costs a call and how close it is, on the
 * typical values of test/support/weigherShapes.ts. Time: ns per call beside
 * `JSON.stringify(value).length` (the usual cheap proxy for a size) and the `object-sizeof`
 * package, each over 1,000 distinct copies of the shape. Accuracy: each shape's heap growth a copy
 * measured in a child process (test/support/heapGrowth.ts), beside both estimates.
 */
import sizeof from "object-sizeof"
import * as CacheWeigher from "../src/CacheWeigher.js"
import { measureShapes } from "../test/support/heapGrowth.js"
import { shapes } from "../test/support/weigherShapes.js"
import { type Case, measure, num, ratio, table } from "./harness.js"

const COPIES = 1_000

/** Calls `weigh` on every copy in turn, `n` calls; a sum keeps the results alive. */
const weighing = (name: string, copies: ReadonlyArray<unknown>, weigh: (value: unknown) => number): Case => ({
  name,
  run: async (n) => {
    let total = 0
    for (let i = 0, c = 0; i < n; i++) {
      total += weigh(copies[c]!)
      if (++c === copies.length) c = 0
    }
    return total
  }
})

/** `JSON.stringify` throws on a bigint; such a shape gets no proxy column. */
const stringifies = (value: unknown): boolean => {
  try {
    JSON.stringify(value)
    return true
  } catch {
    return false
  }
}

export const run = async (): Promise<void> => {
  const rows: Array<Array<string>> = []
  for (const shape of shapes) {
    const copies = Array.from({ length: COPIES }, (_, i) => shape.make(i))
    // About 20 ms a round whatever the shape: calls scaled by what one call walks.
    const iterations = Math.max(2_000, Math.min(200_000, Math.round(4e6 / CacheWeigher.estimateBytes(copies[0]))))
    const cases: Array<Case> = [
      weighing("estimateBytes", copies, CacheWeigher.estimateBytes),
      ...(stringifies(copies[0])
        ? [weighing("JSON.stringify(v).length", copies, (v) => JSON.stringify(v).length)]
        : []),
      weighing("object-sizeof", copies, sizeof)
    ]
    const ns = await measure(cases, iterations, { rounds: 5 })
    const json = cases.length === 3 ? ns[1]! : undefined
    const objectSizeof = ns[cases.length - 1]!
    rows.push([
      shape.name,
      num(ns[0]!, 0),
      json === undefined ? "n/a" : num(json, 0),
      json === undefined ? "" : ratio(ns[0]! / json),
      num(objectSizeof, 0),
      ratio(ns[0]! / objectSizeof)
    ])
  }
  table(
    "weigher: ns per call (best of 5 rounds over 1,000 copies; ratios: estimateBytes / the other)",
    ["shape", "estimateBytes", "JSON.stringify", "ratio", "object-sizeof", "ratio"],
    rows
  )

  const growth = await measureShapes(shapes.map((s) => s.name))
  table(
    "weigher: bytes a copy (measured: V8 heap + ArrayBuffer growth a copy, weighed as a cache does; as built: not weighed)",
    ["shape", "estimateBytes", "measured", "ratio", "as built", "ratio", "object-sizeof", "ratio"],
    growth.map((g) => [
      g.name,
      num(g.estimate, 0),
      num(g.measured, 0),
      ratio(g.estimate / g.measured),
      num(g.measuredAsBuilt, 0),
      ratio(g.estimate / g.measuredAsBuilt),
      num(g.objectSizeof, 0),
      ratio(g.objectSizeof / g.measured)
    ])
  )
}
