import type * as Exit from "effect/Exit"
import { cachesError, type ResolvedPolicy, timeToLiveOf } from "./options.js"

type AnyExit = Exit.Exit<unknown, unknown>

/**
 * A lookup's result that sets its own expiry instead of the policy's: a per-entry time to live
 * (`RequestCache.get` with `timeToLive`: milliseconds from completion), or an entry read from a
 * store, which keeps the absolute expiry it has there. `exit` is what the callers get; a failure
 * given here is kept as a cached failure (its source already decided to cache it). Only internal
 * code makes these, so the check on completion is one `instanceof`.
 */
export class OwnExpiry {
  private constructor(
    readonly exit: AnyExit,
    private readonly time: number,
    private readonly absolute: boolean
  ) {}

  /** Fresh for `millis` from completion (`Infinity`: never expires). */
  static after(exit: AnyExit, millis: number): OwnExpiry {
    return new OwnExpiry(exit, millis, false)
  }

  /** Fresh until the clock reads `time`. */
  static at(exit: AnyExit, time: number): OwnExpiry {
    return new OwnExpiry(exit, time, true)
  }

  /** When it stops being fresh, for a result completed at `now`. */
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
