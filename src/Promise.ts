/**
 * The Promise API (`effect-request-cache/promise`): the same cache for plain `async` functions
 * and class methods, for code that is not written in Effect yet. The names follow the seeds'
 * `@alru_cache`: `alruCache(fn, options)` and `cacheInfo()`, `cacheInvalidate()`, `cacheClose()`;
 * `createCache` is async-cache's cache object, and `createLoader` DataLoader's batching loader.
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
import * as cacheInternal from "./internal/promiseCache.js"
import * as internalCore from "./internal/promiseCore.js"
import * as loaderInternal from "./internal/promiseLoader.js"

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
 * | `tags` | none | an entry's tags, `(value, ...args) => string[]`, for `invalidateTags` |
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
export interface AlruOptions<Args extends ReadonlyArray<unknown>, A = unknown> {
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
  /**
   * The tags of an entry, from its value and the arguments (a method's, without the instance),
   * for `invalidateTags`.
   */
  readonly tags?: ((value: A, ...args: Args) => ReadonlyArray<string>) | undefined
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
  options?: AlruOptions<Args, Awaited<R>>
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
 * What `createCache` takes: the options of `alruCache` but `key` (a cache object is given its
 * keys). Durations are Effect `DurationInput`s: `"5 minutes"`, or a number of milliseconds.
 *
 * | option | default | meaning |
 * | --- | --- | --- |
 * | `maxsize` | 128 | entries kept, least recently used evicted first; `Infinity`: unbounded |
 * | `eviction` | `"lru"` | `"w-tinylfu"`: admission by frequency (Caffeine's Window TinyLFU) |
 * | `ttl` | never | how long a value is fresh (a call's own `ttl` overrides it for its entry) |
 * | `jitter` | 0 | each entry lives `ttl` + uniform random [0, `jitter`] |
 * | `swr` | 0 | after `ttl`, how long the stale value is served while one refresh runs; `true`: forever |
 * | `cacheErrors` | `false` | cache rejections: `true`, or a predicate on the error |
 * | `errorTtl` | `ttl` | how long a cached rejection is kept |
 * | `maxWeight` | none | a bound on the total weight of the entries (with `weigher`) |
 * | `weigher` | none | an entry's weight: `(value, key) => number`, e.g. `CacheWeigher.estimateBytes` |
 * | `name` | `"cache"` | the label of its stats and metrics |
 *
 * @example
 * ```ts
 * import type { AsyncCacheOptions } from "effect-request-cache/promise"
 *
 * const options: AsyncCacheOptions = { maxsize: 1_000, ttl: "5 minutes", name: "app" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface AsyncCacheOptions {
  readonly maxsize?: number | undefined
  readonly eviction?: "lru" | "w-tinylfu" | undefined
  readonly ttl?: Duration.DurationInput | undefined
  readonly jitter?: Duration.DurationInput | undefined
  readonly swr?: Duration.DurationInput | boolean | undefined
  readonly cacheErrors?: boolean | ((error: unknown) => boolean) | undefined
  readonly errorTtl?: Duration.DurationInput | undefined
  readonly maxWeight?: number | undefined
  readonly weigher?: ((value: unknown, key: unknown) => number) | undefined
  readonly name?: string | undefined
}

/**
 * A call's own options: `ttl`, the time to live of the entry this call stores (from the moment it
 * is stored, without jitter), instead of the cache's `ttl`. It is read only where it is used: by
 * a `get` that loads, and by `set`.
 *
 * @example
 * ```ts
 * import type { EntryOptions } from "effect-request-cache/promise"
 *
 * const shortLived: EntryOptions = { ttl: "1 minute" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface EntryOptions {
  readonly ttl?: Duration.DurationInput | undefined
}

/**
 * What `getMetrics()` answers, as async-cache's `get_metrics()`: `hits` counts the calls served
 * without running a loader (fresh hits, stale hits and calls that joined a load in flight, as
 * `cacheInfo()` counts them), `misses` the calls that ran one, `size` the entries held now, and
 * `hitRate` the fraction `hits / (hits + misses)` (0.81 for 81 %; 0 before any call).
 *
 * @example
 * ```ts
 * import type { AsyncCacheMetrics } from "effect-request-cache/promise"
 *
 * const metrics: AsyncCacheMetrics = { hits: 42, misses: 10, size: 50, hitRate: 42 / 52 }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface AsyncCacheMetrics {
  readonly hits: number
  readonly misses: number
  readonly size: number
  readonly hitRate: number
}

/**
 * A cache object, as async-cache's `AsyncCache`: values of any key `K` (encoded by content, as
 * everywhere: `1` and `"1"` are two keys) and type `V`, each loaded by the loader of the call that
 * misses. Concurrent calls of one key share one load (single flight); a hit is served without
 * entering the Effect runtime and allocates nothing. After `close()` every call rejects with
 * `CacheClosedError`, hits included; a key that cannot be encoded rejects with a
 * `KeyEncodingError` naming it.
 *
 * - `get(key, loader, { ttl })`: the cached value, or `loader()`'s (stored for the call's `ttl`
 *   if it gives one). A stale value (within `swr`) is served while `loader` refreshes it.
 * - `getMany(keys, loadMany)`: the values in the keys' order. Cached keys are hits, keys loading
 *   are joined, and the rest (distinct, in order) go to one call of `loadMany`, which returns
 *   their values in that order; an `Error` among them rejects that key with that object, and a
 *   result of the wrong length rejects each of those keys with an error giving both lengths.
 *   The promise rejects as `Promise.all` does, with the first key's error.
 * - `set(key, value, { ttl })`, `delete(key)` (was there an entry?), `clear()`.
 * - `warmup(entries)`: `[key, loader]` pairs (a `Map` is one); loads, concurrently, the keys that
 *   are not cached (fresh or stale) and answers how many loaded successfully.
 * - `getMetrics()`, `cacheStats()` (every counter), `close()` (stops the loads and refreshes in
 *   flight: their callers reject with `CacheClosedError`).
 *
 * @example
 * ```ts
 * import { createCache } from "effect-request-cache/promise"
 *
 * const cache = createCache({ maxsize: 1_000, ttl: "5 minutes" })
 * const user = await cache.get("user:1", async () => ({ id: 1 }), { ttl: "1 minute" })
 * await cache.set("user:2", { id: 2 })
 * const users = await cache.getMany(["user:1", "user:2", "user:3"], async (keys) => keys.map((k) => ({ k })))
 * await cache.warmup(new Map([["popular:1", async () => "hot"]]))
 * cache.getMetrics() // { hits: 2, misses: 3, size: 4, hitRate: 0.4 }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface AsyncCache<K = unknown, V = unknown> {
  readonly name: string
  readonly get: <A extends V>(key: K, loader: () => A | PromiseLike<A>, options?: EntryOptions) => Promise<A>
  readonly getMany: <Key extends K, A extends V>(
    keys: Iterable<Key>,
    loadMany: (keys: ReadonlyArray<Key>) => ReadonlyArray<A | Error> | PromiseLike<ReadonlyArray<A | Error>>
  ) => Promise<Array<A>>
  readonly set: (key: K, value: V, options?: EntryOptions) => Promise<void>
  readonly delete: (key: K) => Promise<boolean>
  /** Removes every entry (a load in flight then stores nothing). */
  readonly clear: () => void
  readonly warmup: (entries: Iterable<readonly [key: K, loader: () => V | PromiseLike<V>]>) => Promise<number>
  readonly getMetrics: () => AsyncCacheMetrics
  readonly cacheStats: () => CacheStats
  readonly close: () => Promise<void>
}

/**
 * Makes a cache object (async-cache's `AsyncCache`) on this library's core: one namespace, bounded
 * by `maxsize` (and `maxWeight`), with the policy of `alruCache`. Throws a `CacheOptionError`
 * naming the option if an option is bad.
 *
 * @example
 * ```ts
 * import { createCache } from "effect-request-cache/promise"
 *
 * const cache = createCache<string, { readonly id: number }>({ maxsize: 1_000, ttl: "5 minutes" })
 * const getUser = (id: number) => cache.get(`user:${id}`, async () => ({ id }), { ttl: "1 minute" })
 * await getUser(1)
 * await getUser(1) // a hit
 * console.log(cache.getMetrics()) // { hits: 1, misses: 1, size: 1, hitRate: 0.5 }
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const createCache: <K = unknown, V = unknown>(options?: AsyncCacheOptions) => AsyncCache<K, V> =
  cacheInternal.createCache

/**
 * DataLoader's batch function: the keys of one batch (distinct, unless a key was cleared and
 * loaded again before its batch was sent), to one value or `Error` per key, in the keys' order,
 * or a promise of them. It is called with the loader as `this`.
 *
 * @example
 * ```ts
 * import type { BatchLoadFn } from "effect-request-cache/promise"
 *
 * const users: BatchLoadFn<number, { id: number }> = async (ids) =>
 *   ids.map((id) => id > 0 ? { id } : new Error(`no user ${id}`))
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type BatchLoadFn<K, V> = (
  keys: ReadonlyArray<K>
) => ReadonlyArray<V | Error> | PromiseLike<ReadonlyArray<V | Error>>

/**
 * What `createLoader` takes: the cache's options (as `createCache`'s, with `maxsize` 1,000 by
 * default) and DataLoader's batching options.
 *
 * | option | default | meaning |
 * | --- | --- | --- |
 * | `maxBatchSize` | `Infinity` | a batch holding this many keys is sent; the next keys start another |
 * | `batchWindow` | none | how long a batch collects keys from its first (milliseconds or a `DurationInput`); without it, the loads of one tick, as DataLoader |
 * | `cacheKeyFn` | the key | the cache key of a key (then encoded by content like a key) |
 * | `maxsize` | 1,000 | entries kept, least recently used evicted first; `Infinity`: unbounded, as DataLoader |
 * | `cacheErrors` | `false` | an `Error` from the batch function is not cached unless this says so |
 *
 * and `eviction`, `ttl`, `jitter`, `swr`, `errorTtl`, `maxWeight`, `weigher`, `name` as in
 * `AsyncCacheOptions` (`name` defaults to the batch function's name, else `"loader"`).
 *
 * @example
 * ```ts
 * import type { LoaderOptions } from "effect-request-cache/promise"
 *
 * const options: LoaderOptions<{ readonly id: number }> = {
 *   maxsize: 10_000,
 *   ttl: "1 minute",
 *   maxBatchSize: 100,
 *   batchWindow: "5 millis",
 *   cacheKeyFn: (key) => key.id
 * }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface LoaderOptions<K> extends AsyncCacheOptions {
  readonly maxBatchSize?: number | undefined
  readonly batchWindow?: Duration.DurationInput | undefined
  readonly cacheKeyFn?: ((key: K) => unknown) | undefined
}

/**
 * A loader, as DataLoader's: `load(key)` (batched and cached), `loadMany(keys)` (each key's value
 * or `Error`, in order, never rejecting for one key), `prime(key, value)` (stores a value, an
 * `Error` or a promise for a key that holds nothing; a key that holds something keeps it),
 * `clear(key)` and `clearAll()`; `prime`, `clear` and `clearAll` return the loader, for chaining.
 * `cacheStats()` gives every counter, `batches` among them.
 *
 * @example
 * ```ts
 * import { createLoader } from "effect-request-cache/promise"
 *
 * const users = createLoader(async (ids: ReadonlyArray<number>) => ids.map((id) => ({ id })))
 * const [a, b] = await Promise.all([users.load(1), users.load(2)]) // one batch: [1, 2]
 * users.clear(1).prime(1, { id: 1 })
 * users.cacheStats().batches // 1
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Loader<K, V> {
  readonly name: string
  readonly load: (key: K) => Promise<V>
  readonly loadMany: (keys: ReadonlyArray<K>) => Promise<Array<V | Error>>
  readonly prime: (key: K, value: V | PromiseLike<V> | Error) => Loader<K, V>
  readonly clear: (key: K) => Loader<K, V>
  readonly clearAll: () => Loader<K, V>
  readonly cacheStats: () => CacheStats
}

/**
 * DataLoader's contract on this library's cache: the loads of one tick (or of `batchWindow`) that
 * miss go to one call of `batchFn`, split at `maxBatchSize`; a cached key is a hit and never
 * enters a batch, and a key already in a batch is joined (single flight). The cache is bounded
 * (`maxsize`, `maxWeight`) and has a time to live, stale-while-revalidate (a stale key's refresh
 * goes through `batchFn` in the next batch) and no error caching by default. An `Error` from
 * `batchFn` rejects its key's `load` with that very object; a rejection of `batchFn` rejects each
 * key of the batch; a result of the wrong length rejects each key with a `TypeError` giving both
 * lengths. A Promise caller cannot be interrupted: a key once in a batch is loaded. Throws a
 * `CacheOptionError` naming the option if an option is bad.
 *
 * @example
 * ```ts
 * import { createLoader } from "effect-request-cache/promise"
 *
 * const users = createLoader(
 *   async (ids: ReadonlyArray<number>) => {
 *     const rows = await Promise.resolve(ids.map((id) => ({ id, name: `user ${id}` })))
 *     return ids.map((id) => rows.find((row) => row.id === id) ?? new Error(`no user ${id}`))
 *   },
 *   { maxsize: 10_000, ttl: "1 minute", maxBatchSize: 100 }
 * )
 * const [ada, bob] = await Promise.all([users.load(1), users.load(2)]) // one call of the batch function
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const createLoader: <K, V>(batchFn: BatchLoadFn<K, V>, options?: LoaderOptions<K>) => Loader<K, V> =
  loaderInternal.createLoader

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

/**
 * Invalidates, in every open cache of the Promise API (`alruCache`, `@cachedMethod`), the entries
 * that carry one of `tags` (given by their `tags` option), winning over the loads in flight: a
 * load that started before and whose value carries one of the tags is not stored. Answers how
 * many entries went.
 *
 * @example
 * ```ts
 * import { alruCache, invalidateTags } from "effect-request-cache/promise"
 *
 * const getUser = alruCache(async (id: number) => ({ id, orgId: 7 }), {
 *   tags: (user, id) => [`user:${id}`, `org:${user.orgId}`]
 * })
 * await getUser(1)
 * await invalidateTags(["org:7"]) // 1
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const invalidateTags = (tags: Iterable<string>): Promise<number> =>
  Promise.resolve(internalCore.invalidateTags(tags))
