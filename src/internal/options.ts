import * as Config from "effect/Config"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import type * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import type { Options } from "../CachePolicy.js"

/** @internal */
export class CachePolicyError extends Data.TaggedError("CachePolicyError")<{
  readonly option: string
  readonly reason: string
}> {
  override get message(): string {
    return `Invalid cache option "${this.option}": ${this.reason}`
  }
}

/** @internal */
export const defaults = {
  capacity: 1_000,
  timeToLive: Duration.infinity,
  jitter: Duration.zero,
  staleWhileRevalidate: Duration.zero,
  cacheErrors: false
} as const

/** A policy read once into plain fields, so the per-call paths test numbers, not options. */
export interface ResolvedPolicy {
  readonly capacity: number
  readonly eviction: "lru" | "w-tinylfu"
  /** Milliseconds; `Infinity` never expires. With `timeToLiveOf`, `NaN`: decided per entry. */
  readonly timeToLive: number
  /** The time to live of each result, from its `Exit` (`timeToLive` given as a function). */
  readonly timeToLiveOf: ((exit: Exit.Exit<unknown, unknown>) => Duration.DurationInput) | undefined
  readonly jitter: number
  readonly staleWhileRevalidate: number
  /** Milliseconds; `NaN` when it comes from `timeToLiveOf` (no `errorTimeToLive` given). */
  readonly errorTimeToLive: number
  /** `undefined`: no failure is cached. */
  readonly cacheErrors: ((error: unknown) => boolean) | undefined
  /** The bound on the total weight; `Infinity` without one. */
  readonly maxWeight: number
  /** The weight of an entry; `undefined`: entries are not weighed. */
  readonly weigher: ((value: unknown, key: unknown) => number) | undefined
}

/** Whether entries of this policy can expire (so the storage keeps expiry times from the start). */
export const expires = (policy: ResolvedPolicy): boolean =>
  policy.timeToLive !== Infinity || policy.errorTimeToLive !== Infinity

/**
 * How long a result lives, in milliseconds, by the policy (the fixed `timeToLive` or
 * `errorTimeToLive`, or the function of the `Exit`). A function that does not answer a duration
 * throws a `CachePolicyError` naming it.
 */
export const timeToLiveOf = (policy: ResolvedPolicy, exit: Exit.Exit<unknown, unknown>): number => {
  const fixed = exit._tag === "Success" ? policy.timeToLive : policy.errorTimeToLive
  if (!Number.isNaN(fixed)) return fixed
  let answer: unknown
  try {
    answer = policy.timeToLiveOf!(exit)
  } catch (error) {
    throw new CachePolicyError({ option: "timeToLive", reason: `the function threw: ${show(error)}` })
  }
  const ms = durationOption("timeToLive", answer, { zero: true, infinity: true })
  if (Either.isLeft(ms)) {
    throw new CachePolicyError({ option: "timeToLive", reason: `the function answered: ${ms.left.reason}` })
  }
  return ms.right
}

const known: ReadonlyArray<string> = [
  "capacity",
  "eviction",
  "timeToLive",
  "jitter",
  "staleWhileRevalidate",
  "cacheErrors",
  "errorTimeToLive",
  "maxWeight",
  "weigher"
]

const show = (u: unknown): string => {
  if (typeof u === "string") return JSON.stringify(u)
  if (typeof u === "bigint") return `${u}n`
  if (typeof u === "function") return "a function"
  if (typeof u === "symbol") return u.toString()
  try {
    return JSON.stringify(u) ?? String(u)
  } catch {
    return String(u)
  }
}

const fail = (option: string, reason: string) => Either.left(new CachePolicyError({ option, reason }))

/**
 * A duration option in milliseconds: any `DurationInput`, never negative or NaN; `zero` and
 * `infinity` say whether 0 and `Infinity` are allowed. The one duration check of every layer.
 */
export const durationOption = (
  option: string,
  input: unknown,
  allow: { readonly zero: boolean; readonly infinity: boolean }
): Either.Either<number, CachePolicyError> => {
  const decoded = typeof input === "number" && Number.isNaN(input) ? Option.none() : Duration.decodeUnknown(input)
  if (Option.isNone(decoded)) {
    return fail(option, `expected a duration such as "5 minutes" or a number of milliseconds, got ${show(input)}`)
  }
  // Effect clamps negative durations to zero; a negative option is a mistake worth naming.
  if (isNegative(input)) return fail(option, `expected a duration of zero or more, got ${show(input)}`)
  const ms = Duration.toMillis(decoded.value)
  if (!allow.infinity && ms === Infinity) return fail(option, "must be finite")
  if (!allow.zero && ms === 0) return fail(option, "must be more than zero")
  return Either.right(ms)
}

const millis = (option: string, input: unknown, allowInfinity: boolean): Either.Either<number, CachePolicyError> =>
  durationOption(option, input, { zero: true, infinity: allowInfinity })

/** A capacity option: a positive integer (at most 2^31 - 1, the slot arrays' index) or `Infinity`. */
export const capacityOption = (option: string, capacity: unknown): Either.Either<number, CachePolicyError> => {
  if (
    typeof capacity !== "number" ||
    !(capacity === Infinity || (Number.isSafeInteger(capacity) && capacity >= 1))
  ) {
    return fail(option, `expected a positive integer or Infinity, got ${show(capacity)}`)
  }
  if (capacity !== Infinity && capacity > 0x7fff_ffff) {
    return fail(option, `at most ${0x7fff_ffff} entries (or Infinity), got ${capacity}`)
  }
  return Either.right(capacity)
}

const isNegative = (input: unknown): boolean =>
  typeof input === "number" || typeof input === "bigint"
    ? input < 0
    : typeof input === "string"
    ? input.trimStart().startsWith("-")
    : Array.isArray(input) && (input[0] < 0 || input[1] < 0)

/**
 * Validates options (the layer's, with a namespace's overrides on top) into a resolved policy.
 * An unknown option, a wrong type or a value out of range is an error naming the option.
 */
export const resolve = (
  options: Options<never> | undefined,
  overrides?: Options<never> | undefined
): Either.Either<ResolvedPolicy, CachePolicyError> => {
  const merged: Record<string, unknown> = {}
  for (const source of [options, overrides]) {
    if (source === undefined) continue
    if (typeof source !== "object" || source === null) return fail("options", `expected an object, got ${show(source)}`)
    for (const [name, value] of Object.entries(source)) {
      if (!known.includes(name)) {
        return fail(name, `unknown option; the options are ${known.join(", ")}`)
      }
      if (value !== undefined) merged[name] = value
    }
  }
  const capacity = capacityOption("capacity", merged.capacity ?? defaults.capacity)
  if (Either.isLeft(capacity)) return Either.left(capacity.left)
  const eviction = merged.eviction ?? "lru"
  if (eviction !== "lru" && eviction !== "w-tinylfu") {
    return fail("eviction", `expected "lru" or "w-tinylfu", got ${show(eviction)}`)
  }
  const ttlInput = merged.timeToLive ?? defaults.timeToLive
  const ttlFunction = typeof ttlInput === "function"
    ? ttlInput as (exit: Exit.Exit<unknown, unknown>) => Duration.DurationInput
    : undefined
  const timeToLive = ttlFunction !== undefined ? Either.right(NaN) : millis("timeToLive", ttlInput, true)
  if (Either.isLeft(timeToLive)) return Either.left(timeToLive.left)
  const jitter = millis("jitter", merged.jitter ?? defaults.jitter, false)
  if (Either.isLeft(jitter)) return Either.left(jitter.left)
  const swr = millis("staleWhileRevalidate", merged.staleWhileRevalidate ?? defaults.staleWhileRevalidate, true)
  if (Either.isLeft(swr)) return Either.left(swr.left)
  const errorTimeToLive = merged.errorTimeToLive === undefined
    ? Either.right(timeToLive.right)
    : millis("errorTimeToLive", merged.errorTimeToLive, true)
  if (Either.isLeft(errorTimeToLive)) return Either.left(errorTimeToLive.left)
  const cacheErrors = merged.cacheErrors ?? defaults.cacheErrors
  if (typeof cacheErrors !== "boolean" && typeof cacheErrors !== "function") {
    return fail("cacheErrors", `expected a boolean or a predicate on the error, got ${show(cacheErrors)}`)
  }
  const weigher = merged.weigher
  if (weigher !== undefined && typeof weigher !== "function") {
    return fail("weigher", `expected a function (value, key) => number, got ${show(weigher)}`)
  }
  const maxWeight = merged.maxWeight ?? Infinity
  if (typeof maxWeight !== "number" || Number.isNaN(maxWeight) || maxWeight <= 0) {
    return fail("maxWeight", `expected a positive number or Infinity, got ${show(maxWeight)}`)
  }
  if (maxWeight !== Infinity && weigher === undefined) {
    return fail("maxWeight", "needs a weigher, the function that gives each entry its weight")
  }
  return Either.right({
    capacity: capacity.right,
    eviction,
    timeToLive: timeToLive.right,
    timeToLiveOf: ttlFunction,
    jitter: jitter.right,
    staleWhileRevalidate: swr.right,
    errorTimeToLive: errorTimeToLive.right,
    cacheErrors: cacheErrors === true
      ? cacheAll
      : cacheErrors === false
      ? undefined
      : (cacheErrors as (error: unknown) => boolean),
    maxWeight,
    weigher: weigher as ((value: unknown, key: unknown) => number) | undefined
  })
}

const cacheAll = (): boolean => true

/** Whether the policy caches this typed failure; a predicate that throws says no. */
export const cachesError = (policy: ResolvedPolicy, error: unknown): boolean => {
  const cacheErrors = policy.cacheErrors
  if (cacheErrors === undefined) return false
  try {
    return cacheErrors(error) === true
  } catch {
    return false
  }
}

/** Two resolved policies that behave the same (predicates compare by identity). */
export const samePolicy = (a: ResolvedPolicy, b: ResolvedPolicy): boolean =>
  a.capacity === b.capacity && a.eviction === b.eviction && Object.is(a.timeToLive, b.timeToLive) &&
  a.timeToLiveOf === b.timeToLiveOf && a.jitter === b.jitter && a.staleWhileRevalidate === b.staleWhileRevalidate &&
  Object.is(a.errorTimeToLive, b.errorTimeToLive) && a.cacheErrors === b.cacheErrors &&
  a.maxWeight === b.maxWeight && a.weigher === b.weigher

/** @internal */
export const cacheTags = (...tags: ReadonlyArray<string>) => (error: unknown): boolean =>
  typeof error === "object" && error !== null && "_tag" in error && tags.includes(error._tag as string)

/** @internal */
export const config: Config.Config<Options> = Config.all({
  capacity: Config.option(Config.number("capacity")),
  eviction: Config.option(Config.literal("lru", "w-tinylfu")("eviction")),
  timeToLive: Config.option(Config.duration("timeToLive")),
  jitter: Config.option(Config.duration("jitter")),
  staleWhileRevalidate: Config.option(Config.duration("staleWhileRevalidate")),
  cacheErrors: Config.option(Config.boolean("cacheErrors")),
  errorTimeToLive: Config.option(Config.duration("errorTimeToLive")),
  maxWeight: Config.option(Config.number("maxWeight"))
}).pipe(Config.map((read) => {
  const options: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(read) as Array<[string, Option.Option<unknown>]>) {
    if (Option.isSome(value)) options[name] = value.value
  }
  return options as Options
}))
