/**
 * Twin of async-lru's TTL example (current and older READMEs): `@alru_cache(ttl=5)`; an entry
 * expires `ttl` after it was stored, and the next call runs the function again.
 *
 * The time to live is 200 ms here (the seed's 5 s).
 */
import { alruCache } from "effect-request-cache/promise"
import { setTimeout as sleep } from "node:timers/promises"

let runs = 0

// @alru_cache(ttl=5)
const func = alruCache(
  async (arg: number) => {
    runs++
    return arg * 2
  },
  { ttl: "200 millis" }
)

console.log(`func(21) -> ${await func(21)}`) // a miss
console.log(`func(21) -> ${await func(21)}`) // a hit
await sleep(300)
console.log(`func(21) after the time to live -> ${await func(21)}`) // expired: a miss

const info = func.cacheInfo()
console.log(`runs: ${runs}`)
console.log(`CacheInfo(hits=${info.hits}, misses=${info.misses}, maxsize=${info.maxsize}, currsize=${info.currsize})`)
console.log(`ttl: ${func.cacheParameters().ttl} ms`)
