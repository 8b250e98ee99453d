import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as RuntimeFlags from "effect/RuntimeFlags"
import type { BatchLoadFn, Loader, LoaderOptions } from "../Promise.js"
import { type MapKey, toMapKey } from "./cacheKey.js"
import { CachedFailure, EXPIRED, type Found, FRESH, LOADING, MISSING, STALE } from "./memoryNamespace.js"
import { durationOption } from "./options.js"
import { type BatchFunction, PromiseBatcher } from "./promiseBatch.js"
import { CacheOptionError, policyOf, policyOptions, PromiseCore } from "./promiseCore.js"

const known = [...policyOptions, "maxBatchSize", "batchWindow", "cacheKeyFn"]

/** A loader's own options, checked where it is made. */
const loaderOptions = (options: LoaderOptions<never> | undefined) => {
  const { batchWindow, cacheKeyFn, maxBatchSize = Infinity } = options ?? {}
  if (
    typeof maxBatchSize !== "number" ||
    !(maxBatchSize === Infinity || (Number.isSafeInteger(maxBatchSize) && maxBatchSize >= 1))
  ) {
    throw new CacheOptionError("maxBatchSize", `expected a positive integer or Infinity, got ${String(maxBatchSize)}`)
  }
  let window: number | undefined
  if (batchWindow !== undefined) {
    const ms = durationOption("batchWindow", batchWindow, { zero: true, infinity: false })
    if (Either.isLeft(ms)) throw new CacheOptionError("batchWindow", ms.left.reason)
    window = ms.right
  }
  if (cacheKeyFn !== undefined && typeof cacheKeyFn !== "function") {
    throw new CacheOptionError("cacheKeyFn", `expected a function of the key, got ${String(cacheKeyFn)}`)
  }
  return { maxBatchSize, window, cacheKeyFn: cacheKeyFn as ((key: unknown) => unknown) | undefined }
}

/** @internal */
export const createLoader = <K, V>(batchFn: BatchLoadFn<K, V>, options?: LoaderOptions<K>): Loader<K, V> => {
  if (typeof batchFn !== "function") {
    throw new CacheOptionError(
      "batchFn",
      `expected a function from an array of keys to an array of values (or a promise of one), got ${String(batchFn)}`
    )
  }
  const erased = options as LoaderOptions<never> | undefined
  const { cacheKeyFn, maxBatchSize, window } = loaderOptions(erased)
  const name = (options?.name as string | undefined) ?? (batchFn.name.length > 0 ? batchFn.name : "loader")
  const core = new PromiseCore(name, policyOf(erased, known, 1_000))
  const { namespace, settled } = core
  const counters = namespace.counters
  const batchFunction = batchFn as unknown as BatchFunction

  const keyOf = (key: unknown): MapKey =>
    cacheKeyFn === undefined ? toMapKey(key, "key") : toMapKey(cacheKeyFn.call(loader, key), "cacheKeyFn(key)")

  /** Anything but a fresh hit. */
  const loadFound = (found: Found, mapKey: MapKey, key: unknown): Promise<unknown> => {
    switch (found) {
      case LOADING: {
        counters.joined()
        return core.awaited(namespace.join())
      }
      case STALE: {
        counters.staleHit()
        return settled(namespace.serveStale(mapKey, refresh, [key], undefined, RuntimeFlags.none))
      }
      default: {
        counters.miss()
        return batcher.load(batcher.collect(batchFunction), found, mapKey, key)
      }
    }
  }

  /** The hot path: a hit is served here, with no Effect and no fiber, and allocates nothing. */
  const load = (key: K): Promise<V> => {
    if (key === null || key === undefined) {
      return Promise.reject(new TypeError(`createLoader "${name}": load() needs a key, got ${String(key)}`))
    }
    let mapKey: MapKey
    try {
      mapKey = keyOf(key)
    } catch (error) {
      return Promise.reject(error)
    }
    const found = namespace.find(mapKey)
    if (found === FRESH) {
      counters.hit()
      return namespace.hitPromise(settled) as Promise<V>
    }
    return loadFound(found, mapKey, key) as Promise<V>
  }

  const loadMany = (keys: ReadonlyArray<K>): Promise<Array<V | Error>> => {
    if (typeof keys !== "object" || keys === null) {
      return Promise.reject(
        new TypeError(`createLoader "${name}": loadMany() needs an array of keys, got ${String(keys)}`)
      )
    }
    return Promise.all(Array.from(keys, (key) => load(key).catch((error: Error) => error)))
  }

  /** The value or cached failure that `prime` stores, for the policy's time to live. */
  const store = (mapKey: MapKey, value: unknown): void => {
    const entry = value instanceof Error ? new CachedFailure(Exit.fail(value)) : value
    const ttl = value instanceof Error ? core.policy.errorTimeToLive : undefined
    Effect.runSync(namespace.set(mapKey, entry, ttl))
  }

  const loader: Loader<K, V> = {
    name,
    load,
    loadMany,
    prime: (key, value) => {
      const mapKey = keyOf(key)
      const found = namespace.find(mapKey)
      // A key that holds something (fresh, stale or loading) keeps it, as DataLoader's does.
      if (found !== MISSING && found !== EXPIRED) return loader
      if (isThenable(value)) {
        const flight = namespace.pending(found, mapKey)
        value.then(
          (resolved) => flight.settle(Exit.succeed(resolved)),
          (error) => flight.settle(Exit.fail(error))
        )
      } else {
        store(mapKey, value)
      }
      return loader
    },
    clear: (key) => {
      namespace.unsafeInvalidate(keyOf(key))
      return loader
    },
    clearAll: () => {
      namespace.unsafeInvalidateAll()
      return loader
    },
    cacheStats: () => namespace.unsafeStats()
  }
  const batcher = new PromiseBatcher(core, {
    label: `createLoader "${name}"`,
    thisArg: loader,
    maxBatchSize,
    window
  })
  const refresh = batcher.refresh(batchFunction, true)
  return loader
}

const isThenable = (u: unknown): u is PromiseLike<unknown> =>
  typeof u === "object" && u !== null && typeof (u as { readonly then?: unknown }).then === "function"
