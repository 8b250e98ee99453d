/**
 * The third-party cache traces (of the ARC and LIRS papers): where they are, and their accesses
 * as block numbers. Shared by the hit-ratio benchmark and the trace tests, which skip with
 * `missingNotice` when a trace is not there (a clone of the repository alone has none).
 *
 * The traces are never copied into the repository. They are found in the folder named by
 * `REQUEST_CACHE_TRACES`, else in `../shared/traces` beside the repository.
 */
import { decompress } from "fzstd"
import { existsSync, readFileSync } from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { gunzipSync } from "node:zlib"

/** One trace file and what it holds. */
export interface Trace {
  readonly name: string
  readonly file: string
  /** `arc`: ARC `.lis` lines `start count ignored request_id` (blocks start .. start+count-1); `lirs`: a block a line. */
  readonly format: "arc" | "lirs"
  /** Accesses after expansion (the papers' request counts). */
  readonly accesses: number
  /** Where it comes from (for notices and the README). */
  readonly source: string
}

const ARC = "one of the ARC paper's traces (Megiddo and Modha, USENIX FAST 2003)"

export const OLTP: Trace = { name: "OLTP", file: "OLTP.lis.zst", format: "arc", accesses: 914_145, source: ARC }
export const GLIMPSE: Trace = {
  name: "Glimpse",
  file: "gli.trace.gz",
  format: "lirs",
  accesses: 6_015,
  source: "from the LIRS paper's trace set (Jiang and Zhang, SIGMETRICS 2002)"
}
export const P6: Trace = { name: "P6", file: "P6.lis.zst", format: "arc", accesses: 12_672_123, source: ARC }
export const P12: Trace = { name: "P12", file: "P12.lis.zst", format: "arc", accesses: 13_208_930, source: ARC }

/** The folder the traces are read from. */
export const tracesDirectory = (): string => {
  const named = process.env.REQUEST_CACHE_TRACES
  if (named !== undefined && named !== "") return path.resolve(named)
  return fileURLToPath(new URL("../../shared/traces/", import.meta.url))
}

/** The trace's path, or `undefined` when it is not there. */
export const tracePath = (trace: Trace): string | undefined => {
  const file = path.join(tracesDirectory(), trace.file)
  return existsSync(file) ? file : undefined
}

/** What to say when a trace is missing: where it was looked for and where it comes from. */
export const missingNotice = (trace: Trace): string =>
  `the ${trace.name} trace (${trace.source}) is not at ${path.join(tracesDirectory(), trace.file)}; ` +
  `these third-party traces are not part of the repository: they are read in place from the folder named ` +
  `by REQUEST_CACHE_TRACES, else from ../shared/traces beside the repository, where a clone alone has none`

const decoded = new Map<string, Int32Array>()

/**
 * The trace's accesses (block numbers, in order), decoded once per process. Throws, saying
 * where it looked, when the trace is missing, and, naming the line, when a line is malformed.
 */
export const loadTrace = (trace: Trace): Int32Array => {
  const file = tracePath(trace)
  if (file === undefined) throw new Error(missingNotice(trace))
  const cached = decoded.get(file)
  if (cached !== undefined) return cached
  const raw = readFileSync(file)
  const bytes = file.endsWith(".zst") ? decompress(raw) : file.endsWith(".gz") ? gunzipSync(raw) : raw
  const accesses = trace.format === "arc" ? parseArc(bytes, trace.file) : parseLirs(bytes, trace.file)
  decoded.set(file, accesses)
  return accesses
}

/** Growable storage for the parsed accesses. */
class Accesses {
  array = new Int32Array(1 << 16)
  length = 0
  push(block: number): void {
    if (this.length === this.array.length) {
      const grown = new Int32Array(this.array.length * 2)
      grown.set(this.array)
      this.array = grown
    }
    this.array[this.length++] = block
  }
  done(): Int32Array {
    return this.array.slice(0, this.length)
  }
}

const SPACE = 32
const TAB = 9
const CR = 13
const NEWLINE = 10

/**
 * The whitespace-separated non-negative integers of each line, handed to `line` (byte by byte:
 * no string per line). `fields` holds the line's numbers; a field that is not digits is an error.
 */
const eachLine = (
  bytes: Uint8Array,
  file: string,
  line: (fields: Array<number>, lineNumber: number) => void
): void => {
  const fields: Array<number> = []
  let lineNumber = 1
  let value = -1
  for (let i = 0; i <= bytes.length; i++) {
    const byte = i < bytes.length ? bytes[i]! : NEWLINE
    if (byte >= 48 && byte <= 57) {
      value = (value < 0 ? 0 : value * 10) + (byte - 48)
      if (value > 0x7fffffff) throw new Error(`${file} line ${lineNumber}: a number above 2^31 - 1`)
    } else if (byte === SPACE || byte === TAB || byte === CR || byte === NEWLINE) {
      if (value >= 0) fields.push(value)
      value = -1
      if (byte === NEWLINE) {
        if (fields.length > 0) line(fields, lineNumber)
        fields.length = 0
        lineNumber++
      }
    } else {
      throw new Error(`${file} line ${lineNumber}: unexpected character ${JSON.stringify(String.fromCharCode(byte))}`)
    }
  }
}

/** ARC `.lis`: each line `start count ignored request_id` is `count` accesses, to `start .. start + count - 1`. */
const parseArc = (bytes: Uint8Array, file: string): Int32Array => {
  const out = new Accesses()
  eachLine(bytes, file, (fields, lineNumber) => {
    if (fields.length !== 4 || fields[1]! < 1 || fields[0]! + fields[1]! > 0x7fffffff) {
      throw new Error(`${file} line ${lineNumber}: expected "start count ignored request_id", got ${fields.join(" ")}`)
    }
    const start = fields[0]!
    const end = start + fields[1]!
    for (let block = start; block < end; block++) out.push(block)
  })
  return out.done()
}

/** LIRS: one block number a line. */
const parseLirs = (bytes: Uint8Array, file: string): Int32Array => {
  const out = new Accesses()
  eachLine(bytes, file, (fields, lineNumber) => {
    if (fields.length !== 1) {
      throw new Error(`${file} line ${lineNumber}: expected one block number, got ${fields.join(" ")}`)
    }
    out.push(fields[0]!)
  })
  return out.done()
}
