import * as Data from "effect/Data"

/**
 * A call to a cache whose layer's scope has closed, or to a Promise-API cache after
 * `cacheClose()`: the defect of an Effect call, the rejection of a Promise call. A call fails so
 * whatever it would have been (a hit or a miss).
 */
export class CacheClosedError extends Data.TaggedError("CacheClosedError")<{ readonly namespace: string }> {
  override get message(): string {
    return `The cache namespace "${this.namespace}" is closed (its layer's scope has closed, or cacheClose() ` +
      `was called): it no longer serves calls`
  }
}
