/**
 * Starts the worker processes of the multi-process tests (see `worker.ts`) and talks to them.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as path from "node:path"
import * as readline from "node:readline"
import { fileURLToPath } from "node:url"
import type { WorkerOptions } from "./worker.js"

const workerScript = path.join(path.dirname(fileURLToPath(import.meta.url)), "worker.ts")

/** Where the workers' lookup counts its runs of `key`, and reads the "database" value of `key`. */
export const runsKey = (prefix: string, key: string) => `${prefix}:{db}:runs:${key}`
export const sourceKey = (prefix: string, key: string) => `${prefix}:{db}:source:${key}`

export interface Worker {
  /** Sends one command; resolves with its result. */
  readonly request: <A = unknown>(command: Record<string, unknown>) => Promise<A>
  /** The lines the worker printed that are not answers (its logs). */
  readonly logs: Array<string>
  readonly stop: () => Promise<void>
}

export const startWorker = (options: WorkerOptions): Promise<Worker> =>
  new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", workerScript, JSON.stringify(options)], {
      stdio: ["pipe", "pipe", "pipe"]
    })
    const logs: Array<string> = []
    const pending: Array<(result: unknown) => void> = []
    let stderr = ""
    child.stderr!.on("data", (chunk) => stderr += chunk)
    const exited = new Promise<void>((done) => child.on("exit", () => done()))
    child.on("exit", (code) => {
      if (code !== 0) reject(new Error(`worker exited with ${code}: ${stderr}`))
    })
    readline.createInterface({ input: child.stdout! }).on("line", (line) => {
      if (!line.startsWith("{")) return void logs.push(line)
      const message = JSON.parse(line) as { ready?: boolean; result?: unknown }
      if (message.ready === true) {
        resolve({
          logs,
          request: <A>(command: Record<string, unknown>) =>
            new Promise<A>((answer) => {
              pending.push(answer as (result: unknown) => void)
              child.stdin!.write(`${JSON.stringify(command)}\n`)
            }),
          stop: () => {
            child.stdin!.end()
            const timer = setTimeout(() => child.kill("SIGKILL"), 5_000)
            return exited.finally(() => clearTimeout(timer))
          }
        })
        return
      }
      pending.shift()?.(message.result)
    })
  })

/** How many rounds the stampede tests run: `STAMPEDE_ROUNDS` (the "done" is 20), default 3. */
export const stampedeRounds = Number(process.env.STAMPEDE_ROUNDS ?? 3)

/** The lines of a worker's log that say something went wrong (a warning or an error). */
export const complaints = (worker: Worker): Array<string> =>
  worker.logs.filter((line) => /level=(WARN|ERROR|FATAL)/.test(line))

/**
 * `rounds` cold stampedes: each round a new key, `calls` concurrent calls of it in every worker at
 * once. Answers the lookup runs of each round (from the shared counter) and the values every
 * worker's callers got.
 */
export const stampede = async (
  workers: ReadonlyArray<Worker>,
  prefix: string,
  database: {
    readonly set: (key: string, value: string) => Promise<unknown>
    readonly get: (key: string) => Promise<string | null>
  },
  rounds: number,
  calls = 1_000
): Promise<{ readonly runs: Array<number>; readonly wrong: Array<unknown> }> => {
  const runs: Array<number> = []
  const wrong: Array<unknown> = []
  for (let round = 0; round < rounds; round++) {
    const key = `cold-${round}-${Math.random().toString(36).slice(2, 8)}`
    await database.set(sourceKey(prefix, key), `value ${round}`)
    const results = await Promise.all(
      workers.map((worker) =>
        worker.request<{ values: Array<string>; failures: number }>({ op: "stampede", key, calls })
      )
    )
    for (const result of results) {
      if (result.failures !== 0 || result.values.length !== 1 || result.values[0] !== `value ${round}`) {
        wrong.push({ round, result })
      }
    }
    runs.push(Number(await database.get(runsKey(prefix, key))))
  }
  return { runs, wrong }
}
