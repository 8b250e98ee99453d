/**
 * Cache keys: the canonical, injective encoding of the arguments of a cached function. Equal
 * values (structurally: plain objects in any key order, arrays, `Date`, `Map`, `Set`, `Data`
 * values, `Option`, `Either`, `Chunk`, `List`, `HashMap`, `HashSet`) give the same key, different
 * values different keys. Functions, symbols, cycles and class instances without structural
 * equality fail with a `KeyEncodingError` naming where they are.
 *
 * @since 0.1.0
 */
import * as internal from "./internal/cacheKey.js"

/**
 * The key of an entry in an in-memory `Map`: a primitive stands for itself, anything else is a
 * string that starts with `"\u0000"` and holds its encoding.
 *
 * @example
 * ```ts
 * import { CacheKey } from "effect-request-cache"
 *
 * const key: CacheKey.MapKey = CacheKey.argumentsKey([42]) // 42
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type MapKey = internal.MapKey

/**
 * The error of a key that cannot be encoded: `path` says where the bad part is (`argument 2 at
 * .user.tags[1]`), `reason` what it is (`is a function`). Give the cached function a `key` option
 * that leaves it out or turns it into plain data.
 *
 * @example
 * ```ts
 * import { CacheKey } from "effect-request-cache"
 *
 * try {
 *   CacheKey.argumentsKey([1, { user: { tags: ["a", () => 1] } }])
 * } catch (e) {
 *   if (e instanceof CacheKey.KeyEncodingError) console.log(e.message)
 *   // Cannot encode the cache key: argument 2 at .user.tags[1] is a function; give the cached
 *   // function a `key` option that leaves it out or turns it into plain data
 * }
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export const KeyEncodingError: typeof internal.KeyEncodingError = internal.KeyEncodingError

/**
 * The error of a key that cannot be encoded.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { CacheKey } from "effect-request-cache"
 *
 * const program = Effect.try({
 *   try: () => CacheKey.encode(Symbol("id")),
 *   catch: (e) => e as CacheKey.KeyEncodingError
 * }).pipe(Effect.catchTag("KeyEncodingError", (e) => Effect.succeed(e.path))) // "key"
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export type KeyEncodingError = internal.KeyEncodingError

/**
 * The canonical string form of a key, for stores outside the process. Every value is tagged by
 * its type (`n1`, `b1` for `1n`, `"1"`, `t`, `null`, ...), objects by sorted keys, unordered
 * collections by sorted entries, so equal values give equal strings and different values
 * different strings. Throws a `KeyEncodingError` on what cannot be encoded.
 *
 * @example
 * ```ts
 * import { CacheKey } from "effect-request-cache"
 *
 * CacheKey.encode({ b: 1, a: [2, "x"] }) // '{"a":[n2,"x"],"b":n1}'
 * CacheKey.encode({ a: [2, "x"], b: 1 }) // the same
 * CacheKey.encode(1n) === CacheKey.encode(1) // false
 * ```
 *
 * @since 0.1.0
 * @category encoding
 */
export const encode = (value: unknown): string => internal.encode(value, "key")

/**
 * The default key of a cached function: all its arguments. One argument is keyed like a direct
 * lookup of that value, so `f(1)` and key `1` are the same entry; zero or several arguments are
 * keyed as a list, so `f([1, 2])` and `f(1, 2)`, or `f("a,b")` and `f("a", "b")`, are different.
 * Throws a `KeyEncodingError` on what cannot be encoded.
 *
 * @example
 * ```ts
 * import { CacheKey } from "effect-request-cache"
 *
 * CacheKey.argumentsKey([1]) === 1 // true
 * CacheKey.argumentsKey([{ id: 1, page: 2 }]) === CacheKey.argumentsKey([{ page: 2, id: 1 }]) // true
 * CacheKey.argumentsKey([1, 2]) === CacheKey.argumentsKey([[1, 2]]) // false
 * ```
 *
 * @since 0.1.0
 * @category encoding
 */
export const argumentsKey: (args: ReadonlyArray<unknown>) => MapKey = internal.argumentsKey
