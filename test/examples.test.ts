/**
 * Every example under `examples/` runs, as a user would run it (`node --import tsx`), and says
 * what its seed example says: the checks below fail if the cache misbehaves (a second lookup
 * where there should be one, a miss where there should be a hit, a wrong count).
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { CacheStats } from "effect-request-cache"
import { execFile } from "node:child_process"
import { readdirSync, readFileSync } from "node:fs"
import { availableParallelism } from "node:os"
import { fileURLToPath } from "node:url"
import { baseUrl, remoteCalls, ServiceLive } from "../examples/fastapi-service.js"

const root = fileURLToPath(new URL("..", import.meta.url))

interface Run {
  readonly code: number | string | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs one example in a child process, as `npm run demo` runs the quickstart. */
const runExample = (file: string): Promise<Run> =>
  new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", `examples/${file}`],
      { cwd: root, timeout: 60_000, env: { ...process.env, NO_COLOR: "1" } },
      (error, stdout, stderr) => resolve({ code: error === null ? 0 : error.code ?? error.signal ?? 1, stdout, stderr })
    )
  })

/** Bounded concurrency: each example is a Node process loading Effect (about a second of CPU) and
 * then mostly waiting on timers; one more than the cores keeps them busy without starving a run. */
const limit = Math.min(4, availableParallelism() + 1)
let active = 0
const waiting: Array<() => void> = []
const limited = async <A>(task: () => Promise<A>): Promise<A> => {
  if (active < limit) active++
  else await new Promise<void>((resume) => waiting.push(resume)) // a finished run hands us its slot
  try {
    return await task()
  } finally {
    const next = waiting.shift()
    if (next === undefined) active--
    else next()
  }
}

const runs = new Map<string, Promise<Run>>()
const outputOf = (file: string): Promise<Run> => {
  let run = runs.get(file)
  if (run === undefined) runs.set(file, run = limited(() => runExample(file)))
  return run
}

const count = (text: string, part: string) => text.split(part).length - 1
const number = (text: string, pattern: RegExp): number => {
  const match = pattern.exec(text)
  expect(match, `${pattern} in:\n${text}`).not.toBeNull()
  return Number(match?.[1])
}
/** Each line, in this order (other lines may come between). */
const inOrder = (text: string, lines: ReadonlyArray<string>) => {
  let from = 0
  for (const line of lines) {
    const at = text.indexOf(line, from)
    expect(at, `"${line}" after position ${from} in:\n${text}`).toBeGreaterThanOrEqual(0)
    from = at + line.length
  }
}

/** What each example must print. Every .ts file under examples/ needs an entry. */
const checks: Record<string, (out: string) => void> = {
  "quickstart.ts": (out) => {
    expect(out).toContain("lookups run for the stampede: 1")
    expect(out).toContain(`1,000 x getPrice(MSFT) -> "1000 answers, 1 distinct"`)
    expect(out).toContain("MSFT still cached? false")
    expect(out).toMatch(/coalesced\s+999\n/)
    expect(out).toMatch(/staleHits\s+1\n/)
    expect(out).toMatch(/evictions\s+1\n/)
  },

  // functools2
  "functools2-basic.ts": (out) => {
    expect(count(out, "Fetching data for user 123 from a slow API...")).toBe(1)
    expect(out).toContain("same object: true")
    expect(out).toContain("cacheInfo: hits=1 misses=1 currsize=1")
    expect(number(out, /first call: .* in ([\d.]+) ms/)).toBeGreaterThanOrEqual(290)
    expect(number(out, /second call: .* in ([\d.]+) ms/)).toBeLessThan(100)
  },
  "functools2-swr.ts": (out) => {
    inOrder(out, ["first call: data v1", "after expiry (stale): data v1", "after the refresh: data v2"])
    expect(number(out, /after expiry \(stale\): data v1 in ([\d.]+) ms/)).toBeLessThan(200) // not the 300 ms load
    expect(out).toContain("computations: 2")
    expect(out).toContain("stats: hits=1 staleHits=1 refreshes=1 misses=1")
  },
  "functools2-single-flight.ts": (out) => {
    expect(count(out, "Executing slow operation...")).toBe(1)
    expect(out).toContain("results: 42 42 42 42 42 42 42 42 42 42")
    expect(out).toContain("lookups: 1")
    expect(out).toContain("cacheInfo: hits=9 misses=1")
    expect(out).toContain("joined the call in flight: 9")
  },
  "functools2-error-caching.ts": (out) => {
    expect(out).toContain("cacheErrors: true -> first call raised ValueError: Something went wrong")
    expect(out).toContain("cacheErrors: true -> later calls raised the same error object: true")
    expect(out).toContain("cacheErrors: true -> function runs: 1")
    expect(out).toContain("default -> function runs: 3")
    expect(out).toContain("Effect, NotFound: the same failure value: true, lookups: 1")
    expect(out).toContain("Effect, Timeout (not cached): lookups: 2")
  },
  "fastapi-service.ts": (out) => {
    const prices = Array.from(out.matchAll(/GET \/price\/AAPL -> .*"price":([\d.]+)/g), (m) => Number(m[1]))
    expect(prices).toHaveLength(3)
    expect(prices[1]).toBe(prices[0]) // the second call is a hit
    expect(prices[2]).not.toBe(prices[0]) // after clear_cache, a new lookup
    expect(out).toContain("cache_info: hits=1 misses=2 currsize=2")
    expect(out).toContain(`POST /debug/clear_cache -> {"status":"cache cleared"}`)
    expect(out).toContain("after clear_cache: currsize=0")
    expect(out).toContain("remote API calls: 3")
  },

  // async-lru-cache
  "async-lru-cache-api-reference.ts": (out) => {
    inOrder(out, [`cacheInvalidate(1, "test") -> true`, `cacheInvalidate(1, "test") again -> false`])
    expect(out).toContain("stats: current_size=2 max_size=1024 hits=1 misses=3")
    expect(out).toContain("after cacheClear: current_size=0")
    expect(out).toContain("since the clear: hits=1 misses=1")
    expect(out).toContain("cacheParameters: maxsize=1024 ttl=Infinity name=my_func")
    expect(out).toContain("cacheInfo: hits=2 misses=4 maxsize=1024 currsize=1")
  },
  "async-lru-cache-data-types.ts": (out) => {
    expect(out).toContain("result: [2,4,6]")
    expect(out).toContain("Results equal: true (the same object: true)")
    expect(out).toContain("function runs: 1")
    expect(out).toContain("function runs after 3 more calls: 3")
    expect(out).toContain("entries: 3, hits: 2, misses: 3")
    // The memory estimate, as the seed prints it: bytes, and the same as a size.
    const sizes = Array.from(out.matchAll(/Memory usage: (.+) \(total_size_in_memory_bytes: (\d+)\)/g))
    expect(sizes).toHaveLength(2)
    for (const [, pretty, bytes] of sizes) expect(pretty).toBe(CacheStats.formatBytes(Number(bytes)))
    const [one, three] = sizes.map((match) => Number(match[2]))
    expect(one).toBeGreaterThan(0)
    expect(three).toBe(3 * one!) // three entries of the same shape
  },
  "async-lru-cache-ttl.ts": (out) => {
    expect(out).toContain("Hits: 1, Misses: 2")
    expect(out).toContain("API calls: 2, expirations: 1")
  },
  "async-lru-cache-ignore-params.ts": (out) => {
    expect(out).toContain(`permissions: ["read","write"], the same for all three: true`)
    expect(out).toContain("Function calls: 1")
    expect(out).toContain("after a guest's call: Function calls: 2")
  },
  "async-lru-cache-invalidation.ts": (out) => {
    inOrder(out, [
      "before the update: User user123 / User user123",
      "Cache invalidated: true",
      "after the update: Updated Name",
      "Total calls: 3 (hits=1 misses=2)"
    ])
  },
  "async-lru-cache-monitoring.ts": (out) => {
    expect(out).toContain("function runs: 3") // dataset1 twice, concurrently: one run
    expect(out).toContain("Current size: 3/1000")
    expect(out).toContain("Hit rate: 25.00%")
    expect(out).toContain("Joined a call in flight: 1")
    expect(out).toContain("TTL: 3600s")
    expect(out).toContain("Max size: 1000")
    const bytes = number(out, /total_size_in_memory_bytes: (\d+)/)
    expect(bytes).toBeGreaterThan(0)
    expect(out).toContain(`Memory usage: ${CacheStats.formatBytes(bytes)}`)
  },
  "async-lru-cache-api-client.ts": (out) => {
    expect(out).toContain("weather: the same response: true")
    expect(out).toContain(`invalidateUserCache("12345") -> true`)
    expect(out).toContain("Weather cache: 1 hits, 1 misses")
    expect(out).toContain("User cache: 0 hits, 1 misses, 0 entries")
    expect(out).toContain(`another client's fetchWeather("London") is a miss: misses=2`)
    expect(out).toContain("HTTP requests made: 2 + 1")
  },

  // async-lru (current) and async_lru (older)
  "async-lru-get-pep.ts": (out) => {
    const numbers = Array.from(out.matchAll(/^(\d+) (\d+)$/gm), (m) => Number(m[1]))
    expect(numbers).toEqual([8, 290, 308, 320, 8, 218, 320, 279, 289, 320, 9991])
    expect(out).toMatch(/^9991 9$/m) // 'Not Found'
    expect(out).toContain("CacheInfo(hits=3, misses=8, maxsize=32, currsize=8)")
    expect(out).toContain("requests to python.org: 8")
    expect(out).toContain("a call after cacheClose rejects with CacheClosedError: true")
  },
  "async-lru-ttl.ts": (out) => {
    expect(out).toContain("func(21) after the time to live -> 42")
    expect(out).toContain("runs: 2")
    expect(out).toContain("CacheInfo(hits=1, misses=2, maxsize=128, currsize=1)")
  },
  "async-lru-jitter.ts": (out) => {
    const line = (label: string) =>
      new RegExp(`${label}\\s*: 20 entries expired after (\\d+) to (\\d+) ms \\(spread (\\d+) ms\\)`)
    const plain = line("without jitter").exec(out)
    const jittered = line("with jitter").exec(out)
    expect(plain, out).not.toBeNull()
    expect(jittered, out).not.toBeNull()
    // Without jitter the twenty entries stored together expire together...
    expect(Number(plain?.[1])).toBeGreaterThanOrEqual(590)
    expect(Number(plain?.[3])).toBeLessThan(100)
    // ...with 300 ms of jitter they spread out over (about) ttl to ttl + jitter.
    expect(Number(jittered?.[1])).toBeGreaterThanOrEqual(590)
    expect(Number(jittered?.[2])).toBeLessThan(1_200)
    expect(Number(jittered?.[3])).toBeGreaterThanOrEqual(150)
  },
  "async-lru-invalidate.ts": (out) => {
    inOrder(out, [
      "func(1, 2) -> 3",
      "cacheInvalidate(1, 2) -> true",
      "cacheInvalidate(1, 2) -> false",
      "cacheInvalidate(3, 4) -> false",
      "func(1, 2) -> 3",
      "runs: 2"
    ])
  },
  "async-lru-per-worker-cache.ts": (out) => {
    expect(out).toContain("worker 1: some_key (loaded by worker 1); its cache: hits=2 misses=1")
    expect(out).toContain("worker 2: some_key (loaded by worker 2); its cache: hits=2 misses=1")
    expect(out).toContain("main thread's cache: hits=0 misses=0 currsize=0")
  },

  // async-cache
  "async-cache-quickstart.ts": (out) => {
    expect(count(out, "loader: load_hot_data(1)")).toBe(1)
    expect(count(out, "loader: load_hot_data(2)")).toBe(1)
    expect(count(out, "loader: fetch_from_db(1)")).toBe(2) // once, and again after its per-key TTL
    expect(out).toContain("same object from the cache: true")
    expect(count(out, `popular:key1 -> {"hot":1}`)).toBe(2) // still cached under the default TTL
    expect(out).toContain("loader runs: 4")
    expect(out).toContain(`metrics: {"hits":4,"misses":4,"size":3,"hit_rate":0.5}`)
  },
  "async-cache-quickstart-promise.ts": (out) => {
    inOrder(out, ["startup warmup:", "loader: load_hot_data(1)", "warmup: 2 keys loaded", "get_user(1) twice:"])
    expect(count(out, "loader: load_hot_data(1)")).toBe(1)
    expect(count(out, "loader: load_hot_data(2)")).toBe(1)
    expect(count(out, "loader: fetch_from_db(1)")).toBe(2) // once, and again after its per-key TTL
    expect(out).toContain("same object from the cache: true")
    expect(count(out, `popular:key1 -> {"hot":1}`)).toBe(2) // still cached under the default TTL
    expect(out).toContain("loader runs: 4")
    expect(out).toContain(`metrics: {"hits":4,"misses":4,"size":3,"hit_rate":0.5}`)
    expect(out).toContain(`getMetrics(): {"hits":4,"misses":4,"size":3,"hitRate":0.5}`)
  },
  "async-cache-thundering-herd.ts": (out) => {
    expect(out).toContain("results: 100, distinct objects: 1")
    expect(out).toContain("DB queries: 1")
    expect(out).toContain("misses: 1, joined the one query in flight: 99")
  },
  "async-cache-batching.ts": (out) => {
    inOrder(out, ["batch_user_loader([1, 2, 3]): one DB round trip", "batch_user_loader([4, 5]): one DB round trip"])
    expect(out).toContain("-> user 1, user 2, user 3, user 1")
    expect(out).toContain("batch calls: 2")
    expect(out).toContain("cache: size=5 misses=5 hits=1 coalesced=1")
  },
  "async-cache-warmup.ts": (out) => {
    expect(out).toContain("warmup: 3 keys loaded")
    expect(out).toContain("loads after warmup for the hot keys: 0")
    expect(out).toContain("hits=3 misses=4 size=4")
  },
  "async-cache-metrics.ts": (out) => {
    expect(out).toContain(`cache.get_metrics(): {"hits":6,"misses":4,"size":4,"hit_rate":0.6}`)
    expect(out).toContain(`getUser.get_metrics(): {"hits":3,"misses":3,"size":3,"hit_rate":0.5}`)
    expect(out).toContain(`getOrder.get_metrics(): {"hits":3,"misses":1,"size":1,"hit_rate":0.75}`)
    expect(out).toMatch(/hitRate\s+50\.00 %/)
    expect(out).toContain(`request_cache_hits{namespace="users"} 3`)
    expect(out).toContain(`request_cache_misses{namespace="orders"} 1`)
    expect(out).toContain(`request_cache_size{namespace="users"} 3`)
  },
  "async-cache-invalidation-ttl.ts": (out) => {
    inOrder(out, [
      "get(theme) -> theme from the database (load #1)",
      "get(theme) -> theme from the database (load #1)",
      "delete(theme) -> true",
      "delete(theme) again -> false",
      "get(theme) -> theme from the database (load #2)",
      "get(banner) -> set by hand",
      "get(banner) after its time to live -> banner from the database (load #3)",
      "getUser.invalidate(1) -> true",
      "after clear: size=0",
      "get(theme) -> theme from the database (load #4)"
    ])
  },
  "async-cache-decorators.ts": (out) => {
    expect(out).toContain("AsyncLRU: func(1, 2, 3) twice and func(4, 5): runs=2, entries=2")
    expect(out).toContain("AsyncTTL skip_args=1: two instances, one key: runs=1")
    expect(out).toContain("@cachedMethod: two instances, one key: misses=2 hits=1")
    expect(out).toContain("ttl: 60000 ms")
  },

  // Not from a seed (its socket test: test/observability.test.ts)
  "observability.ts": (out) => {
    expect(out).toMatch(/^metrics: http:\/\/127\.0\.0\.1:\d+\/metrics$/m)
    expect(out).toContain("spans exported: 5")
    expect(count(out, "span RequestCache.load ")).toBe(2)
    expect(out).toContain("request_cache.outcome=failure")
    expect(out).toMatch(/request_cache_hits_total\{namespace="users"[^}]*\} 1\n/)
    expect(out).toMatch(/request_cache_misses_total\{namespace="users"[^}]*\} 2\n/)
  }
}

const exampleFiles = (readdirSync(new URL("../examples", import.meta.url), { recursive: true }) as Array<string>)
  .filter((file) => file.endsWith(".ts"))
  .map((file) => file.split("\\").join("/"))
  .sort()

describe("examples", () => {
  it("every example file is run and checked by a test below", () => {
    expect(exampleFiles).toEqual(Object.keys(checks).sort())
  })

  it("examples/README.md maps every example file", () => {
    const readme = readFileSync(new URL("../examples/README.md", import.meta.url), "utf8")
    for (const file of exampleFiles) expect(readme, file).toContain(`(${file})`)
  })

  // Start them all now; the limiter runs a few at a time, each test awaits its own.
  for (const file of Object.keys(checks)) void outputOf(file)

  for (const [file, check] of Object.entries(checks)) {
    it(`${file} runs and prints what its seed example shows`, async () => {
      const { code, stderr, stdout } = await outputOf(file)
      expect(code, `exit code of ${file}; stderr:\n${stderr}\nstdout:\n${stdout}`).toBe(0)
      check(stdout)
    }, 180_000)
  }
})

interface PriceBody {
  readonly symbol: string
  readonly price: number
  readonly elapsed_sec: number
}
interface CacheInfoBody {
  readonly hits: number
  readonly misses: number
  readonly maxsize: number
  readonly currsize: number
}

describe("the FastAPI twin over a real socket", () => {
  it.live("serves prices from its cache; cache_info counts; clear_cache empties it", () =>
    Effect.gen(function*() {
      const base = yield* baseUrl
      const request = <A>(method: "GET" | "POST", path: string) =>
        Effect.promise(async () => {
          const response = await fetch(base + path, { method })
          expect(response.status).toBe(200)
          return (await response.json()) as A
        })
      const callsBefore = remoteCalls.count

      const first = yield* request<PriceBody>("GET", "/price/AAPL")
      const second = yield* request<PriceBody>("GET", "/price/AAPL")
      expect(first.symbol).toBe("AAPL")
      expect(first.elapsed_sec).toBeGreaterThanOrEqual(0.19) // the 200 ms remote call
      expect(second.price).toBe(first.price) // a hit
      expect(second.elapsed_sec).toBeLessThan(0.1)

      // Ten concurrent requests for a cold symbol: one remote call.
      const burst = yield* Effect.all(Array.from({ length: 10 }, () => request<PriceBody>("GET", "/price/MSFT")), {
        concurrency: "unbounded"
      })
      expect(new Set(burst.map((body) => body.price)).size).toBe(1)
      expect(remoteCalls.count - callsBefore).toBe(2)

      const info = yield* request<CacheInfoBody>("GET", "/debug/cache_info")
      expect(info).toMatchObject({ hits: 10, misses: 2, maxsize: 512, currsize: 2 })

      expect(yield* request<{ status: string }>("POST", "/debug/clear_cache")).toEqual({ status: "cache cleared" })
      expect((yield* request<CacheInfoBody>("GET", "/debug/cache_info")).currsize).toBe(0)

      const third = yield* request<PriceBody>("GET", "/price/AAPL")
      expect(third.elapsed_sec).toBeGreaterThanOrEqual(0.19) // a miss again
      expect(remoteCalls.count - callsBefore).toBe(3)
    }).pipe(Effect.provide(ServiceLive(0))))
})
