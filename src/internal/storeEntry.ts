import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { encode, type MapKey, MARKER } from "./cacheKey.js"

/*
 * What a store holds for one entry: a JSON envelope with the entry's kind, its value or typed
 * failure encoded with the namespace's `Schema`, and its freshness as absolute times (ms, by the
 * cache's `Clock`), so that expiry, the stale-while-revalidate window and cached failures survive
 * the round trip through any store.
 *
 *   {"v":1,"kind":"success","value":<encoded>,"freshUntil":1700000060000,"staleUntil":1700000120000}
 *   {"v":1,"kind":"failure","error":<encoded>,"freshUntil":1700000010000,"staleUntil":1700000010000}
 *
 * `null` stands for a time that never comes (JSON has no `Infinity`).
 */

/** The envelope's version tag: an entry of another version does not decode (a miss). */
export const ENVELOPE_VERSION = 1

/** How a namespace encodes its values and typed failures (the `schema` of `cached`, erased). */
export interface EntrySchema {
  readonly success: Schema.Schema<unknown, unknown>
  readonly failure?: Schema.Schema<unknown, unknown> | undefined
}

/** An entry read back: `exit` is what callers get (a success, or a cached typed failure). */
export interface StoredEntry {
  readonly exit: Exit.Exit<unknown, unknown>
  /** Until when (ms) it is fresh; `Infinity`: for ever. */
  readonly freshUntil: number
  /** Until when (ms) it may be served stale while one refresh runs; at least `freshUntil`. */
  readonly staleUntil: number
  /** The tags it carries (`cached`'s `tags`). */
  readonly tags?: ReadonlyArray<string> | undefined
  /** When (ms) its lookup started: an invalidation of one of its tags at or after it voids it. */
  readonly since?: number | undefined
}

/** The encoders and decoders of one namespace, made once. */
export interface EntryCodec {
  /** The envelope of a value or typed failure; `Left` with the reason when it cannot be encoded. */
  readonly encode: (
    exit: Exit.Exit<unknown, unknown>,
    freshUntil: number,
    staleUntil: number,
    tags?: { readonly tags: ReadonlyArray<string>; readonly since: number }
  ) => Either.Either<string, string>
  /** The entry of an envelope; `Left` with the reason when it does not decode. */
  readonly decode: (entry: string) => Either.Either<StoredEntry, string>
}

const time = (ms: number): number | null => ms === Infinity ? null : ms

const readTime = (value: unknown): number | undefined =>
  value === null ? Infinity : typeof value === "number" && Number.isFinite(value) ? value : undefined

const issue = (error: ParseResult.ParseError): string => ParseResult.TreeFormatter.formatErrorSync(error)

const json = (envelope: Record<string, unknown>): Either.Either<string, string> => {
  try {
    return Either.right(JSON.stringify(envelope))
  } catch (error) {
    return Either.left(`the schema's encoded form is not JSON (${String(error)})`)
  }
}

export const makeCodec = (schema: EntrySchema): EntryCodec => {
  const encodeValue = Schema.encodeEither(schema.success)
  const decodeValue = Schema.decodeUnknownEither(schema.success)
  const encodeError = schema.failure === undefined ? undefined : Schema.encodeEither(schema.failure)
  const decodeError = schema.failure === undefined ? undefined : Schema.decodeUnknownEither(schema.failure)
  return {
    encode: (exit, freshUntil, staleUntil, tagged) => {
      const tags = tagged === undefined || tagged.tags.length === 0
        ? {}
        : { tags: tagged.tags, since: tagged.since }
      if (exit._tag === "Success") {
        const encoded = encodeValue(exit.value)
        if (Either.isLeft(encoded)) return Either.left(`the value does not encode: ${issue(encoded.left)}`)
        return json({
          v: ENVELOPE_VERSION,
          kind: "success",
          value: encoded.right,
          freshUntil: time(freshUntil),
          staleUntil: time(staleUntil),
          ...tags
        })
      }
      if (encodeError === undefined || exit.cause._tag !== "Fail") {
        return Either.left("only typed failures with a failure schema are stored")
      }
      const encoded = encodeError(exit.cause.error)
      if (Either.isLeft(encoded)) return Either.left(`the failure does not encode: ${issue(encoded.left)}`)
      return json({
        v: ENVELOPE_VERSION,
        kind: "failure",
        error: encoded.right,
        freshUntil: time(freshUntil),
        staleUntil: time(staleUntil),
        ...tags
      })
    },
    decode: (entry) => {
      let envelope: unknown
      try {
        envelope = JSON.parse(entry)
      } catch {
        return Either.left("the entry is not JSON")
      }
      if (typeof envelope !== "object" || envelope === null) return Either.left("the entry is not an envelope")
      const { error, freshUntil, kind, since, staleUntil, tags, v, value } = envelope as Record<string, unknown>
      if (v !== ENVELOPE_VERSION) return Either.left(`the entry has version ${String(v)}, not ${ENVELOPE_VERSION}`)
      const fresh = readTime(freshUntil)
      const stale = readTime(staleUntil)
      if (fresh === undefined || stale === undefined) return Either.left("the entry's expiry is not a time")
      if (
        tags !== undefined &&
        (!Array.isArray(tags) || tags.some((tag) => typeof tag !== "string") || typeof since !== "number")
      ) return Either.left("the entry's tags are not a list of strings with a time")
      const tagged = tags === undefined ? {} : { tags: tags as ReadonlyArray<string>, since: since as number }
      if (kind === "success") {
        const decoded = decodeValue(value)
        if (Either.isLeft(decoded)) return Either.left(`the value does not decode: ${issue(decoded.left)}`)
        return Either.right({
          exit: Exit.succeed(decoded.right),
          freshUntil: fresh,
          staleUntil: Math.max(fresh, stale),
          ...tagged
        })
      }
      if (kind === "failure" && decodeError !== undefined) {
        const decoded = decodeError(error)
        if (Either.isLeft(decoded)) return Either.left(`the failure does not decode: ${issue(decoded.left)}`)
        return Either.right({ exit: Exit.fail(decoded.right), freshUntil: fresh, staleUntil: fresh, ...tagged })
      }
      return Either.left(`the entry's kind ${JSON.stringify(kind)} is not one this namespace stores`)
    }
  }
}

/*
 * Store keys: the canonical encoding of the key (`CacheKey`'s, injective): `n1` for 1, `"1"` for
 * "1", `b1` for 1n, `[n1,n2]`, `("a","b")` for two arguments... A composite `MapKey` is already
 * `MARKER` + that encoding, so the store key is the rest of it.
 */

/** The store key of an in-memory key: different keys give different strings. */
export const toStoreKey = (key: MapKey): string =>
  typeof key === "string" && key.charCodeAt(0) === 0 ? key.slice(1) : encode(key, "key")

/** The in-memory key of a store key (for events from other processes): `toStoreKey`'s inverse. */
export const fromStoreKey = (key: string): MapKey => {
  switch (key) {
    case "t":
      return true
    case "f":
      return false
    case "null":
      return null
    case "undefined":
      return undefined
  }
  const first = key.charCodeAt(0)
  if (first === 110 /* n */) return Number(key.slice(1))
  if (first === 98 /* b */ && /^b-?\d+$/.test(key)) return BigInt(key.slice(1))
  if (first === 34 /* " */) {
    const text: unknown = JSON.parse(key)
    return typeof text === "string" && text.charCodeAt(0) !== 0 ? text : MARKER + key
  }
  return MARKER + key
}
