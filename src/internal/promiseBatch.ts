import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type { RequestCache } from "../RequestCache.js"
import type { MapKey } from "./cacheKey.js"
import type { Flight } from "./flight.js"
import type { Found } from "./memoryNamespace.js"
import { errorOf, type PromiseCore } from "./promiseCore.js"

type AnyExit = Exit.Exit<unknown, unknown>

/** A batch function as the Promise API takes it: keys to values (or `Error`s), in order, or a promise of them. */
export type BatchFunction = (keys: ReadonlyArray<unknown>) => unknown

/**
 * The keys of one call of a batch function, in parallel arrays (one push each per key, as
 * DataLoader does): the keys as the callers gave them, who gets each result, and the callers'
 * promise of each load.
 */
class PromiseBatch {
  readonly keys: Array<unknown> = []
  /** Each key's flight; `undefined` for a refresh, whose resume is in `refreshes`. */
  readonly flights: Array<Flight | undefined> = []
  readonly resolves: Array<((value: unknown) => void) | undefined> = []
  readonly rejects: Array<((error: unknown) => void) | undefined> = []
  /** The resumes of the refreshes among the keys, by index (rare: kept apart from the loads' arrays). */
  refreshes: Map<number, (exit: AnyExit) => void> | undefined = undefined
  /** The batch function has been called (or the cache closed): no key joins any more. */
  sent = false
  /** Its results are delivered (or the cache closed): later ones go nowhere. */
  done = false
  timer: ReturnType<typeof setTimeout> | undefined = undefined
  constructor(readonly batchFn: BatchFunction) {}
}

/**
 * One batch that lives as long as the module, so that the hidden class of a batch does (see
 * `flightShape` in `flight.ts`: a loader made per request must not find its optimized code gone).
 */
export const batchShape: unknown = new PromiseBatch(() => [])

let resolved: Promise<void> | undefined

/**
 * The batch that `joinBatch` puts the next promise's resolvers in: one executor for every key's
 * promise, instead of a closure per key (a batch of 10,000 keys makes 10,000 fewer objects).
 */
let joining: PromiseBatch | undefined
const joinBatch = (resolve: (value: unknown) => void, reject: (error: unknown) => void): void => {
  joining!.resolves.push(resolve)
  joining!.rejects.push(reject)
}

/**
 * Runs `f` once the promise jobs queued now have run, and those they queue: a `then` on a settled
 * promise puts a job in the promise queue, which puts `f` on Node's tick queue, run when the
 * promise queue is empty (DataLoader's schedule, so the loads made in reactions of this tick
 * still join the batch). Without `process.nextTick`, the next macrotask.
 */
const afterPromiseJobs = (f: () => void): void => {
  if (typeof process === "object" && typeof process.nextTick === "function") {
    ;(resolved ??= Promise.resolve()).then(() => process.nextTick(f))
  } else {
    setTimeout(f, 0)
  }
}

export interface PromiseBatcherOptions {
  /** Who is calling, for messages: `createLoader "users"`. */
  readonly label: string
  /** `this` of the batch function (DataLoader calls it with the loader). */
  readonly thisArg: unknown
  /** A batch being collected is sent when it holds this many keys. */
  readonly maxBatchSize: number
  /** Milliseconds a batch collects keys from its first; `undefined`: until the promise jobs have run. */
  readonly window: number | undefined
}

/**
 * Batches of the Promise API, on the storage directly: a key found missing gets a flight of its
 * own in its slot (`MemoryNamespace.pending`, no fiber) and a place in a batch; the batch function
 * gets the batch's keys in one call, and each result settles its key's flight (stored per the
 * policy) and its callers' promise. Single flight comes from the storage: a key in a batch is
 * found `LOADING` and joined, a cached key is a hit, so neither enters a batch. An `Error` in the
 * results rejects its key with that object; a rejection of the batch function rejects each of its
 * keys; results that are not an array of one per key reject each key with an error giving both
 * lengths (never cached). A Promise caller cannot be interrupted, so a key once in a batch stays.
 */
export class PromiseBatcher {
  /** The batch collecting keys for `load` (the scheduled one). */
  private collecting: PromiseBatch | undefined = undefined
  /** Batches not delivered yet, ended by `close`. */
  private readonly live = new Set<PromiseBatch>()

  constructor(private readonly core: PromiseCore, private readonly options: PromiseBatcherOptions) {
    core.whenClosed(() => this.close())
  }

  /** A batch of its own, sent by `send` (`getMany`: its misses, now). */
  batch(batchFn: BatchFunction): PromiseBatch {
    const batch = new PromiseBatch(batchFn)
    this.live.add(batch)
    return batch
  }

  /** The batch of keys loaded now: the one collecting, or a new one, sent on its schedule. */
  collect(batchFn: BatchFunction): PromiseBatch {
    const current = this.collecting
    if (current !== undefined) return current
    const batch = this.collecting = this.batch(batchFn)
    const window = this.options.window
    if (window === undefined) afterPromiseJobs(() => this.send(batch))
    else batch.timer = setTimeout(() => this.send(batch), window)
    return batch
  }

  /**
   * A key found `MISSING` or `EXPIRED` joins `batch`: its flight takes the slot, and the promise
   * that its callers share is the flight's. The caller has counted the miss.
   */
  load(batch: PromiseBatch, found: Found, mapKey: MapKey, key: unknown): Promise<unknown> {
    const flight = this.core.namespace.pending(found, mapKey)
    // Jitter from `Math.random`: the Promise API's runtime is Effect's default one anyway, whose
    // `Random` only a fiber can draw from.
    if (this.core.policy.jitter !== 0) flight.jitter = Math.random()
    joining = batch
    const promise = new Promise<unknown>(joinBatch)
    flight.promise = promise
    batch.keys.push(key)
    batch.flights.push(flight)
    if (batch === this.collecting && batch.keys.length >= this.options.maxBatchSize) this.full(batch)
    return promise
  }

  /**
   * A refresh's lookup (a background refresh of a stale key): the key joins the batch collecting
   * (`collected`), or is a batch of its own, sent at once.
   */
  refresh(batchFn: BatchFunction, collected: boolean): RequestCache.Lookup {
    return ((key: unknown) =>
      Effect.async<unknown, unknown>((resume) => {
        const batch = collected ? this.collect(batchFn) : this.batch(batchFn)
        ;(batch.refreshes ??= new Map()).set(batch.keys.push(key) - 1, resume)
        batch.flights.push(undefined)
        batch.resolves.push(undefined)
        batch.rejects.push(undefined)
        if (!collected) this.send(batch)
        else if (batch.keys.length >= this.options.maxBatchSize) this.full(batch)
      })) as RequestCache.Lookup
  }

  /** A full batch collects no more: it goes after the promise jobs of this tick, window or not. */
  private full(batch: PromiseBatch): void {
    this.collecting = undefined
    if (batch.timer !== undefined) {
      clearTimeout(batch.timer)
      batch.timer = undefined
      afterPromiseJobs(() => this.send(batch))
    }
  }

  /** Calls the batch function with the batch's keys; its results are delivered when they come. */
  send(batch: PromiseBatch): void {
    if (batch.sent) return
    batch.sent = true
    // The module does not keep a batch alive once it is sent.
    if (joining === batch) joining = undefined
    if (this.collecting === batch) this.collecting = undefined
    if (batch.done) return
    const keys = batch.keys
    if (keys.length === 0) return void this.live.delete(batch)
    this.core.namespace.counters.batched(keys.length)
    let results: unknown
    try {
      results = batch.batchFn.call(this.options.thisArg, keys)
    } catch (error) {
      // A batch function that throws instead of rejecting fails the same way.
      return this.failAll(batch, Exit.fail(error))
    }
    if (isThenable(results)) {
      results.then(
        (values) => this.deliver(batch, values),
        (error) => this.failAll(batch, Exit.fail(error))
      )
    } else {
      this.deliver(batch, results)
    }
  }

  private deliver(batch: PromiseBatch, values: unknown): void {
    const keys = batch.keys.length
    if (!Array.isArray(values)) {
      return this.failAll(
        batch,
        Exit.die(
          new TypeError(
            `${this.options.label}: the batch function returned ${describe(values)} for ${keys} keys; it must return ` +
              `an array (or a promise of one) with one value or Error per key, in the keys' order`
          )
        )
      )
    }
    if (values.length !== keys) {
      return this.failAll(
        batch,
        Exit.die(
          new TypeError(
            `${this.options.label}: the batch function returned ${values.length} values for ${keys} keys; it must ` +
              `return one value or Error per key, in the keys' order`
          )
        )
      )
    }
    if (batch.done) return
    batch.done = true
    this.live.delete(batch)
    for (let i = 0; i < keys; i++) {
      const value: unknown = values[i]
      this.settle(batch, i, value instanceof Error ? Exit.fail(value) : Exit.succeed(value))
    }
  }

  private failAll(batch: PromiseBatch, exit: AnyExit): void {
    if (batch.done) return
    batch.done = true
    this.live.delete(batch)
    for (let i = 0; i < batch.keys.length; i++) this.settle(batch, i, exit)
  }

  /** One key's result: stored per the policy (by its flight), then given to its callers. */
  private settle(batch: PromiseBatch, i: number, exit: AnyExit): void {
    const flight = batch.flights[i]
    if (flight === undefined) return batch.refreshes!.get(i)!(exit)
    flight.settle(exit)
    // What the callers get: the result, or the error of a weigher that failed on it.
    const result = flight.exit!
    if (result._tag === "Success") batch.resolves[i]!(result.value)
    else batch.rejects[i]!(errorOf(result.cause, this.core.runtime, this.core.name))
  }

  /** The cache closed: every key waiting for a batch rejects with `CacheClosedError`. */
  private close(): void {
    this.collecting = undefined
    const closed = this.core.namespace.closedExit()
    for (const batch of this.live) {
      batch.sent = true
      batch.done = true
      if (batch.timer !== undefined) clearTimeout(batch.timer)
      for (let i = 0; i < batch.flights.length; i++) {
        const flight = batch.flights[i]
        // A refresh's fiber is interrupted with the cache's scope.
        if (flight === undefined) continue
        flight.abort(closed)
        batch.rejects[i]!(this.core.closedError())
      }
    }
    this.live.clear()
  }
}

const isThenable = (u: unknown): u is PromiseLike<unknown> =>
  typeof u === "object" && u !== null && typeof (u as { readonly then?: unknown }).then === "function"

const describe = (u: unknown): string =>
  u === null ? "null" : typeof u === "object" ? `an object that is not an array (${String(u)})` : String(u)
