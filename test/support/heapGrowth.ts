/**
 * Measures shapes of test/support/weigherShapes.ts in child processes (heapGrowthChild.ts), two at
 * a time: vitest's workers and the bench may not have `--expose-gc`, and one process a shape
 * keeps the shapes from sharing hidden classes.
 */
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"

export interface Growth {
  readonly name: string
  readonly copies: number
  /**
   * Heap (and ArrayBuffer) bytes one copy grew by, each copy weighed as it was made (as a cache
   * with the weigher does): the median of 3 rounds.
   */
  readonly measured: number
  /** The same, copies not weighed: strings built by concatenation are still cons strings. */
  readonly measuredAsBuilt: number
  readonly rounds: ReadonlyArray<number>
  /** `CacheWeigher.estimateBytes`, averaged over the copies. */
  readonly estimate: number
  /** The `object-sizeof` package's answer, averaged over the copies. */
  readonly objectSizeof: number
}

const root = fileURLToPath(new URL("../..", import.meta.url))
const child = fileURLToPath(new URL("./heapGrowthChild.ts", import.meta.url))

const measureOne = (name: string): Promise<Growth> =>
  new Promise((resolve, reject) => {
    // Bytecode flushing would free old functions' bytecode during a measurement.
    const process_ = spawn(process.execPath, ["--expose-gc", "--no-flush-bytecode", "--import", "tsx", child, name], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    process_.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()))
    process_.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
    process_.on("error", reject)
    process_.on("close", (code) => {
      if (code !== 0) reject(new Error(`heapGrowthChild ${name} exited with ${code}: ${stderr}`))
      else resolve(JSON.parse(stdout) as Growth)
    })
  })

/** The growth of each named shape, in the order given. */
export const measureShapes = async (names: ReadonlyArray<string>, concurrency = 2): Promise<Array<Growth>> => {
  const results: Array<Growth> = new Array(names.length)
  let next = 0
  const worker = async () => {
    while (next < names.length) {
      const index = next++
      results[index] = await measureOne(names[index]!)
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, names.length) }, worker))
  return results
}
