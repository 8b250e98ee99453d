import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as RuntimeFlags from "effect/RuntimeFlags"
import type { AsyncCache, AsyncCacheMetrics, AsyncCacheOptions } from "../Promise.js"
import type { RequestCache } from "../RequestCache.js"
import { type MapKey, toMapKey } from "./cacheKey.js"
import { LookupResult } from "./expiry.js"
import { FRESH, LOADING, STALE } from "./memoryNamespace.js"
import { type BatchFunction, PromiseBatcher } from "./promiseBatch.js"
import { CacheOptionError, entryTtl, policyOf, policyOptions, PromiseCore } from "./promiseCore.js"

type Loader = () => unknown

/**
 * A key's lookup from the loader of the call that missed: its value, with the call's own time to
 * live when it gave one (`LookupResult`), or its rejection as a typed failure.
 */
const loaderLookup: RequestCache.Lookup =
  ((loader: Loader, ttl: number | undefined) =>
    Effect.async<unknown, unknown>((resume) => {
      let result: unknown
      try {
        result = loader()
      } catch (error) {
        // A loader that throws instead of rejecting fails the same way.
        return resume(Exit.fail(error))
      }
      Promise.resolve(result).then(
        (value) => resume(Exit.succeed(ttl === undefined ? value : LookupResult.after(Exit.succeed(value), ttl))),
        (error) => resume(Exit.fail(error))
      )
    })) as RequestCache.Lookup

const notAFunction = (what: string, got: unknown) =>
  Promise.reject(new TypeError(`${what} must be a function, got ${typeof got}`))

/** @internal */
export const createCache = <K = unknown, V = unknown>(options?: AsyncCacheOptions): AsyncCache<K, V> => {
  const name = (options?.name as string | undefined) ?? "cache"
  const core = new PromiseCore(name, policyOf(options, policyOptions, 128))
  const { namespace, runtime, settled } = core
  const counters = namespace.counters
  const batcher = new PromiseBatcher(core, {
    label: `createCache "${name}" getMany`,
    thisArg: undefined,
    maxBatchSize: Infinity,
    window: undefined
  })

  const keyOf = (key: unknown, root = "key"): MapKey => toMapKey(key, root)

  /** The hot path: a hit is served here, with no Effect and no fiber, and allocates nothing. */
  const get = (key: unknown, loader: Loader, callOptions?: { readonly ttl?: unknown }): Promise<unknown> => {
    if (runtime.closed) return core.closed()
    if (typeof loader !== "function") return notAFunction("get's loader", loader)
    let mapKey: MapKey
    try {
      mapKey = keyOf(key)
    } catch (error) {
      return Promise.reject(error)
    }
    const found = namespace.find(mapKey)
    if (found === FRESH) {
      counters.hit()
      return namespace.hitPromise(settled)
    }
    if (found === LOADING) {
      counters.joined()
      return core.awaited(namespace.join())
    }
    let ttl: number | undefined
    try {
      ttl = entryTtl(callOptions)
    } catch (error) {
      return Promise.reject(error)
    }
    if (found === STALE) {
      counters.staleHit()
      return settled(namespace.serveStale(mapKey, loaderLookup, [loader, ttl], undefined, RuntimeFlags.none))
    }
    counters.miss()
    return core.awaited(namespace.load(found, mapKey, loaderLookup, [loader, ttl], undefined, RuntimeFlags.none))
  }

  const getMany = (keys: Iterable<unknown>, loadMany: BatchFunction): Promise<Array<unknown>> => {
    if (runtime.closed) return core.closed()
    if (typeof loadMany !== "function") return notAFunction("getMany's loadMany", loadMany)
    let list: Array<unknown>
    const mapKeys: Array<MapKey> = []
    try {
      list = Array.from(keys)
      for (let i = 0; i < list.length; i++) mapKeys.push(keyOf(list[i], `key ${i + 1}`))
    } catch (error) {
      return Promise.reject(error)
    }
    const promises: Array<Promise<unknown>> = []
    let batch: ReturnType<PromiseBatcher["batch"]> | undefined
    let refresh: RequestCache.Lookup | undefined
    for (let i = 0; i < list.length; i++) {
      const mapKey = mapKeys[i]!
      const found = namespace.find(mapKey)
      switch (found) {
        case FRESH: {
          counters.hit()
          promises.push(namespace.hitPromise(settled))
          break
        }
        case LOADING: {
          counters.joined()
          promises.push(core.awaited(namespace.join()))
          break
        }
        case STALE: {
          counters.staleHit()
          refresh ??= refreshOne(loadMany)
          promises.push(settled(namespace.serveStale(mapKey, refresh, [list[i]], undefined, RuntimeFlags.none)))
          break
        }
        default: {
          counters.miss()
          promises.push(batcher.load(batch ??= batcher.batch(loadMany), found, mapKey, list[i]))
        }
      }
    }
    if (batch !== undefined) batcher.send(batch)
    return Promise.all(promises)
  }

  /** A stale key's refresh through `loadMany`: a batch of the one key, sent when the refresh starts. */
  const refreshOne = (loadMany: BatchFunction): RequestCache.Lookup => batcher.refresh(loadMany, false)

  const set = (key: unknown, value: unknown, callOptions?: { readonly ttl?: unknown }): Promise<void> =>
    core.attempt(() => {
      const mapKey = keyOf(key)
      Effect.runSync(namespace.set(mapKey, value, entryTtl(callOptions)))
    })

  const warmup = (entries: Iterable<readonly [unknown, Loader]>): Promise<number> => {
    if (runtime.closed) return core.closed()
    const pending: Array<readonly [unknown, Loader]> = []
    // A key given twice is loaded (and counted) once.
    const seen = new Set<MapKey>()
    try {
      for (const entry of entries) {
        if (!Array.isArray(entry) || entry.length !== 2) {
          throw new TypeError(`warmup takes [key, loader] pairs (or a Map of them), got ${String(entry)}`)
        }
        const [key, loader] = entry as readonly [unknown, Loader]
        if (typeof loader !== "function") {
          throw new TypeError(`warmup: the loader of key ${String(key)} must be a function, got ${typeof loader}`)
        }
        // What is cached (fresh, or stale within its window) is not loaded again.
        const mapKey = keyOf(key)
        if (seen.has(mapKey)) continue
        seen.add(mapKey)
        if (namespace.unsafePeek(mapKey)._tag === "None") pending.push([key, loader])
      }
    } catch (error) {
      return Promise.reject(error)
    }
    return Promise.all(pending.map(([key, loader]) => get(key, loader).then(() => 1, () => 0))).then((loaded) =>
      loaded.reduce<number>((a, b) => a + b, 0)
    )
  }

  const getMetrics = (): AsyncCacheMetrics => {
    const stats = namespace.unsafeStats()
    return {
      hits: stats.hits + stats.staleHits + stats.coalesced,
      misses: stats.misses,
      size: stats.size,
      hitRate: stats.hitRate
    }
  }

  const cache: AsyncCache<unknown, unknown> = {
    name,
    get: get as AsyncCache<unknown, unknown>["get"],
    getMany: getMany as AsyncCache<unknown, unknown>["getMany"],
    set,
    delete: (key) => core.attempt(() => namespace.unsafeInvalidate(keyOf(key))),
    clear: () => {
      if (!runtime.closed) namespace.unsafeInvalidateAll()
    },
    warmup,
    getMetrics,
    cacheStats: () => namespace.unsafeStats(),
    close: () => core.close()
  }
  return cache as unknown as AsyncCache<K, V>
}

/** @internal */
export { CacheOptionError }
