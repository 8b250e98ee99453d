/**
 * The benchmark suite: `npm run bench` runs every scenario, `npm run bench -- hit stampede` some.
 * Prints one table per scenario; never fails on a time.
 */
import * as os from "node:os"

const scenarios: Record<string, () => Promise<{ readonly run: () => Promise<void> }>> = {
  hit: () => import("./hit.js"),
  miss: () => import("./miss.js"),
  stampede: () => import("./stampede.js"),
  memory: () => import("./memory.js"),
  complexity: () => import("./complexity.js"),
  "promise-hit": () => import("./promiseHit.js"),
  "promise-stampede": () => import("./promiseStampede.js"),
  "async-lru": () => import("./asyncLru.js"),
  redis: () => import("./redis.js"),
  weigher: () => import("./weigher.js"),
  "hit-ratio": () => import("./hitRatio.js"),
  eviction: () => import("./eviction.js"),
  batch: () => import("./batch.js")
}

const aliases: Record<string, string> = { o1: "complexity", "O(1)": "complexity" }

const requested = process.argv.slice(2).map((name) => aliases[name] ?? name)
const unknown = requested.filter((name) => !(name in scenarios))
if (unknown.length > 0) {
  console.error(`Unknown scenario ${unknown.join(", ")}; the scenarios are ${Object.keys(scenarios).join(", ")}`)
  process.exit(2)
}
if (globalThis.gc === undefined) console.warn("warning: run with --expose-gc (npm run bench) for steadier numbers")

const cpus = os.cpus()
console.log(
  `node ${process.version}, ${os.platform()} ${os.arch()}, ${cpus.length} x ${cpus[0]?.model ?? "unknown CPU"}`
)
const started = performance.now()
for (const name of requested.length > 0 ? requested : Object.keys(scenarios)) {
  const scenario = await scenarios[name]!()
  await scenario.run()
}
console.log(`\ntotal ${((performance.now() - started) / 1000).toFixed(1)} s`)
