import type * as PlatformError from "@effect/platform/Error"
import * as KeyValueStore from "@effect/platform/KeyValueStore"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { CacheStore, CacheStoreError, type Service } from "../CacheStore.js"

/*
 * Layout in the KeyValueStore:
 *
 *   <prefix><namespace>/generation          the namespace's current generation (a random token)
 *   <prefix><namespace>/<generation>/=<key> an entry
 *   <prefix><namespace>/<generation>/#<hash> an entry whose key is too long for a file name
 *
 * (the namespace URI-encoded, so it holds no `/`). An entry's value is
 * `<expiresAt> <key length> <key><entry>`: a KeyValueStore cannot expire anything, so the store
 * reads the expiry back (an expired entry is removed and is a miss), and the key is kept whole
 * so that two long keys with the same hash cannot be mistaken for each other. A KeyValueStore
 * cannot list keys either, so `clear` starts a new generation: the namespace's old entries are
 * no longer found (they stay where they are until the store itself is cleared).
 */

export interface Options {
  readonly prefix?: string | undefined
}

const DEFAULT_PREFIX = "effect-request-cache/"
/** File names are at most 255 bytes; a longer key (URI-encoded) is replaced by its hash. */
const MAX_KEY = 200

/** Two 32-bit FNV-1a hashes with different offsets: 64 bits in hex. */
const hash = (text: string): string => {
  let a = 0x811c9dc5
  let b = 0x01000193 ^ 0x5bd1e995
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    a = Math.imul(a ^ c, 0x01000193)
    b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 15)
  }
  return (a >>> 0).toString(16).padStart(8, "0") + (b >>> 0).toString(16).padStart(8, "0")
}

const newGeneration = (): string => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 10)}`

const fail = (operation: string) => (error: PlatformError.PlatformError) =>
  new CacheStoreError({ operation, reason: error.message, cause: error })

const EXPIRED: unique symbol = Symbol("expired")

/** The entry of `key` in a stored value; `expired` when it is `key`'s but past its expiry. */
const read = (value: string, key: string, now: number): string | typeof EXPIRED | undefined => {
  const first = value.indexOf(" ")
  const second = value.indexOf(" ", first + 1)
  if (first < 0 || second < 0) return EXPIRED // not ours to read: as good as gone
  const expiresAt = Number(value.slice(0, first))
  const length = Number(value.slice(first + 1, second))
  const start = second + 1
  // Another key's, under the same hash: not this key's, and not to be removed.
  if (value.slice(start, start + length) !== key) return undefined
  return now < expiresAt ? value.slice(start + length) : EXPIRED
}

export const make = (options?: Options): Effect.Effect<Service, never, KeyValueStore.KeyValueStore> =>
  Effect.map(KeyValueStore.KeyValueStore, (kv): Service => {
    const prefix = options?.prefix ?? DEFAULT_PREFIX
    const base = (namespace: string) => `${prefix}${encodeURIComponent(namespace)}/`
    const generation = (namespace: string, operation: string) =>
      Effect.map(
        Effect.mapError(kv.get(`${base(namespace)}generation`), fail(operation)),
        Option.getOrElse(() => "0")
      )
    const location = (namespace: string, key: string, operation: string) =>
      Effect.map(generation(namespace, operation), (gen) => {
        const plain = `${base(namespace)}${gen}/=${key}`
        return encodeURIComponent(plain).length <= MAX_KEY ? plain : `${base(namespace)}${gen}/#${hash(key)}`
      })
    return {
      name: "key-value-store",
      get: (namespace, key) =>
        Effect.flatMap(
          location(namespace, key, "get"),
          (at) =>
            Effect.flatMap(Effect.mapError(kv.get(at), fail("get")), (value) => {
              if (Option.isNone(value)) return Effect.succeed(Option.none())
              return Effect.flatMap(Clock.currentTimeMillis, (now) => {
                const entry = read(value.value, key, now)
                if (entry === undefined) return Effect.succeed(Option.none())
                if (entry !== EXPIRED) return Effect.succeed(Option.some(entry))
                return Effect.as(Effect.mapError(kv.remove(at), fail("get")), Option.none())
              })
            })
        ),
      set: (namespace, key, entry, timeToLive) =>
        Effect.flatMap(
          location(namespace, key, "set"),
          (at) =>
            Effect.flatMap(Clock.currentTimeMillis, (now) =>
              Effect.mapError(
                kv.set(at, `${timeToLive === Infinity ? "Infinity" : now + timeToLive} ${key.length} ${key}${entry}`),
                fail("set")
              ))
        ),
      delete: (namespace, key) =>
        Effect.flatMap(
          location(namespace, key, "delete"),
          (at) =>
            Effect.flatMap(Effect.mapError(kv.get(at), fail("delete")), (value) => {
              if (Option.isNone(value)) return Effect.succeed(false)
              return Effect.flatMap(Clock.currentTimeMillis, (now) => {
                const entry = read(value.value, key, now)
                if (entry === undefined) return Effect.succeed(false)
                return Effect.as(Effect.mapError(kv.remove(at), fail("delete")), entry !== EXPIRED)
              })
            })
        ),
      clear: (namespace) => Effect.mapError(kv.set(`${base(namespace)}generation`, newGeneration()), fail("clear"))
    }
  })

export const layer = (options?: Options): Layer.Layer<CacheStore, never, KeyValueStore.KeyValueStore> =>
  Layer.effect(CacheStore, make(options))
