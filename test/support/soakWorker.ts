/**
 * One process of the soak test (test/soak.test.ts): `node --expose-gc --import tsx
 * test/support/soakWorker.ts '<json SoakWorkerOptions>'`. It builds the two-tier cache
 * (`RequestCache.layerStore` on `RedisStore.layer`, through the test's TCP proxy) with two cached
 * functions over a small key space, `values` and `tagged` (tags `g0`, `g1`, `g2` from the key),
 * and when told to, runs `loops` concurrent loops of random calls: `get`, `set`, `invalidate` and
 * `invalidateTags`. Everything it does goes to its log file, one JSON record a line (see
 * `soakCheck.ts` for the records and what the test checks against them):
 *
 * - each call, with its start and end (`Date.now()`, and this process's sequence numbers, which
 *   order its own records exactly) and the value it returned;
 * - each lookup, when it starts: the value it makes (`w1:vl17`: worker 1, namespace `values`, the
 *   17th lookup; `w1:ts9` for the 9th `set` of `tagged`) is new, so every value names where it
 *   came from and when;
 * - each command the cache sends to the store, with its outcome: the store layer is wrapped in an
 *   observer that times every command and passes it through unchanged. That is how the test knows
 *   when an invalidation really reached Redis (directly, or replayed by the outbox later), and
 *   which failures the cache saw. Each command is marked with who sent it (a `FiberRef` the loops
 *   set): a call (`call`), a tag invalidation (`tags`) or the cache's own background work (the
 *   outbox's replays);
 * - the cache's log lines (through a logger of its own) and the events it heard.
 *
 * Commands on stdin, one JSON object a line, each answered with one JSON line on stdout:
 * `{ "op": "start" }` starts the loops; `{ "op": "stop" }` stops them, waits for the calls in
 * flight and answers a summary; `{ "op": "heap" }` answers the heap after full collections;
 * `{ "op": "owed" }` answers which of this process's invalidations have not reached Redis yet;
 * `{ "op": "stats" }` the two namespaces' stats; `{ "op": "snapshot", "file": "..." }` writes a
 * heap snapshot (to look for what grows, between two of them).
 */
import { Effect, FiberRef, Layer, Logger, ManagedRuntime, Schema } from "effect"
import * as fs from "node:fs"
import { monitorEventLoopDelay } from "node:perf_hooks"
import * as readline from "node:readline"
import * as v8 from "node:v8"
import { CacheStore, RequestCache } from "../../src/index.js"
import { RedisStore } from "../../src/redis.js"
import { tagOf } from "./soakCheck.js"

export interface SoakWorkerOptions {
  readonly id: string
  readonly url: string
  readonly prefix: string
  readonly logFile: string
  readonly seed: number
  /** Keys per namespace: `k0` ... */
  readonly keys: number
  /** Concurrent loops of calls. */
  readonly loops: number
  /** Each loop waits up to this many ms between two calls (uniformly drawn): the pace of the load. */
  readonly thinkTime: number
  /** A lookup takes 1 to this many ms. */
  readonly lookupDelay: number
  readonly l1TimeToLive: number
  readonly lockTimeout: number
  readonly store: Omit<RedisStore.Options, "prefix" | "url">
}

const options = JSON.parse(process.argv[2]!) as SoakWorkerOptions
const gc = globalThis.gc
if (gc === undefined) throw new Error("soakWorker: run with node --expose-gc")

// -------------------------------------------------------------------------------------------------
// The log: records buffered and appended to the file every 50 ms (never kept: memory stays flat).

let sequence = 0
/** This process's order of events: each record takes the next number. */
const next = () => ++sequence
let buffer: Array<string> = []
const out = fs.openSync(options.logFile, "a")
const flush = () => {
  if (buffer.length === 0) return
  fs.writeSync(out, buffer.join("\n") + "\n")
  buffer = []
}
function record(entry: Record<string, unknown>): void {
  noteRecord(entry)
  buffer.push(JSON.stringify(entry))
}
const flusher = setInterval(flush, 50)

/** A small seeded generator (mulberry32): a run can be told by its seeds. */
let state = options.seed >>> 0
const random = () => {
  state = (state + 0x6d2b79f5) >>> 0
  let t = state
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}
const below = (n: number) => Math.floor(random() * n)

// -------------------------------------------------------------------------------------------------
// The store, observed

/**
 * Who sends a command: a call (with its sequence number), a tag invalidation, or (the default)
 * the cache in the background. Fibers the cache forks for a call (its loads) inherit it.
 */
const origin = FiberRef.unsafeMake<{ readonly from: "call" | "tags" | "background"; readonly call: number }>({
  from: "background",
  call: 0
})

/** A key as the calls name it: the store has entries' keys encoded (`"k3"`), tags as they are. */
const plain = (key: string | undefined) => key?.startsWith("\"") ? JSON.parse(key) as string : key

/** Every command the cache sends, timed, its outcome logged; passed through unchanged. */
const observe = (service: CacheStore.Service): CacheStore.Service => {
  const timed = <A, E>(
    command: string,
    fields: Record<string, unknown>,
    effect: Effect.Effect<A, E>,
    result?: (a: A) => unknown
  ): Effect.Effect<A, E> =>
    Effect.flatMap(FiberRef.get(origin), ({ call, from }) =>
      Effect.suspend(() => {
        const s = Date.now()
        const q = next()
        return Effect.tapBoth(effect, {
          onSuccess: (a) =>
            Effect.sync(() =>
              record({
                k: "cmd",
                c: command,
                ...fields,
                s,
                q,
                e: Date.now(),
                qe: next(),
                ok: true,
                o: from,
                cq: call,
                r: result?.(a)
              })
            ),
          onFailure: (error) =>
            Effect.sync(() =>
              record({
                k: "cmd",
                c: command,
                ...fields,
                s,
                q,
                e: Date.now(),
                qe: next(),
                ok: false,
                o: from,
                cq: call,
                err: error instanceof Error ? error.message : String(error)
              })
            )
        })
      }))
  const coordination = service.coordination!
  return {
    name: service.name,
    get: (ns, key) => timed("get", { ns, key: plain(key) }, service.get(ns, key), (found) => found._tag === "Some"),
    set: (ns, key, entry, ttl, fence) =>
      timed("set", { ns, key: plain(key), version: fence?.version }, service.set(ns, key, entry, ttl, fence)),
    delete: (ns, key, fence) =>
      timed("delete", { ns, key: plain(key), version: fence?.version }, service.delete(ns, key, fence)),
    clear: (ns) => timed("clear", { ns }, service.clear(ns)),
    raise: (ns, key, time) => timed("raise", { ns, key, time }, service.raise!(ns, key, time)),
    coordination: {
      acquire: (ns, key, owner, ttl) =>
        timed("acquire", { ns, key: plain(key) }, coordination.acquire(ns, key, owner, ttl), (taken) => taken),
      release: (ns, key, owner) => timed("release", { ns, key: plain(key) }, coordination.release(ns, key, owner)),
      publish: (event) =>
        timed("publish", { ns: event.namespace, key: plain(event.key), ev: event.kind }, coordination.publish(event)),
      subscribe: (onEvent) =>
        coordination.subscribe((event) => {
          const key = plain(event.key)
          record({ k: "event", ev: event.kind, ns: event.namespace, key, from: event.origin, t: Date.now() })
          onEvent(event)
        })
    }
  }
}

// -------------------------------------------------------------------------------------------------
// The cache

const lookups = { values: 0, tagged: 0 }
const lookup = (ns: "values" | "tagged") => (key: string) =>
  Effect.suspend(() => {
    // The value is made when the lookup starts: it is "as of" that moment, as a read of a database
    // would be. A tag invalidation voids entries whose lookup started at or before it.
    const v = `${options.id}:${ns[0]}l${++lookups[ns]}`
    record({ k: "lookup", ns, key, v, t: Date.now(), q: next() })
    return Effect.as(Effect.sleep(1 + below(options.lookupDelay)), v)
  })

const getValue = RequestCache.cached({ name: "values", lookup: lookup("values"), schema: { success: Schema.String } })
const getTagged = RequestCache.cached({
  name: "tagged",
  lookup: lookup("tagged"),
  schema: { success: Schema.String },
  tags: (_value, key) => [tagOf(key)]
})

const logger = Logger.make(({ date, logLevel, message }) => {
  const text = Array.isArray(message) ? message.map(String).join(" ") : String(message)
  record({ k: "log", level: logLevel.label, msg: text, t: date.getTime() })
})

const store = Layer.effect(CacheStore.CacheStore, Effect.map(CacheStore.CacheStore, observe)).pipe(
  Layer.provide(RedisStore.layer({ ...options.store, url: options.url, prefix: options.prefix }))
)
const runtime = ManagedRuntime.make(
  RequestCache.layerStore({
    timeToLive: "1 hour",
    l1: { timeToLive: options.l1TimeToLive },
    lockTimeout: options.lockTimeout
  }).pipe(Layer.provide(store), Layer.provide(Logger.replace(Logger.defaultLogger, logger)))
)

// -------------------------------------------------------------------------------------------------
// The calls

/** Runs one call as `from`, logging its start, end and what it returned. */
const call = <A>(
  fields: Record<string, unknown>,
  effect: Effect.Effect<A, never, RequestCache>,
  from: "call" | "tags" = "call"
): Effect.Effect<void, never, RequestCache> =>
  Effect.suspend(() => {
    const s = Date.now()
    const q = next()
    return Effect.map(
      Effect.locally(effect, origin, { from, call: q }),
      (value) =>
        record({ ...fields, s, q, e: Date.now(), qe: next(), ...(typeof value === "string" ? { v: value } : {}) })
    )
  })

const sets = { values: 0, tagged: 0 }
const randomCall = (): Effect.Effect<void, never, RequestCache> => {
  const ns = random() < 0.5 ? "values" : "tagged"
  const cached = ns === "values" ? getValue : getTagged
  const key = `k${below(options.keys)}`
  const dice = random()
  if (dice < 0.7) return call({ k: "get", ns, key }, Effect.orDie(cached(key)))
  if (dice < 0.82) {
    const v = `${options.id}:${ns[0]}s${++sets[ns]}`
    return call({ k: "set", ns, key, v }, cached.set(key, v))
  }
  if (dice < 0.94 || ns === "values") return call({ k: "invalidate", ns, key }, cached.invalidate(key))
  const tags = random() < 0.8 ? [`g${below(3)}`] : ["g0", "g1", "g2"].filter(() => random() < 0.5)
  return call({ k: "tags", ns, tags }, RequestCache.invalidateTags(tags), "tags")
}

let running = false
let loopsDone: Promise<unknown> = Promise.resolve()
const loop = async () => {
  while (running) {
    await runtime.runPromise(randomCall())
    const think = below(options.thinkTime + 1)
    if (think > 0) await new Promise((resolve) => setTimeout(resolve, think))
  }
}

// -------------------------------------------------------------------------------------------------
// What this process still owes Redis: invalidations (and sets) no successful command has covered

/**
 * Per `ns\0key`: the start (sequence number) of the last set or invalidation, and of the last
 * command that removed what the store held (a successful `delete` or `set`): owed while the first
 * is later. Per tag: the start time of the last invalidation, and the latest time raised in the
 * store (a successful `raise`): owed while the first is later (a raise of time t voids every entry
 * whose lookup started at or before t).
 */
const owedKeys = new Map<string, { op: number; removed: number }>()
const owedTags = new Map<string, { op: number; raised: number }>()
const owedOf = <A extends object>(map: Map<string, A>, id: string, make: () => A): A => {
  let owed = map.get(id)
  if (owed === undefined) map.set(id, owed = make())
  return owed
}

/** Every record passes here on its way to the file. Calls are logged when they end. */
function noteRecord(entry: Record<string, unknown>): void {
  if (entry.k === "set" || entry.k === "invalidate") {
    const owed = owedOf(owedKeys, `${entry.ns}\0${entry.key}`, () => ({ op: 0, removed: 0 }))
    owed.op = Math.max(owed.op, entry.q as number)
  } else if (entry.k === "tags") {
    for (const tag of entry.tags as Array<string>) {
      const owed = owedOf(owedTags, tag, () => ({ op: 0, raised: 0 }))
      owed.op = Math.max(owed.op, entry.s as number)
    }
  } else if (entry.k === "cmd" && entry.ok === true) {
    if ((entry.c === "delete" || entry.c === "set") && entry.ns !== "~tags") {
      const owed = owedOf(owedKeys, `${entry.ns}\0${entry.key}`, () => ({ op: 0, removed: 0 }))
      owed.removed = Math.max(owed.removed, entry.q as number)
    } else if (entry.c === "raise") {
      const owed = owedOf(owedTags, entry.key as string, () => ({ op: 0, raised: 0 }))
      owed.raised = Math.max(owed.raised, entry.time as number)
    }
  }
}

/** What is owed: `ns\0key` or the tag, with its numbers. */
const owed = () => [
  ...Array.from(owedKeys).filter(([, { op, removed }]) => removed < op).map(([id, o]) => ({ id, ...o })),
  ...Array.from(owedTags).filter(([, { op, raised }]) => raised < op).map(([id, o]) => ({ id, ...o }))
]

// -------------------------------------------------------------------------------------------------
// The protocol

const loopDelay = monitorEventLoopDelay({ resolution: 10 })

const heap = () => {
  gc()
  gc()
  const usage = process.memoryUsage()
  return { heapUsed: usage.heapUsed, arrayBuffers: usage.arrayBuffers }
}

type Command =
  | { readonly op: "start" }
  | { readonly op: "stop" }
  | { readonly op: "heap" }
  | { readonly op: "owed" }
  | { readonly op: "stats" }
  | { readonly op: "snapshot"; readonly file: string }

const handle = async (command: Command): Promise<unknown> => {
  switch (command.op) {
    case "start": {
      running = true
      loopDelay.reset()
      loopDelay.enable()
      loopsDone = Promise.all(Array.from({ length: options.loops }, loop))
      return { started: true }
    }
    case "stop": {
      running = false
      await loopsDone
      loopDelay.disable()
      flush()
      return { loopDelayMax: loopDelay.max / 1e6, loopDelayP99: loopDelay.percentile(99) / 1e6 }
    }
    case "heap":
      return heap()
    case "owed":
      return owed()
    case "snapshot":
      gc()
      return v8.writeHeapSnapshot(command.file)
    case "stats":
      return {
        values: await runtime.runPromise(getValue.stats),
        tagged: await runtime.runPromise(getTagged.stats)
      }
  }
}

await runtime.runPromise(Effect.void) // build the layer before saying so
process.stdout.write(`${JSON.stringify({ ready: true })}\n`)
const lines = readline.createInterface({ input: process.stdin })
for await (const line of lines) {
  if (line.trim() === "") continue
  const result = await handle(JSON.parse(line) as Command)
  process.stdout.write(`${JSON.stringify({ result })}\n`)
}
running = false
await loopsDone
await runtime.dispose()
clearInterval(flusher)
flush()
fs.closeSync(out)
