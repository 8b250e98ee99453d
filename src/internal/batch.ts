import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as FiberId from "effect/FiberId"
import * as FiberSet from "effect/FiberSet"
import * as RuntimeFlags from "effect/RuntimeFlags"
import type { NamespaceCounters } from "./counters.js"
import { CacheClosedError } from "./errors.js"
import { LookupResult } from "./expiry.js"
import { childFlags, type ChildRefs, childRefs, forkDetached, startChild } from "./fiber.js"
import type { Flight } from "./flight.js"
import type { CacheRuntime } from "./namespace.js"
import { tagsOf } from "./tags.js"

type AnyExit = Exit.Exit<unknown, unknown>
type AnyFiber = Fiber.RuntimeFiber<unknown, unknown>

/**
 * A batch lookup as the batcher calls it: one `Exit` per argument, in order. A failure of the
 * effect itself fails every key of the batch with it.
 */
export type LookupMany = (
  args: readonly [unknown, ...Array<unknown>]
) => Effect.Effect<ReadonlyArray<AnyExit>, unknown, unknown>

export interface BatcherOptions {
  /** The namespace, for messages. */
  readonly name: string
  readonly lookupMany: LookupMany
  /** Milliseconds to collect keys; `undefined`: one turn of the scheduler. */
  readonly window: number | undefined
  readonly maxBatchSize: number
}

/** One key's place in a batch: its argument, and how its lookup gets its result. */
interface Entry {
  readonly arg: unknown
  /** The waiting lookup, once it waits. */
  resume: ((exit: AnyExit) => void) | undefined
  /** The result, when it came before the lookup waited. */
  exit: AnyExit | undefined
  /** The key's lookup was interrupted (its callers all left). */
  left: boolean
}

/** The keys of one batch: collected until its window ends or it is full, then sent at once. */
class Batch {
  readonly entries: Array<Entry> = []
  sent = false
  /** Entries still waiting once the batch is sent; the last one to leave stops its lookup. */
  live = 0
  fiber: Fiber.RuntimeFiber<unknown, unknown> | undefined = undefined
}

/**
 * Turns a batch lookup into a per-key lookup for a namespace: each call is one key's lookup (the
 * namespace's single flight already runs it once per key, in a fiber of its own), and the calls
 * made within the window, from any fiber, go to `lookupMany` as one batch (split at
 * `maxBatchSize`). A key whose lookup is interrupted before its batch is sent (its callers all
 * left) is dropped from the batch; a batch whose keys have all left once it is sent is
 * interrupted. The window is waited in a daemon fiber forked from the first key's lookup, so it
 * has that caller's context (its `Clock`: `TestClock` drives a window) and ends with the batch.
 * `onBatch` is told the size of each batch sent.
 */
/**
 * What fails every key of a batch: the batch lookup's own failure, or results that are not one per
 * key (a defect naming the namespace and both lengths); `undefined` when each key has its result.
 */
const batchFailure = (
  name: string,
  exit: Exit.Exit<ReadonlyArray<AnyExit>, unknown>,
  keys: number
): AnyExit | undefined => {
  if (exit._tag === "Failure") return exit
  if (exit.value.length === keys) return undefined
  return Exit.die(
    new Error(
      `RequestCache: the batch lookup of namespace "${name}" returned ${exit.value.length} results for ` +
        `${keys} keys; it must return one result per key, in order`
    )
  )
}

export const makeBatcher = (options: BatcherOptions, onBatch: (keys: number) => void) => {
  const { lookupMany, maxBatchSize, name, window } = options
  let collecting: Batch | undefined

  const deliver = (batch: Batch, exit: Exit.Exit<ReadonlyArray<AnyExit>, unknown>): void => {
    const entries = batch.entries
    const failure = batchFailure(name, exit, entries.length)
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!
      const result = failure ?? (exit as Exit.Success<ReadonlyArray<AnyExit>, unknown>).value[i]!
      const resume = entry.resume
      entry.resume = undefined
      if (resume !== undefined) resume(result)
      else if (!entry.left) entry.exit = result
    }
  }

  /** Sends a batch: the keys still there, in one call of `lookupMany`, in a daemon fiber. */
  const send = (batch: Batch): Effect.Effect<void> =>
    Effect.suspend(() => {
      if (batch.sent) return Effect.void
      batch.sent = true
      if (collecting === batch) collecting = undefined
      const entries = batch.entries.filter((entry) => !entry.left)
      batch.entries.length = 0
      batch.entries.push(...entries)
      batch.live = entries.length
      if (entries.length === 0) return Effect.void
      onBatch(entries.length)
      const args = entries.map((entry) => entry.arg) as unknown as readonly [unknown, ...Array<unknown>]
      let effect: Effect.Effect<ReadonlyArray<AnyExit>, unknown, unknown>
      try {
        effect = lookupMany(args)
      } catch (error) {
        effect = Effect.die(error)
      }
      const run = Effect.flatMap(
        Effect.exit(effect),
        (exit) => Effect.sync(() => deliver(batch, exit))
      ) as Effect.Effect<void>
      return Effect.asVoid(Effect.tap(Effect.forkDaemon(run), (fiber) => {
        batch.fiber = fiber
        if (batch.live === 0) fiber.unsafeInterruptAsFork(FiberId.none)
      }))
    })

  const wait = window === undefined ? Effect.yieldNow() : Effect.sleep(window)

  /** One key's lookup: its argument joins the batch being collected, and waits for its result. */
  return (arg: unknown): Effect.Effect<unknown, unknown> =>
    Effect.suspend(() => {
      let batch = collecting
      let start: Effect.Effect<unknown> = Effect.void
      if (batch === undefined) {
        const created = batch = collecting = new Batch()
        // The window, in a daemon: it must outlive this key's lookup, whose callers may leave.
        start = Effect.forkDaemon(Effect.zipRight(wait, send(created)))
      }
      const entry: Entry = { arg, resume: undefined, exit: undefined, left: false }
      batch.entries.push(entry)
      if (batch.entries.length >= maxBatchSize) {
        collecting = undefined
        start = Effect.zipRight(start, send(batch))
      }
      const joined = batch
      const result = Effect.async<unknown, unknown>((resume) => {
        if (entry.exit !== undefined) return resume(entry.exit)
        entry.resume = resume
      })
      return Effect.onInterrupt(Effect.zipRight(start, result), () =>
        Effect.sync(() => {
          if (entry.left || entry.exit !== undefined) return
          entry.left = true
          entry.resume = undefined
          // Not sent yet: dropped from the batch. Sent: the last key to leave stops it.
          if (joined.sent && --joined.live === 0) joined.fiber?.unsafeInterruptAsFork(FiberId.none)
        }))
    })
}

/** A batch lookup of values (`cachedBatch`): one value per argument, in order; a failure fails them all. */
export const ofValues = (
  lookupMany: (args: readonly [unknown, ...Array<unknown>]) => Effect.Effect<ReadonlyArray<unknown>, unknown, unknown>
): LookupMany =>
(args) => Effect.map(lookupMany(args), (values) => values.map((value) => Exit.succeed(value)))

// -------------------------------------------------------------------------------------------------
// Batches of flights: a batched key of an in-memory namespace has no fiber of its own

/** The mark of a batched lookup that an in-memory namespace can load without a fiber per key. */
export const flightBatching = Symbol.for("effect-request-cache/FlightBatching")

/** What a flight batcher needs of the namespace whose keys it loads. */
export interface BatchOwner {
  readonly counters: NamespaceCounters
  readonly runtime: CacheRuntime
}

/** The batching of a `cachedBatch` function's misses, for in-memory namespaces. */
export interface FlightBatching {
  /**
   * A miss of `arg`: its flight (in its slot, its callers about to wait on it) joins the batch
   * being collected for `owner`; the batch runs `lookupMany` once, in one fiber, and settles every
   * flight of it. The first key's caller gives the batch its context.
   */
  readonly enqueue: (
    owner: BatchOwner,
    flight: Flight,
    arg: unknown,
    caller: AnyFiber,
    flags: RuntimeFlags.RuntimeFlags
  ) => void
}

class FlightBatch {
  readonly flights: Array<Flight> = []
  readonly args: Array<unknown> = []
  sent = false
  live = 0
  fiber: AnyFiber | undefined = undefined
  constructor(
    readonly owner: BatchOwner,
    readonly caller: AnyFiber,
    readonly refs: ChildRefs,
    readonly flags: RuntimeFlags.RuntimeFlags
  ) {}

  /** The last caller of one of its keys left: a sent batch whose keys all have is interrupted. */
  left(): void {
    if (this.sent && --this.live === 0) this.fiber?.unsafeInterruptAsFork(FiberId.none)
  }
}

/** One batch that lives as long as the module, so that the hidden class of a batch does (see `flightShape`). */
export const flightBatchShape: unknown = new FlightBatch(
  undefined as unknown as BatchOwner,
  undefined as unknown as AnyFiber,
  undefined as unknown as ChildRefs,
  RuntimeFlags.none
)

/**
 * `makeBatcher`'s semantics without a fiber per key, for the keys of an in-memory namespace: a
 * key's flight waits in the batch (a key whose callers all leave before it is sent is dropped; a
 * sent batch whose keys all leave is interrupted), the window is one task of the caller's
 * scheduler (queued after the fibers that can run) or a sleep of the cache's clock, and the batch
 * runs `lookupMany` in one fiber started as a child of its first key's caller. `tags` give each
 * result its tags. 10,000 misses make 10,000 flights and one fiber, where a lookup per key would
 * make 10,000 fibers more.
 */
export const makeFlightBatching = (
  options: BatcherOptions,
  tags?: (value: unknown, key: unknown) => ReadonlyArray<string>
): FlightBatching => {
  const { lookupMany, maxBatchSize, name, window } = options
  const collecting = new WeakMap<BatchOwner, FlightBatch>()

  const deliver = (batch: FlightBatch, exit: Exit.Exit<ReadonlyArray<AnyExit>, unknown>): void => {
    const { args, flights } = batch
    const failure = batchFailure(name, exit, flights.length)
    for (let i = 0; i < flights.length; i++) {
      let result = failure ?? (exit as Exit.Success<ReadonlyArray<AnyExit>, unknown>).value[i]!
      if (tags !== undefined && result._tag === "Success") {
        try {
          result = Exit.succeed(LookupResult.tagged(result, tagsOf(tags, result.value, [args[i]])))
        } catch (error) {
          result = Exit.die(error)
        }
      }
      flights[i]!.settle(result)
    }
  }

  const send = (batch: FlightBatch): void => {
    if (batch.sent) return
    batch.sent = true
    if (collecting.get(batch.owner) === batch) collecting.delete(batch.owner)
    // The keys whose callers all left before it was sent are dropped.
    let kept = 0
    for (let i = 0; i < batch.flights.length; i++) {
      const flight = batch.flights[i]!
      if (flight.detached && flight.waiters <= 0) continue
      batch.flights[kept] = flight
      batch.args[kept++] = batch.args[i]
    }
    batch.flights.length = batch.args.length = batch.live = kept
    if (kept === 0) return
    const { caller, owner } = batch
    owner.counters.batched(kept)
    if (owner.runtime.closed) {
      for (const flight of batch.flights) flight.abort(Exit.die(new CacheClosedError({ namespace: name })))
      return
    }
    let effect: Effect.Effect<ReadonlyArray<AnyExit>, unknown, unknown>
    try {
      effect = lookupMany(batch.args as unknown as readonly [unknown, ...Array<unknown>])
    } catch (error) {
      effect = Effect.die(error)
    }
    const fiber = startChild(caller, batch.refs, childFlags(batch.flags), effect)
    batch.fiber = fiber
    const exit = fiber.unsafePoll()
    if (exit !== null) return deliver(batch, exit as Exit.Exit<ReadonlyArray<AnyExit>, unknown>)
    FiberSet.unsafeAdd(owner.runtime.fibers, fiber)
    fiber.addObserver((exit) => deliver(batch, exit as Exit.Exit<ReadonlyArray<AnyExit>, unknown>))
  }

  const schedule = (batch: FlightBatch): void => {
    if (window === undefined) {
      // After the tasks already queued: the fibers that can run make their calls first.
      batch.caller.currentScheduler.scheduleTask(() => send(batch), 0)
      return
    }
    const runtime = batch.owner.runtime
    const timer = forkDetached(
      Effect.zipRight(runtime.clock.sleep(Duration.millis(window)), Effect.sync(() => send(batch))),
      true
    )
    if (timer.unsafePoll() === null) FiberSet.unsafeAdd(runtime.fibers, timer)
  }

  return {
    enqueue: (owner, flight, arg, caller, flags) => {
      let batch = collecting.get(owner)
      if (batch === undefined) {
        batch = new FlightBatch(owner, caller, childRefs(caller), flags)
        collecting.set(owner, batch)
        schedule(batch)
      }
      batch.flights.push(flight)
      batch.args.push(arg)
      flight.batch = batch
      // Full: sent after this step, once its last key's callers wait for it.
      if (batch.flights.length >= maxBatchSize) {
        collecting.delete(owner)
        const full = batch
        caller.currentScheduler.scheduleTask(() => send(full), 0)
      }
    }
  }
}
