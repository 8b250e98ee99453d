/**
 * Twin of async-lru's jitter example: `@alru_cache(ttl=3600, jitter=1800)` gives each entry a
 * time to live between 3600 and 5400 seconds, so entries stored together do not all expire
 * together (no thundering herd when they do).
 *
 * Scaled to 600 ms + up to 300 ms here. Twenty entries are stored at once in a cache with jitter
 * and in one without; the example then calls every key every 20 ms for a second and notes when
 * each one had to be loaded again: that is its lifetime.
 */
import type { Duration } from "effect"
import { alruCache } from "effect-request-cache/promise"
import { setTimeout as sleep } from "node:timers/promises"

const keys = Array.from({ length: 20 }, (_, i) => i)

/** A cached `arg * 2` that records when each key is loaded. */
const makeFunc = (jitter: Duration.DurationInput) => {
  const loadedAt = new Map<number, Array<number>>()
  const func = alruCache(
    async (arg: number) => {
      const times = loadedAt.get(arg) ?? []
      times.push(performance.now())
      loadedAt.set(arg, times)
      return arg * 2
    },
    { ttl: "600 millis", jitter }
  )
  /** How long each entry lived: from its first load to its second. */
  const lifetimes = () =>
    keys.flatMap((key) => {
      const [first, second] = loadedAt.get(key) ?? []
      return first === undefined || second === undefined ? [] : [second - first]
    })
  return { func, lifetimes }
}

// @alru_cache(ttl=3600, jitter=1800) and the same without jitter.
const withJitter = makeFunc("300 millis")
const withoutJitter = makeFunc("0 millis")

await Promise.all(keys.flatMap((key) => [withJitter.func(key), withoutJitter.func(key)]))
const start = performance.now()
while (performance.now() - start < 1000) {
  await sleep(20)
  await Promise.all(keys.flatMap((key) => [withJitter.func(key), withoutJitter.func(key)]))
}

const describe = (label: string, lifetimes: Array<number>) => {
  const min = Math.round(Math.min(...lifetimes))
  const max = Math.round(Math.max(...lifetimes))
  console.log(`${label}: ${lifetimes.length} entries expired after ${min} to ${max} ms (spread ${max - min} ms)`)
}
describe("without jitter", withoutJitter.lifetimes())
describe("with jitter   ", withJitter.lifetimes())
console.log(
  `parameters: ttl=${withJitter.func.cacheParameters().ttl} ms jitter=${withJitter.func.cacheParameters().jitter} ms`
)
