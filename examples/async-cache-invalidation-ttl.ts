/**
 * Twin of async-cache's "Key-Based Invalidation & TTL":
 *
 *   await cache.delete(key)               # or func.invalidate_cache(args)
 *   await cache.set(key, value, ttl=60)   # per-key TTL
 *   cache.clear()                         # full reset
 *
 * `RequestCache.invalidate(namespace, key)` / `getUser.invalidate(id)`, `RequestCache.set(namespace,
 * key, value, { timeToLive })` and `RequestCache.invalidateAll`. The per-key time to live is
 * 150 ms here (the seed's 60 s) so that the example can wait it out.
 */
import { Console, Effect } from "effect"
import { RequestCache } from "effect-request-cache"

let loads = 0

const loadSetting = (key: string) =>
  Effect.sync(() => {
    loads++
    return `${key} from the database (load #${loads})`
  })

const getSetting = (key: string) => RequestCache.get("settings", key, loadSetting(key))

// A cached function has the same operations: func.invalidate_cache(args).
const getUser = RequestCache.cached({
  name: "users",
  lookup: (id: number) => Effect.succeed({ id, name: `user ${id}` })
})

const program = Effect.gen(function*() {
  yield* Console.log(`get(theme) -> ${yield* getSetting("theme")}`)
  yield* Console.log(`get(theme) -> ${yield* getSetting("theme")}`)

  // cache.delete(key)
  yield* Console.log(`delete(theme) -> ${yield* RequestCache.invalidate("settings", "theme")}`)
  yield* Console.log(`delete(theme) again -> ${yield* RequestCache.invalidate("settings", "theme")}`)
  yield* Console.log(`get(theme) -> ${yield* getSetting("theme")}`)

  // cache.set(key, value, ttl=60): a value put in by hand, with its own time to live.
  yield* RequestCache.set("settings", "banner", "set by hand", { timeToLive: "150 millis" })
  yield* Console.log(`get(banner) -> ${yield* getSetting("banner")}`)
  yield* Effect.sleep("250 millis")
  yield* Console.log(`get(banner) after its time to live -> ${yield* getSetting("banner")}`)

  // func.invalidate_cache(args)
  yield* getUser(1)
  yield* Console.log(`getUser.invalidate(1) -> ${yield* getUser.invalidate(1)}`)

  // cache.clear()
  yield* RequestCache.invalidateAll
  const stats = yield* RequestCache.stats
  yield* Console.log(`after clear: size=${stats.size}`)
  yield* Console.log(`get(theme) -> ${yield* getSetting("theme")}`)
})

Effect.runPromise(program.pipe(Effect.provide(RequestCache.layer({ capacity: 1000, timeToLive: "5 minutes" }))))
