/**
 * Twin of async-cache's "Decorator Convenience":
 *
 *   @AsyncLRU(maxsize=128)
 *   async def func(*args): ...
 *
 *   @AsyncTTL(time_to_live=60, skip_args=1)   # TTL, and `self` left out of the key
 *   async def method(self, arg): ...
 *
 * `alruCache(fn, { maxsize })` is `AsyncLRU`, `alruCache(fn, { ttl })` is `AsyncTTL`. For a
 * method there are two twins, depending on whether the instance belongs in the key:
 * - `@cachedMethod({ ttl })`: one cache per method, keyed by instance and arguments, so an
 *   instance never sees another's entries (the safe default);
 * - `skip_args=1`: the instance is left out and every instance shares the entries, for methods
 *   whose result does not depend on `this`. That is a cached function of the arguments that the
 *   method calls: `alruCache((self, arg) => ..., { key: (_self, arg) => arg })`.
 */
import { alruCache, cachedMethod, methodCache } from "effect-request-cache/promise"

// @AsyncLRU(maxsize=128)
let funcRuns = 0
const func = alruCache(
  async (...args: Array<number>) => {
    funcRuns++
    return args.reduce((sum, n) => sum + n, 0)
  },
  { maxsize: 128 }
)
await func(1, 2, 3)
await func(1, 2, 3)
await func(4, 5)
console.log(`AsyncLRU: func(1, 2, 3) twice and func(4, 5): runs=${funcRuns}, entries=${func.cacheInfo().currsize}`)

// @AsyncTTL(time_to_live=60, skip_args=1): the instance is not part of the key.
let sharedRuns = 0
const lookupRate = alruCache(
  async (_self: RateService, currency: string) => {
    sharedRuns++
    return currency === "EUR" ? 1.08 : 1
  },
  { ttl: "60 seconds", key: (_self, currency) => currency }
)

class RateService {
  async method(currency: string) {
    return lookupRate(this, currency)
  }

  // The per-instance twin: the instance is part of the key.
  @cachedMethod({ ttl: "60 seconds" })
  async perInstance(currency: string) {
    return currency === "EUR" ? 1.08 : 1
  }
}

const a = new RateService()
const b = new RateService()
await a.method("EUR")
await b.method("EUR") // another instance, the same entry
console.log(`AsyncTTL skip_args=1: two instances, one key: runs=${sharedRuns}`)

await a.perInstance("EUR")
await b.perInstance("EUR") // another instance: its own entry
await a.perInstance("EUR") // a hit
const info = methodCache(RateService.prototype.perInstance).cacheInfo()
console.log(`@cachedMethod: two instances, one key: misses=${info.misses} hits=${info.hits}`)
console.log(`ttl: ${lookupRate.cacheParameters().ttl} ms`)
