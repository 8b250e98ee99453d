/**
 * Model-based properties: random command sequences run against the in-memory cache and against a
 * reference model (a plain array kept in recency order), compared after every command. Time is
 * the `TestClock` of each run, moved only by `TestClock.adjust`.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as fc from "effect/FastCheck"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as TestClock from "effect/TestClock"
import type { CacheStats } from "../src/CacheStats.js"
import { MemoryNamespace } from "../src/internal/memoryNamespace.js"
import { RequestCache } from "../src/RequestCache.js"

// -------------------------------------------------------------------------------------------------
// The sequential model

type Command =
  | { readonly _tag: "Get"; readonly key: number }
  | { readonly _tag: "Set"; readonly key: number; readonly value: number }
  | { readonly _tag: "Invalidate"; readonly key: number }
  | { readonly _tag: "InvalidateAll" }
  | { readonly _tag: "Peek"; readonly key: number }
  | { readonly _tag: "Advance"; readonly millis: number }

interface ModelEntry {
  readonly key: number
  value: number
  expiresAt: number
}

type Counts = Pick<
  CacheStats,
  | "hits"
  | "misses"
  | "staleHits"
  | "coalesced"
  | "loads"
  | "loadFailures"
  | "refreshes"
  | "refreshFailures"
  | "evictions"
  | "expirations"
  | "invalidations"
  | "size"
  | "capacity"
>

const countsOf = (stats: CacheStats): Counts => ({
  hits: stats.hits,
  misses: stats.misses,
  staleHits: stats.staleHits,
  coalesced: stats.coalesced,
  loads: stats.loads,
  loadFailures: stats.loadFailures,
  refreshes: stats.refreshes,
  refreshFailures: stats.refreshFailures,
  evictions: stats.evictions,
  expirations: stats.expirations,
  invalidations: stats.invalidations,
  size: stats.size,
  capacity: stats.capacity
})

/** What a lookup run returns: the key and the run's number, so every load gives a new value. */
const loaded = (key: number, run: number): number => key * 1000 + run

/** A true LRU with a time to live, written the slow and obvious way. */
class Model {
  /** Least recent first. */
  readonly entries: Array<ModelEntry> = []
  runs = 0
  hits = 0
  misses = 0
  loads = 0
  evictions = 0
  expirations = 0
  invalidations = 0

  constructor(readonly capacity: number, readonly timeToLive: number, public now: number) {}

  private indexOf(key: number): number {
    return this.entries.findIndex((entry) => entry.key === key)
  }

  private makeMostRecent(index: number): ModelEntry {
    const [entry] = this.entries.splice(index, 1)
    this.entries.push(entry!)
    return entry!
  }

  private insert(key: number, value: number): void {
    if (this.entries.length >= this.capacity) {
      this.entries.shift()
      this.evictions++
    }
    this.entries.push({ key, value, expiresAt: this.now + this.timeToLive })
  }

  private lookup(key: number): number {
    this.loads++
    return loaded(key, ++this.runs)
  }

  get(key: number): number {
    const index = this.indexOf(key)
    if (index === -1) {
      this.misses++
      const value = this.lookup(key)
      this.insert(key, value)
      return value
    }
    const entry = this.makeMostRecent(index)
    if (this.now < entry.expiresAt) {
      this.hits++
      return entry.value
    }
    this.expirations++
    this.misses++
    entry.value = this.lookup(key)
    entry.expiresAt = this.now + this.timeToLive
    return entry.value
  }

  set(key: number, value: number): void {
    const index = this.indexOf(key)
    if (index === -1) return this.insert(key, value)
    const entry = this.makeMostRecent(index)
    entry.value = value
    entry.expiresAt = this.now + this.timeToLive
  }

  invalidate(key: number): boolean {
    const index = this.indexOf(key)
    if (index === -1) return false
    this.entries.splice(index, 1)
    this.invalidations++
    return true
  }

  invalidateAll(): void {
    this.invalidations += this.entries.length
    this.entries.length = 0
  }

  peek(key: number): Option.Option<number> {
    const entry = this.entries[this.indexOf(key)]
    return entry !== undefined && this.now < entry.expiresAt ? Option.some(entry.value) : Option.none()
  }

  counts(): Counts {
    return {
      hits: this.hits,
      misses: this.misses,
      staleHits: 0,
      coalesced: 0,
      loads: this.loads,
      loadFailures: 0,
      refreshes: 0,
      refreshFailures: 0,
      evictions: this.evictions,
      expirations: this.expirations,
      invalidations: this.invalidations,
      size: this.entries.length,
      capacity: this.capacity
    }
  }

  keysByRecency(): Array<number> {
    return this.entries.map((entry) => entry.key)
  }
}

/**
 * `expect(actual, at).toStrictEqual(expected)`, called only on a mismatch: vitest's matchers cost
 * more than the cache operations they check, and run after every command.
 */
const check = (actual: unknown, expected: unknown, at: () => string): void => {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) expect(actual, at()).toStrictEqual(expected)
}

const show = (command: Command): string => {
  switch (command._tag) {
    case "Get":
    case "Invalidate":
    case "Peek":
      return `${command._tag}(${command.key})`
    case "Set":
      return `Set(${command.key}, ${command.value})`
    case "InvalidateAll":
      return "InvalidateAll"
    case "Advance":
      return `Advance(${command.millis})`
  }
}

/** The namespace behind `name` in the cache of the current layer. */
const memoryNamespace = (name: string) =>
  Effect.map(RequestCache, (cache) => {
    const namespace = cache.namespace(name)
    if (!(namespace instanceof MemoryNamespace)) throw new Error(`namespace "${name}" is not a MemoryNamespace`)
    return namespace
  })

/**
 * Runs `commands` against a fresh cache (its own layer, under the test's `TestClock`) and the
 * model, comparing returned values, stats, recency order and lookup runs after every command.
 */
const runAgainstModel = (
  capacity: number,
  timeToLive: number | undefined,
  commands: ReadonlyArray<Command>
) =>
  Effect.gen(function*() {
    let runs = 0
    const getP = RequestCache.cached({
      name: "p",
      lookup: (key: number) => Effect.sync(() => loaded(key, ++runs))
    })
    const namespace = yield* memoryNamespace("p")
    const model = new Model(capacity, timeToLive ?? Infinity, yield* Clock.currentTimeMillis)
    for (let step = 0; step < commands.length; step++) {
      const command = commands[step]!
      const at = () => `after ${commands.slice(0, step + 1).map(show).join(", ")}`
      switch (command._tag) {
        case "Get": {
          const value = yield* getP(command.key)
          check(value, model.get(command.key), at)
          break
        }
        case "Set": {
          yield* getP.set(command.key, command.value)
          model.set(command.key, command.value)
          break
        }
        case "Invalidate": {
          const removed = yield* getP.invalidate(command.key)
          check(removed, model.invalidate(command.key), at)
          break
        }
        case "InvalidateAll": {
          yield* getP.invalidateAll
          model.invalidateAll()
          break
        }
        case "Peek": {
          const before = namespace.inspect().coldest
          const peeked = yield* getP.peek(command.key)
          check(peeked, model.peek(command.key), at)
          check(namespace.inspect().coldest, before, () => `${at()}: peek changed the recency order`)
          break
        }
        case "Advance": {
          yield* TestClock.adjust(command.millis)
          model.now += command.millis
          check(yield* Clock.currentTimeMillis, model.now, at)
          break
        }
      }
      const stats = yield* getP.stats
      // (a) values above, every counter here
      check(countsOf(stats), model.counts(), at)
      // (b) size never exceeds capacity, and the size is the number of linked entries
      if (stats.size > capacity) expect(stats.size, at()).toBeLessThanOrEqual(capacity)
      check(namespace.inspect().mapped, stats.size, at)
      // (c) the recency order is the model's
      check(namespace.inspect().coldest, model.keysByRecency(), at)
      // (d) the lookup ran once per miss
      check(runs, stats.misses, at)
      check(runs, model.runs, at)
    }
  }).pipe(
    Effect.provide(RequestCache.layer(timeToLive === undefined ? { capacity } : { capacity, timeToLive }))
  )

const key = fc.integer({ min: 0, max: 9 })
/** Keys are taken modulo this: few keys give re-accesses, many give evictions. */
const keys = fc.integer({ min: 1, max: 10 })
/** Multiples of 50 add up to exactly a time to live of 100 often: the expiry boundary. */
const advance = fc.oneof(
  { arbitrary: fc.constantFrom(0, 50, 100), weight: 2 },
  { arbitrary: fc.constantFrom(1, 49, 99, 101), weight: 1 },
  { arbitrary: fc.integer({ min: 0, max: 150 }), weight: 1 }
)

const withKeys = (commands: ReadonlyArray<Command>, keys: number): Array<Command> =>
  commands.map((command) => "key" in command ? { ...command, key: command.key % keys } : command)

/**
 * Command sequences. `TestClock.adjust` waits for the other fibers to suspend (a few real
 * `setTimeout(0)`s), so advances are the costly command: a lower weight where time matters less.
 */
const commands = (advanceWeight: number): fc.Arbitrary<Array<Command>> =>
  fc.array(
    fc.oneof(
      { arbitrary: key.map((key): Command => ({ _tag: "Get", key })), weight: 6 },
      {
        arbitrary: fc.record({ key, value: fc.integer({ min: -1000, max: -1 }) }).map(({ key, value }): Command => ({
          _tag: "Set",
          key,
          value
        })),
        weight: 2
      },
      { arbitrary: key.map((key): Command => ({ _tag: "Invalidate", key })), weight: 1 },
      { arbitrary: fc.constant<Command>({ _tag: "InvalidateAll" }), weight: 1 },
      { arbitrary: key.map((key): Command => ({ _tag: "Peek", key })), weight: 2 },
      { arbitrary: advance.map((millis): Command => ({ _tag: "Advance", millis })), weight: advanceWeight }
    ),
    { minLength: 1, maxLength: 60 }
  )

const capacity = fc.integer({ min: 1, max: 6 })

// -------------------------------------------------------------------------------------------------

describe("6. LRU", () => {
  it.effect.prop(
    "without a time to live: values, stats, recency order and lookup runs match the model",
    { capacity, keys, commands: commands(1) },
    ({ capacity, commands, keys }) => runAgainstModel(capacity, undefined, withKeys(commands, keys)),
    { fastCheck: { numRuns: 100 } }
  )

  it.effect("a hit makes the key most recent; the least recent is evicted", () =>
    runAgainstModel(2, undefined, [
      { _tag: "Get", key: 1 },
      { _tag: "Get", key: 2 },
      { _tag: "Get", key: 1 },
      { _tag: "Get", key: 3 }, // evicts 2
      { _tag: "Get", key: 1 }, // hit
      { _tag: "Get", key: 2 } // miss, evicts 3
    ]))
})

describe("3. Success: time to live", () => {
  it.effect.prop(
    "with a time to live of 100 ms: values, stats, recency order and lookup runs match the model",
    { capacity, keys, commands: commands(2) },
    ({ capacity, commands, keys }) => runAgainstModel(capacity, 100, withKeys(commands, keys)),
    { fastCheck: { numRuns: 100 } }
  )

  it.effect("an entry is fresh strictly before expiresAt and expired at it", () =>
    runAgainstModel(2, 100, [
      { _tag: "Get", key: 1 },
      { _tag: "Advance", millis: 99 },
      { _tag: "Peek", key: 1 },
      { _tag: "Get", key: 1 }, // hit
      { _tag: "Advance", millis: 1 },
      { _tag: "Peek", key: 1 }, // none
      { _tag: "Get", key: 1 }, // expired: a miss that reloads
      { _tag: "Advance", millis: 100 },
      { _tag: "Invalidate", key: 1 }, // expired but still there: true
      { _tag: "Get", key: 1 }, // miss
      { _tag: "Advance", millis: 100 },
      { _tag: "Set", key: 1, value: -1 }, // renews
      { _tag: "Get", key: 1 } // hit
    ]))
})

// -------------------------------------------------------------------------------------------------
// Concurrency

/** Polls `done` between yields until it holds; fails after a bounded number of rounds. */
const waitUntil = (what: string, done: () => Effect.Effect<boolean, never, RequestCache>) =>
  Effect.gen(function*() {
    for (let round = 0; round < 10_000; round++) {
      if (yield* done()) return
      yield* Effect.yieldNow()
    }
    throw new Error(`gave up waiting until ${what}`)
  })

type FlightCommand =
  | { readonly _tag: "Call"; readonly key: number }
  | { readonly _tag: "Release"; readonly pick: number }
  | { readonly _tag: "Invalidate"; readonly key: number }
  | { readonly _tag: "Interrupt"; readonly pick: number }
  | { readonly _tag: "Yield" }

interface ModelFlight {
  /** The lookup run that serves it (its index in the registry of runs). */
  readonly run: number
  readonly key: number
  /** Callers (by index) that wait for it; an interrupted caller leaves. */
  readonly callers: Array<number>
  detached: boolean
  settled: boolean
  /** Its last caller left before it completed: its lookup is interrupted, its entry removed. */
  abandoned: boolean
}

type KeyState =
  | { readonly _tag: "Pending"; readonly flight: ModelFlight }
  | { readonly _tag: "Value"; readonly value: number }

describe("1. Single flight", () => {
  it.effect.prop(
    "N concurrent callers of a cold key share one lookup",
    { n: fc.integer({ min: 1, max: 20 }), key: fc.integer({ min: 0, max: 9 }) },
    ({ key, n }) =>
      Effect.gen(function*() {
        const gate = yield* Deferred.make<void>()
        let runs = 0
        const getP = RequestCache.cached({
          name: "p",
          lookup: (k: number) =>
            Effect.sync(() => ++runs).pipe(
              Effect.zipLeft(Deferred.await(gate)),
              Effect.map((run) => loaded(k, run))
            )
        })
        const fibers = yield* Effect.forEach(Array.from({ length: n }), () => Effect.fork(getP(key)))
        yield* waitUntil(`${n} callers arrived`, () =>
          Effect.map(getP.stats, (stats) => stats.misses + stats.coalesced === n))
        expect(runs).toBe(1)
        expect(yield* getP.peek(key)).toStrictEqual(Option.none())
        yield* Deferred.succeed(gate, undefined)
        const values = yield* Effect.forEach(fibers, Fiber.join)
        expect(values).toStrictEqual(Array.from({ length: n }, () =>
          loaded(key, 1)))
        expect(runs).toBe(1)
        const stats = yield* getP.stats
        expect(stats.misses).toBe(1)
        expect(stats.coalesced).toBe(n - 1)
        expect(stats.loads).toBe(1)
        expect(stats.hits).toBe(0)
        expect(stats.size).toBe(1)
        expect(yield* getP.peek(key)).toStrictEqual(Option.some(loaded(key, 1)))
        expect(yield* getP(key)).toBe(loaded(key, 1))
        expect(runs).toBe(1)
      }).pipe(Effect.provide(RequestCache.layer({ capacity: 10 }))),
    { fastCheck: { numRuns: 100 } }
  )

  const flightCommand: fc.Arbitrary<FlightCommand> = fc.oneof(
    { arbitrary: fc.integer({ min: 0, max: 4 }).map((key) => ({ _tag: "Call", key }) as const), weight: 6 },
    { arbitrary: fc.nat(100).map((pick) => ({ _tag: "Release", pick }) as const), weight: 3 },
    { arbitrary: fc.integer({ min: 0, max: 4 }).map((key) => ({ _tag: "Invalidate", key }) as const), weight: 2 },
    { arbitrary: fc.nat(100).map((pick) => ({ _tag: "Interrupt", pick }) as const), weight: 2 },
    { arbitrary: fc.constant({ _tag: "Yield" } as const), weight: 1 }
  )

  it.effect.prop(
    "random interleavings of concurrent callers over M keys, with interruptions: one lookup per key per flight; the last caller to leave stops it",
    { keys: fc.integer({ min: 1, max: 4 }), commands: fc.array(flightCommand, { minLength: 1, maxLength: 60 }) },
    ({ commands, keys }) =>
      Effect.gen(function*() {
        const registry: Array<{ readonly key: number; readonly deferred: Deferred.Deferred<number> }> = []
        const runsByKey = new Map<number, number>()
        /** The runs whose lookup was interrupted. */
        const stopped = new Set<number>()
        const getP = RequestCache.cached({
          name: "p",
          lookup: (k: number) =>
            Effect.flatMap(Deferred.make<number>(), (deferred) => {
              const run = registry.push({ key: k, deferred }) - 1
              runsByKey.set(k, (runsByKey.get(k) ?? 0) + 1)
              return Deferred.await(deferred).pipe(Effect.onInterrupt(() => Effect.sync(() => stopped.add(run))))
            })
        })

        // The model
        const state = new Map<number, KeyState>()
        const flights: Array<ModelFlight> = []
        const expected: Array<number | ModelFlight | "interrupted"> = []
        const modelRuns = new Map<number, number>()
        let hits = 0
        let misses = 0
        let coalesced = 0
        let loads = 0
        let invalidations = 0

        const callers: Array<Fiber.RuntimeFiber<number>> = []
        const trail: Array<string> = []

        const release = (flight: ModelFlight) =>
          Effect.gen(function*() {
            const value = loaded(flight.key, flight.run)
            const run = registry[flight.run]
            expect(run?.key, `run ${flight.run} is the lookup of key ${flight.key}`).toBe(flight.key)
            yield* Deferred.succeed(run!.deferred, value)
            flight.settled = true
            loads++
            if (!flight.detached) state.set(flight.key, { _tag: "Value", value })
            yield* waitUntil(
              `the load of run ${flight.run} completed`,
              () => Effect.map(getP.stats, (stats) => stats.loads === loads)
            )
          })

        for (const command of commands) {
          const key = "key" in command ? command.key % keys : 0
          trail.push(
            "pick" in command ? `${command._tag}(${command.pick})` : `${command._tag}(${key})`
          )
          const at = `after ${trail.join(", ")}`
          switch (command._tag) {
            case "Call": {
              const current = state.get(key)
              const index = callers.length
              if (current === undefined) {
                misses++
                const flight: ModelFlight = {
                  run: flights.length,
                  key,
                  callers: [index],
                  detached: false,
                  settled: false,
                  abandoned: false
                }
                flights.push(flight)
                modelRuns.set(key, (modelRuns.get(key) ?? 0) + 1)
                state.set(key, { _tag: "Pending", flight })
                expected.push(flight)
              } else if (current._tag === "Pending") {
                coalesced++
                current.flight.callers.push(index)
                expected.push(current.flight)
              } else {
                hits++
                expected.push(current.value)
              }
              callers.push(yield* Effect.fork(getP(key)))
              yield* waitUntil(
                `caller ${index} arrived`,
                () => Effect.map(getP.stats, (stats) => stats.hits + stats.misses + stats.coalesced === callers.length)
              )
              break
            }
            case "Release": {
              const pending = flights.filter((flight) => !flight.settled)
              if (pending.length > 0) yield* release(pending[command.pick % pending.length]!)
              break
            }
            case "Invalidate": {
              const current = state.get(key)
              if (current?._tag === "Pending") current.flight.detached = true
              if (current !== undefined) invalidations++
              state.delete(key)
              expect(yield* getP.invalidate(key), at).toBe(current !== undefined)
              break
            }
            case "Interrupt": {
              // A caller still waiting for its flight leaves; the last to leave a flight stops it.
              const waiting = flights.flatMap((flight) =>
                flight.settled ? [] : flight.callers.map((caller) => ({ flight, caller }))
              )
              if (waiting.length === 0) break
              const { caller, flight } = waiting[command.pick % waiting.length]!
              flight.callers.splice(flight.callers.indexOf(caller), 1)
              expected[caller] = "interrupted"
              if (flight.callers.length === 0) {
                flight.settled = true
                flight.abandoned = true
                const current = state.get(flight.key)
                if (current?._tag === "Pending" && current.flight === flight) state.delete(flight.key)
              }
              yield* Fiber.interrupt(callers[caller]!)
              if (flight.abandoned) {
                yield* waitUntil(`the lookup of run ${flight.run} was interrupted`, () =>
                  Effect.succeed(stopped.has(flight.run)))
              }
              break
            }
            case "Yield": {
              yield* Effect.yieldNow()
              break
            }
          }
          const stats = yield* getP.stats
          expect(
            {
              hits: stats.hits,
              misses: stats.misses,
              coalesced: stats.coalesced,
              loads: stats.loads,
              invalidations: stats.invalidations,
              evictions: stats.evictions,
              size: stats.size
            },
            at
          ).toStrictEqual({ hits, misses, coalesced, loads, invalidations, evictions: 0, size: state.size })
          expect(runsByKey, at).toStrictEqual(modelRuns)
          expect(registry.length, at).toBe(flights.length)
          expect(stopped, at).toStrictEqual(
            new Set(
              flights.filter((f) =>
                f.abandoned
              ).map((f) => f.run)
            )
          )
          for (const [k, s] of state) {
            expect(yield* getP.peek(k), at).toStrictEqual(
              s._tag === "Value" ? Option.some(s.value) : Option.none()
            )
          }
        }

        for (const flight of flights) {
          if (!flight.settled) yield* release(flight)
        }
        const values = yield* Effect.forEach(callers, (caller) =>
          Effect.map(
            Fiber.await(caller),
            (exit) => Exit.isSuccess(exit) ? exit.value : Exit.isInterrupted(exit) ? "interrupted" : exit
          ))
        expect(values, `after ${trail.join(", ")}`).toStrictEqual(
          expected.map((e) => typeof e === "number" || typeof e === "string" ? e : loaded(e.key, e.run))
        )
        expect(runsByKey).toStrictEqual(modelRuns)
      }).pipe(Effect.provide(RequestCache.layer({ capacity: 8 }))),
    { fastCheck: { numRuns: 100 } }
  )
})

describe("7. Invalidation", () => {
  const gated = () => {
    const gates: Array<Deferred.Deferred<number>> = []
    const getP = RequestCache.cached({
      name: "p",
      lookup: (_key: number) =>
        Effect.flatMap(Deferred.make<number>(), (gate) => {
          gates.push(gate)
          return Deferred.await(gate)
        })
    })
    const started = (n: number) => waitUntil(`${n} lookups started`, () => Effect.succeed(gates.length === n))
    return { gates, getP, started }
  }

  it.effect("wins against a lookup in flight: its waiters get the result, the cache does not keep it", () =>
    Effect.gen(function*() {
      const { gates, getP, started } = gated()
      const waiter = yield* Effect.fork(getP(1))
      yield* started(1)
      expect(yield* getP.invalidate(1)).toBe(true)
      yield* Deferred.succeed(gates[0]!, 10)
      expect(yield* Fiber.join(waiter)).toBe(10)
      expect(yield* getP.peek(1)).toStrictEqual(Option.none())
      const stats = yield* getP.stats
      expect([stats.misses, stats.loads, stats.invalidations, stats.size]).toStrictEqual([1, 1, 1, 0])
    }).pipe(Effect.provide(RequestCache.layer({ capacity: 4 }))))

  it.effect("a flight invalidated and replaced by a new one does not write into the new entry", () =>
    Effect.gen(function*() {
      const { gates, getP, started } = gated()
      const first = yield* Effect.fork(getP(1))
      yield* started(1)
      expect(yield* getP.invalidate(1)).toBe(true)
      const second = yield* Effect.fork(getP(1))
      yield* started(2)
      yield* Deferred.succeed(gates[0]!, 10)
      expect(yield* Fiber.join(first)).toBe(10)
      // The second flight is still pending: nothing to serve yet.
      expect(yield* getP.peek(1)).toStrictEqual(Option.none())
      const third = yield* Effect.fork(getP(1))
      yield* Deferred.succeed(gates[1]!, 20)
      expect(yield* Fiber.join(second)).toBe(20)
      expect(yield* Fiber.join(third)).toBe(20)
      expect(yield* getP.peek(1)).toStrictEqual(Option.some(20))
      expect(yield* getP(1)).toBe(20)
      expect(gates.length).toBe(2)
      const stats = yield* getP.stats
      expect({
        hits: stats.hits,
        misses: stats.misses,
        coalesced: stats.coalesced,
        loads: stats.loads,
        invalidations: stats.invalidations,
        size: stats.size
      }).toStrictEqual({ hits: 1, misses: 2, coalesced: 1, loads: 2, invalidations: 1, size: 1 })
    }).pipe(Effect.provide(RequestCache.layer({ capacity: 4 }))))
})

describe("6. Eviction: W-TinyLFU through the storage", () => {
  it.effect.prop(
    "after random gets, sets and invalidations: size within capacity, every held key in the policy's order once, values right",
    {
      capacity: fc.integer({ min: 1, max: 12 }),
      ops: fc.array(
        fc.tuple(fc.constantFrom("get", "get", "get", "set", "invalidate"), fc.integer({ min: 0, max: 30 })),
        { maxLength: 300 }
      )
    },
    ({ capacity, ops }) =>
      Effect.gen(function*() {
        let runs = 0
        const getP = RequestCache.cached({
          name: "w-tinylfu-prop",
          lookup: (k: number) => Effect.sync(() => (runs++, k * 10)),
          policy: { capacity, eviction: "w-tinylfu" }
        })
        yield* getP.peek(0) // makes the namespace, with its policy
        const namespace = yield* memoryNamespace("w-tinylfu-prop")
        let misses = 0
        for (const [op, k] of ops) {
          if (op === "get") {
            const held = Option.isSome(yield* getP.peek(k))
            expect(yield* getP(k)).toBe(k * 10)
            if (!held) misses++
          } else if (op === "set") {
            yield* getP.set(k, k * 10)
          } else {
            yield* getP.invalidate(k)
          }
          const stats = yield* getP.stats
          expect(stats.size).toBeLessThanOrEqual(capacity)
          const { coldest, mapped } = namespace.inspect()
          expect(mapped).toBe(stats.size)
          expect(new Set(coldest).size).toBe(coldest.length)
          expect(coldest.length).toBe(stats.size)
          for (const key of coldest) {
            expect(yield* getP.peek(key as number)).toStrictEqual(Option.some((key as number) * 10))
          }
        }
        expect(runs).toBe(misses)
      }).pipe(Effect.provide(RequestCache.layer())),
    { fastCheck: { numRuns: 200 } }
  )
})
