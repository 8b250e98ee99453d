/**
 * The `RequestCache` service: cached functions with single flight, a true LRU per namespace,
 * time to live with jitter, stale-while-revalidate and typed failure caching. The policy is
 * chosen where the program is run, by the layer.
 *
 * @since 0.1.0
 */
import type * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import type * as Option from "effect/Option"
import type * as Request from "effect/Request"
import type * as RequestResolver from "effect/RequestResolver"
import type * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import type * as CacheKey from "./CacheKey.js"
import type * as CachePolicy from "./CachePolicy.js"
import type { CacheStats } from "./CacheStats.js"
import type { CacheStore } from "./CacheStore.js"
import * as internal from "./internal/requestCache.js"

/**
 * The cache service. Provide it with {@link RequestCache.layer} (in memory),
 * {@link RequestCache.layerConfig}, {@link RequestCache.layerStore} (on a `CacheStore`) or
 * {@link RequestCache.layerDisabled} (tests).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { RequestCache } from "effect-request-cache"
 *
 * const getUser = RequestCache.cached({
 *   name: "users",
 *   lookup: (id: number) => Effect.succeed({ id })
 * })
 *
 * Effect.runPromise(getUser(1).pipe(Effect.provide(RequestCache.layer({ timeToLive: "1 minute" }))))
 * ```
 *
 * @since 0.1.0
 * @category tags
 */
export class RequestCache extends Context.Tag(internal.TypeId)<RequestCache, RequestCache.Service>() {
  /**
   * The in-memory cache, built in the layer's scope: closing it interrupts every refresh and
   * lookup in flight. Fails with a `CachePolicyError` naming a bad option.
   *
   * @example
   * ```ts
   * import { RequestCache } from "effect-request-cache"
   *
   * const CacheLive = RequestCache.layer({ capacity: 10_000, timeToLive: "5 minutes" })
   * ```
   *
   * @since 0.1.0
   * @category layers
   */
  static readonly layer: (options?: CachePolicy.Options) => Layer.Layer<RequestCache, CachePolicy.CachePolicyError> =
    internal.layer

  /**
   * The in-memory cache with its options read from `Config` (see `CachePolicy.config`).
   *
   * @example
   * ```ts
   * import { Config } from "effect"
   * import { CachePolicy, RequestCache } from "effect-request-cache"
   *
   * const CacheLive = RequestCache.layerConfig(CachePolicy.config.pipe(Config.nested("cache")))
   * ```
   *
   * @since 0.1.0
   * @category layers
   */
  static readonly layerConfig: (
    config: Config.Config<CachePolicy.Options>
  ) => Layer.Layer<RequestCache, CachePolicy.CachePolicyError | ConfigError.ConfigError> = internal.layerConfig

  /**
   * The cache on the `CacheStore` provided (`KeyValueStoreStore.layer`, `CacheStore.layerMemory`,
   * a Redis store), with a small in-memory first tier (`l1`) in front of it. RequestCache.Cached functions
   * with a `schema` keep their entries in the store, with their expiry, stale window and cached
   * failures; those without stay in memory (the layer logs it once per namespace). A store that
   * is down, slow or returns what does not decode never fails a caller: the cache logs, counts
   * `storeErrors` and serves from memory or runs the lookup. With a shared store (`coordination`),
   * one process runs the lookup of a missing key while the others wait for its result, and every
   * write and invalidation drops the key from the other processes' first tiers.
   *
   * @example
   * ```ts
   * import { KeyValueStore } from "@effect/platform"
   * import { Effect, Layer, Schema } from "effect"
   * import { KeyValueStoreStore, RequestCache } from "effect-request-cache"
   *
   * const getPrice = RequestCache.cached({
   *   name: "prices",
   *   lookup: (symbol: string) => Effect.succeed(100 + symbol.length),
   *   schema: { success: Schema.Number }
   * })
   *
   * const CacheLive = RequestCache.layerStore({ timeToLive: "1 minute", l1: { timeToLive: "5 seconds" } }).pipe(
   *   Layer.provide(KeyValueStoreStore.layer()),
   *   Layer.provide(KeyValueStore.layerMemory)
   * )
   * const program = getPrice("AAPL").pipe(Effect.provide(CacheLive))
   * ```
   *
   * @since 0.1.0
   * @category layers
   */
  static readonly layerStore: (
    options?: RequestCache.StoreOptions
  ) => Layer.Layer<RequestCache, CachePolicy.CachePolicyError, CacheStore> = internal.layerStore

  /**
   * {@link RequestCache.layerStore} with its options read from `Config`.
   *
   * @example
   * ```ts
   * import { Config } from "effect"
   * import { CachePolicy, RequestCache } from "effect-request-cache"
   *
   * const CacheLive = RequestCache.layerStoreConfig(CachePolicy.config.pipe(Config.nested("cache")))
   * ```
   *
   * @since 0.1.0
   * @category layers
   */
  static readonly layerStoreConfig: (
    config: Config.Config<RequestCache.StoreOptions>
  ) => Layer.Layer<RequestCache, CachePolicy.CachePolicyError | ConfigError.ConfigError, CacheStore> =
    internal.layerStoreConfig

  /**
   * Builds the store-backed service in a scope (see {@link RequestCache.layerStore}).
   *
   * @example
   * ```ts
   * import { Effect } from "effect"
   * import { CacheStore, RequestCache } from "effect-request-cache"
   *
   * const program = Effect.scoped(RequestCache.makeStore({ timeToLive: "1 minute" })).pipe(
   *   Effect.provide(CacheStore.layerMemory)
   * )
   * ```
   *
   * @since 0.1.0
   * @category constructors
   */
  static readonly makeStore: (
    options?: RequestCache.StoreOptions
  ) => Effect.Effect<RequestCache.Service, CachePolicy.CachePolicyError, CacheStore | Scope.Scope> = internal.makeStore

  /**
   * A cache that stores nothing: every call runs its lookup (stats count the misses). For tests
   * of the code around the cache.
   *
   * @example
   * ```ts
   * import { Effect } from "effect"
   * import { RequestCache } from "effect-request-cache"
   *
   * const test = Effect.void.pipe(Effect.provide(RequestCache.layerDisabled))
   * ```
   *
   * @since 0.1.0
   * @category layers
   */
  static readonly layerDisabled: Layer.Layer<RequestCache> = internal.layerDisabled

  /**
   * Builds the in-memory service in a scope, for composing it by hand.
   *
   * @example
   * ```ts
   * import { Effect } from "effect"
   * import { RequestCache } from "effect-request-cache"
   *
   * const program = Effect.scoped(Effect.gen(function* () {
   *   const cache = yield* RequestCache.make({ capacity: 100 })
   *   return yield* cache.stats
   * }))
   * ```
   *
   * @since 0.1.0
   * @category constructors
   */
  static readonly make: (
    options?: CachePolicy.Options
  ) => Effect.Effect<RequestCache.Service, CachePolicy.CachePolicyError, Scope.Scope> = internal.make

  /**
   * Makes a cached function. Its calls share one entry per key (see the module docs for the
   * semantics); `policy` gives this namespace its own capacity, time to live and so on. A bad
   * option throws a `CachePolicyError` here, where the function is defined.
   *
   * @example
   * ```ts
   * import { Effect } from "effect"
   * import { RequestCache } from "effect-request-cache"
   *
   * const getPrice = RequestCache.cached({
   *   name: "prices",
   *   lookup: (symbol: string) => Effect.succeed(100 + symbol.length),
   *   policy: { timeToLive: "10 seconds", staleWhileRevalidate: "1 minute" }
   * })
   * ```
   *
   * @since 0.1.0
   * @category constructors
   */
  static readonly cached: <
    Args extends ReadonlyArray<unknown>,
    A,
    E = never,
    R = never,
    SI = never,
    FE extends E = never,
    FI = never
  >(
    options: RequestCache.CachedOptions<Args, A, E, R, SI, FE, FI>
  ) => RequestCache.Cached<Args, A, E, R> = internal.cached

  /**
   * A cached function of one key whose misses are loaded in batches (DataLoader-style): the
   * calls that miss within `window`, from any fiber, go to one `lookupMany`, split at
   * `maxBatchSize`. A cached key is a hit and never enters a batch; a key in a batch in flight
   * is joined (single flight per key); a key whose callers all leave before its batch is sent is
   * dropped from it. It carries the same methods as a `cached` function.
   *
   * @example
   * ```ts
   * import { Effect } from "effect"
   * import { RequestCache } from "effect-request-cache"
   *
   * const getUser = RequestCache.cachedBatch({
   *   name: "users",
   *   lookupMany: (ids: readonly [number, ...Array<number>]) =>
   *     Effect.succeed(ids.map((id) => ({ id, name: `user ${id}` }))), // one round trip for all
   *   maxBatchSize: 100
   * })
   *
   * // One batch: [1, 2, 3]
   * const users = Effect.all([getUser(1), getUser(2), getUser(3)], { concurrency: "unbounded" })
   * ```
   *
   * @since 0.1.0
   * @category constructors
   */
  static readonly cachedBatch: <K, A, E = never, R = never, SI = never, FE extends E = never, FI = never>(
    options: RequestCache.CachedBatchOptions<K, A, E, R, SI, FE, FI>
  ) => RequestCache.Cached<[key: K], A, E, R> = internal.cachedBatch

  /**
   * A cached `Effect.request` for Effect's `Request` / `RequestResolver`: requests are keyed by
   * value, and the misses made within `window`, from any fiber, reach the resolver as one
   * batch, each request completed by the resolver as usual.
   *
   * @example
   * ```ts
   * import { Effect, Request, RequestResolver } from "effect"
   * import { RequestCache } from "effect-request-cache"
   *
   * class GetUser extends Request.TaggedClass("GetUser")<string, never, { readonly id: number }> {}
   * const UserResolver = RequestResolver.makeBatched((requests: ReadonlyArray<GetUser>) =>
   *   Effect.forEach(requests, (request) => Request.succeed(request, `user ${request.id}`), { discard: true })
   * )
   *
   * const getUser = RequestCache.cachedRequest({ name: "users", resolver: UserResolver })
   * const user = getUser(new GetUser({ id: 1 }))
   * ```
   *
   * @since 0.1.0
   * @category constructors
   */
  static readonly cachedRequest: <Req extends Request.Request<any, any>, R = never>(
    options: RequestCache.CachedRequestOptions<Req, R>
  ) => RequestCache.Cached<[request: Req], Request.Request.Success<Req>, Request.Request.Error<Req>, R> =
    internal.cachedRequest

  /**
   * The value of `key` in namespace `name`, running `lookup` on a miss. The same key through
   * a one-argument cached function of that name hits the same entry. `options.timeToLive`
   * gives the value that this lookup stores its own time to live.
   *
   * @example
   * ```ts
   * import { Effect } from "effect"
   * import { RequestCache } from "effect-request-cache"
   *
   * const user = RequestCache.get("users", 1, Effect.succeed({ id: 1 }))
   * const session = RequestCache.get("sessions", "abc", Effect.succeed("s"), { timeToLive: "60 seconds" })
   * ```
   *
   * @since 0.1.0
   * @category accessors
   */
  static readonly get: <A, E, R>(
    name: string,
    key: unknown,
    lookup: Effect.Effect<A, E, R>,
    options?: RequestCache.EntryOptions
  ) => Effect.Effect<A, E, R | RequestCache> = internal.get

  /**
   * Stores `value` under `key` in namespace `name` now, with the namespace's time to live or
   * `options.timeToLive`. A load of that key in flight no longer stores its result.
   *
   * @example
   * ```ts
   * import { RequestCache } from "effect-request-cache"
   *
   * const warm = RequestCache.set("users", 1, { id: 1 }, { timeToLive: "60 seconds" })
   * ```
   *
   * @since 0.1.0
   * @category accessors
   */
  static readonly set: (
    name: string,
    key: unknown,
    value: unknown,
    options?: RequestCache.EntryOptions
  ) => Effect.Effect<void, never, RequestCache> = internal.set

  /**
   * Removes the entry of `key` in namespace `name`; answers whether there was one.
   *
   * @example
   * ```ts
   * import { RequestCache } from "effect-request-cache"
   *
   * const removed = RequestCache.invalidate("users", 1)
   * ```
   *
   * @since 0.1.0
   * @category accessors
   */
  static readonly invalidate: (name: string, key: unknown) => Effect.Effect<boolean, never, RequestCache> =
    internal.invalidate

  /**
   * Removes every entry of every namespace.
   *
   * @example
   * ```ts
   * import { RequestCache } from "effect-request-cache"
   *
   * const clear = RequestCache.invalidateAll
   * ```
   *
   * @since 0.1.0
   * @category accessors
   */
  static readonly invalidateAll: Effect.Effect<void, never, RequestCache> = internal.invalidateAll

  /**
   * Invalidates every entry that carries one of `tags` (given by `cached`'s `tags`), in every
   * namespace. Like any invalidation it wins over the loads in flight: a load that started before
   * it and whose result carries one of the tags is not stored.
   *
   * @example
   * ```ts
   * import { Effect } from "effect"
   * import { RequestCache } from "effect-request-cache"
   *
   * const getUser = RequestCache.cached({
   *   name: "users",
   *   lookup: (id: number) => Effect.succeed({ id, orgId: 7 }),
   *   tags: (user, id) => [`user:${id}`, `org:${user.orgId}`]
   * })
   *
   * const program = Effect.gen(function* () {
   *   yield* getUser(1)
   *   yield* RequestCache.invalidateTags(["org:7"]) // every user of org 7 goes
   * })
   * ```
   *
   * @since 0.1.0
   * @category accessors
   */
  static readonly invalidateTags: (tags: Iterable<string>) => Effect.Effect<void, never, RequestCache> =
    internal.invalidateTags

  /**
   * The stats of all namespaces together.
   *
   * @example
   * ```ts
   * import { Effect } from "effect"
   * import { CacheStats, RequestCache } from "effect-request-cache"
   *
   * const report = Effect.map(RequestCache.stats, CacheStats.format)
   * ```
   *
   * @since 0.1.0
   * @category accessors
   */
  static readonly stats: Effect.Effect<CacheStats, never, RequestCache> = internal.statsAll

  /**
   * The stats of one namespace.
   *
   * @example
   * ```ts
   * import { RequestCache } from "effect-request-cache"
   *
   * const users = RequestCache.statsFor("users")
   * ```
   *
   * @since 0.1.0
   * @category accessors
   */
  static readonly statsFor: (name: string) => Effect.Effect<CacheStats, never, RequestCache> = internal.statsFor
}

/**
 * A call to a cache that is closed: its layer's scope has closed (or, in the Promise API,
 * `cacheClose()` was called). Every call fails so, hit or miss: an Effect call dies with this
 * defect, a Promise call rejects with it. `namespace` names the cache's namespace.
 *
 * @example
 * ```ts
 * import { Cause, Effect, Exit, Scope } from "effect"
 * import { CacheClosedError, RequestCache } from "effect-request-cache"
 *
 * const getUser = RequestCache.cached({ name: "users", lookup: (id: number) => Effect.succeed({ id }) })
 *
 * const program = Effect.gen(function* () {
 *   const scope = yield* Scope.make()
 *   const cache = yield* RequestCache.make().pipe(Scope.extend(scope))
 *   yield* Scope.close(scope, Exit.void)
 *   const exit = yield* Effect.exit(getUser(1).pipe(Effect.provideService(RequestCache, cache)))
 *   return Exit.isFailure(exit) && Cause.squash(exit.cause) instanceof CacheClosedError // true
 * })
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export const CacheClosedError: typeof internal.CacheClosedError = internal.CacheClosedError

/**
 * The type of {@link CacheClosedError}.
 *
 * @example
 * ```ts
 * import type { CacheClosedError } from "effect-request-cache"
 *
 * const closedNamespace = (error: CacheClosedError) => error.namespace
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export type CacheClosedError = internal.CacheClosedError

/**
 * The types of this module, under the name of the service, so that one import gives both:
 * `RequestCache.layer(...)` and `RequestCache.cached(...)` (the class's statics) and
 * `RequestCache.CachedOptions<...>`, `RequestCache.StoreOptions` and the rest (these types).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { RequestCache } from "effect-request-cache"
 *
 * const options: RequestCache.CachedOptions<[id: number], { id: number }, never, never> = {
 *   name: "users",
 *   lookup: (id) => Effect.succeed({ id })
 * }
 * const getUser: RequestCache.Cached<[id: number], { id: number }, never, never> = RequestCache.cached(options)
 * type Load = RequestCache.Namespace.Load
 * ```
 *
 * @since 0.1.0
 */
export declare namespace RequestCache {
  /**
   * A lookup with its arguments erased, as a namespace receives it: it is applied to the call's
   * arguments only on a miss.
   *
   * @example
   * ```ts
   * import { Effect } from "effect"
   * import type { RequestCache } from "effect-request-cache"
   *
   * const lookup: RequestCache.Lookup = (id: number) => Effect.succeed(id)
   * ```
   *
   * @since 0.1.0
   * @category models
   */
  export type Lookup = (...args: ReadonlyArray<never>) => Effect.Effect<unknown, unknown, unknown>

  /**
   * One namespace of a cache (the entries of one cached function), as an implementation of the
   * service provides it. Users call it through `cached` and the accessors; implement it to write
   * an alternative layer.
   *
   * @example
   * ```ts
   * import { Effect } from "effect"
   * import { RequestCache } from "effect-request-cache"
   *
   * // Namespaces come from the service; `cached` and the accessors use them for you.
   * const stats = Effect.flatMap(RequestCache, (cache) => cache.namespace("users").stats)
   * ```
   *
   * @since 0.1.0
   * @category models
   */
  export interface Namespace {
    /** The value of `key`, running `lookup(...args)` on a miss, in a fiber forked from the caller's. */
    readonly get: Namespace.Load
    /** Runs the lookup now; the old value is served until the new one is stored. */
    readonly refresh: Namespace.Load
    /**
     * Stores `value` now; `timeToLive` (milliseconds) overrides the policy's for this entry,
     * `tags` are the tags it carries.
     */
    readonly set: (
      key: CacheKey.MapKey,
      value: unknown,
      timeToLive?: number,
      tags?: ReadonlyArray<string>
    ) => Effect.Effect<void>
    readonly peek: (key: CacheKey.MapKey) => Effect.Effect<Option.Option<unknown>>
    readonly invalidate: (key: CacheKey.MapKey) => Effect.Effect<boolean>
    readonly invalidateAll: Effect.Effect<void>
    readonly stats: Effect.Effect<CacheStats>
  }

  /**
   * @since 0.1.0
   */
  export namespace Namespace {
    /**
     * A namespace operation that may run the lookup: `lookup(...args)` runs, on a miss, in a fiber
     * of the cache forked from the caller's (as `Effect.fork` forks a child).
     *
     * @example
     * ```ts
     * import type { RequestCache } from "effect-request-cache"
     *
     * type Get = RequestCache.Namespace.Load
     * ```
     *
     * @since 0.1.0
     * @category models
     */
    export type Load = (
      key: CacheKey.MapKey,
      lookup: Lookup,
      args: ReadonlyArray<unknown>
    ) => Effect.Effect<unknown, unknown>
  }

  /**
   * What the `RequestCache` service provides.
   *
   * @example
   * ```ts
   * import { Effect } from "effect"
   * import { RequestCache } from "effect-request-cache"
   *
   * const program = Effect.gen(function* () {
   *   const cache = yield* RequestCache
   *   return yield* cache.stats
   * })
   * ```
   *
   * @since 0.1.0
   * @category models
   */
  export interface Service {
    /**
     * The namespace `name`, made on first use with the layer's policy and `overrides` on top, and
     * `schema` to keep its entries in a store (layers without a store ignore it). Throws a
     * `CachePolicyError` if the name is in use with another policy or schema.
     */
    readonly namespace: (name: string, overrides?: CachePolicy.Options<never>, schema?: NamespaceSchema) => Namespace
    readonly invalidateAll: Effect.Effect<void>
    /** Invalidates every entry, in every namespace, that carries one of `tags`. */
    readonly invalidateTags: (tags: Iterable<string>) => Effect.Effect<void>
    readonly stats: Effect.Effect<CacheStats>
    readonly statsFor: (name: string) => Effect.Effect<CacheStats>
  }

  /**
   * How a namespace's entries are encoded for a store, as the service receives it (the `schema` of
   * `cached`, with its types erased).
   *
   * @example
   * ```ts
   * import { Schema } from "effect"
   * import type { RequestCache } from "effect-request-cache"
   *
   * const schema = { success: Schema.Number } as unknown as RequestCache.NamespaceSchema
   * ```
   *
   * @since 0.1.0
   * @category models
   */
  export interface NamespaceSchema {
    readonly success: Schema.Schema<unknown, unknown>
    readonly failure?: Schema.Schema<unknown, unknown> | undefined
  }

  /**
   * How a cached function's values (`success`) and cached typed failures (`failure`) are encoded
   * for a store: Effect `Schema`s whose encoded side is JSON. Without it a namespace stays in
   * memory, even under `RequestCache.layerStore`. Typed failures outside `failure` (or all of them,
   * without it) are cached in memory only.
   *
   * @example
   * ```ts
   * import { Schema } from "effect"
   * import type { RequestCache } from "effect-request-cache"
   *
   * class User extends Schema.Class<User>("User")({ id: Schema.Number, name: Schema.String }) {}
   * class NotFound extends Schema.TaggedError<NotFound>()("NotFound", { id: Schema.Number }) {}
   *
   * const schema: RequestCache.CachedSchema<User, { readonly id: number; readonly name: string }, NotFound, { readonly _tag: "NotFound"; readonly id: number }> = {
   *   success: User,
   *   failure: NotFound
   * }
   * ```
   *
   * @since 0.1.0
   * @category models
   */
  export interface CachedSchema<A, SI = unknown, FE = never, FI = unknown> {
    readonly success: Schema.Schema<A, SI>
    readonly failure?: Schema.Schema<FE, FI> | undefined
  }

  /**
   * The options of `RequestCache.layerStore`: the policy (`timeToLive`, `jitter`,
   * `staleWhileRevalidate`, `cacheErrors`, `errorTimeToLive` say how long entries are fresh in the
   * store; `capacity` bounds the namespaces kept in memory and each first tier), the first tier
   * (`l1`) and the lock (`lockTimeout`).
   *
   * @example
   * ```ts
   * import type { RequestCache } from "effect-request-cache"
   *
   * const options: RequestCache.StoreOptions = {
   *   timeToLive: "5 minutes",
   *   staleWhileRevalidate: "1 minute",
   *   l1: { capacity: 1_000, timeToLive: "5 seconds" },
   *   lockTimeout: "5 seconds"
   * }
   * ```
   *
   * @since 0.1.0
   * @category models
   */
  export interface StoreOptions extends CachePolicy.Options {
    /**
     * The in-memory first tier of each store namespace: `capacity` entries (default 1,000, at most
     * the namespace's `capacity`), each kept at most `timeToLive` (default 5 seconds) before the
     * store is asked again: the bound on how stale a process's copy can be when an invalidation
     * from another process does not reach it.
     */
    readonly l1?: {
      readonly capacity?: number | undefined
      readonly timeToLive?: Duration.DurationInput | undefined
    } | undefined
    /**
     * With a shared store (Redis): how long a process holds a key's lock while it runs the lookup,
     * and how long the others wait for its result before running the lookup themselves. Default 5
     * seconds.
     */
    readonly lockTimeout?: Duration.DurationInput | undefined
  }

  /**
   * Options of one `RequestCache.get` or `RequestCache.set`: a time to live for this entry that
   * overrides the namespace's (async-cache's per-key TTL).
   *
   * @example
   * ```ts
   * import type { RequestCache } from "effect-request-cache"
   *
   * const options: RequestCache.EntryOptions = { timeToLive: "60 seconds" }
   * ```
   *
   * @since 0.1.0
   * @category models
   */
  export interface EntryOptions {
    readonly timeToLive?: Duration.DurationInput | undefined
  }

  /**
   * What `cached` takes.
   *
   * @example
   * ```ts
   * import { Effect } from "effect"
   * import type { RequestCache } from "effect-request-cache"
   *
   * const options: RequestCache.CachedOptions<[id: number], string, never, never> = {
   *   name: "users",
   *   lookup: (id) => Effect.succeed(`user ${id}`),
   *   key: (id) => id,
   *   policy: { timeToLive: "1 minute" }
   * }
   * ```
   *
   * @since 0.1.0
   * @category models
   */
  export interface CachedOptions<
    Args extends ReadonlyArray<unknown>,
    A,
    E,
    R,
    SI = unknown,
    FE extends E = E,
    FI = unknown
  > {
    /** The namespace: its own LRU, the label of its stats and metrics. */
    readonly name: string
    readonly lookup: (...args: Args) => Effect.Effect<A, E, R>
    /** The key of a call; default: all the arguments. Return a part of them to ignore the rest. */
    readonly key?: ((...args: Args) => unknown) | undefined
    /** This namespace's policy, on top of the layer's (its own capacity, time to live...). */
    readonly policy?: CachePolicy.Options<E, A> | undefined
    /**
     * How values and typed failures are encoded for a store (`RequestCache.layerStore`). Without
     * it this namespace stays in memory.
     */
    readonly schema?: CachedSchema<A, SI, FE, FI> | undefined
    /**
     * The tags of an entry, from its value and arguments, attached when it is stored: for
     * `RequestCache.invalidateTags`. An entry without tags costs nothing.
     */
    readonly tags?: ((value: A, ...args: Args) => ReadonlyArray<string>) | undefined
  }

  /**
   * A cached function: call it like the lookup; it also carries the operations on its entries.
   *
   * @example
   * ```ts
   * import { Effect } from "effect"
   * import { RequestCache } from "effect-request-cache"
   *
   * const getUser = RequestCache.cached({
   *   name: "users",
   *   lookup: (id: number) => Effect.succeed({ id, name: `user ${id}` })
   * })
   *
   * const program = Effect.gen(function* () {
   *   yield* getUser(1)                    // miss: runs the lookup
   *   yield* getUser(1)                    // hit
   *   yield* getUser.set(2, { id: 2, name: "Ada" })
   *   const cached = yield* getUser.peek(2) // Option.some(...), no lookup, no recency change
   *   yield* getUser.invalidate(1)         // true
   *   return yield* getUser.stats
   * }).pipe(Effect.provide(RequestCache.layer()))
   * ```
   *
   * @since 0.1.0
   * @category models
   */
  export interface Cached<Args extends ReadonlyArray<unknown>, A, E, R> {
    (...args: Args): Effect.Effect<A, E, R | RequestCache>
    /** The namespace's name. */
    readonly namespace: string
    /** Removes the entry; answers whether there was one. A load in flight is not stored. */
    readonly invalidate: (...args: Args) => Effect.Effect<boolean, never, RequestCache>
    /** Runs the lookup now and stores its result; callers get the old value meanwhile. */
    readonly refresh: (...args: Args) => Effect.Effect<A, E, R | RequestCache>
    /** Stores a value (the last argument) for the arguments before it. */
    readonly set: (...argsAndValue: [...Args, A]) => Effect.Effect<void, never, RequestCache>
    /** The value a call would get without a lookup: no lookup, no recency change, no stats. */
    readonly peek: (...args: Args) => Effect.Effect<Option.Option<A>, never, RequestCache>
    /**
     * The values of many keys, in order, from calls made at once (a one-argument function: each
     * key is its argument). With a batch function (`cachedBatch`, `cachedRequest`) the keys that
     * miss go to one batch; the keys that are cached are hits.
     */
    readonly getMany: Args extends readonly [infer K] ?
      (keys: Iterable<K>) => Effect.Effect<Array<A>, E, R | RequestCache>
      : never
    /**
     * Loads the argument lists that are not cached (async-cache's `warmup`), `concurrency` at a
     * time (default: all at once, so a batch function loads them in batches), and answers how
     * many it loaded. A lookup that fails is not loaded; it does not stop the others.
     */
    readonly warmup: (
      argumentLists: Iterable<Args>,
      options?: { readonly concurrency?: number | "unbounded" | undefined }
    ) => Effect.Effect<number, never, R | RequestCache>
    /** Removes every entry of this namespace. */
    readonly invalidateAll: Effect.Effect<void, never, RequestCache>
    /** This namespace's stats. */
    readonly stats: Effect.Effect<CacheStats, never, RequestCache>
  }

  /**
   * What `cachedBatch` takes: `cached`'s options with `lookupMany` in place of `lookup`, and the
   * batch window.
   *
   * @example
   * ```ts
   * import { Effect } from "effect"
   * import type { RequestCache } from "effect-request-cache"
   *
   * const options: RequestCache.CachedBatchOptions<number, string, never, never> = {
   *   name: "users",
   *   lookupMany: (ids) => Effect.succeed(ids.map((id) => `user ${id}`)),
   *   window: "10 millis",
   *   maxBatchSize: 100
   * }
   * ```
   *
   * @since 0.1.0
   * @category models
   */
  export interface CachedBatchOptions<K, A, E, R, SI = unknown, FE extends E = E, FI = unknown> {
    /** The namespace: its own entries, the label of its stats and metrics. */
    readonly name: string
    /**
     * The lookup of many keys at once: a non-empty array of distinct keys (a key that is cached,
     * or in a batch in flight, never enters another), answering one value per key, in order. A
     * failure fails every key of the batch (cached per `cacheErrors`); a result of another length
     * is a defect naming the namespace and both lengths.
     */
    readonly lookupMany: (keys: readonly [K, ...Array<K>]) => Effect.Effect<ReadonlyArray<A>, E, R>
    /** The cache key of a key; default: the key itself, by content. */
    readonly key?: ((key: K) => unknown) | undefined
    /**
     * How long misses are collected before their batch is sent: a `DurationInput` (by the
     * `Clock`, so `TestClock` drives it), or, by default, one turn of the scheduler: the fibers
     * that can run have made their calls.
     */
    readonly window?: Duration.DurationInput | undefined
    /** A batch larger than this is sent at once, and the next keys start another. Default: no bound. */
    readonly maxBatchSize?: number | undefined
    readonly policy?: CachePolicy.Options<E, A> | undefined
    readonly schema?: CachedSchema<A, SI, FE, FI> | undefined
    /** As `CachedOptions.tags`, from the value and its key. */
    readonly tags?: ((value: A, key: K) => ReadonlyArray<string>) | undefined
  }

  /**
   * What `cachedRequest` takes: a `RequestResolver` for Effect's `Request`s, the batch window.
   *
   * @example
   * ```ts
   * import { Effect, Request, RequestResolver } from "effect"
   * import type { RequestCache } from "effect-request-cache"
   *
   * class GetUser extends Request.TaggedClass("GetUser")<string, never, { readonly id: number }> {}
   * const resolver = RequestResolver.makeBatched((requests: ReadonlyArray<GetUser>) =>
   *   Effect.forEach(requests, (request) => Request.succeed(request, `user ${request.id}`), { discard: true })
   * )
   * const options: RequestCache.CachedRequestOptions<GetUser, never> = { name: "users", resolver }
   * ```
   *
   * @since 0.1.0
   * @category models
   */
  export interface CachedRequestOptions<Req extends Request.Request<any, any>, R> {
    readonly name: string
    readonly resolver: RequestResolver.RequestResolver<Req, R>
    /** The cache key of a request; default: the request itself, by value (a `Request` is a `Data` class). */
    readonly key?: ((request: Req) => unknown) | undefined
    /** As `CachedBatchOptions.window`. */
    readonly window?: Duration.DurationInput | undefined
    /** As `CachedBatchOptions.maxBatchSize`. */
    readonly maxBatchSize?: number | undefined
    readonly policy?: CachePolicy.Options<Request.Request.Error<Req>, Request.Request.Success<Req>> | undefined
  }
}
