import type * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import type { CacheStats } from "../CacheStats.js"
import type * as CachePolicy from "../CachePolicy.js"
import type { Cached, CachedOptions, EntryOptions, Lookup, Namespace, RequestCache, Service } from "../RequestCache.js"
import { argumentsKey, type MapKey, toMapKey } from "./cacheKey.js"
import { type CacheHost, MemoryNamespace, Timed } from "./memoryNamespace.js"
import { CachePolicyError, resolve, type ResolvedPolicy, samePolicy } from "./policy.js"
import * as stats from "./stats.js"

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

export const cached = <Args extends ReadonlyArray<unknown>, A, E, R>(
  options: CachedOptions<Args, A, E, R>
): Cached<Args, A, E, R> => {
  const { key: keyFn, lookup, name, policy } = options
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
  // A bad override is reported where the cached function is defined, not at its first call.
  if (overrides !== undefined) orThrow(resolve(undefined, overrides))

  // The namespace of the last service seen: one comparison on the hot path instead of a lookup.
  let lastService: Service | undefined
  let lastNamespace: Namespace | undefined
  const namespaceOf = (fiber: AnyFiber): Namespace => {
    const service = serviceOf(fiber)
    if (service !== lastService) {
      lastNamespace = service.namespace(name, overrides)
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
  const withKey = <X>(f: (ns: Namespace, key: MapKey, fiber: AnyFiber) => Effect.Effect<X, unknown>) =>
  (...args: Args) => Effect.withFiberRuntime<X, unknown>((fiber) => f(namespaceOf(fiber), keyOf(args), fiber))

  return Object.assign(call, {
    namespace: name,
    invalidate: withKey((ns, key) => ns.invalidate(key)),
    refresh: (...args: Args) =>
      Effect.withFiberRuntime<unknown, unknown>((fiber) => namespaceOf(fiber).refresh(keyOf(args), erased, args, fiber)),
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
