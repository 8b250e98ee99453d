/**
 * The Promise API (`effect-request-cache/promise`): the same cache for plain `async` functions
 * and class methods, for code that is not written in Effect yet. The names follow the seeds'
 * `@alru_cache`: `alruCache(fn, options)` and `cacheInfo()`, `cacheInvalidate()`, `cacheClose()`.
 *
 * It is the same core as the Effect API (single flight, true LRU, time to live with jitter,
 * stale-while-revalidate, error caching, invalidation winning over a load in flight); a hit is
 * served on a synchronous path that does not enter the Effect runtime.
 *
 * @since 0.1.0
 */
import type * as Duration from "effect/Duration"
import type { CacheStats } from "./CacheStats.js"
import * as internal from "./internal/promise.js"

/**
 * What `alruCache` and `cachedMethod` take. Durations are Effect `DurationInput`s: `"1 minute"`,
 * or a number of milliseconds.
 *
 * | option | default | meaning |
 * | --- | --- | --- |
 * | `maxsize` | 128 | entries kept, least recently used evicted first; `Infinity`: unbounded |
 * | `eviction` | `"lru"` | `"w-tinylfu"`: admission by frequency (Caffeine's Window TinyLFU) |
 * | `ttl` | never | how long a value is fresh |
 * | `jitter` | 0 | each entry lives `ttl` + uniform random [0, `jitter`] |
 * | `swr` | 0 | after `ttl`, how long the stale value is served while one refresh runs; `true`: forever |
 * | `cacheErrors` | `false` | cache rejections: `true`, or a predicate on the error |
 * | `errorTtl` | `ttl` | how long a cached rejection is kept |
 * | `maxWeight` | none | a bound on the total weight of the entries (with `weigher`) |
 * | `weigher` | none | an entry's weight: `(value, key) => number`, e.g. `CacheWeigher.estimateBytes` |
 * | `key` | all arguments | the key from the arguments (to leave out a request id or a timeout) |
 * | `name` | the function's name | the label of its stats and metrics |
 *
 * @example
 * ```ts
 * import type { AlruOptions } from "effect-request-cache/promise"
 *
 * const options: AlruOptions<[id: number, requestId: string]> = {
 *   maxsize: 1_000,
 *   ttl: "1 minute",
 *   swr: "30 seconds",
 *   key: (id) => id // the request id is not part of the key
 * }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface AlruOptions<Args extends ReadonlyArray<unknown>> {
  readonly maxsize?: number | undefined
  readonly eviction?: "lru" | "w-tinylfu" | undefined
  readonly ttl?: Duration.DurationInput | undefined
  readonly jitter?: Duration.DurationInput | undefined
  readonly swr?: Duration.DurationInput | boolean | undefined
  readonly cacheErrors?: boolean | ((error: unknown) => boolean) | undefined
  readonly errorTtl?: Duration.DurationInput | undefined
  readonly maxWeight?: number | undefined
  readonly weigher?: ((value: unknown, key: unknown) => number) | undefined
  readonly key?: ((...args: Args) => unknown) | undefined
  readonly name?: string | undefined
}

/**
 * What `cacheInfo()` answers, as `functools.lru_cache`'s `cache_info()`: `hits` counts the calls
 * served without running the function (fresh and stale hits, and calls that joined a call in
 * flight), `misses` the calls that ran it, `currsize` the entries held now.
 *
 * @example
 * ```ts
 * import type { CacheInfo } from "effect-request-cache/promise"
 *
 * const info: CacheInfo = { hits: 3, misses: 8, maxsize: 32, currsize: 8 }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface CacheInfo {
  readonly hits: number
  readonly misses: number
  readonly maxsize: number
  readonly currsize: number
}

/**
 * The options in force, as `cacheParameters()` answers them: durations in milliseconds
 * (`Infinity`: never expires / unbounded window), and whether the cache is closed.
 *
 * @example
 * ```ts
 * import type { CacheParameters } from "effect-request-cache/promise"
 *
 * const read = (p: CacheParameters) => `${p.name}: ${p.maxsize} entries, ttl ${p.ttl} ms`
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface CacheParameters {
  readonly name: string
  readonly maxsize: number
  readonly ttl: number
  readonly jitter: number
  readonly swr: number
  readonly cacheErrors: boolean | ((error: unknown) => boolean)
  readonly errorTtl: number
  readonly eviction: "lru" | "w-tinylfu"
  readonly maxWeight: number
  readonly closed: boolean
}

/**
 * The controls a cached function carries, for arguments `Args` and values `A`.
 *
 * @example
 * ```ts
 * import { alruCache } from "effect-request-cache/promise"
 *
 * const double = alruCache(async (n: number) => n * 2)
 * await double(2)
 * double.cacheInfo() // { hits: 0, misses: 1, maxsize: 128, currsize: 1 }
 * await double.cacheSet(3, 6) // the next double(3) is a hit
 * await double.cacheInvalidate(2) // true
 * double.cacheClear()
 * await double.cacheClose()
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface CacheControls<Args extends ReadonlyArray<unknown>, A> {
  /** Hits, misses, bound and size, synchronously. */
  readonly cacheInfo: () => CacheInfo
  /** Every counter of the cache (`CacheStats` of the Effect API). */
  readonly cacheStats: () => CacheStats
  readonly cacheParameters: () => CacheParameters
  /** Removes the entry of these arguments (a load in flight then stores nothing); was there one? */
  readonly cacheInvalidate: (...args: Args) => Promise<boolean>
  /** Stores a value for these arguments (the value comes last). */
  readonly cacheSet: (...argsAndValue: [...Args, A]) => Promise<void>
  /** Removes every entry. */
  readonly cacheClear: () => void
  /** Stops refreshes and loads in flight (their callers reject); later calls reject. */
  readonly cacheClose: () => Promise<void>
}

/**
 * A function wrapped by `alruCache`: the same parameters, a `Promise` of the same value, and
 * the cache's controls.
 *
 * @example
 * ```ts
 * import { type AlruCached, alruCache } from "effect-request-cache/promise"
 *
 * const getUser: AlruCached<[id: number], { id: number }> = alruCache(async (id: number) => ({ id }))
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type AlruCached<Args extends ReadonlyArray<unknown>, A> =
  & ((...args: Args) => Promise<A>)
  & CacheControls<Args, A>

/**
 * Wraps an `async` function in a cache: concurrent calls with the same key share one call of
 * `fn`, a value is kept up to `maxsize` entries (least recently used evicted first) for `ttl`
 * (plus `jitter`), and served stale for `swr` while one refresh runs. A rejection is cached only
 * where `cacheErrors` says so, and is then rethrown as the same error object.
 *
 * Throws a `CacheOptionError` (a `TypeError`) naming the option if an option is bad. A call
 * whose arguments cannot form a key rejects with a `KeyEncodingError` naming the argument.
 *
 * @example
 * ```ts
 * import { alruCache } from "effect-request-cache/promise"
 *
 * const getPrice = alruCache(
 *   async (symbol: string) => {
 *     const response = await fetch(`https://example.com/price/${symbol}`)
 *     return (await response.json()) as { price: number }
 *   },
 *   { maxsize: 1_000, ttl: "10 seconds", swr: "1 minute" }
 * )
 * const price = await getPrice("ACME")
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const alruCache: <Args extends Array<unknown>, R>(
  fn: (...args: Args) => R,
  options?: AlruOptions<Args>
) => AlruCached<Args, Awaited<R>> = internal.alruCache

/**
 * A TC39 method decorator (TypeScript 5 standard decorators, no `experimentalDecorators`) for
 * `async` methods: one cache per method, keyed by the instance and the arguments, so two
 * instances never share an entry, and an instance is not kept alive by the cache. Its
 * controls are reached with `methodCache`. A `key` function receives the method's arguments
 * (not the instance); annotate its parameters, since the options are read before the method.
 *
 * @example
 * ```ts
 * import { cachedMethod } from "effect-request-cache/promise"
 *
 * class ApiClient {
 *   constructor(readonly baseUrl: string) {}
 *
 *   @cachedMethod({ ttl: "1 minute", maxsize: 100 })
 *   async get(path: string): Promise<unknown> {
 *     const response = await fetch(`${this.baseUrl}${path}`)
 *     return response.json()
 *   }
 * }
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const cachedMethod: (
  options?: AlruOptions<Array<never>>
) => <This extends object, Args extends Array<unknown>, R>(
  method: (this: This, ...args: Args) => Promise<R>,
  context: ClassMethodDecoratorContext<This, (this: This, ...args: Args) => Promise<R>>
) => (this: This, ...args: Args) => Promise<R> = internal.cachedMethod

/**
 * The controls of a decorated method's cache, as `methodCache` answers them: a cached function's,
 * with the instance first where an entry is named (`cacheInvalidate`, `cacheSet`).
 *
 * @example
 * ```ts
 * import type { MethodCache } from "effect-request-cache/promise"
 *
 * declare const cache: MethodCache<object, [path: string], unknown>
 * cache.cacheInfo()
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface MethodCache<This, Args extends ReadonlyArray<unknown>, A>
  extends CacheControls<[instance: This, ...args: Args], A>
{}

/**
 * The cache controls of a method decorated with `cachedMethod`: `cacheInfo()` and the rest,
 * with the instance as first argument of `cacheInvalidate` and `cacheSet`. Throws a
 * `TypeError` for a function that is not such a method.
 *
 * @example
 * ```ts
 * import { cachedMethod, methodCache } from "effect-request-cache/promise"
 *
 * class Repo {
 *   @cachedMethod()
 *   async find(id: number) {
 *     return { id }
 *   }
 * }
 * const repo = new Repo()
 * await repo.find(1)
 * methodCache(Repo.prototype.find).cacheInfo() // { hits: 0, misses: 1, ... }
 * await methodCache(Repo.prototype.find).cacheInvalidate(repo, 1) // true
 * ```
 *
 * @since 0.1.0
 * @category accessors
 */
export const methodCache: <This extends object, Args extends Array<unknown>, R>(
  method: (this: This, ...args: Args) => Promise<R>
) => MethodCache<This, Args, Awaited<R>> = internal.methodCache

/**
 * The error of a bad option: a `TypeError` whose message names the option and says what was
 * expected, thrown where the function is wrapped (or the class is defined).
 *
 * @example
 * ```ts
 * import { alruCache, CacheOptionError } from "effect-request-cache/promise"
 *
 * try {
 *   alruCache(async () => 1, { maxsize: -1 })
 * } catch (error) {
 *   if (error instanceof CacheOptionError) console.log(error.option) // "maxsize"
 * }
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export const CacheOptionError: new(option: string, reason: string) => internal.CacheOptionError =
  internal.CacheOptionError

/**
 * The type of {@link CacheOptionError}: `option` names the option, `reason` says what is wrong.
 *
 * @example
 * ```ts
 * import type { CacheOptionError } from "effect-request-cache/promise"
 *
 * const explain = (error: CacheOptionError) => `${error.option}: ${error.reason}`
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export type CacheOptionError = internal.CacheOptionError

/**
 * The rejection of a call made after `cacheClose()`, hit or miss, or of a call whose load
 * `cacheClose()` stopped. The same class as the Effect API's `CacheClosedError` (a tagged error:
 * `_tag` is `"CacheClosedError"`, `namespace` names the closed cache).
 *
 * @example
 * ```ts
 * import { alruCache, CacheClosedError } from "effect-request-cache/promise"
 *
 * const f = alruCache(async (n: number) => n)
 * await f.cacheClose()
 * await f(1).catch((error) => error instanceof CacheClosedError) // true
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export { CacheClosedError } from "./RequestCache.js"
