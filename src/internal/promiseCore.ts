import * as Cause from "effect/Cause"
import type * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as FiberSet from "effect/FiberSet"
import type * as Random from "effect/Random"
import * as Scope from "effect/Scope"
import type * as CachePolicy from "../CachePolicy.js"
import type { RequestCache } from "../RequestCache.js"
import { CacheClosedError } from "./errors.js"
import { LookupResult } from "./expiry.js"
import type { Flight } from "./flight.js"
import { CachedFailure, MemoryNamespace } from "./memoryNamespace.js"
import type { CacheRuntime } from "./namespace.js"
import { durationOption, resolve, type ResolvedPolicy } from "./options.js"
import { carriesTags, makeTagEpochs, recordInvalidation, tagsOf } from "./tags.js"

/** A bad option of the Promise API, named as the Promise API names it. */
export class CacheOptionError extends TypeError {
  override readonly name = "CacheOptionError"
  constructor(readonly option: string, readonly reason: string) {
    super(`Invalid cache option "${option}": ${reason}`)
  }
}

/** The Promise API's option names for the policy's. */
const optionNames: Record<string, string> = {
  capacity: "maxsize",
  timeToLive: "ttl",
  jitter: "jitter",
  staleWhileRevalidate: "swr",
  cacheErrors: "cacheErrors",
  errorTimeToLive: "errorTtl",
  eviction: "eviction",
  maxWeight: "maxWeight",
  weigher: "weigher"
}

/** The policy options every constructor of the Promise API takes. */
export const policyOptions: ReadonlyArray<string> = [
  "maxsize",
  "eviction",
  "ttl",
  "jitter",
  "swr",
  "cacheErrors",
  "errorTtl",
  "maxWeight",
  "weigher",
  "name"
]

/** What the Promise API's constructors read into a policy. */
export interface PromisePolicyOptions {
  readonly maxsize?: number | undefined
  readonly eviction?: "lru" | "w-tinylfu" | undefined
  readonly ttl?: unknown
  readonly jitter?: unknown
  readonly swr?: unknown
  readonly cacheErrors?: unknown
  readonly errorTtl?: unknown
  readonly maxWeight?: number | undefined
  readonly weigher?: unknown
  readonly name?: unknown
}

/**
 * Validates a constructor's options at once; a bad one throws a `CacheOptionError` naming it.
 * `known` lists the constructor's options (the policy's and its own), `maxsize` its default.
 */
export const policyOf = (
  options: PromisePolicyOptions | undefined,
  known: ReadonlyArray<string>,
  defaultMaxsize: number
): ResolvedPolicy => {
  if (options === undefined) options = {}
  if (typeof options !== "object" || options === null) {
    throw new CacheOptionError("options", `expected an object, got ${String(options)}`)
  }
  for (const name of Object.keys(options)) {
    if (!known.includes(name)) throw new CacheOptionError(name, `unknown option; the options are ${known.join(", ")}`)
  }
  const { cacheErrors, errorTtl, eviction, jitter, maxWeight, maxsize, name, swr, ttl, weigher } = options
  if (name !== undefined && (typeof name !== "string" || name.length === 0)) {
    throw new CacheOptionError("name", "expected a non-empty string")
  }
  const policy: Record<string, unknown> = { capacity: maxsize ?? defaultMaxsize }
  if (ttl !== undefined) policy.timeToLive = ttl
  if (jitter !== undefined) policy.jitter = jitter
  if (swr !== undefined) policy.staleWhileRevalidate = swr === true ? Infinity : swr === false ? 0 : swr
  if (cacheErrors !== undefined) policy.cacheErrors = cacheErrors
  if (errorTtl !== undefined) policy.errorTimeToLive = errorTtl
  if (eviction !== undefined) policy.eviction = eviction
  if (maxWeight !== undefined) policy.maxWeight = maxWeight
  if (weigher !== undefined) policy.weigher = weigher
  // A time to live is a duration here; the Effect API's function of the `Exit` is not offered.
  if (typeof ttl === "function") throw new CacheOptionError("ttl", "expected a duration, not a function")
  const resolved = resolve(undefined, policy as CachePolicy.Options<never>)
  if (Either.isLeft(resolved)) {
    const { option, reason } = resolved.left
    throw new CacheOptionError(optionNames[option] ?? option, reason)
  }
  return resolved.right
}

/** A per-call `ttl` in milliseconds (`undefined`: the policy's); a bad one throws a `CacheOptionError`. */
export const entryTtl = (options: { readonly ttl?: unknown } | undefined): number | undefined => {
  const ttl = options?.ttl
  if (ttl === undefined) return undefined
  const ms = durationOption("ttl", ttl, { zero: true, infinity: true })
  if (Either.isLeft(ms)) throw new CacheOptionError("ttl", ms.left.reason)
  return ms.right
}

/** The error a caller gets for a failed load: a rejection is rethrown as the same object. */
export const errorOf = (cause: Cause.Cause<unknown>, runtime: CacheRuntime, name: string): unknown => {
  const failure = Cause.failureOption(cause)
  if (failure._tag === "Some") return failure.value
  if (Cause.isInterruptedOnly(cause)) {
    return runtime.closed
      ? new CacheClosedError({ namespace: name })
      : new Error(`The load of cache "${name}" was interrupted`)
  }
  return Cause.squash(cause)
}

/** The default runtime's clock and randomness, which every Promise cache reads (read once). */
let services: { readonly clock: Clock.Clock; readonly random: Random.Random } | undefined
const defaultServices = () => services ??= Effect.runSync(Effect.all({ clock: Effect.clock, random: Effect.random }))

/**
 * The Promise API's tag invalidations: one record for every cache (`invalidateTags` reaches them
 * all), which each cache's loads in flight are compared with.
 */
const tagEpochs = makeTagEpochs()

/**
 * The open caches that can hold tagged entries (made with a `tags` option), for `invalidateTags`;
 * weakly: a dropped cache goes. Other caches never hold one, and pay nothing for it.
 */
const live = new Set<WeakRef<PromiseCore>>()
const forgotten = new FinalizationRegistry<WeakRef<PromiseCore>>((ref) => live.delete(ref))

/**
 * Invalidates, in every open cache of the Promise API, the entries that carry one of `tags`
 * (winning over the loads in flight); answers how many entries went.
 */
export const invalidateTags = (tags: Iterable<string>): number => {
  const all = Array.from(tags)
  recordInvalidation(tagEpochs, all)
  let removed = 0
  for (const ref of live) removed += ref.deref()?.namespace.unsafeInvalidateTags(all) ?? 0
  return removed
}

/**
 * What every cache of the Promise API is made of: a namespace of its own (the default runtime's
 * clock and randomness), a scope of its own whose `FiberSet` holds its loads and refreshes (made
 * with the first of them: creating it costs more than a batch of keys), and the ways its calls
 * turn entries and flights into promises.
 */
export class PromiseCore {
  /** How `invalidateTags` finds this cache without keeping it alive (see `trackTags`). */
  private ref: WeakRef<PromiseCore> | undefined = undefined
  readonly namespace: MemoryNamespace
  readonly runtime: CacheRuntime
  /** Made with the first fiber (a load or a refresh): a cache whose loads are batches may need none. */
  private scope: Scope.CloseableScope | undefined = undefined
  private fibers: FiberSet.FiberSet<unknown, unknown> | undefined = undefined
  /** Run by `close`, before the scope closes (a batcher rejects its pending keys there). */
  private readonly onClose: Array<() => void> = []

  constructor(readonly name: string, readonly policy: ResolvedPolicy) {
    const { clock, random } = defaultServices()
    const core = this
    this.runtime = {
      clock,
      random,
      get fibers() {
        return core.fibers ??= Effect.runSync(
          Scope.extend(FiberSet.make(), core.scope ??= Effect.runSync(Scope.make()))
        )
      },
      closed: false,
      tags: tagEpochs
    }
    this.namespace = new MemoryNamespace(name, policy, this.runtime)
  }

  /** This cache can hold tagged entries: `invalidateTags` must find it. */
  trackTags(): void {
    if (this.ref !== undefined) return
    const ref = this.ref = new WeakRef(this)
    live.add(ref)
    forgotten.register(this, ref)
  }

  private rejected(exit: Exit.Exit<unknown, unknown>): Promise<never> {
    return Promise.reject(errorOf((exit as Exit.Failure<unknown, unknown>).cause, this.runtime, this.name))
  }

  /** A stored value or `CachedFailure` as a settled promise (a hit's, made once per value). */
  readonly settled = (value: unknown): Promise<unknown> =>
    value instanceof CachedFailure ? this.rejected(value.exit) : Promise.resolve(value)

  /** The one promise of a flight that every Promise caller shares; a Promise caller never leaves. */
  awaited(flight: Flight): Promise<unknown> {
    return flight.promise ??= new Promise((resolve, reject) =>
      flight.onSettle((exit) =>
        exit._tag === "Success" ? resolve(exit.value) : reject(errorOf(exit.cause, this.runtime, this.name))
      )
    )
  }

  closedError(): CacheClosedError {
    return new CacheClosedError({ namespace: this.name })
  }

  closed(): Promise<never> {
    return Promise.reject(this.closedError())
  }

  /** Runs `f` on the cache's behalf: a throw (a bad key, a closed cache) is a rejection. */
  attempt<A>(f: () => A): Promise<A> {
    if (this.runtime.closed) return this.closed()
    try {
      return Promise.resolve(f())
    } catch (error) {
      return Promise.reject(error)
    }
  }

  whenClosed(f: () => void): void {
    this.onClose.push(f)
  }

  /**
   * Closes the cache: every entry goes, later calls reject with `CacheClosedError`, and the loads
   * and refreshes in flight stop (their callers reject with it too, see `errorOf`); the promise
   * settles once every one of them has ended.
   */
  close(): Promise<void> {
    if (!this.runtime.closed) {
      this.runtime.closed = true
      if (this.ref !== undefined) live.delete(this.ref)
      this.namespace.close()
      for (const f of this.onClose) f()
    }
    return this.scope === undefined ? Promise.resolve() : Effect.runPromise(Scope.close(this.scope, Exit.void))
  }
}

/**
 * A namespace's lookup for a function returning a value or a promise: its result, or its
 * rejection as a typed failure (so that `cacheErrors` sees the error object itself).
 */
export const promiseLookup = (
  fn: (...args: Array<unknown>) => unknown,
  tags?: (value: never, ...args: Array<never>) => ReadonlyArray<string>
): RequestCache.Lookup => {
  const lookup: RequestCache.Lookup = (...args) =>
    Effect.async<unknown, unknown>((resume) => {
      let result: unknown
      try {
        result = fn(...args)
      } catch (error) {
        // A function that throws instead of rejecting fails the same way.
        return resume(Exit.fail(error))
      }
      Promise.resolve(result).then(
        (value) => {
          if (tags === undefined) return resume(Exit.succeed(value))
          let said: LookupResult
          try {
            said = LookupResult.tagged(Exit.succeed(value), tagsOf(tags, value, args as Array<never>))
          } catch (error) {
            return resume(Exit.die(error))
          }
          resume(Exit.succeed(said))
        },
        (error) => resume(Exit.fail(error))
      )
    }) as Effect.Effect<unknown, unknown, unknown>
  return tags === undefined ? lookup : Object.assign(lookup, { [carriesTags]: true })
}
