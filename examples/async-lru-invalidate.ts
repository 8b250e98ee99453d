/**
 * Twin of async-lru's `cache_invalidate()` example (current and older READMEs):
 *
 *   @alru_cache(ttl=5)
 *   async def func(arg1, arg2): return arg1 + arg2
 *   func.cache_invalidate(1, arg2=2)
 *
 * It answers whether that set of arguments was cached. JavaScript has no keyword arguments: the
 * arguments are given in order, `func.cacheInvalidate(1, 2)`.
 */
import { alruCache } from "effect-request-cache/promise"

let runs = 0

// @alru_cache(ttl=5)
const func = alruCache(
  async (arg1: number, arg2: number) => {
    runs++
    return arg1 + arg2
  },
  { ttl: "5 seconds" }
)

console.log(`func(1, 2) -> ${await func(1, 2)}`)
console.log(`cacheInvalidate(1, 2) -> ${await func.cacheInvalidate(1, 2)}`) // it was cached
console.log(`cacheInvalidate(1, 2) -> ${await func.cacheInvalidate(1, 2)}`) // not any more
console.log(`cacheInvalidate(3, 4) -> ${await func.cacheInvalidate(3, 4)}`) // never was
console.log(`func(1, 2) -> ${await func(1, 2)}`) // runs again
console.log(`runs: ${runs}`)
