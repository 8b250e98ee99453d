/**
 * The store tests' cached function: users encoded by `Schema`, a typed failure for negative ids,
 * and a count of its lookups (each value names the lookup that made it: `user 1-2`).
 */
import { Deferred, Effect, Schema } from "effect"
import { RequestCache } from "../../src/index.js"

export class User extends Schema.Class<User>("User")({ id: Schema.Number, name: Schema.String }) {}
export class NotFound extends Schema.TaggedError<NotFound>()("NotFound", { id: Schema.Number }) {}

/** A cached function over users that counts its lookups; `gate` holds them until opened. */
export const usersFunction = (
  name: string,
  options: {
    readonly gate?: Deferred.Deferred<void>
    readonly policy?: RequestCache.CachedOptions<[number], User, NotFound, never>["policy"]
  } = {}
) => {
  const state = { runs: 0 }
  const get = RequestCache.cached({
    name,
    lookup: (id: number) =>
      Effect.gen(function*() {
        state.runs++
        if (options.gate !== undefined) yield* Deferred.await(options.gate)
        if (id < 0) return yield* new NotFound({ id })
        return new User({ id, name: `user ${id}-${state.runs}` })
      }),
    schema: { success: User, failure: NotFound },
    policy: options.policy
  })
  return { get, state }
}
