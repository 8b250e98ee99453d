/**
 * Twin of async-cache's "DataLoader-Style Batching": concurrent gets of different keys within a
 * short window are grouped into one call of a batch loader (one database round trip), and the
 * values land in the cache one entry per key.
 *
 * In Effect, the batch loader is a `RequestResolver.makeBatched`, and `RequestCache.cachedRequest`
 * is the cache in front of it with async-cache's window: misses from any fiber within 10 ms reach
 * the resolver as one batch; a key that is cached, or already in a batch, is not asked for again.
 * (`RequestCache.cachedBatch` does the same for a plain `(ids) => Effect<users>` function.)
 */
import { Console, Effect, Request, RequestResolver } from "effect"
import { RequestCache } from "effect-request-cache"

interface User {
  readonly id: number
  readonly name: string
}

class GetUser extends Request.TaggedClass("GetUser")<User, never, { readonly id: number }> {}

let batchCalls = 0

// async def batch_user_loader(user_ids): one DB call for multiple ids
const batchUserLoader = RequestResolver.makeBatched((requests: ReadonlyArray<GetUser>) =>
  Effect.gen(function*() {
    batchCalls++
    const ids = requests.map((request) => request.id)
    yield* Console.log(`  batch_user_loader([${ids.join(", ")}]): one DB round trip`)
    yield* Effect.sleep("20 millis")
    yield* Effect.forEach(requests, (request) =>
      Request.succeed(request, { id: request.id, name: `user ${request.id}` }), {
      discard: true
    })
  })
)

// cache.get(user_id, batch_loader=batch_user_loader): misses within 10 ms go to one batch.
const getUser = RequestCache.cachedRequest({ name: "users", resolver: batchUserLoader, window: "10 millis" })
const user = (id: number) => getUser(new GetUser({ id }))

const program = Effect.gen(function*() {
  yield* Console.log("getUser(1), getUser(2), getUser(3), getUser(1), concurrently:")
  const users = yield* Effect.all([user(1), user(2), user(3), user(1)], { concurrency: "unbounded" })
  yield* Console.log(`-> ${users.map((user) => user.name).join(", ")}`)
  yield* Console.log("getUser(2), getUser(4), getUser(5), concurrently (2 is cached):")
  yield* Effect.all([user(2), user(4), user(5)], { concurrency: "unbounded" })
  const stats = yield* getUser.stats
  yield* Console.log(`batch calls: ${batchCalls}`)
  yield* Console.log(`cache: size=${stats.size} misses=${stats.misses} hits=${stats.hits} coalesced=${stats.coalesced}`)
})

Effect.runPromise(program.pipe(Effect.provide(RequestCache.layer())))
