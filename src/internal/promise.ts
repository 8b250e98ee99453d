import * as Effect from "effect/Effect"
import * as RuntimeFlags from "effect/RuntimeFlags"
import type { CacheStats } from "../CacheStats.js"
import type { AlruCached, AlruOptions, CacheControls, CacheInfo, CacheParameters, MethodCache } from "../Promise.js"
import { argumentsKey, type MapKey, toMapKey } from "./cacheKey.js"
import type { Flight } from "./flight.js"
import { type Found, FRESH, LOADING, STALE } from "./memoryNamespace.js"
import { CacheOptionError, policyOf, policyOptions, PromiseCore, promiseLookup } from "./promiseCore.js"

export { CacheOptionError } from "./promiseCore.js"

/** `alruCache`'s and `cachedMethod`'s options: the policy's, and the key function. */
const known = [...policyOptions, "key", "tags"]

const checkKey = (options: AlruOptions<never> | undefined): void => {
  const key = options?.key
  if (key !== undefined && typeof key !== "function") {
    throw new CacheOptionError("key", "expected a function of the arguments")
  }
  const tags = options?.tags
  if (tags !== undefined && typeof tags !== "function") {
    throw new CacheOptionError("tags", "expected a function (value, ...args) => tags")
  }
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
  checkKey(options)
  const core = new PromiseCore(name, policyOf(options, known, 128))
  if (options?.tags !== undefined) core.trackTags()
  const { namespace, policy, runtime, settled } = core
  const counters = namespace.counters
  const lookup = promiseLookup(fn, options?.tags as never)
  const awaited = (flight: Flight) => core.awaited(flight)
  const closed = () => core.closed()

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

  const withKey = <A>(args: ReadonlyArray<unknown>, f: (key: MapKey) => A): Promise<A> =>
    core.attempt(() => f(keyOf(args)))

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
    cacheClose: () => core.close()
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
  options?: AlruOptions<Args, Awaited<R>>
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
  checkKey(options)
  policyOf(options, known, 128)
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
    // A tags function gets the method's arguments, as `key` does, not the instance.
    const tags = options?.tags as ((value: unknown, ...args: Array<unknown>) => ReadonlyArray<string>) | undefined
    const { callMethod, controls } = makeCache(
      (self, ...args) => method.apply(self as This, args as Args),
      (tags === undefined ? options : {
        ...options,
        tags: (value: unknown, _self: unknown, ...args: Array<unknown>) => tags(value, ...args)
      }) as AlruOptions<never> | undefined,
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
