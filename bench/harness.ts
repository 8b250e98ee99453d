/**
 * The shared part of the benchmarks: timing (interleaved rounds after a warm-up) and tables.
 * Nothing here asserts on time; the scenarios only print.
 */

/** A full collection, so one case's garbage is not collected on another case's clock. */
export const gc = (): void => {
  globalThis.gc?.()
}

export interface Case {
  readonly name: string
  /** Overrides the scenario's count, for a case too slow to run it in time. */
  readonly iterations?: number
  /** Runs `iterations` operations; resolved when they are done. */
  readonly run: (iterations: number) => Promise<unknown>
}

/**
 * Nanoseconds per iteration of each case. Each case is run once untimed (warm-up), then the
 * cases are timed round-robin for `rounds` rounds, so that a slow phase of the machine hits
 * every case alike; the best (or the median) round counts.
 */
export const measure = async (
  cases: ReadonlyArray<Case>,
  iterations: number,
  options: { readonly rounds?: number; readonly pick?: "best" | "median" } = {}
): Promise<Array<number>> => {
  const rounds = options.rounds ?? 5
  for (const c of cases) await c.run(c.iterations ?? iterations)
  const times: Array<Array<number>> = cases.map(() => [])
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < cases.length; i++) {
      const n = cases[i]!.iterations ?? iterations
      gc()
      const start = performance.now()
      await cases[i]!.run(n)
      times[i]!.push(((performance.now() - start) * 1e6) / n)
    }
  }
  return times.map((t) => options.pick === "median" ? median(t) : Math.min(...t))
}

export const median = (xs: ReadonlyArray<number>): number => {
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

export const num = (x: number, digits = 1): string =>
  x.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits })

export const ratio = (x: number): string => `${x.toFixed(2)}x`

/** The "met" column: `undefined` when the row has no target. */
export const met = (ok: boolean | undefined): string => ok === undefined ? "" : ok ? "yes" : "NO"

/** Prints a table: the first column left-aligned, the others right-aligned. */
export const table = (
  title: string,
  header: ReadonlyArray<string>,
  rows: ReadonlyArray<ReadonlyArray<string>>
): void => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)))
  const line = (cells: ReadonlyArray<string>) =>
    cells.map((c, i) => i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)).join("  ").trimEnd()
  console.log(`\n${title}`)
  console.log(line(header))
  console.log(widths.map((w) => "-".repeat(w)).join("  "))
  for (const row of rows) console.log(line(row))
}

/**
 * The rows of a per-operation table: each case's ns/op, its ratio to the first case (the floor),
 * and, for our cache's cases, the target and whether it is met.
 */
export const versusFloor = (
  cases: ReadonlyArray<{ readonly name: string }>,
  ns: ReadonlyArray<number>,
  target: number
): Array<Array<string>> =>
  cases.map((c, i) => {
    const isOurs = c.name.startsWith("ours")
    const r = ns[i]! / ns[0]!
    return [c.name, num(ns[i]!), ratio(r), isOurs ? `<= ${target}x` : "", met(isOurs ? r <= target : undefined)]
  })

/**
 * The cold-key runs of a stampede: `warmup + repetitions` rounds, each case once per round on a
 * key of its own that nobody asked for before. Returns each case's best wall time (ms) and, per
 * timed repetition, the count the case left in `runs[i]` (its lookups or calls).
 */
export const coldRounds = async (
  cases: ReadonlyArray<{ readonly run: (key: number) => Promise<unknown> }>,
  runs: Array<number>,
  warmup: number,
  repetitions: number
): Promise<{ readonly ms: Array<number>; readonly counts: Array<Array<number>> }> => {
  const times: Array<Array<number>> = cases.map(() => [])
  const counts: Array<Array<number>> = cases.map(() => [])
  let key = 0
  for (let rep = 0; rep < warmup + repetitions; rep++) {
    for (let i = 0; i < cases.length; i++) {
      runs[i] = 0
      key++
      gc()
      const start = performance.now()
      await cases[i]!.run(key)
      const ms = performance.now() - start
      if (rep >= warmup) {
        times[i]!.push(ms)
        counts[i]!.push(runs[i]!)
      }
    }
  }
  return { ms: times.map((all) => Math.min(...all)), counts }
}
