import * as Chunk from "effect/Chunk"
import * as Data from "effect/Data"
import * as Either from "effect/Either"
import * as Equal from "effect/Equal"
import * as HashMap from "effect/HashMap"
import * as HashSet from "effect/HashSet"
import * as List from "effect/List"
import * as Option from "effect/Option"

/**
 * A key of the in-memory `Map`: primitives stand for themselves (a `Map` keeps `1`, `"1"`, `1n`,
 * `true`, `null` and `undefined` apart), anything else is `MARKER` followed by its encoding.
 */
export type MapKey = string | number | boolean | bigint | null | undefined

/** Starts every composite key; a string key that itself starts with it is encoded too. */
export const MARKER = "\u0000"

/** Thrown by the encoders; the public `CacheKey.KeyEncodingError` is this class. */
export class KeyEncodingError extends Data.TaggedError("KeyEncodingError")<{
  /** Where the bad part is, e.g. `argument 2 at .user.tags[1]`. */
  readonly path: string
  /** What it is, e.g. `is a function`. */
  readonly reason: string
}> {
  override get message(): string {
    return `Cannot encode the cache key: ${this.path} ${this.reason}; give the cached function a \`key\` option that leaves it out or turns it into plain data`
  }
}

/*
 * The encoding. Every value is one token that starts with its own tag, and inside a composite the
 * tokens are separated by `,` (or `:` between a key and its value), characters that never occur
 * in a token outside brackets or JSON quotes, so the encoding can be read back: it is injective.
 *
 *   number   n1  n-1.5  nNaN  nInfinity  (-0 is n0)       bigint  b1
 *   string   "a,b" (JSON)                                  boolean t  f
 *   null     null                                          undefined  undefined
 *   array    [n1,n2]  (also Data.array / Data.tuple)
 *   object   {"a":n2,"b":n1}  keys sorted; also structural Data values (struct, Class, TaggedEnum)
 *   Date     D1700000000000
 *   Map      M{"a":n1,"b":n2}    Set  S{n1,n2}        entries sorted, equal entries once
 *   Option   Some(n1)  None      Either  Right(n1)  Left("e")
 *   Chunk    Chunk[n1,n2]        List    List[n1,n2]
 *   HashMap  HashMap{"a":n1}     HashSet HashSet{n1}  entries sorted, equal entries once
 *
 * Argument lists of zero or several arguments are `(` a `,` b `)`.
 */

/** A path segment that is not a property name nor an index: `.values()[2]`. */
class Raw {
  constructor(readonly text: string) {}
}

interface Context {
  readonly root: string
  /** The objects being encoded, outermost first: meeting one again is a cycle. */
  readonly ancestors: Array<object>
  readonly path: Array<string | number | Raw>
}

const structuralEquals: unknown = (Object.getPrototypeOf(Data.struct({})) as Record<symbol, unknown>)[Equal.symbol]

const isIdentifier = (key: string): boolean => /^[A-Za-z_$][\w$]*$/.test(key)

const formatPath = (context: Context): string => {
  if (context.path.length === 0) return context.root
  let out = context.root + " at "
  for (const segment of context.path) {
    out += typeof segment === "number"
      ? `[${segment}]`
      : typeof segment === "string"
      ? isIdentifier(segment) ? `.${segment}` : `[${JSON.stringify(segment)}]`
      : segment.text
  }
  return out
}

const fail = (context: Context, reason: string): KeyEncodingError =>
  new KeyEncodingError({ path: formatPath(context), reason })

const describeInstance = (proto: object | null): string => {
  const constructor: unknown = proto === null ? undefined : (proto as { readonly constructor?: unknown }).constructor
  return typeof constructor === "function" && constructor !== Object && constructor.name !== ""
    ? `an instance of class ${constructor.name}`
    : "an object with a custom prototype"
}

const encodeValue = (value: unknown, context: Context): string => {
  switch (typeof value) {
    case "number":
      return value === 0 ? "n0" : "n" + value
    case "string":
      return JSON.stringify(value)
    case "boolean":
      return value ? "t" : "f"
    case "bigint":
      return "b" + value
    case "undefined":
      return "undefined"
    case "symbol":
      throw fail(context, `is a symbol (${value.toString()})`)
    case "function":
      throw fail(context, "is a function")
    default:
      return value === null ? "null" : encodeObject(value as object, context)
  }
}

const encodeObject = (value: object, context: Context): string => {
  const ancestors = context.ancestors
  if (ancestors.includes(value)) throw fail(context, "is cyclic")
  ancestors.push(value)
  let out: string
  if (Array.isArray(value)) {
    out = "[" + encodeItems(value, context) + "]"
  } else {
    const proto: object | null = Object.getPrototypeOf(value)
    out = proto === Object.prototype || proto === null
      ? encodeFields(value, context)
      : encodeInstance(value, proto, context)
  }
  ancestors.pop()
  return out
}

const encodeItems = (items: ReadonlyArray<unknown>, context: Context): string => {
  const path = context.path
  let out = ""
  for (let i = 0; i < items.length; i++) {
    path.push(i)
    out += (i === 0 ? "" : ",") + encodeValue(items[i], context)
    path.pop()
  }
  return out
}

const encodeFields = (value: object, context: Context): string => {
  const path = context.path
  const keys = Object.keys(value).sort()
  let out = "{"
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]
    path.push(key)
    out += (i === 0 ? "" : ",") + JSON.stringify(key) + ":" +
      encodeValue((value as Record<string, unknown>)[key], context)
    path.pop()
  }
  return out + "}"
}

/** The elements of an unordered collection: sorted, each distinct encoding once. */
const encodeUnordered = (parts: Array<string>): string => {
  parts.sort()
  let out = ""
  for (let i = 0; i < parts.length; i++) {
    if (i > 0 && parts[i] === parts[i - 1]) continue
    out += (out === "" ? "" : ",") + parts[i]
  }
  return out
}

const encodeEntries = (entries: Iterable<readonly [unknown, unknown]>, context: Context): string => {
  const path = context.path
  const parts: Array<string> = []
  let i = 0
  for (const [key, value] of entries) {
    path.push(new Raw(`.keys()[${i}]`))
    const k = encodeValue(key, context)
    path.pop()
    path.push(new Raw(`.values()[${i}]`))
    parts.push(k + ":" + encodeValue(value, context))
    path.pop()
    i++
  }
  return encodeUnordered(parts)
}

const encodeElements = (elements: Iterable<unknown>, context: Context): string => {
  const path = context.path
  const parts: Array<string> = []
  let i = 0
  for (const element of elements) {
    path.push(new Raw(`.values()[${i++}]`))
    parts.push(encodeValue(element, context))
    path.pop()
  }
  return encodeUnordered(parts)
}

const encodeField = (value: unknown, field: string, context: Context): string => {
  context.path.push(field)
  const out = encodeValue(value, context)
  context.path.pop()
  return out
}

const encodeInstance = (value: object, proto: object, context: Context): string => {
  if (value instanceof Date) return "D" + value.getTime()
  if (value instanceof Map) return "M{" + encodeEntries(value, context) + "}"
  if (value instanceof Set) return "S{" + encodeElements(value, context) + "}"
  if (Equal.symbol in value) {
    if ((value as Record<symbol, unknown>)[Equal.symbol] === structuralEquals) return encodeFields(value, context)
    if (Option.isOption(value)) {
      return Option.isSome(value) ? "Some(" + encodeField(value.value, "value", context) + ")" : "None"
    }
    if (Either.isEither(value)) {
      return Either.isRight(value)
        ? "Right(" + encodeField(value.right, "right", context) + ")"
        : "Left(" + encodeField(value.left, "left", context) + ")"
    }
    if (Chunk.isChunk(value)) return "Chunk[" + encodeItems(Chunk.toReadonlyArray(value), context) + "]"
    if (List.isList(value)) return "List[" + encodeItems(List.toArray(value), context) + "]"
    if (HashMap.isHashMap(value)) return "HashMap{" + encodeEntries(value, context) + "}"
    if (HashSet.isHashSet(value)) return "HashSet{" + encodeElements(value, context) + "}"
    throw fail(context, `is ${describeInstance(proto)}, which implements Equal in its own way`)
  }
  throw fail(context, `is ${describeInstance(proto)}, which has no structural equality`)
}

const newContext = (root: string): Context => ({ root, ancestors: [], path: [] })

/** Shared by the primitives other than symbols, which neither recurse nor fail. */
const primitiveContext: Context = newContext("")

/**
 * The canonical, injective string form of a key: equal values (structurally) give equal strings,
 * different values different strings. `root` names the value in errors ("argument 1", "key").
 * Throws `KeyEncodingError` on a function, a symbol, a cycle or a class instance without
 * structural equality.
 */
export const encode = (value: unknown, root: string): string =>
  encodeValue(
    value,
    typeof value === "object" || typeof value === "symbol" || typeof value === "function"
      ? newContext(root)
      : primitiveContext
  )

/**
 * The key of `value` in an in-memory `Map`; two values get the same key (by `SameValueZero`)
 * exactly when their `encode` results are equal. Called on every cache hit.
 */
export const toMapKey = (value: unknown, root: string): MapKey => {
  if (typeof value === "number") return value
  if (typeof value === "string") return value.charCodeAt(0) === 0 ? MARKER + JSON.stringify(value) : value
  if (
    typeof value === "boolean" || value === null || value === undefined || typeof value === "bigint"
  ) return value
  return MARKER + encode(value, root)
}

const argumentRoots: ReadonlyArray<string> = Array.from({ length: 16 }, (_, i) => `argument ${i + 1}`)

const argumentRoot = (i: number): string => argumentRoots[i] ?? `argument ${i + 1}`

const encodeList = (args: ReadonlyArray<unknown>): string => {
  let out = "("
  for (let i = 0; i < args.length; i++) {
    out += (i === 0 ? "" : ",") + encode(args[i], argumentRoot(i))
  }
  return out + ")"
}

/**
 * The default key of a cached function: all its arguments. One argument is keyed like a direct
 * lookup of that value (`f(1)` and key `1` are the same entry); zero or several are a list, so
 * `f([1, 2])`, `f(1, 2)`, `f("1,2")` and `f("1", "2")` are all different.
 */
export const argumentsKey = (args: ReadonlyArray<unknown>): MapKey =>
  args.length === 1 ? toMapKey(args[0], "argument 1") : MARKER + encodeList(args)

/**
 * The string form of `argumentsKey` (for remote stores): equal exactly when the `argumentsKey`
 * results are equal.
 */
export const encodeArguments = (args: ReadonlyArray<unknown>): string =>
  args.length === 1 ? encode(args[0], "argument 1") : encodeList(args)
