import type * as Exit from "effect/Exit"
import { cachesError, type ResolvedPolicy, timeToLiveOf } from "./options.js"

type AnyExit = Exit.Exit<unknown, unknown>

/**
 * A lookup's result with what it says of itself, beside its `exit` (what the callers get): its
 * own expiry instead of the policy's (a per-entry time to live, `RequestCache.get` with
 * `timeToLive`: milliseconds from completion; or an entry read from a store, which keeps the
 * absolute expiry it has there), and the tags its entry carries (`cached`'s `tags`). A failure
 * given with its own expiry is kept as a cached failure (its source already decided to cache it).
 * Only internal code makes these, so the check on completion is one `instanceof`.
 */
export class LookupResult {
  private constructor(
    readonly exit: AnyExit,
    /** `NaN`: no expiry of its own. */
    private readonly time: number,
    private readonly absolute: boolean,
    readonly tags: ReadonlyArray<string> | undefined
  ) {}

  /** Fresh for `millis` from completion (`Infinity`: never expires). */
  static after(exit: AnyExit, millis: number): LookupResult {
    return new LookupResult(exit, millis, false, undefined)
  }

  /** Fresh until the clock reads `time`. */
  static at(exit: AnyExit, time: number, tags?: ReadonlyArray<string>): LookupResult {
    return new LookupResult(exit, time, true, tags)
  }

  /** The policy's expiry, and these tags. */
  static tagged(exit: AnyExit, tags: ReadonlyArray<string>): LookupResult {
    return new LookupResult(exit, NaN, false, tags)
  }

  /** Whether it sets its own expiry. */
  get ownExpiry(): boolean {
    return !Number.isNaN(this.time)
  }

  /** When it stops being fresh, for a result completed at `now` (with `ownExpiry`). */
  expiresAt(now: number): number {
    return this.absolute ? this.time : expiresAt(now, this.time, 0, 0)
  }
}

/** `now + timeToLive + draw * jitter`; `Infinity` for an entry that never expires. */
export const expiresAt = (now: number, timeToLive: number, draw: number, jitter: number): number =>
  timeToLive === Infinity ? Infinity : now + timeToLive + draw * jitter

/**
 * How long the policy keeps a lookup's result, in milliseconds, or `undefined` if it keeps none:
 * a value for `timeToLive`; a typed failure that `cacheErrors` caches for `errorTimeToLive` (never
 * from a refresh: a failed refresh keeps the stale value); a defect or an interruption never.
 * Throws the `CachePolicyError` of a `timeToLive` function that answers no duration.
 */
export const retention = (policy: ResolvedPolicy, exit: AnyExit, refresh: boolean): number | undefined => {
  if (exit._tag === "Failure" && (refresh || exit.cause._tag !== "Fail" || !cachesError(policy, exit.cause.error))) {
    return undefined
  }
  return timeToLiveOf(policy, exit)
}
