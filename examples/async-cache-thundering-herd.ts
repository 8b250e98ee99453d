/**
 * Twin of async-cache's "Thundering Herd Protection": 100 concurrent calls for the same key run
 * the loader (one database query) once; the 99 others await its result.
 */
import { Console, Effect } from "effect"
import { RequestCache } from "effect-request-cache"

let dbQueries = 0

const fetchFromDb = (userId: number) =>
  Effect.gen(function*() {
    dbQueries++
    yield* Effect.sleep("100 millis") // a slow query
    return { id: userId, name: `user ${userId}` }
  })

const getUser = (userId: number) =>
  RequestCache.get("app", `user:${userId}`, fetchFromDb(userId), { timeToLive: "60 seconds" })

const program = Effect.gen(function*() {
  // tasks = [get_user(1) for _ in range(100)]; results = await asyncio.gather(*tasks)
  const results = yield* Effect.all(Array.from({ length: 100 }, () => getUser(1)), { concurrency: "unbounded" })
  yield* Console.log(`results: ${results.length}, distinct objects: ${new Set(results).size}`)
  yield* Console.log(`DB queries: ${dbQueries}`)
  const stats = yield* RequestCache.statsFor("app")
  yield* Console.log(`misses: ${stats.misses}, joined the one query in flight: ${stats.coalesced}`)
})

Effect.runPromise(program.pipe(Effect.provide(RequestCache.layer({ capacity: 1000, timeToLive: "5 minutes" }))))
