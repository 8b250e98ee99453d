/**
 * Twin of async-lru's "Limitations: Thread Safety", option 1 (per-thread caching): each thread
 * gets its own cache instance.
 *
 * In JavaScript a cache is never shared between threads: every worker thread has its own copy
 * of every module, so a cached function defined at module level is already per-thread, like
 * async-lru's `threading.local()` example, and within a thread the event loop runs one callback
 * at a time, so no lock is needed (options 2 and 3 of the seed have nothing to fix here). This
 * example runs itself in two worker threads; each one's cache misses once and then hits, and
 * the main thread's cache is untouched by theirs.
 */
import { alruCache, type CacheInfo } from "effect-request-cache/promise"
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads"

let loads = 0

// Module level: one instance per thread, as `get_cached_fetcher()` gives one per thread.
const fetchData = alruCache(
  async (key: string) => {
    loads++
    return `${key} (loaded by ${isMainThread ? "the main thread" : `worker ${String(workerData)}`})`
  },
  { maxsize: 100 }
)

// The worker's job: the seed's `worker()`, three times.
const work = async () => {
  const results: Array<string> = []
  for (let i = 0; i < 3; i++) results.push(await fetchData("some_key"))
  return { result: results[0], loads, info: fetchData.cacheInfo() }
}

interface Report {
  readonly result: string | undefined
  readonly loads: number
  readonly info: CacheInfo
}

if (isMainThread) {
  const runWorker = (id: number) =>
    new Promise<Report>((resolve, reject) => {
      // The worker runs this very file. Compiled to JavaScript that is
      // `new Worker(new URL(import.meta.url))`; run from TypeScript source, the worker first
      // registers tsx's loader, which a worker does not inherit from `node --import tsx`.
      const bootstrap = `import(${JSON.stringify(import.meta.resolve("tsx/esm/api"))})
        .then(({ register }) => register()).then(() => import(${JSON.stringify(import.meta.url)}))`
      const worker = new Worker(bootstrap, { eval: true, workerData: id })
      worker.once("message", (report: Report) => resolve(report))
      worker.once("error", reject)
    })
  const reports = await Promise.all([runWorker(1), runWorker(2)])
  reports.forEach((report, i) => {
    const { hits, misses } = report.info
    console.log(`worker ${i + 1}: ${report.result}; its cache: hits=${hits} misses=${misses}`)
  })
  const main = fetchData.cacheInfo()
  console.log(`main thread's cache: hits=${main.hits} misses=${main.misses} currsize=${main.currsize}`)
} else {
  parentPort?.postMessage(await work())
}
