/**
 * Replays the ARC paper's OLTP trace through a cached function: a true LRU must reproduce the
 * paper's LRU hit counts exactly (Megiddo and Modha, "ARC: A Self-Tuning, Low Overhead
 * Replacement Cache", USENIX FAST 2003). The trace lives outside the repository (see
 * `support/traces.ts`): without it these tests are skipped with a notice, except under CI=true.
 */
import { expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { decompress } from "fzstd"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { RequestCache } from "../src/RequestCache.js"
import { describeTraces, tracesDirectory } from "./support/traces.js"

const TRACE = "OLTP.lis.zst"

/** The number of accesses the ARC paper gives for OLTP. */
const OLTP_REQUESTS = 914_145

/**
 * Reads the ARC `.lis` format: each line `start count ignored request_id` stands for `count`
 * accesses, to blocks `start .. start + count - 1`. Returns the block of every access, in order.
 */
const parseLis = (text: string): Float64Array => {
  const lines = text.split("\n")
  const blocks: Array<number> = []
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim()
    if (line === "") continue
    const fields = line.split(/\s+/)
    const start = Number(fields[0])
    const count = Number(fields[1])
    if (fields.length !== 4 || !Number.isSafeInteger(start) || !Number.isSafeInteger(count) || count < 1) {
      throw new Error(`OLTP.lis line ${i + 1}: expected "start count ignored request_id", got ${JSON.stringify(line)}`)
    }
    for (let block = start; block < start + count; block++) blocks.push(block)
  }
  return Float64Array.from(blocks)
}

let trace: Float64Array | undefined

/** The trace's accesses (only called where `describeTraces` found it). */
const loadTrace = (): Float64Array => {
  if (trace !== undefined) return trace
  const text = new TextDecoder().decode(decompress(readFileSync(join(tracesDirectory([TRACE])!, TRACE))))
  return trace = parseLis(text)
}

/** Every access of the trace as a call of a cached function; the namespace's stats at the end. */
const replay = (capacity: number) =>
  Effect.gen(function*() {
    const blocks = loadTrace()
    expect(blocks.length).toBe(OLTP_REQUESTS)
    let lookups = 0
    const readBlock = RequestCache.cached({
      name: "oltp",
      lookup: (block: number) =>
        Effect.sync(() => {
          lookups++
          return block
        })
    })
    for (let i = 0; i < blocks.length; i++) {
      yield* readBlock(blocks[i]!)
    }
    const stats = yield* readBlock.stats
    expect(stats.hits + stats.misses).toBe(blocks.length)
    expect(lookups).toBe(stats.misses)
    expect(stats.size).toBe(capacity)
    expect(stats.evictions).toBe(stats.misses - capacity)
    return stats
  }).pipe(Effect.provide(RequestCache.layer({ capacity })))

describeTraces("6. LRU: the OLTP trace (ARC paper)", [TRACE], () => {
  it.effect("capacity 1,000: 300,122 hits", () =>
    Effect.gen(function*() {
      const stats = yield* replay(1_000)
      expect(stats.hits).toBe(300_122)
    }))

  it.effect("capacity 2,000: 388,235 hits", () =>
    Effect.gen(function*() {
      const stats = yield* replay(2_000)
      expect(stats.hits).toBe(388_235)
    }))
})
