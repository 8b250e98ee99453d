/**
 * Twin of functools2's "Error Caching": by default a rejection is not cached and the next call
 * runs the function again; with `cacheErrors: true` (`cache_errors=True`) the rejection is kept
 * for the time to live and rethrown, as the same error object, without running the function.
 *
 * The Effect API does the same with typed failures, and a predicate can choose which ones
 * (`CachePolicy.cacheTags("NotFound")`): shown at the end.
 */
import { Data, Effect } from "effect"
import { CachePolicy, RequestCache } from "effect-request-cache"
import { alruCache } from "effect-request-cache/promise"

class ValueError extends Error {
  override readonly name = "ValueError"
}

const attempt = async (call: () => Promise<unknown>): Promise<unknown> => {
  try {
    await call()
    return undefined
  } catch (error) {
    return error
  }
}

// @async_lru_cache(ttl=10, cache_errors=True)
let runs = 0
const mightFail = alruCache(
  async (): Promise<never> => {
    runs++
    throw new ValueError("Something went wrong")
  },
  { ttl: "10 seconds", cacheErrors: true }
)

// The first call raises ValueError; later calls within the time to live raise the cached one.
const first = await attempt(mightFail)
const second = await attempt(mightFail)
const third = await attempt(mightFail)
console.log(`cacheErrors: true -> first call raised ${String(first)}`)
console.log(`cacheErrors: true -> later calls raised the same error object: ${first === second && second === third}`)
console.log(`cacheErrors: true -> function runs: ${runs}`)

// By default exceptions are not cached: every call runs the function again.
let defaultRuns = 0
const mightFailUncached = alruCache(
  async (): Promise<never> => {
    defaultRuns++
    throw new ValueError("Something went wrong")
  },
  { ttl: "10 seconds" }
)
await attempt(mightFailUncached)
await attempt(mightFailUncached)
await attempt(mightFailUncached)
console.log(`default -> function runs: ${defaultRuns}`)

// Effect API: typed failures; cache only NotFound, not Timeout.
class NotFound extends Data.TaggedError("NotFound")<{ readonly id: number }> {}
class Timeout extends Data.TaggedError("Timeout")<{ readonly id: number }> {}

let effectRuns = 0
const getItem = RequestCache.cached({
  name: "items",
  lookup: (id: number): Effect.Effect<string, NotFound | Timeout> =>
    Effect.suspend((): Effect.Effect<never, NotFound | Timeout> => {
      effectRuns++
      return id === 404 ? Effect.fail(new NotFound({ id })) : Effect.fail(new Timeout({ id }))
    }),
  policy: { timeToLive: "10 seconds", cacheErrors: CachePolicy.cacheTags("NotFound") }
})

const effectProgram = Effect.gen(function*() {
  const notFound = yield* Effect.flip(getItem(404))
  const notFoundAgain = yield* Effect.flip(getItem(404))
  console.log(`Effect, NotFound: the same failure value: ${notFound === notFoundAgain}, lookups: ${effectRuns}`)
  effectRuns = 0
  yield* Effect.flip(getItem(1))
  yield* Effect.flip(getItem(1))
  console.log(`Effect, Timeout (not cached): lookups: ${effectRuns}`)
})
await Effect.runPromise(effectProgram.pipe(Effect.provide(RequestCache.layer())))
