import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as FiberSet from "effect/FiberSet"
import * as RuntimeFlags from "effect/RuntimeFlags"
import * as Scope from "effect/Scope"
import type * as CachePolicy from "../CachePolicy.js"
import type { CacheStats } from "../CacheStats.js"
import type { AlruCached, AlruOptions, CacheControls, CacheInfo, CacheParameters, MethodCache } from "../Promise.js"
import type { RequestCache } from "../RequestCache.js"
import { argumentsKey, type MapKey, toMapKey } from "./cacheKey.js"
import { CacheClosedError } from "./errors.js"
import type { Flight } from "./flight.js"
import { CachedFailure, type Found, FRESH, LOADING, MemoryNamespace, STALE } from "./memoryNamespace.js"
import type { CacheRuntime } from "./namespace.js"
import { resolve, type ResolvedPolicy } from "./options.js"
import { makeTagEpochs } from "./tags.js"

type Lookup = RequestCache.Lookup

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
const known = [
  "maxsize",
  "eviction",
  "ttl",
  "jitter",
  "swr",
  "cacheErrors",
  "errorTtl",
  "maxWeight",
  "weigher",
  "key",
  "name"
]

/** Validates the options at wrap time; a bad one throws a `CacheOptionError` naming it. */
const policyOf = (options: AlruOptions<never> | undefined): ResolvedPolicy => {
  if (options === undefined) options = {}
  if (typeof options !== "object" || options === null) {
    throw new CacheOptionError("options", `expected an object, got ${String(options)}`)
  }
  for (const name of Object.keys(options)) {
    if (!known.includes(name)) throw new CacheOptionError(name, `unknown option; the options are ${known.join(", ")}`)
  }
  const { cacheErrors, errorTtl, eviction, jitter, key, maxWeight, maxsize, name, swr, ttl, weigher } = options
  if (key !== undefined && typeof key !== "function") {
    throw new CacheOptionError("key", "expected a function of the arguments")
  }
  if (name !== undefined && (typeof name !== "string" || name.length === 0)) {
    throw new CacheOptionError("name", "expected a non-empty string")
  }
  const policy: Record<string, unknown> = { capacity: maxsize ?? 128 }
  if (ttl !== undefined) policy.timeToLive = ttl
  if (jitter !== undefined) policy.jitter = jitter
  if (swr !== undefined) policy.staleWhileRevalidate = swr === true ? Infinity : swr === false ? 0 : swr
  if (cacheErrors !== undefined) policy.cacheErrors = cacheErrors
  if (errorTtl !== undefined) policy.errorTimeToLive = errorTtl
  if (eviction !== undefined) policy.eviction = eviction
  if (maxWeight !== undefined) policy.maxWeight = maxWeight
  if (weigher !== undefined) policy.weigher = weigher
  const resolved = resolve(undefined, policy as CachePolicy.Options<never>)
  if (Either.isLeft(resolved)) {
    const { option, reason } = resolved.left
    throw new CacheOptionError(optionNames[option] ?? option, reason)
  }
  return resolved.right
}

/** The error a caller gets for a failed load: a rejection is rethrown as the same object. */
const errorOf = (cause: Cause.Cause<unknown>, runtime: CacheRuntime, name: string): unknown => {
  const failure = Cause.failureOption(cause)
  if (failure._tag === "Some") return failure.value
  if (Cause.isInterruptedOnly(cause)) {
    return runtime.closed
      ? new CacheClosedError({ namespace: name })
      : new Error(`The load of cache "${name}" was interrupted`)
  }
  return Cause.squash(cause)
}

/**
 * The cache behind one `alruCache` or `cachedMethod`: a namespace of its own and its calls. A
 * call is one classification of its key (`MemoryNamespace.find`), then a promise: a hit's settled
 * promise (the same object on every hit of the value, so a hit allocates nothing and takes no
 * Effect step), the promise of a load in flight, or a new load, forked in the default runtime.
 */
const makeCache = (
  fn: (...args: Array<unknown>) => unknown,
  options: AlruOptions<never> | undefined,
  name: string,
  keyOf: (args: ReadonlyArray<unknown>) => MapKey
) => {
  const policy = policyOf(options)
  const scope = Effect.runSync(Scope.make())
  const runtime: CacheRuntime = Effect.runSync(Effect.all({
    clock: Effect.clock,
    random: Effect.random,
    fibers: Scope.extend(FiberSet.make(), scope),
    closed: Effect.succeed(false),
    tags: Effect.sync(makeTagEpochs)
  }))
  const namespace = new MemoryNamespace(name, policy, runtime)
  const counters = namespace.counters

  const lookup: Lookup = (...args) =>
    Effect.async<unknown, unknown>((resume) => {
      let result: unknown
      try {
        result = fn(...args)
      } catch (error) {
        // A function that throws instead of rejecting fails the same way.
        return resume(Exit.fail(error))
      }
      Promise.resolve(result).then(
        (value) => resume(Exit.succeed(value)),
        (error) => resume(Exit.fail(error))
      )
    }) as Effect.Effect<unknown, unknown, unknown>

  const rejected = (exit: Exit.Exit<unknown, unknown>): Promise<never> =>
    Promise.reject(errorOf((exit as Exit.Failure<unknown, unknown>).cause, runtime, name))
  const settled = (value: unknown): Promise<unknown> =>
    value instanceof CachedFailure ? rejected(value.exit) : Promise.resolve(value)
  const awaited = (flight: Flight): Promise<unknown> =>
    flight.promise ??= new Promise((resolve, reject) =>
      flight.onSettle((exit) =>
        exit._tag === "Success" ? resolve(exit.value) : reject(errorOf(exit.cause, runtime, name))
      )
    )
  const closed = () => Promise.reject(new CacheClosedError({ namespace: name }))

  /** Anything but a fresh hit; `args` are made only here. */
  const getFound = (found: Found, key: MapKey, args: ReadonlyArray<unknown>): Promise<unknown> => {
    switch (found) {
      case LOADING: {
        counters.joined()
        return awaited(namespace.join())
      }
      case STALE: {
        counters.staleHit()
        return settled(namespace.serveStale(key, lookup, args, undefined, RuntimeFlags.none))
      }
      default: {
        counters.miss()
        return awaited(namespace.load(found, key, lookup, args, undefined, RuntimeFlags.none))
      }
    }
  }

  /** The hot path: a hit is served here, with no Effect and no fiber, and allocates nothing. */
  const get = (key: MapKey, args: () => ReadonlyArray<unknown>): Promise<unknown> => {
    if (runtime.closed) return closed()
    const found = namespace.find(key)
    if (found === FRESH) {
      counters.hit()
      return namespace.hitPromise(settled)
    }
    return getFound(found, key, args())
  }

  const call = (args: Array<unknown>): Promise<unknown> => {
    if (runtime.closed) return closed()
    let key: MapKey
    try {
      key = keyOf(args)
    } catch (error) {
      return Promise.reject(error)
    }
    const found = namespace.find(key)
    if (found === FRESH) {
      counters.hit()
      return namespace.hitPromise(settled)
    }
    return getFound(found, key, args)
  }

  const withKey = <A>(args: ReadonlyArray<unknown>, f: (key: MapKey) => A): Promise<A> => {
    if (runtime.closed) return closed()
    try {
      return Promise.resolve(f(keyOf(args)))
    } catch (error) {
      return Promise.reject(error)
    }
  }

  const controls: CacheControls<ReadonlyArray<unknown>, unknown> = {
    cacheInfo: (): CacheInfo => ({
      hits: counters.hits + counters.staleHits + counters.coalesced,
      misses: counters.misses,
      maxsize: policy.capacity,
      currsize: namespace.size
    }),
    cacheStats: (): CacheStats => namespace.unsafeStats(),
    cacheParameters: (): CacheParameters => ({
      name,
      maxsize: policy.capacity,
      ttl: policy.timeToLive,
      jitter: policy.jitter,
      swr: policy.staleWhileRevalidate,
      cacheErrors: policy.cacheErrors ?? false,
      errorTtl: policy.errorTimeToLive,
      eviction: policy.eviction,
      maxWeight: policy.maxWeight,
      closed: runtime.closed
    }),
    cacheInvalidate: (...args) => withKey(args, (key) => namespace.unsafeInvalidate(key)),
    cacheSet: (...argsAndValue) =>
      withKey(argsAndValue.slice(0, -1), (key) => {
        Effect.runSync(namespace.set(key, argsAndValue[argsAndValue.length - 1]))
      }),
    cacheClear: () => namespace.unsafeInvalidateAll(),
    cacheClose: () => {
      runtime.closed = true
      namespace.close()
      // The loads and refreshes stop (their callers reject with `CacheClosedError`, see
      // `errorOf`); the promise settles once every one of them has ended.
      return Effect.runPromise(Scope.close(scope, Exit.void))
    }
  }

  /** A method's call: its key is made without the instance's array, which only a miss needs. */
  const callMethod = (self: unknown, args: Array<unknown>, key: MapKey): Promise<unknown> =>
    get(key, () => [self, ...args])

  /** A one-argument call keyed by its argument: no array unless it misses. */
  const callOne = (arg: unknown): Promise<unknown> => {
    if (runtime.closed) return closed()
    let key: MapKey
    try {
      key = toMapKey(arg, "argument 1") // what `argumentsKey([arg])` is
    } catch (error) {
      return Promise.reject(error)
    }
    const found = namespace.find(key)
    if (found === FRESH) {
      counters.hit()
      return namespace.hitPromise(settled)
    }
    return getFound(found, key, [arg])
  }

  return { call, callMethod, callOne, controls, namespace }
}

const defaultKey = (args: ReadonlyArray<unknown>): MapKey => argumentsKey(args)

/** @internal */
export const alruCache = <Args extends Array<unknown>, R>(
  fn: (...args: Args) => R,
  options?: AlruOptions<Args>
): AlruCached<Args, Awaited<R>> => {
  if (typeof fn !== "function") throw new CacheOptionError("fn", "expected the async function to cache")
  const keyFn = options?.key
  const keyOf = keyFn === undefined
    ? defaultKey
    : (args: ReadonlyArray<unknown>) => toMapKey(keyFn(...(args as Args)), "key")
  const name = options?.name ?? (fn.name.length > 0 ? fn.name : "alruCache")
  const { call, callOne, controls } = makeCache(
    fn as (...args: Array<unknown>) => unknown,
    options as AlruOptions<never> | undefined,
    name,
    keyOf
  )
  const cached = keyOf !== defaultKey
    ? (...args: Args) => call(args)
    // The common case, one argument and no key function, without the rest array on a hit.
    : function(_arg?: unknown): Promise<unknown> {
      return arguments.length === 1 ? callOne(arguments[0]) : call(Array.prototype.slice.call(arguments))
    }
  return Object.assign(cached, controls) as unknown as AlruCached<Args, Awaited<R>>
}

/** The type of a `MapKey` as one character, so that `instanceKey` is injective. */
const keyTags: Record<string, string> = {
  number: "n",
  string: "s",
  boolean: "t",
  bigint: "g",
  undefined: "u",
  object: "l" // null: the only object a MapKey can be
}

/**
 * A method cache's key: the instance's number, then the arguments' key with its type. One
 * string concatenation instead of encoding `[instance, ...args]` as a list; injective because
 * the number ends at the first `|` and the tag says how to read the rest. Only this method's
 * cache sees these keys, so they need not match the `CacheKey` encoding.
 */
const instanceKey = (id: number, key: MapKey): string => `${id}|${keyTags[typeof key]}${String(key)}`

/** The controls of each decorated method, found by the method. */
const methodCaches = new WeakMap<object, MethodCache<object, ReadonlyArray<unknown>, unknown>>()

/** @internal */
export const cachedMethod = (options?: AlruOptions<Array<never>>) => {
  // Checked where the class is defined, not at the first call.
  policyOf(options)
  return <This extends object, Args extends Array<unknown>, R>(
    method: (this: This, ...args: Args) => Promise<R>,
    context: ClassMethodDecoratorContext<This, (this: This, ...args: Args) => Promise<R>>
  ): (this: This, ...args: Args) => Promise<R> => {
    if (context.kind !== "method") throw new CacheOptionError("cachedMethod", "decorates methods only")
    if (context.static) {
      throw new CacheOptionError("cachedMethod", "decorates instance methods only; use alruCache for a static one")
    }
    // An instance is keyed by a number it is given on first use: the cache holds no reference
    // to it, so it is collected when the program drops it (its entries age out of the LRU).
    const ids = new WeakMap<object, number>()
    let nextId = 0
    const idOf = (self: unknown): number => {
      if (typeof self !== "object" || self === null) {
        throw new TypeError(`${String(context.name)} was called without its instance (this is ${String(self)})`)
      }
      let id = ids.get(self)
      if (id === undefined) ids.set(self, id = ++nextId)
      return id
    }
    const keyFn = options?.key
    const argsKey = keyFn === undefined
      ? argumentsKey
      : (args: ReadonlyArray<unknown>) => toMapKey(keyFn(...(args as Array<never>)), "key")
    // The controls name an entry by the instance and the arguments.
    const keyOf = (instanceAndArgs: ReadonlyArray<unknown>) =>
      instanceKey(idOf(instanceAndArgs[0]), argsKey(instanceAndArgs.slice(1)))
    const name = options?.name ?? String(context.name)
    const { callMethod, controls } = makeCache(
      (self, ...args) => method.apply(self as This, args as Args),
      options as AlruOptions<never> | undefined,
      name,
      keyOf
    )
    const replacement = function(this: This, ...args: Args): Promise<R> {
      let key: MapKey
      try {
        key = instanceKey(idOf(this), argsKey(args))
      } catch (error) {
        return Promise.reject(error)
      }
      return callMethod(this, args, key) as Promise<R>
    }
    methodCaches.set(replacement, controls as unknown as MethodCache<object, ReadonlyArray<unknown>, unknown>)
    return replacement
  }
}

/** @internal */
export const methodCache = <This extends object, Args extends Array<unknown>, R>(
  method: (this: This, ...args: Args) => Promise<R>
): MethodCache<This, Args, Awaited<R>> => {
  const controls = methodCaches.get(method)
  if (controls === undefined) {
    throw new TypeError(`methodCache: ${method.name || "this function"} is not a method decorated with @cachedMethod`)
  }
  return controls as unknown as MethodCache<This, Args, Awaited<R>>
}
