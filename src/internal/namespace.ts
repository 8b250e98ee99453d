import type * as Clock from "effect/Clock"
import type * as Effect from "effect/Effect"
import type * as Fiber from "effect/Fiber"
import type * as FiberSet from "effect/FiberSet"
import type * as Random from "effect/Random"
import type * as RuntimeFlags from "effect/RuntimeFlags"
import type { RequestCache } from "../RequestCache.js"
import type { MapKey } from "./cacheKey.js"
import type { TagEpochs } from "./tags.js"

/** What every namespace of one cache shares: its time, its randomness, its running fibers. */
export interface CacheRuntime {
  readonly clock: Clock.Clock
  readonly random: Random.Random
  /** Lookup and refresh fibers still running; interrupted when the cache closes. */
  readonly fibers: FiberSet.FiberSet<unknown, unknown>
  /** The layer's scope has closed (or `cacheClose()` was called): every call fails. */
  closed: boolean
  /** The tag invalidations, so that they win over the loads in flight. */
  readonly tags: TagEpochs
}

/**
 * A namespace as this library's layers implement it: the public contract, plus the calls that
 * `cached` makes with the caller's fiber and flags already in hand (so that a hit takes one
 * `withFiberRuntime` step, not two).
 */
export interface InternalNamespace extends RequestCache.Namespace {
  readonly unsafeGet: (
    key: MapKey,
    lookup: RequestCache.Lookup,
    args: ReadonlyArray<unknown>,
    caller: Fiber.RuntimeFiber<unknown, unknown>,
    flags: RuntimeFlags.RuntimeFlags
  ) => Effect.Effect<unknown, unknown>
  readonly unsafeRefresh: InternalNamespace["unsafeGet"]
}

/** A namespace of an alternative layer, seen through the internal contract. */
export const toInternal = (namespace: RequestCache.Namespace): InternalNamespace =>
  "unsafeGet" in namespace ? namespace as InternalNamespace : {
    ...namespace,
    unsafeGet: (key, lookup, args) => namespace.get(key, lookup, args),
    unsafeRefresh: (key, lookup, args) => namespace.refresh(key, lookup, args)
  }
