/**
 * The soak test's moving parts (test/soak.test.ts): its worker processes (soakWorker.ts), the
 * faults it injects through each worker's TCP proxy, and reading the workers' logs back.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import * as readline from "node:readline"
import { fileURLToPath } from "node:url"
import type { SoakRecord, WorkerLog } from "./soakCheck.js"
import type { SoakWorkerOptions } from "./soakWorker.js"
import type { TcpProxy } from "./tcpProxy.js"

const workerScript = path.join(path.dirname(fileURLToPath(import.meta.url)), "soakWorker.ts")

export interface SoakWorker {
  readonly options: SoakWorkerOptions
  readonly request: <A = unknown>(command: Record<string, unknown>) => Promise<A>
  readonly stop: () => Promise<void>
}

/** Starts a worker (with `--expose-gc`: it measures its heap after full collections). */
export const startSoakWorker = (options: SoakWorkerOptions): Promise<SoakWorker> =>
  new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(
      process.execPath,
      ["--expose-gc", "--import", "tsx", workerScript, JSON.stringify(options)],
      { stdio: ["pipe", "pipe", "pipe"] }
    )
    const pending: Array<(result: unknown) => void> = []
    let stderr = ""
    child.stderr!.on("data", (chunk) => stderr += chunk)
    const exited = new Promise<void>((done) => child.on("exit", () => done()))
    child.on("exit", (code, signal) => {
      if (code !== 0 && signal !== "SIGKILL") {
        reject(new Error(`soak worker ${options.id} exited with ${code}: ${stderr}`))
      }
    })
    readline.createInterface({ input: child.stdout! }).on("line", (line) => {
      if (!line.startsWith("{")) return
      const message = JSON.parse(line) as { ready?: boolean; result?: unknown }
      if (message.ready === true) {
        return resolve({
          options,
          request: <A>(command: Record<string, unknown>) =>
            new Promise<A>((answer) => {
              pending.push(answer as (result: unknown) => void)
              child.stdin!.write(`${JSON.stringify(command)}\n`)
            }),
          stop: () => {
            child.stdin!.end()
            const timer = setTimeout(() => child.kill("SIGKILL"), 10_000)
            return exited.finally(() => clearTimeout(timer))
          }
        })
      }
      pending.shift()?.(message.result)
    })
  })

/** A fault the test injected: on one worker's proxy, or Redis itself restarted (`proxy`: -1). */
export interface Fault {
  readonly proxy: number
  readonly kind: "pause" | "slow" | "cut" | "restart"
  readonly start: number
  readonly end: number
  /** `slow`: the delay of each chunk, ms. */
  readonly delay?: number
}

/** A seeded generator (mulberry32), as in the workers. */
export const seeded = (seed: number) => {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const pause = (millis: number) => new Promise((resolve) => setTimeout(resolve, millis))

/**
 * Until `until`, faults at random on one proxy: a gap of 0.3 to 2.3 s, then a pause (50 ms to
 * 1.2 s), a slow connection (every chunk delayed by 5 to 120 ms, for 0.3 to 2.5 s) or a cut (50
 * ms to 1.5 s), then traffic passes again. Pacing a load is the one use of timers here.
 */
export const injectFaults = async (
  proxy: TcpProxy,
  index: number,
  random: () => number,
  until: number,
  faults: Array<Fault>
): Promise<void> => {
  const between = (low: number, high: number) => Math.round(low + random() * (high - low))
  for (;;) {
    await pause(between(300, 2_300))
    if (Date.now() >= until) return
    const dice = random()
    const start = Date.now()
    if (dice < 0.35) {
      proxy.pause()
      await pause(between(50, 1_200))
      proxy.restore()
      faults.push({ proxy: index, kind: "pause", start, end: Date.now() })
    } else if (dice < 0.7) {
      const delay = between(5, 120)
      proxy.slow(delay)
      await pause(between(300, 2_500))
      proxy.restore()
      faults.push({ proxy: index, kind: "slow", start, end: Date.now(), delay })
    } else {
      proxy.cut()
      await pause(between(50, 1_500))
      proxy.restore()
      faults.push({ proxy: index, kind: "cut", start, end: Date.now() })
    }
  }
}

/** One fault of each kind, briefly, one after the other: a cut, a pause, a slow spell. */
export const rehearseFaults = async (proxy: TcpProxy, index: number, faults: Array<Fault>): Promise<void> => {
  let start = Date.now()
  proxy.cut()
  await pause(300)
  proxy.restore()
  faults.push({ proxy: index, kind: "cut", start, end: Date.now() })
  start = Date.now()
  proxy.pause()
  await pause(300)
  proxy.restore()
  faults.push({ proxy: index, kind: "pause", start, end: Date.now() })
  start = Date.now()
  proxy.slow(60)
  await pause(500)
  proxy.restore()
  faults.push({ proxy: index, kind: "slow", start, end: Date.now(), delay: 60 })
}

/** A worker's log file, parsed (the worker has flushed it). */
export const readLog = (worker: string, file: string): WorkerLog => {
  const records: Array<SoakRecord> = []
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    if (line !== "") records.push(JSON.parse(line) as SoakRecord)
  }
  return { worker, records }
}

/** Polls `condition` every 100 ms until it holds, for at most `within` ms; answers whether it did. */
export const waitUntil = async (condition: () => Promise<boolean>, within: number): Promise<boolean> => {
  const deadline = Date.now() + within
  while (!(await condition())) {
    if (Date.now() > deadline) return false
    await pause(100)
  }
  return true
}
