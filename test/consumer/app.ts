/**
 * A user's program, for `test/package.test.ts`: it is copied into a new project outside the
 * repository that installs the packed tarball, type-checked there against the installed
 * declarations (strict, `exactOptionalPropertyTypes`, `skipLibCheck: false`; `nodenext` and
 * `bundler`), compiled, and run under plain `node`. It imports every entry point, prints one
 * `ok ...` line per check and throws at the first one that fails. With `CONSUMER_REDIS_URL` set,
 * it also builds a two-tier cache on that Redis; without it, it prints why that part is skipped.
 */
import { Effect, Layer, Schema } from "effect"
import { RequestCache } from "effect-request-cache"
import { alruCache } from "effect-request-cache/promise"
import { RedisStore } from "effect-request-cache/redis"
import { createClient } from "redis"

const check = (holds: boolean, what: string): void => {
  if (!holds) throw new Error(`consumer check failed: ${what}`)
  console.log(`ok ${what}`)
}

// The Effect API, on a layer that this program builds and provides.
let squareLookups = 0
const square = RequestCache.cached({
  name: "squares",
  lookup: (n: number) =>
    Effect.sync(() => {
      squareLookups++
      return n * n
    })
})

const effectApi = await Effect.runPromise(
  Effect.gen(function*() {
    const first = yield* square(7)
    const second = yield* square(7)
    return {
      first,
      second,
      own: yield* square.stats,
      all: yield* RequestCache.stats,
      named: yield* RequestCache.statsFor("squares"),
      viaGet: yield* RequestCache.get("squares", 7, Effect.die("a hit must not run this lookup"))
    }
  }).pipe(Effect.provide(RequestCache.layer({ capacity: 100, timeToLive: "1 minute" })))
)
check(effectApi.first === 49 && effectApi.second === 49 && squareLookups === 1, "Effect API: a miss, then a hit")
check(effectApi.own.hits === 1 && effectApi.own.misses === 1, "Effect API: the cached function's stats")
check(
  effectApi.all.hits === 1 && effectApi.named.hits === 1 && effectApi.viaGet === 49,
  "Effect API: the accessors (RequestCache.stats, statsFor, get) find this program's layer"
)

// The Promise API: no Effect in sight.
let doubleCalls = 0
const double = alruCache(async (n: number) => {
  doubleCalls++
  return n * 2
}, { maxsize: 10, ttl: "1 minute" })
const doubled = [await double(21), await double(21)]
const info = double.cacheInfo()
check(doubled[0] === 42 && doubled[1] === 42 && doubleCalls === 1, "Promise API: alruCache calls once")
check(info.hits === 1 && info.misses === 1 && info.currsize === 1, "Promise API: cacheInfo counts the hit")
await double.cacheClose()

// The Redis store, when a Redis answers.
const redisUrl = process.env.CONSUMER_REDIS_URL
if (redisUrl === undefined) {
  console.log("skip Redis store: CONSUMER_REDIS_URL is not set (no Redis answered)")
} else {
  const prefix = `erc-consumer-${process.pid}-${Date.now()}`
  let cubeLookups = 0
  const cube = RequestCache.cached({
    name: "cubes",
    lookup: (n: number) =>
      Effect.sync(() => {
        cubeLookups++
        return n * n * n
      }),
    schema: { success: Schema.Number }
  })
  // Each layer is a process's cache: its own first tier, the same entries in Redis.
  const twoTiers = () =>
    RequestCache.layerStore({ timeToLive: "1 minute", l1: { capacity: 10, timeToLive: "5 seconds" } }).pipe(
      Layer.provide(RedisStore.layer({ url: redisUrl, prefix }))
    )
  const run = () =>
    Effect.runPromise(
      Effect.gen(function*() {
        const value = yield* cube(3)
        return { value, stats: yield* cube.stats }
      }).pipe(Effect.provide(twoTiers()))
    )
  const client = createClient({ url: redisUrl })
  client.on("error", () => {})
  await client.connect()
  try {
    const writer = await run()
    const keys: Array<string> = []
    for await (const batch of client.scanIterator({ MATCH: `${prefix}:*`, COUNT: 100 })) keys.push(...batch)
    const reader = await run()
    check(writer.value === 27 && writer.stats.misses === 1, "Redis store: the first cache runs the lookup")
    check(keys.some((key) => key.startsWith(`${prefix}:cubes:`)), "Redis store: the entry is in Redis")
    check(
      reader.value === 27 && reader.stats.hits === 1 && cubeLookups === 1,
      "Redis store: a second cache reads it from Redis, no lookup"
    )
  } finally {
    for await (const batch of client.scanIterator({ MATCH: `${prefix}:*`, COUNT: 100 })) {
      if (batch.length > 0) await client.unlink(batch)
    }
    client.destroy()
  }
}
console.log("consumer: done")
