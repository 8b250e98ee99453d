/**
 * Run as `node --expose-gc --no-flush-bytecode --import tsx test/support/heapGrowthChild.ts
 * <shape name>`: measures what one copy of a shape (test/support/weigherShapes.ts) grows V8's heap
 * by, beside what `CacheWeigher.estimateBytes` and the `object-sizeof` package say, and prints it
 * as one JSON line. One shape a process, so that shapes do not share hidden classes or field
 * representations (a field that held a double in one shape boxes the integers of the next).
 */
import sizeof from "object-sizeof"
import * as CacheWeigher from "../../src/CacheWeigher.js"
import { shapes } from "./weigherShapes.js"

const gc = globalThis.gc
if (gc === undefined) throw new Error("heapGrowthChild: run with node --expose-gc")

const name = process.argv[2]
const shape = shapes.find((s) => s.name === name)
if (shape === undefined) throw new Error(`heapGrowthChild: no shape named ${JSON.stringify(name)}`)

/** The heap plus ArrayBuffer backing stores (outside the heap), after full collections. */
const used = (): number => {
  gc()
  gc()
  const usage = process.memoryUsage()
  return usage.heapUsed + usage.arrayBuffers
}

let kept: Array<unknown> = []

/**
 * Bytes a copy: the copies and the slot that holds each (the holder is made inside the window,
 * as `estimateBytes` counts the slot that refers to the value). Each round makes copies of its own
 * numbers, so that nothing the last round left (strings V8 internalized, hidden classes it keeps
 * for a few collections) is shared with them. `weighed`: each copy is weighed as it is made, as a
 * cache with the weigher does; weighing flattens strings built by concatenation.
 */
const round = (index: number, weighed: boolean): number => {
  kept = []
  const first = index * shape.copies
  const before = used()
  const holder: Array<unknown> = new Array(shape.copies)
  for (let i = 0; i < shape.copies; i++) {
    const value = shape.make(first + i)
    if (weighed) CacheWeigher.estimateBytes(value)
    holder[i] = value
  }
  kept = holder
  return (used() - before) / shape.copies
}

const median = (rounds: Array<number>): number => rounds.sort((a, b) => a - b)[rounds.length >> 1]!

// A first round warms the code and makes the hidden classes every later copy shares.
round(0, true)
const asBuilt = [round(1, false), round(2, false), round(3, false)]
const weighed = [round(4, true), round(5, true), round(6, true)]

let estimate = 0
let objectSizeof = 0
for (const value of kept) {
  estimate += CacheWeigher.estimateBytes(value)
  objectSizeof += sizeof(value)
}
console.log(JSON.stringify({
  name: shape.name,
  copies: shape.copies,
  measured: median([...weighed]),
  measuredAsBuilt: median([...asBuilt]),
  rounds: weighed,
  estimate: estimate / kept.length,
  objectSizeof: objectSizeof / kept.length
}))
