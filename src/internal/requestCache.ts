import type * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Runtime from "effect/Runtime"
import type * as Scope from "effect/Scope"
import type * as CachePolicy from "../CachePolicy.js"
import type { CacheStats } from "../CacheStats.js"
import { CacheStore } from "../CacheStore.js"
import type {
  Cached,
  CachedOptions,
  EntryOptions,
  Lookup,
  Namespace,
  NamespaceSchema,
  RequestCache,
  Service,
  StoreOptions
} from "../RequestCache.js"
import { argumentsKey, type MapKey, toMapKey } from "./cacheKey.js"
import { type CacheHost, MemoryNamespace, Timed } from "./memoryNamespace.js"
import { withOutbox } from "./outbox.js"
import { CachePolicyError, resolve, type ResolvedPolicy, samePolicy } from "./policy.js"
import * as stats from "./stats.js"
import { StoreNamespace } from "./storeNamespace.js"

/** The service's key in a `Context` (the tag class in `RequestCache.ts` uses the same). */
export const TypeId = "effect-request-cache/RequestCache"

/** The tag, for the accessors here; equal by key to the public class. */
export const tag = Context.GenericTag<RequestCache, Service>(TypeId)

type AnyFiber = Fiber.RuntimeFiber<unknown, unknown>
const NO_ARGS: ReadonlyArray<never> = []

const serviceOf = (fiber: AnyFiber): Service => {
  const service = fiber.currentContext.unsafeMap.get(TypeId) as Service | undefined
  if (service === undefined) {
    throw new Error("RequestCache is not provided: provide RequestCache.layer(...) (or layerDisabled)")
  }
  return service
}

// -----------------------------------------------------------------------------------------------
// The in-memory cache

/** Builds the in-memory cache in the current scope; closing it interrupts every lookup. */
export const make = (
  options?: CachePolicy.Options
): Effect.Effect<Service, CachePolicy.CachePolicyError, Scope.Scope> =>
  Effect.gen(function*() {
    const base = yield* resolve(options as CachePolicy.Options<never>)
    const host: CacheHost = {
      clock: yield* Effect.clock,
      random: yield* Effect.random,
      running: new Set(),
      closed: false
    }
    const namespaces = new Map<string, MemoryNamespace>()
    yield* Effect.addFinalizer(() =>
      Effect.suspend(() => {
        host.closed = true
        return Fiber.interruptAll(Array.from(host.running))
      })
    )
    const namespace = (name: string, overrides?: CachePolicy.Options<never>): Namespace => {
      const existing = namespaces.get(name)
      if (existing !== undefined && overrides === undefined) return existing
      const policy = overrides === undefined ? base : orThrow(resolve(options as CachePolicy.Options<never>, overrides))
      if (existing !== undefined) {
        if (samePolicy(existing.policy, policy)) return existing
        throw new CachePolicyError({
          option: "policy",
          reason: `namespace "${name}" is already in use with another policy; give each cached function its own name`
        })
      }
      const created = new MemoryNamespace(name, policy, host)
      namespaces.set(name, created)
      return created
    }
    return {
      namespace,
      invalidateAll: Effect.sync(() => {
        for (const ns of namespaces.values()) ns.unsafeInvalidateAll()
      }),
      stats: Effect.sync(() => stats.sum(Array.from(namespaces.values(), (ns) => ns.unsafeStats()))),
      statsFor: (name) =>
        Effect.sync(() => namespaces.get(name)?.unsafeStats() ?? stats.make({ capacity: base.capacity }))
    } satisfies Service
  }) as Effect.Effect<Service, CachePolicy.CachePolicyError, Scope.Scope>

const orThrow = (policy: Either.Either<ResolvedPolicy, CachePolicyError>): ResolvedPolicy => {
  if (Either.isLeft(policy)) throw policy.left
  return policy.right
}

export const layer = (options?: CachePolicy.Options): Layer.Layer<RequestCache, CachePolicy.CachePolicyError> =>
  Layer.scoped(tag, make(options))

export const layerConfig = (
  config: Config.Config<CachePolicy.Options>
): Layer.Layer<RequestCache, CachePolicy.CachePolicyError | ConfigError.ConfigError> =>
  Layer.scoped(tag, Effect.flatMap(config, make))

// -----------------------------------------------------------------------------------------------
// The cache on a store: a small in-memory first tier per namespace in front of a CacheStore

const storeDefaults = { l1Capacity: 1_000, l1TimeToLive: 5_000, lockTimeout: 5_000 } as const

const storeOptionError = (option: string, reason: string) => new CachePolicyError({ option, reason })

const storeMillis = (option: string, input: unknown, fallback: number, allowInfinity: boolean) => {
  if (input === undefined) return Effect.succeed(fallback)
  const resolved = resolve(undefined, { timeToLive: input as Duration.DurationInput })
  if (Either.isLeft(resolved)) return Effect.fail(storeOptionError(option, resolved.left.reason))
  const ms = resolved.right.timeToLive
  if (ms === 0) return Effect.fail(storeOptionError(option, "must be more than zero"))
  if (!allowInfinity && ms === Infinity) return Effect.fail(storeOptionError(option, "must be finite"))
  return Effect.succeed(ms)
}

/** Splits the store's own options from the policy's and validates them. */
const resolveStoreOptions = (options: StoreOptions | undefined) =>
  Effect.gen(function*() {
    const { l1, lockTimeout, ...policy } = options ?? {}
    if (l1 !== undefined && (typeof l1 !== "object" || l1 === null)) {
      return yield* Effect.fail(storeOptionError("l1", "expected an object with capacity and timeToLive"))
    }
    for (const name of Object.keys(l1 ?? {})) {
      if (name !== "capacity" && name !== "timeToLive") {
        return yield* Effect.fail(
          storeOptionError(`l1.${name}`, "unknown option; the options are capacity, timeToLive")
        )
      }
    }
    const l1Capacity = l1?.capacity ?? storeDefaults.l1Capacity
    const capacity = resolve(undefined, { capacity: l1Capacity })
    if (Either.isLeft(capacity)) return yield* Effect.fail(storeOptionError("l1.capacity", capacity.left.reason))
    return {
      policy: policy as CachePolicy.Options<never>,
      l1Capacity,
      l1TimeToLive: yield* storeMillis("l1.timeToLive", l1?.timeToLive, storeDefaults.l1TimeToLive, true),
      lockTimeout: yield* storeMillis("lockTimeout", lockTimeout, storeDefaults.lockTimeout, false)
    }
  })

/** An id for this cache instance: unique across processes (the owner of its locks). */
const instanceId = (): string =>
  typeof globalThis.crypto?.randomUUID === "function"
    ? globalThis.crypto.randomUUID()
    : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}-${Math.random().toString(36).slice(2)}`

const sameSchema = (a: NamespaceSchema | undefined, b: NamespaceSchema | undefined): boolean =>
  a === b || (a !== undefined && b !== undefined && a.success === b.success && a.failure === b.failure)

/** Builds the cache on the provided `CacheStore` in the current scope. */
export const makeStore = (
  options?: StoreOptions
): Effect.Effect<Service, CachePolicy.CachePolicyError, CacheStore | Scope.Scope> =>
  Effect.gen(function*() {
    const resolved = yield* resolveStoreOptions(options)
    const base = yield* resolve(resolved.policy)
    const id = instanceId()
    // Invalidations that do not reach the store are kept and replayed: none is forgotten.
    const store = (yield* withOutbox(yield* CacheStore, { origin: id })).service
    const scope = yield* Effect.scope
    const runtime = yield* Effect.runtime<never>()
    const host: CacheHost = {
      clock: yield* Effect.clock,
      random: yield* Effect.random,
      running: new Set(),
      closed: false
    }
    const context = {
      host,
      store,
      coordination: store.coordination,
      id,
      lockTimeout: Math.ceil(resolved.lockTimeout),
      l1TimeToLive: resolved.l1TimeToLive,
      l1Capacity: resolved.l1Capacity,
      scope
    }
    const namespaces = new Map<string, MemoryNamespace | StoreNamespace>()
    yield* Effect.addFinalizer(() =>
      Effect.suspend(() => {
        host.closed = true
        return Fiber.interruptAll(Array.from(host.running))
      })
    )
    if (store.coordination !== undefined) {
      yield* store.coordination.subscribe((event) => {
        if (event.kind === "reset") {
          // The subscription was down: events may have been missed, so every first tier goes.
          for (const namespace of namespaces.values()) if (namespace instanceof StoreNamespace) namespace.onEvent(event)
          return
        }
        const namespace = namespaces.get(event.namespace)
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
    const namespace = (name: string, overrides?: CachePolicy.Options<never>, schema?: NamespaceSchema): Namespace => {
      const existing = namespaces.get(name)
      if (existing !== undefined && overrides === undefined && schema === undefined) return existing
      const policy = overrides === undefined ? base : orThrow(resolve(resolved.policy, overrides))
      if (existing !== undefined) {
        const existingSchema = existing instanceof StoreNamespace ? existing.schema : undefined
        if (samePolicy(existing.policy, policy) && sameSchema(existingSchema, schema)) return existing
        throw new CachePolicyError({
          option: samePolicy(existing.policy, policy) ? "schema" : "policy",
          reason: `namespace "${name}" is already in use with another ${
            samePolicy(existing.policy, policy) ? "schema" : "policy"
          }; give each cached function its own name`
        })
      }
      let created: MemoryNamespace | StoreNamespace
      if (schema === undefined) {
        created = new MemoryNamespace(name, policy, host)
        Runtime.runSync(runtime)(
          Effect.logInfo(
            `RequestCache: namespace "${name}" has no schema, so its entries stay in this process's memory ` +
              `and are not shared through store ${store.name}; give its cached function a \`schema\` to store them`
          )
        )
      } else {
        created = new StoreNamespace(name, policy, schema, context)
      }
      namespaces.set(name, created)
      return created
    }
    return {
      namespace,
      invalidateAll: Effect.forEach(namespaces.values(), (ns) => ns.invalidateAll, { discard: true }),
      stats: Effect.sync(() => stats.sum(Array.from(namespaces.values(), (ns) => ns.unsafeStats()))),
      statsFor: (name) =>
        Effect.sync(() => namespaces.get(name)?.unsafeStats() ?? stats.make({ capacity: base.capacity }))
    } satisfies Service
  }) as Effect.Effect<Service, CachePolicy.CachePolicyError, CacheStore | Scope.Scope>

export const layerStore = (
  options?: StoreOptions
): Layer.Layer<RequestCache, CachePolicy.CachePolicyError, CacheStore> => Layer.scoped(tag, makeStore(options))

export const layerStoreConfig = (
  config: Config.Config<StoreOptions>
): Layer.Layer<RequestCache, CachePolicy.CachePolicyError | ConfigError.ConfigError, CacheStore> =>
  Layer.scoped(tag, Effect.flatMap(config, makeStore))

// -----------------------------------------------------------------------------------------------
// The disabled cache: every call runs its lookup

class DisabledNamespace implements Namespace {
  misses = 0
  constructor(readonly name: string) {}
  get(_key: MapKey, lookup: Lookup, args: ReadonlyArray<unknown>): Effect.Effect<unknown, unknown> {
    this.misses++
    return Effect.flatMap(
      lookup(...(args as ReadonlyArray<never>)) as Effect.Effect<unknown, unknown>,
      // A lookup that sets its own expiry (`get` with a time to live): its value, not stored.
      (value) => value instanceof Timed ? value.exit : Effect.succeed(value)
    )
  }
  refresh(key: MapKey, lookup: Lookup, args: ReadonlyArray<unknown>): Effect.Effect<unknown, unknown> {
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

export const makeDisabled: Effect.Effect<Service> = Effect.sync(() => {
  const namespaces = new Map<string, DisabledNamespace>()
  const namespace = (name: string): Namespace => {
    let ns = namespaces.get(name)
    if (ns === undefined) namespaces.set(name, ns = new DisabledNamespace(name))
    return ns
  }
  return {
    namespace,
    invalidateAll: Effect.void,
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
  options?: EntryOptions
): Effect.Effect<A, E, R | RequestCache> => {
  const timeToLive = entryTimeToLive(options)
  const load: Lookup = timeToLive === undefined
    ? () => lookup
    : () => Effect.map(lookup, (value) => new Timed(Exit.succeed(value), timeToLive, false))
  return Effect.withFiberRuntime<unknown, unknown>((fiber) => {
    const mapKey = toMapKey(key, "key")
    return serviceOf(fiber).namespace(name).get(mapKey, load, NO_ARGS, fiber)
  }) as Effect.Effect<A, E, R | RequestCache>
}

export const set = (
  name: string,
  key: unknown,
  value: unknown,
  options?: EntryOptions
): Effect.Effect<void, never, RequestCache> => {
  const timeToLive = entryTimeToLive(options)
  return Effect.withFiberRuntime((fiber) =>
    serviceOf(fiber).namespace(name).set(toMapKey(key, "key"), value, timeToLive)
  )
}

/** An entry's own time to live in milliseconds; a bad one throws where the call is made. */
const entryTimeToLive = (options: EntryOptions | undefined): number | undefined => {
  if (options?.timeToLive === undefined) return undefined
  return orThrow(resolve(undefined, { timeToLive: options.timeToLive })).timeToLive
}

export const invalidate = (name: string, key: unknown): Effect.Effect<boolean, never, RequestCache> =>
  Effect.withFiberRuntime((fiber) => serviceOf(fiber).namespace(name).invalidate(toMapKey(key, "key")))

export const invalidateAll: Effect.Effect<void, never, RequestCache> = Effect.flatMap(tag, (s) => s.invalidateAll)
export const statsAll: Effect.Effect<CacheStats, never, RequestCache> = Effect.flatMap(tag, (s) => s.stats)
export const statsFor = (name: string): Effect.Effect<CacheStats, never, RequestCache> =>
  Effect.flatMap(tag, (s) => s.statsFor(name))

// -----------------------------------------------------------------------------------------------
// Cached functions

export const cached = <Args extends ReadonlyArray<unknown>, A, E, R, SI, FE extends E, FI>(
  options: CachedOptions<Args, A, E, R, SI, FE, FI>
): Cached<Args, A, E, R> => {
  const { key: keyFn, lookup, name, policy, schema } = options
  if (typeof name !== "string" || name.length === 0) {
    throw new CachePolicyError({ option: "name", reason: "expected a non-empty string naming the namespace" })
  }
  if (typeof lookup !== "function") {
    throw new CachePolicyError({ option: "lookup", reason: "expected a function returning an Effect" })
  }
  if (keyFn !== undefined && typeof keyFn !== "function") {
    throw new CachePolicyError({ option: "key", reason: "expected a function of the arguments" })
  }
  const overrides = policy as CachePolicy.Options<never> | undefined
  if (schema !== undefined && (typeof schema !== "object" || schema === null || !("success" in schema))) {
    throw new CachePolicyError({ option: "schema", reason: "expected { success: Schema, failure?: Schema }" })
  }
  const namespaceSchema = schema as NamespaceSchema | undefined
  // A bad override is reported where the cached function is defined, not at its first call.
  if (overrides !== undefined) orThrow(resolve(undefined, overrides))

  // The namespace of the last service seen: one comparison on the hot path instead of a lookup.
  let lastService: Service | undefined
  let lastNamespace: Namespace | undefined
  const namespaceOf = (fiber: AnyFiber): Namespace => {
    const service = serviceOf(fiber)
    if (service !== lastService) {
      lastNamespace = namespaceSchema === undefined
        ? service.namespace(name, overrides)
        : service.namespace(name, overrides, namespaceSchema)
      lastService = service
    }
    return lastNamespace!
  }
  const keyOf = keyFn === undefined
    ? argumentsKey
    : (args: ReadonlyArray<unknown>) => toMapKey(keyFn(...(args as Args)), "key")
  const erased = lookup as unknown as Lookup

  const call = (...args: Args) =>
    Effect.withFiberRuntime<unknown, unknown>((fiber) => namespaceOf(fiber).get(keyOf(args), erased, args, fiber))
  const withKey =
    <X>(f: (ns: Namespace, key: MapKey, fiber: AnyFiber) => Effect.Effect<X, unknown>) => (...args: Args) =>
      Effect.withFiberRuntime<X, unknown>((fiber) => f(namespaceOf(fiber), keyOf(args), fiber))

  return Object.assign(call, {
    namespace: name,
    invalidate: withKey((ns, key) => ns.invalidate(key)),
    refresh: (...args: Args) =>
      Effect.withFiberRuntime<unknown, unknown>((fiber) =>
        namespaceOf(fiber).refresh(keyOf(args), erased, args, fiber)
      ),
    set: (...argsAndValue: [...Args, A]) =>
      Effect.withFiberRuntime((fiber) => {
        const args = argsAndValue.slice(0, -1)
        return namespaceOf(fiber).set(keyOf(args), argsAndValue[argsAndValue.length - 1])
      }),
    peek: withKey((ns, key) => ns.peek(key)),
    invalidateAll: Effect.withFiberRuntime((fiber) => namespaceOf(fiber).invalidateAll),
    stats: Effect.withFiberRuntime((fiber) => namespaceOf(fiber).stats)
  }) as unknown as Cached<Args, A, E, R>
}
