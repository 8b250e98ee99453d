import type * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as FiberSet from "effect/FiberSet"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Request from "effect/Request"
import * as RequestResolver from "effect/RequestResolver"
import * as Runtime from "effect/Runtime"
import type * as Scope from "effect/Scope"
import type * as CachePolicy from "../CachePolicy.js"
import type { CacheStats } from "../CacheStats.js"
import { CacheStore } from "../CacheStore.js"
import type { RequestCache } from "../RequestCache.js"
import { flightBatching, type LookupMany, makeBatcher, makeFlightBatching, ofValues } from "./batch.js"
import { argumentsKey, type MapKey, toMapKey } from "./cacheKey.js"
import type { NamespaceCounters } from "./counters.js"
export { CacheClosedError } from "./errors.js"
import { LookupResult } from "./expiry.js"
import { lookupEffect } from "./flight.js"
import { MemoryNamespace } from "./memoryNamespace.js"
import { type CacheRuntime, type InternalNamespace, toInternal } from "./namespace.js"
import {
  CachePolicyError,
  capacityOption,
  durationOption,
  resolve,
  type ResolvedPolicy,
  samePolicy
} from "./options.js"
import { withOutbox } from "./outbox.js"
import * as stats from "./stats.js"
import { invalidateTagsInStore, StoreNamespace } from "./storeNamespace.js"
import { carriesTags, makeTagEpochs, recordInvalidation, TAG_NAMESPACE, type TagEpochs, tagsOf } from "./tags.js"

/** The service's key in a `Context` (the tag class in `RequestCache.ts` uses the same). */
export const TypeId = "effect-request-cache/RequestCache"

/** The tag, for the accessors here; equal by key to the public class. */
export const tag = Context.GenericTag<RequestCache, RequestCache.Service>(TypeId)

type AnyFiber = Fiber.RuntimeFiber<unknown, unknown>
const NO_ARGS: ReadonlyArray<never> = []

const serviceOf = (fiber: AnyFiber): RequestCache.Service => {
  const service = fiber.currentContext.unsafeMap.get(TypeId) as RequestCache.Service | undefined
  if (service === undefined) {
    throw new Error("RequestCache is not provided: provide RequestCache.layer(...) (or layerDisabled)")
  }
  return service
}

const orThrow = (policy: Either.Either<ResolvedPolicy, CachePolicyError>): ResolvedPolicy => {
  if (Either.isLeft(policy)) throw policy.left
  return policy.right
}

// -----------------------------------------------------------------------------------------------
// What the in-memory and the store-backed caches share

/** A namespace kept by one of this library's caches. */
type Kept = MemoryNamespace | StoreNamespace

/** A namespace's name: a non-empty string, not starting with `~` (the cache's own namespaces). */
const checkName = (name: unknown): void => {
  if (typeof name !== "string" || name.length === 0) {
    throw new CachePolicyError({ option: "name", reason: "expected a non-empty string naming the namespace" })
  }
  if (name.startsWith("~")) {
    throw new CachePolicyError({ option: "name", reason: `names starting with "~" are the cache's own, got "${name}"` })
  }
}

/**
 * The namespaces of one cache, made on first use: the layer's policy with a cached function's
 * overrides on top, and, for a store, its schema. A name in use with another policy or schema is
 * a mistake, reported where the second cached function first runs.
 */
class Namespaces {
  readonly all = new Map<string, Kept>()

  constructor(
    private readonly options: CachePolicy.Options<never> | undefined,
    readonly base: ResolvedPolicy,
    private readonly create: (
      name: string,
      policy: ResolvedPolicy,
      schema: RequestCache.NamespaceSchema | undefined
    ) => Kept,
    /** Whether the schema matters (only a store encodes entries). */
    private readonly stores: boolean
  ) {}

  /** A tag invalidation in this process: it wins over the loads in flight, and every entry carrying one goes. */
  invalidateTags(epochs: TagEpochs, tags: ReadonlyArray<string>): void {
    recordInvalidation(epochs, tags)
    for (const namespace of this.all.values()) namespace.unsafeInvalidateTags(tags)
  }

  get(name: string, overrides?: CachePolicy.Options<never>, schema?: RequestCache.NamespaceSchema): Kept {
    const existing = this.all.get(name)
    if (existing === undefined) checkName(name)
    if (existing !== undefined && overrides === undefined && schema === undefined) return existing
    const policy = overrides === undefined ? this.base : orThrow(resolve(this.options, overrides))
    if (existing !== undefined) {
      const samePolicyHere = samePolicy(existing.policy, policy)
      const sameSchemaHere = !this.stores ||
        sameSchema(existing instanceof StoreNamespace ? existing.schema : undefined, schema)
      if (samePolicyHere && sameSchemaHere) return existing
      const option = samePolicyHere ? "schema" : "policy"
      throw new CachePolicyError({
        option,
        reason: `namespace "${name}" is already in use with another ${option}; give each cached function its own name`
      })
    }
    const created = this.create(name, policy, this.stores ? schema : undefined)
    this.all.set(name, created)
    return created
  }

  readonly stats: Effect.Effect<CacheStats> = Effect.sync(() =>
    stats.sum(Array.from(this.all.values(), (ns) => ns.unsafeStats()))
  )

  statsFor(name: string): Effect.Effect<CacheStats> {
    return Effect.sync(() => this.all.get(name)?.unsafeStats() ?? stats.make({ capacity: this.base.capacity }))
  }

  close(): void {
    for (const ns of this.all.values()) ns.close()
  }
}

/**
 * What the namespaces of a cache share, in the current scope: its clock, randomness and the
 * `FiberSet` of its lookups and refreshes. When the scope closes, the cache is closed first (every
 * entry dropped, so that every later call fails with `CacheClosedError`, hit or miss), then every
 * fiber still running is interrupted.
 */
const makeRuntime = (namespaces: () => Namespaces): Effect.Effect<CacheRuntime, never, Scope.Scope> =>
  Effect.gen(function*() {
    const runtime: CacheRuntime = {
      clock: yield* Effect.clock,
      random: yield* Effect.random,
      fibers: yield* FiberSet.make(),
      closed: false,
      tags: makeTagEpochs()
    }
    // Added after the `FiberSet`, so it runs before the set interrupts the fibers.
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        runtime.closed = true
        namespaces().close()
      })
    )
    return runtime
  })

// -----------------------------------------------------------------------------------------------
// The in-memory cache

/** Builds the in-memory cache in the current scope; closing it interrupts every lookup. */
export const make = (
  options?: CachePolicy.Options
): Effect.Effect<RequestCache.Service, CachePolicy.CachePolicyError, Scope.Scope> =>
  Effect.gen(function*() {
    const policyOptions = options as CachePolicy.Options<never> | undefined
    const base = yield* resolve(policyOptions)
    const runtime = yield* makeRuntime(() => namespaces)
    const namespaces: Namespaces = new Namespaces(
      policyOptions,
      base,
      (name, policy) => new MemoryNamespace(name, policy, runtime),
      false
    )
    return {
      namespace: (name, overrides, schema) => namespaces.get(name, overrides, schema),
      invalidateAll: Effect.sync(() => {
        for (const ns of namespaces.all.values()) (ns as MemoryNamespace).unsafeInvalidateAll()
      }),
      invalidateTags: (tags) => Effect.sync(() => namespaces.invalidateTags(runtime.tags, Array.from(tags))),
      stats: namespaces.stats,
      statsFor: (name) => namespaces.statsFor(name)
    } satisfies RequestCache.Service
  }) as Effect.Effect<RequestCache.Service, CachePolicy.CachePolicyError, Scope.Scope>

export const layer = (options?: CachePolicy.Options): Layer.Layer<RequestCache, CachePolicy.CachePolicyError> =>
  Layer.scoped(tag, make(options))

export const layerConfig = (
  config: Config.Config<CachePolicy.Options>
): Layer.Layer<RequestCache, CachePolicy.CachePolicyError | ConfigError.ConfigError> =>
  Layer.scoped(tag, Effect.flatMap(config, make))

// -----------------------------------------------------------------------------------------------
// The cache on a store: a small in-memory first tier per namespace in front of a CacheStore

const storeDefaults = { l1Capacity: 1_000, l1TimeToLive: 5_000, lockTimeout: 5_000 } as const

/** Splits the store's own options from the policy's and validates them. */
const resolveStoreOptions = (options: RequestCache.StoreOptions | undefined) =>
  Effect.gen(function*() {
    const { l1, lockTimeout, ...policy } = options ?? {}
    if (l1 !== undefined && (typeof l1 !== "object" || l1 === null)) {
      return yield* new CachePolicyError({ option: "l1", reason: "expected an object with capacity and timeToLive" })
    }
    for (const name of Object.keys(l1 ?? {})) {
      if (name !== "capacity" && name !== "timeToLive") {
        return yield* new CachePolicyError({
          option: `l1.${name}`,
          reason: "unknown option; the options are capacity, timeToLive"
        })
      }
    }
    return {
      policy: policy as CachePolicy.Options<never>,
      l1Capacity: yield* capacityOption("l1.capacity", l1?.capacity ?? storeDefaults.l1Capacity),
      l1TimeToLive: l1?.timeToLive === undefined
        ? storeDefaults.l1TimeToLive
        : yield* durationOption("l1.timeToLive", l1.timeToLive, { zero: false, infinity: true }),
      lockTimeout: lockTimeout === undefined
        ? storeDefaults.lockTimeout
        : yield* durationOption("lockTimeout", lockTimeout, { zero: false, infinity: false })
    }
  })

const sameSchema = (
  a: RequestCache.NamespaceSchema | undefined,
  b: RequestCache.NamespaceSchema | undefined
): boolean => a === b || (a !== undefined && b !== undefined && a.success === b.success && a.failure === b.failure)

/** Builds the cache on the provided `CacheStore` in the current scope. */
export const makeStore = (
  options?: RequestCache.StoreOptions
): Effect.Effect<RequestCache.Service, CachePolicy.CachePolicyError, CacheStore | Scope.Scope> =>
  Effect.gen(function*() {
    const resolved = yield* resolveStoreOptions(options)
    const base = yield* resolve(resolved.policy)
    const id = crypto.randomUUID()
    // Invalidations that do not reach the store are kept and replayed: none is forgotten.
    const store = (yield* withOutbox(yield* CacheStore, { origin: id })).service
    const scope = yield* Effect.scope
    const logRuntime = yield* Effect.runtime<never>()
    const runtime = yield* makeRuntime(() => namespaces)
    const context = {
      runtime,
      store,
      coordination: store.coordination,
      id,
      lockTimeout: Math.ceil(resolved.lockTimeout),
      l1TimeToLive: resolved.l1TimeToLive,
      l1Capacity: resolved.l1Capacity,
      scope
    }
    const namespaces: Namespaces = new Namespaces(resolved.policy, base, (name, policy, schema) => {
      if (schema !== undefined) return new StoreNamespace(name, policy, schema, context)
      Runtime.runSync(logRuntime)(
        Effect.logInfo(
          `RequestCache: namespace "${name}" has no schema, so its entries stay in this process's memory ` +
            `and are not shared through store ${store.name}; give its cached function a \`schema\` to store them`
        )
      )
      return new MemoryNamespace(name, policy, runtime)
    }, true)
    if (store.coordination !== undefined) {
      yield* store.coordination.subscribe((event) => {
        if (event.namespace === TAG_NAMESPACE) {
          // Another process invalidated a tag: it wins over this process's loads in flight, too.
          if (event.kind === "delete" && event.key !== undefined && event.origin !== id) {
            namespaces.invalidateTags(runtime.tags, [event.key])
          }
          return
        }
        if (event.kind === "reset") {
          // The subscription was down: events may have been missed, so every first tier goes.
          for (const namespace of namespaces.all.values()) {
            if (namespace instanceof StoreNamespace) namespace.onEvent(event)
          }
          return
        }
        const namespace = namespaces.all.get(event.namespace)
        if (namespace instanceof StoreNamespace) namespace.onEvent(event)
      }).pipe(
        Effect.catchAllCause((cause) =>
          Effect.logWarning(
            `RequestCache: cannot subscribe to the events of store ${store.name}; other processes' ` +
              `changes reach this one only when its first tier expires`,
            cause
          )
        )
      )
    }
    return {
      namespace: (name, overrides, schema) => namespaces.get(name, overrides, schema),
      invalidateAll: Effect.forEach(namespaces.all.values(), (ns) => ns.invalidateAll, { discard: true }),
      invalidateTags: (tags) =>
        Effect.suspend(() => {
          const all = Array.from(tags)
          namespaces.invalidateTags(runtime.tags, all)
          const now = runtime.clock.unsafeCurrentTimeMillis()
          return Effect.flatMap(invalidateTagsInStore(store, store.coordination, id, now, all), (done) =>
            done
              ? Effect.void
              : Effect.logWarning(
                `RequestCache: the invalidation of tags ${all.join(", ")} did not reach store ${store.name} yet; ` +
                  `it is kept and replayed when the store answers`
              ))
        }),
      stats: namespaces.stats,
      statsFor: (name) => namespaces.statsFor(name)
    } satisfies RequestCache.Service
  }) as Effect.Effect<RequestCache.Service, CachePolicy.CachePolicyError, CacheStore | Scope.Scope>

export const layerStore = (
  options?: RequestCache.StoreOptions
): Layer.Layer<RequestCache, CachePolicy.CachePolicyError, CacheStore> => Layer.scoped(tag, makeStore(options))

export const layerStoreConfig = (
  config: Config.Config<RequestCache.StoreOptions>
): Layer.Layer<RequestCache, CachePolicy.CachePolicyError | ConfigError.ConfigError, CacheStore> =>
  Layer.scoped(tag, Effect.flatMap(config, makeStore))

// -----------------------------------------------------------------------------------------------
// The disabled cache: every call runs its lookup

class DisabledNamespace implements InternalNamespace {
  misses = 0
  constructor(readonly name: string) {}
  get(_key: MapKey, lookup: RequestCache.Lookup, args: ReadonlyArray<unknown>): Effect.Effect<unknown, unknown> {
    this.misses++
    return Effect.flatMap(
      lookupEffect(lookup, args) as Effect.Effect<unknown, unknown>,
      // A lookup that sets its own expiry (`get` with a time to live): its value, not stored.
      (value) => value instanceof LookupResult ? value.exit : Effect.succeed(value)
    )
  }
  unsafeGet(key: MapKey, lookup: RequestCache.Lookup, args: ReadonlyArray<unknown>): Effect.Effect<unknown, unknown> {
    return this.get(key, lookup, args)
  }
  refresh(key: MapKey, lookup: RequestCache.Lookup, args: ReadonlyArray<unknown>): Effect.Effect<unknown, unknown> {
    return this.get(key, lookup, args)
  }
  unsafeRefresh(
    key: MapKey,
    lookup: RequestCache.Lookup,
    args: ReadonlyArray<unknown>
  ): Effect.Effect<unknown, unknown> {
    return this.get(key, lookup, args)
  }
  set(): Effect.Effect<void> {
    return Effect.void
  }
  peek(): Effect.Effect<Option.Option<unknown>> {
    return Effect.succeedNone
  }
  invalidate(): Effect.Effect<boolean> {
    return Effect.succeed(false)
  }
  readonly invalidateAll: Effect.Effect<void> = Effect.void
  readonly stats: Effect.Effect<CacheStats> = Effect.sync(() => stats.make({ misses: this.misses }))
}

export const makeDisabled: Effect.Effect<RequestCache.Service> = Effect.sync(() => {
  const namespaces = new Map<string, DisabledNamespace>()
  const namespace = (name: string): RequestCache.Namespace => {
    let ns = namespaces.get(name)
    if (ns === undefined) namespaces.set(name, ns = new DisabledNamespace(name))
    return ns
  }
  return {
    namespace,
    invalidateAll: Effect.void,
    invalidateTags: () => Effect.void,
    stats: Effect.sync(() => stats.sum(Array.from(namespaces.values(), (ns) => stats.make({ misses: ns.misses })))),
    statsFor: (name) => Effect.sync(() => stats.make({ misses: namespaces.get(name)?.misses ?? 0 }))
  }
})

export const layerDisabled: Layer.Layer<RequestCache> = Layer.effect(tag, makeDisabled)

// -----------------------------------------------------------------------------------------------
// Accessors

export const get = <A, E, R>(
  name: string,
  key: unknown,
  lookup: Effect.Effect<A, E, R>,
  options?: RequestCache.EntryOptions
): Effect.Effect<A, E, R | RequestCache> => {
  const timeToLive = entryTimeToLive(options)
  const load: RequestCache.Lookup = timeToLive === undefined
    ? () => lookup
    : () => Effect.map(lookup, (value) => LookupResult.after(Exit.succeed(value), timeToLive))
  return Effect.withFiberRuntime<unknown, unknown>((fiber, status) => {
    const mapKey = toMapKey(key, "key")
    return toInternal(serviceOf(fiber).namespace(name)).unsafeGet(mapKey, load, NO_ARGS, fiber, status.runtimeFlags)
  }) as Effect.Effect<A, E, R | RequestCache>
}

export const set = (
  name: string,
  key: unknown,
  value: unknown,
  options?: RequestCache.EntryOptions
): Effect.Effect<void, never, RequestCache> => {
  const timeToLive = entryTimeToLive(options)
  return Effect.withFiberRuntime((fiber) =>
    serviceOf(fiber).namespace(name).set(toMapKey(key, "key"), value, timeToLive)
  )
}

/** An entry's own time to live in milliseconds; a bad one throws where the call is made. */
const entryTimeToLive = (options: RequestCache.EntryOptions | undefined): number | undefined => {
  if (options?.timeToLive === undefined) return undefined
  return orThrow(resolve(undefined, { timeToLive: options.timeToLive })).timeToLive
}

export const invalidate = (name: string, key: unknown): Effect.Effect<boolean, never, RequestCache> =>
  Effect.withFiberRuntime((fiber) => serviceOf(fiber).namespace(name).invalidate(toMapKey(key, "key")))

export const invalidateAll: Effect.Effect<void, never, RequestCache> = Effect.flatMap(tag, (s) => s.invalidateAll)
export const invalidateTags = (tags: Iterable<string>): Effect.Effect<void, never, RequestCache> =>
  Effect.flatMap(tag, (s) => s.invalidateTags(tags))
export const statsAll: Effect.Effect<CacheStats, never, RequestCache> = Effect.flatMap(tag, (s) => s.stats)
export const statsFor = (name: string): Effect.Effect<CacheStats, never, RequestCache> =>
  Effect.flatMap(tag, (s) => s.statsFor(name))

// -----------------------------------------------------------------------------------------------
// RequestCache.Cached functions

export const cached = <Args extends ReadonlyArray<unknown>, A, E, R, SI, FE extends E, FI>(
  options: RequestCache.CachedOptions<Args, A, E, R, SI, FE, FI>
): RequestCache.Cached<Args, A, E, R> => {
  if (typeof options?.lookup !== "function") {
    throw new CachePolicyError({ option: "lookup", reason: "expected a function returning an Effect" })
  }
  return makeCached(options, () => options.lookup as unknown as RequestCache.Lookup)
}

/** What `cached`, `cachedBatch` and `cachedRequest` share; `makeLookup` gives the namespace's lookup. */
const makeCached = <Args extends ReadonlyArray<unknown>, A, E, R>(
  options: {
    readonly name: string
    readonly key?: ((...args: Args) => unknown) | undefined
    readonly policy?: CachePolicy.Options<E, A> | undefined
    readonly schema?: RequestCache.CachedSchema<A, any, any, any> | undefined
    readonly tags?: ((value: A, ...args: Args) => ReadonlyArray<string>) | undefined
  },
  makeLookup: (namespaceOf: (fiber: AnyFiber) => InternalNamespace) => RequestCache.Lookup
): RequestCache.Cached<Args, A, E, R> => {
  const { key: keyFn, name, policy, schema, tags } = options
  checkName(name)
  if (keyFn !== undefined && typeof keyFn !== "function") {
    throw new CachePolicyError({ option: "key", reason: "expected a function of the arguments" })
  }
  if (tags !== undefined && typeof tags !== "function") {
    throw new CachePolicyError({ option: "tags", reason: "expected a function (value, ...args) => tags" })
  }
  const overrides = policy as CachePolicy.Options<never> | undefined
  if (schema !== undefined && (typeof schema !== "object" || schema === null || !("success" in schema))) {
    throw new CachePolicyError({ option: "schema", reason: "expected { success: Schema, failure?: Schema }" })
  }
  const namespaceSchema = schema as RequestCache.NamespaceSchema | undefined
  // A bad override is reported where the cached function is defined, not at its first call.
  if (overrides !== undefined) orThrow(resolve(undefined, overrides))

  // The namespace of the last service seen: one comparison on the hot path instead of a lookup.
  let lastService: RequestCache.Service | undefined
  let lastNamespace: InternalNamespace | undefined
  const namespaceOf = (fiber: AnyFiber): InternalNamespace => {
    const service = serviceOf(fiber)
    if (service !== lastService) {
      lastNamespace = toInternal(
        namespaceSchema === undefined
          ? service.namespace(name, overrides)
          : service.namespace(name, overrides, namespaceSchema)
      )
      lastService = service
    }
    return lastNamespace!
  }
  const keyOf = keyFn === undefined
    ? argumentsKey
    : (args: ReadonlyArray<unknown>) => toMapKey(keyFn(...(args as Args)), "key")
  const untagged = makeLookup(namespaceOf)
  // With tags, each result says which tags its entry carries (a batch's flights get them from it).
  const erased: RequestCache.Lookup = tags === undefined ? untagged : Object.assign(
    ((...args: Args) =>
      Effect.map(
        untagged(...(args as unknown as ReadonlyArray<never>)),
        (value) => LookupResult.tagged(Exit.succeed(value), tagsOf(tags, value, args))
      )) as unknown as RequestCache.Lookup,
    { [carriesTags]: true },
    flightBatching in untagged ? { [flightBatching]: (untagged as { [flightBatching]: unknown })[flightBatching] } : {}
  )

  const call = (...args: Args) =>
    Effect.withFiberRuntime<unknown, unknown>((fiber, status) =>
      namespaceOf(fiber).unsafeGet(keyOf(args), erased, args, fiber, status.runtimeFlags)
    )
  const withKey = <X>(f: (ns: InternalNamespace, key: MapKey) => Effect.Effect<X, unknown>) => (...args: Args) =>
    Effect.withFiberRuntime<X, unknown>((fiber) => f(namespaceOf(fiber), keyOf(args)))
  const peek = withKey((ns, key) => ns.peek(key))

  return Object.assign(call, {
    namespace: name,
    invalidate: withKey((ns, key) => ns.invalidate(key)),
    refresh: (...args: Args) =>
      Effect.withFiberRuntime<unknown, unknown>((fiber, status) =>
        namespaceOf(fiber).unsafeRefresh(keyOf(args), erased, args, fiber, status.runtimeFlags)
      ),
    set: (...argsAndValue: [...Args, A]) =>
      Effect.withFiberRuntime((fiber) => {
        const args = argsAndValue.slice(0, -1) as unknown as Args
        const value = argsAndValue[argsAndValue.length - 1]
        return namespaceOf(fiber).set(
          keyOf(args),
          value,
          undefined,
          tags === undefined ? undefined : tagsOf(tags, value, args)
        )
      }),
    peek,
    // Calls from many fibers at once: a batch function's misses go to one batch.
    getMany: (keys: Iterable<unknown>) =>
      Effect.forEach(keys, (key) => call(...([key] as unknown as Args)), { concurrency: "unbounded" }),
    warmup: (
      argumentLists: Iterable<Args>,
      warmupOptions?: { readonly concurrency?: number | "unbounded" | undefined }
    ) =>
      Effect.map(
        Effect.forEach(
          argumentLists,
          (args) =>
            Effect.flatMap(peek(...args), (cachedValue) =>
              Option.isSome(cachedValue)
                ? Effect.succeed(0)
                : Effect.match(call(...args), { onFailure: () => 0, onSuccess: () => 1 })),
          { concurrency: warmupOptions?.concurrency ?? "unbounded" }
        ),
        (loaded) => loaded.reduce((a, b) => a + b, 0)
      ),
    invalidateAll: Effect.withFiberRuntime((fiber) => namespaceOf(fiber).invalidateAll),
    stats: Effect.withFiberRuntime((fiber) => namespaceOf(fiber).stats)
  }) as unknown as RequestCache.Cached<Args, A, E, R>
}

// -----------------------------------------------------------------------------------------------
// Batched functions

/** `window` and `maxBatchSize`, checked where the function is defined. */
const batchOptions = (options: {
  readonly window?: Duration.DurationInput | undefined
  readonly maxBatchSize?: number | undefined
}): { readonly window: number | undefined; readonly maxBatchSize: number } => {
  const window = options.window === undefined
    ? undefined
    : orThrowOption(durationOption("window", options.window, { zero: true, infinity: false }))
  const maxBatchSize = options.maxBatchSize ?? Infinity
  if (
    typeof maxBatchSize !== "number" ||
    !(maxBatchSize === Infinity || (Number.isSafeInteger(maxBatchSize) && maxBatchSize >= 1))
  ) {
    throw new CachePolicyError({
      option: "maxBatchSize",
      reason: `expected a positive integer or Infinity, got ${String(maxBatchSize)}`
    })
  }
  return { window, maxBatchSize }
}

const orThrowOption = <A>(either: Either.Either<A, CachePolicyError>): A => {
  if (Either.isLeft(either)) throw either.left
  return either.right
}

/**
 * A namespace's lookup through a batcher: one batcher per namespace (per layer), so that a batch
 * holds the keys of one cache and is counted in its stats.
 */
const batchedLookup = (
  name: string,
  lookupMany: LookupMany,
  options: ReturnType<typeof batchOptions>,
  tags: ((value: never, key: never) => ReadonlyArray<string>) | undefined
) =>
(namespaceOf: (fiber: AnyFiber) => InternalNamespace): RequestCache.Lookup => {
  const batcherOptions = { name, lookupMany, window: options.window, maxBatchSize: options.maxBatchSize }
  const batchers = new WeakMap<InternalNamespace, (arg: unknown) => Effect.Effect<unknown, unknown>>()
  const batcherOf = (namespace: InternalNamespace) => {
    let batcher = batchers.get(namespace)
    if (batcher === undefined) {
      const counters = (namespace as { readonly counters?: NamespaceCounters }).counters
      batcher = makeBatcher(batcherOptions, (keys) => counters?.batched(keys))
      batchers.set(namespace, batcher)
    }
    return batcher
  }
  // A key's lookup through the batcher (one fiber per key: stores, refreshes, alternative layers);
  // an in-memory namespace loads its misses through `flightBatching` instead, with no fiber per key.
  const lookup =
    ((arg: unknown) =>
      Effect.withFiberRuntime<unknown, unknown>((fiber) => batcherOf(namespaceOf(fiber))(arg))) as RequestCache.Lookup
  return Object.assign(lookup, {
    [flightBatching]: makeFlightBatching(
      batcherOptions,
      tags as ((value: unknown, key: unknown) => ReadonlyArray<string>) | undefined
    )
  })
}

export const cachedBatch = <K, A, E, R, SI, FE extends E, FI>(
  options: RequestCache.CachedBatchOptions<K, A, E, R, SI, FE, FI>
): RequestCache.Cached<[key: K], A, E, R> => {
  if (typeof options?.lookupMany !== "function") {
    throw new CachePolicyError({ option: "lookupMany", reason: "expected a function of the keys returning an Effect" })
  }
  const lookupMany = ofValues(
    options.lookupMany as unknown as (
      args: readonly [unknown, ...Array<unknown>]
    ) => Effect.Effect<ReadonlyArray<unknown>, unknown, unknown>
  )
  return makeCached<[key: K], A, E, R>(
    options,
    batchedLookup(options.name, lookupMany, batchOptions(options), options.tags as never)
  )
}

export const cachedRequest = <Req extends Request.Request<any, any>, R>(
  options: RequestCache.CachedRequestOptions<Req, R>
): RequestCache.Cached<[request: Req], Request.Request.Success<Req>, Request.Request.Error<Req>, R> => {
  const resolver = options?.resolver as unknown as RequestResolver.RequestResolver<Req, never>
  if (!RequestResolver.isRequestResolver(resolver)) {
    throw new CachePolicyError({ option: "resolver", reason: "expected a RequestResolver" })
  }
  // The requests of a batch in one `forEach` with batching: Effect hands them to the resolver together.
  const lookupMany: LookupMany = (requests) =>
    Effect.forEach(requests, (request) => Effect.exit(Effect.request(request as Req, resolver)), {
      batching: true,
      concurrency: "unbounded"
    })
  return makeCached<[request: Req], Request.Request.Success<Req>, Request.Request.Error<Req>, R>(
    options,
    batchedLookup(options.name, lookupMany, batchOptions(options), undefined)
  )
}
