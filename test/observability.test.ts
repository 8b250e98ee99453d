/**
 * `examples/observability.ts` as a user runs it (`node --import tsx`, with `--serve`): a
 * Prometheus scrape of its `/metrics` over a real socket shows the cache's counters, and the
 * spans it exported show each load under the span of the request that missed.
 */
import { describe, expect, it } from "@effect/vitest"
import { type ChildProcess, spawn } from "node:child_process"
import * as readline from "node:readline"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("..", import.meta.url))

interface Served {
  readonly child: ChildProcess
  readonly lines: ReadonlyArray<string>
  readonly url: string
}

/** Starts the example with `--serve` on a free port; resolves once it serves and has printed its spans. */
const serve = (): Promise<Served> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "examples/observability.ts", "--serve"], {
      cwd: root,
      env: { ...process.env, METRICS_PORT: "0", NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"]
    })
    const lines: Array<string> = []
    let stderr = ""
    child.stderr!.on("data", (chunk) => stderr += chunk)
    child.on("exit", (code) =>
      reject(new Error(`the example exited (${code}) before serving:\n${lines.join("\n")}\n${stderr}`)))
    readline.createInterface({ input: child.stdout! }).on("line", (line) => {
      lines.push(line)
      if (line.startsWith("serving until interrupted")) {
        const url = lines.map((l) =>
          /^metrics: (http:\/\/\S+)$/.exec(l)?.[1]
        ).find((u) => u !== undefined)
        if (url === undefined) reject(new Error(`no metrics address in:\n${lines.join("\n")}`))
        else resolve({ child, lines, url })
      }
    })
  })

const stop = (child: ChildProcess): Promise<void> =>
  new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    child.removeAllListeners("exit")
    child.on("exit", () => resolve())
    child.kill("SIGTERM")
  })

/** The samples of a Prometheus text exposition: `name{labels} value`, by `name{labels}`. */
const parseSamples = (text: string): Map<string, number> => {
  const samples = new Map<string, number>()
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue
    const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})? (\S+)$/.exec(line)
    expect(match, `a sample line: ${line}`).not.toBeNull()
    samples.set(`${match![1]}${match![2] ?? ""}`, Number(match![3]))
  }
  return samples
}

/** The value of `name` for the namespace `users` (whatever other labels the exporter adds). */
const sample = (samples: Map<string, number>, name: string): number | undefined => {
  for (const [key, value] of samples) {
    if (key.startsWith(`${name}{`) && key.includes(`namespace="users"`)) return value
  }
  return undefined
}

interface PrintedSpan {
  readonly name: string
  readonly id: string
  readonly parent: string
  readonly attributes: Record<string, string>
}

const parseSpans = (lines: ReadonlyArray<string>): Array<PrintedSpan> =>
  lines.flatMap((line) => {
    const match = /^ {2}span (.+?) id=(\w+) parent=(\S+) status=\d+(.*)$/.exec(line)
    if (match === null) return []
    const attributes = Object.fromEntries(
      match[4]!.trim().split(" ").filter((part) => part !== "").map((part) => part.split("=") as [string, string])
    )
    return [{ name: match[1]!, id: match[2]!, parent: match[3]!, attributes }]
  })

describe("the observability example, served", () => {
  it("/metrics over a real socket: the cache's counters; the spans: each load under its caller's span", async () => {
    const { child, lines, url } = await serve()
    try {
      const response = await fetch(url)
      expect(response.status).toBe(200)
      expect(response.headers.get("content-type")).toContain("text/plain")
      const text = await response.text()
      const samples = parseSamples(text)
      // One miss and one hit of user 1, one miss of user 3 whose lookup fails.
      expect(sample(samples, "request_cache_hits_total")).toBe(1)
      expect(sample(samples, "request_cache_misses_total")).toBe(2)
      expect(sample(samples, "request_cache_loads_total")).toBe(2)
      expect(sample(samples, "request_cache_load_failures_total")).toBe(1)
      expect(sample(samples, "request_cache_coalesced_total")).toBe(0)
      expect(sample(samples, "request_cache_size")).toBe(1)
      // Counters that only rise: Prometheus counters (`_total`), not gauges.
      expect(text).toContain("# TYPE request_cache_hits_total counter")
      expect(text).toContain("# TYPE request_cache_size gauge")

      const spans = parseSpans(lines)
      const requests = spans.filter((span) => span.name === "handle request")
      const loads = spans.filter((span) => span.name === "RequestCache.load")
      expect(requests).toHaveLength(3)
      expect(loads).toHaveLength(2)
      expect(spans.filter((span) => span.name === "RequestCache.refresh")).toEqual([])
      for (const load of loads) {
        const parent = requests.find((request) => request.id === load.parent)
        expect(parent, `the parent of ${load.id}`).toBeDefined()
        expect(load.attributes["request_cache.namespace"]).toBe("users")
      }
      const byUser = (id: string) =>
        loads.find((load) => requests.find((r) => r.id === load.parent)?.attributes["user.id"] === id)
      expect(byUser("1")?.attributes["request_cache.outcome"]).toBe("success")
      expect(byUser("3")?.attributes["request_cache.outcome"]).toBe("failure")
      // The hit (the second request for user 1) has no load under it.
      const hit = requests.filter((request) => request.attributes["user.id"] === "1").find((request) =>
        !loads.some((load) => load.parent === request.id)
      )
      expect(hit).toBeDefined()
    } finally {
      await stop(child)
    }
  }, 60_000)
})
