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
