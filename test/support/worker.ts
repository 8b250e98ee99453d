/**
 * One "process" of the multi-process Redis tests: `node --import tsx test/support/worker.ts '<json>'`
 * with `{ prefix, url | rootNodes, l1TimeToLive, lookupDelay, store? }` (`rootNodes`: a Redis
 * Cluster; `store`: more options of the Redis layer). It builds the two-tier cache on Redis and
 * answers commands, one JSON object a line on stdin, with one JSON line each on stdout:
 *
 * - `{ "op": "stampede", "key": "k", "calls": 1000 }`: that many concurrent calls of one key;
 *   answers the distinct values they got and how many failed.
 * - `{ "op": "get", "key": "k" }`, `{ "op": "invalidate", "key": "k" }`, `{ "op": "stats" }`,
 *   `{ "op": "set", "key": "k", "value": "v" }`, `{ "op": "timed", "key": "k" }` (a get and its ms).
 *
 * The lookup counts its runs with `INCR prefix:{db}:runs:<key>` (across every process) and answers
 * the "database" value `GET prefix:{db}:source:<key>`, after `lookupDelay` ms (`runsKey`,
 * `sourceKey`; in a cluster, every such key is in the slot of `{db}`).
 */
import { Duration, Effect, Layer, ManagedRuntime, Schema } from "effect"
import * as readline from "node:readline"
import { createClient, createCluster } from "redis"
import { RequestCache } from "../../src/index.js"
import { RedisStore } from "../../src/redis.js"
import { runsKey, sourceKey } from "./workers.js"

export interface WorkerOptions {
  readonly prefix: string
  readonly url?: string | undefined
  readonly rootNodes?: ReadonlyArray<string> | undefined
  readonly l1TimeToLive: number
  readonly lookupDelay: number
  readonly store?: Omit<RedisStore.Options, "prefix" | "url"> | undefined
}

const options = JSON.parse(process.argv[2]!) as WorkerOptions
/** The "database" the lookup reads, and where it counts its runs: the same Redis (or cluster). */
const database = options.rootNodes === undefined
  ? createClient({ url: options.url! })
  : createCluster({ rootNodes: options.rootNodes.map((url) => ({ url })) })
database.on("error", () => {})
await database.connect()

const lookup = (key: string) =>
  Effect.promise(() => database.incr(runsKey(options.prefix, key))).pipe(
    Effect.zipRight(Effect.sleep(options.lookupDelay)),
    Effect.zipRight(Effect.promise(() => database.get(sourceKey(options.prefix, key)))),
    Effect.map((value) => value ?? "none")
  )

const getValue = RequestCache.cached({
  name: "values",
  lookup,
  schema: { success: Schema.String }
})

const store = options.rootNodes === undefined
  ? RedisStore.layer({ ...options.store, url: options.url!, prefix: options.prefix })
  : RedisStore.layerCluster({ ...options.store, rootNodes: options.rootNodes, prefix: options.prefix })
const runtime = ManagedRuntime.make(
  RequestCache.layerStore({ timeToLive: "1 minute", l1: { timeToLive: options.l1TimeToLive } }).pipe(
    Layer.provide(store)
  )
)

type Command =
  | { readonly op: "stampede"; readonly key: string; readonly calls: number }
  | { readonly op: "get"; readonly key: string }
  | { readonly op: "invalidate"; readonly key: string }
  | { readonly op: "set"; readonly key: string; readonly value: string }
  | { readonly op: "timed"; readonly key: string }
  | { readonly op: "stats" }

const handle = (command: Command): Effect.Effect<unknown, never, RequestCache> => {
  switch (command.op) {
    case "stampede":
      return Effect.forEach(
        Array.from({ length: command.calls }),
        () => Effect.either(getValue(command.key)),
        { concurrency: "unbounded" }
      ).pipe(Effect.map((results) => ({
        values: Array.from(new Set(results.flatMap((r) => r._tag === "Right" ? [r.right] : []))),
        failures: results.filter((r) => r._tag === "Left").length
      })))
    case "get":
      return getValue(command.key).pipe(Effect.orDie)
    case "invalidate":
      return getValue.invalidate(command.key)
    case "set":
      return getValue.set(command.key, command.value)
    case "timed":
      return Effect.timed(getValue(command.key)).pipe(
        Effect.map(([duration, value]) => ({ value, millis: Duration.toMillis(duration) })),
        Effect.orDie
      )
    case "stats":
      return getValue.stats
  }
}

await runtime.runPromise(Effect.void) // build the layer before saying so
process.stdout.write(`${JSON.stringify({ ready: true })}\n`)
const lines = readline.createInterface({ input: process.stdin })
for await (const line of lines) {
  if (line.trim() === "") continue
  const result = await runtime.runPromise(handle(JSON.parse(line) as Command))
  process.stdout.write(`${JSON.stringify({ result })}\n`)
}
await runtime.dispose()
database.destroy()
