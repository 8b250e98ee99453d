/**
 * Scenario hit-ratio: each trace (OLTP, Glimpse, P6, P12; a notice for a missing one) and each
 * generated workload replayed through our eviction policies (LRU, W-TinyLFU, driven as the
 * storage drives them), through the JavaScript caches a user would pick instead (lru-cache;
 * transitory, a W-TinyLFU; @neophi/sieve-cache, SIEVE) in the same process, and Belady's optimal
 * bound. Prints one table per trace (hit ratio % per size and policy) and writes the chart to
 * docs/hit-ratio.svg.
 *
 * The cache under test is a `CacheFactory`: one `access(key)` a read, true on a hit (a miss
 * stores the key). Another cache (the whole `RequestCache.cached`, say) plugs in as one more.
 *
 * `HIT_RATIO_TRACES=OLTP,Glimpse` replays only those traces (P6 and P12, 13 M accesses each, take
 * most of the time); `HIT_RATIO_WORKLOADS=0` skips the generated workloads.
 */
import { SieveCache } from "@neophi/sieve-cache"
import { LRUCache } from "lru-cache"
import { mkdirSync, writeFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { BoundedCache } from "transitory"
import { LruPolicy } from "../src/internal/eviction/lru.js"
import type { EvictionPolicy } from "../src/internal/eviction/policy.js"
import { WindowTinyLfuPolicy } from "../src/internal/eviction/windowTinyLfu.js"
import { beladyHits, nextUses } from "./belady.js"
import { num, table } from "./harness.js"
import { MEAN_SLACK, SIZE_SLACK, targets } from "./hitRatioTargets.js"
import { PolicySimulator } from "./policySimulator.js"
import { hitRatioChart, type Panel, type Style } from "./svgChart.js"
import { loadTrace, missingNotice, P12, P6, type Trace, tracePath } from "./traces.js"
import { workloads } from "./workloads.js"

/** A cache as the replay sees it: a read that says whether it hit (a miss stores the key). */
export interface CacheUnderTest {
  access(key: number): boolean
  /** Called once after the replay (a cache with timers stops them). */
  close?(): void
}

/** Makes an empty cache of `capacity` entries. */
export type CacheFactory = (capacity: number) => CacheUnderTest

/** A policy of ours, through the model of the slot storage. */
const throughStorage = (policy: (capacity: number) => EvictionPolicy): CacheFactory => (capacity) =>
  new PolicySimulator(capacity, policy(capacity))

/** The contenders, in the order of the tables' columns. */
export const contenders: ReadonlyArray<{ readonly name: string; readonly make: CacheFactory }> = [
  { name: "LRU (ours)", make: throughStorage((capacity) => new LruPolicy(capacity)) },
  { name: "W-TinyLFU (ours)", make: throughStorage((capacity) => new WindowTinyLfuPolicy(capacity)) },
  {
    name: "lru-cache",
    make: (capacity) => {
      const cache = new LRUCache<number, number>({ max: capacity })
      return {
        access: (key) => {
          if (cache.get(key) !== undefined) return true
          cache.set(key, 1)
          return false
        }
      }
    }
  },
  {
    name: "transitory",
    make: (capacity) => {
      const cache = new BoundedCache<number, number>({ maxSize: capacity })
      return {
        access: (key) => {
          if (cache.getIfPresent(key) !== null) return true
          cache.set(key, 1)
          // transitory evicts on a timer or 1 % over its size; evicting now holds it to `capacity`
          // like the others (and runs its window adaptation, which lives in the same step).
          if (cache.size > capacity) cache.cleanUp()
          return false
        },
        // Clears its maintenance timer, so the process can exit.
        close: () => cache.clear()
      }
    }
  },
  {
    name: "SIEVE",
    make: (capacity) => {
      const cache = new SieveCache<number, number>(capacity)
      return {
        access: (key) => {
          if (cache.get(key) !== undefined) return true
          cache.set(key, 1)
          return false
        }
      }
    }
  }
]

/** Replays `accesses` through a fresh cache of `capacity`: the hit ratio in percent. */
export const replay = (accesses: Int32Array, make: CacheFactory, capacity: number): number => {
  const cache = make(capacity)
  let hits = 0
  for (let i = 0; i < accesses.length; i++) if (cache.access(accesses[i]!)) hits++
  cache.close?.()
  return (100 * hits) / accesses.length
}

const BELADY = "Belady (optimal)"
const CAFFEINE = "Caffeine 3.2.2 (issue)"

const styles: Record<string, Style> = {
  [BELADY]: { color: "#999999", dash: "2 3", width: 1.5 },
  "W-TinyLFU (ours)": { color: "#d62728", width: 2.5 },
  [CAFFEINE]: { color: "#ff7f0e", dash: "6 3" },
  transitory: { color: "#2ca02c" },
  "LRU (ours)": { color: "#1f77b4" },
  "lru-cache": { color: "#17becf", dash: "4 3" },
  SIEVE: { color: "#9467bd" }
}

/** The ARC paper's sizes for P6 and P12 (512-byte blocks), 5 of them to keep the run short. */
const BIG_SIZES = [8_192, 32_768, 131_072, 262_144, 524_288]

interface Result {
  readonly title: string
  readonly sizes: ReadonlyArray<number>
  /** Hit ratio % by policy name, one per size. */
  readonly ratios: Map<string, Array<number>>
}

const measureAll = (title: string, accesses: Int32Array, sizes: ReadonlyArray<number>): Result => {
  const started = performance.now()
  const ratios = new Map<string, Array<number>>()
  for (const { make, name } of contenders) ratios.set(name, sizes.map((size) => replay(accesses, make, size)))
  const next = nextUses(accesses)
  ratios.set(BELADY, sizes.map((size) => (100 * beladyHits(next, size)) / accesses.length))
  console.log(
    `  (${title}: ${num(accesses.length, 0)} accesses, ${((performance.now() - started) / 1000).toFixed(1)} s)`
  )
  return { title, sizes, ratios }
}

const printResult = (result: Result, extra: Map<string, ReadonlyArray<number>> = new Map()): void => {
  const columns = [...result.ratios.keys(), ...extra.keys()]
  const all = new Map<string, ReadonlyArray<number>>([...result.ratios, ...extra])
  table(
    `hit ratio % — ${result.title}`,
    ["size", ...columns],
    result.sizes.map((size, i) => [num(size, 0), ...columns.map((name) => all.get(name)![i]!.toFixed(2))])
  )
}

export const run = async (): Promise<void> => {
  console.log("\nhit-ratio: traces and generated workloads through each policy (hit ratio %, higher is better)")
  const only = process.env.HIT_RATIO_TRACES?.split(",").map((name) => name.trim().toLowerCase())
  const traces: Array<{ readonly trace: Trace; readonly sizes: ReadonlyArray<number> }> = [
    ...targets.map(({ rows, trace }) => ({ trace, sizes: rows.map((row) => row.size) })),
    { trace: P6, sizes: BIG_SIZES },
    { trace: P12, sizes: BIG_SIZES }
  ].filter(({ trace }) => only === undefined || only.includes(trace.name.toLowerCase()))
  const panels: Array<Panel> = []
  const judged: Array<string> = []
  const issueRows: Array<Array<string>> = []

  let skipped = 0
  for (const { sizes, trace } of traces) {
    if (tracePath(trace) === undefined) {
      console.log(`\n[skip] ${missingNotice(trace)}`)
      skipped++
      continue
    }
    const result = measureAll(trace.name, loadTrace(trace), sizes)
    const target = targets.find((t) => t.trace === trace)
    const extra = new Map<string, ReadonlyArray<number>>()
    if (target !== undefined) {
      extra.set(CAFFEINE, target.rows.map((row) => row.caffeine))
      const ours = result.ratios.get("W-TinyLFU (ours)")!
      const goal = target.rows.map((row) => Math.max(row.lru, row.caffeine))
      const below = goal.map((g, i) => g - ours[i]!)
      const mean = (xs: ReadonlyArray<number>) => xs.reduce((a, b) => a + b, 0) / xs.length
      const meanGap = mean(ours) - mean(goal)
      const worst = Math.max(...below)
      judged.push(
        `${trace.name}: W-TinyLFU's mean ${meanGap >= 0 ? "+" : ""}${meanGap.toFixed(2)} against max(LRU, Caffeine) ` +
          `(target >= -${MEAN_SLACK}), worst size ${(-worst).toFixed(2)} (target >= -${SIZE_SLACK}): ` +
          (meanGap >= -MEAN_SLACK && worst <= SIZE_SLACK ? "met" : "NOT met")
      )
      target.rows.forEach((row, i) =>
        issueRows.push([
          trace.name,
          num(row.size, 0),
          row.lru.toFixed(2),
          row.caffeine.toFixed(2),
          ours[i]!.toFixed(2),
          ...["lru-cache", "transitory", "SIEVE", BELADY].map((name) => result.ratios.get(name)![i]!.toFixed(2))
        ])
      )
    }
    printResult(result, extra)
    panels.push({
      title: trace.name,
      subtitle: `${trace.format === "arc" ? "ARC" : "LIRS"} trace, ${num(trace.accesses, 0)} accesses`,
      sizes,
      series: [...result.ratios, ...extra].map(([name, values]) => ({ name, values }))
    })
  }

  if (process.env.HIT_RATIO_WORKLOADS !== "0") {
    for (const workload of workloads) {
      const result = measureAll(workload.name, workload.accesses(), workload.sizes)
      printResult(result)
      panels.push({
        title: workload.name,
        subtitle: workload.description,
        sizes: workload.sizes,
        series: [...result.ratios].map(([name, values]) => ({ name, values }))
      })
    }
  }

  if (issueRows.length > 0) {
    table(
      "issue 9's sizes (LRU and Caffeine 3.2.2 as given there; the rest measured now)",
      ["trace", "size", "LRU", "Caffeine", "ours", "lru-cache", "transitory", "SIEVE", "Belady"],
      issueRows
    )
    for (const line of judged) console.log(line)
    // The same table as markdown, for the README.
    console.log(
      "\n| trace | size | LRU | Caffeine 3.2.2 | W-TinyLFU (ours) | lru-cache | transitory | SIEVE | Belady |"
    )
    console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for (const row of issueRows) console.log(`| ${row.join(" | ")} |`)
  }

  // The chart is rewritten only from a full run (every trace there), so that a partial run does not lose panels.
  if (only === undefined && skipped === 0 && process.env.HIT_RATIO_WORKLOADS !== "0" && panels.length > 0) {
    const file = fileURLToPath(new URL("../docs/hit-ratio.svg", import.meta.url))
    mkdirSync(fileURLToPath(new URL("../docs/", import.meta.url)), { recursive: true })
    writeFileSync(file, hitRatioChart("Hit ratio by cache size (npm run bench -- hit-ratio)", panels, styles))
    console.log(`\nwrote ${file}`)
  } else {
    console.log("\n(a partial run: docs/hit-ratio.svg is left as it was)")
  }
}
