/**
 * Twin of functools2's "Basic Usage": `@async_lru_cache(ttl=60)` on a slow async function. The
 * first call waits for the slow API; the second is served from the cache at once.
 */
import { alruCache } from "effect-request-cache/promise"
import { setTimeout as sleep } from "node:timers/promises"

// @async_lru_cache(ttl=60)  # cache results for 60 seconds
const getUserData = alruCache(
  async (userId: number): Promise<{ id: number; name: string }> => {
    console.log(`Fetching data for user ${userId} from a slow API...`)
    await sleep(300) // a slow network call (the seed's 1 s)
    return { id: userId, name: "Jane Doe" }
  },
  { ttl: "60 seconds" }
)

const timed = async <A>(run: () => Promise<A>): Promise<[A, string]> => {
  const start = performance.now()
  const value = await run()
  return [value, `${(performance.now() - start).toFixed(1)} ms`]
}

// First call: slow (prints the message and waits).
const [user1, slow] = await timed(() => getUserData(123))
console.log(`first call: ${JSON.stringify(user1)} in ${slow}`)

// Second call: fast (the result comes from the cache).
const [user2, fast] = await timed(() => getUserData(123))
console.log(`second call: ${JSON.stringify(user2)} in ${fast}`)

console.log(`same object: ${user1 === user2}`)
const info = getUserData.cacheInfo()
console.log(`cacheInfo: hits=${info.hits} misses=${info.misses} currsize=${info.currsize}`)
