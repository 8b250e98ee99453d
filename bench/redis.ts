/**
 * The two-tier cache on the local Redis (127.0.0.1:6379), in one process:
 *
 * - an L1 hit (the entry is in the in-memory first tier) against a memory-only hit, both with a
 *   time to live: target <= 1.1x;
 * - an L2 hit (the first tier misses: it holds one entry and the loop cycles through 1,000 keys,
 *   so every call reads Redis and decodes the entry) against a raw node-redis GET of the same
 *   keys, the same payloads: target <= 1.5x;
 * - writes: the store's `set` without and with a fence (the script that keeps a later write or
 *   invalidation from being overwritten), and a fenced `delete`, against raw SET and DEL.
 *
 * Skipped with a notice when Redis does not answer.
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Schema from "effect/Schema"
import * as net from "node:net"
import { createClient } from "redis"
import { CacheStore, RequestCache } from "../src/index.js"
import { RedisStore } from "../src/redis.js"
import { type Case, measure, met, num, ratio, table } from "./harness.js"

const URL = "redis://127.0.0.1:6379"
const KEYS = 1_000
const L1_ITERATIONS = 300_000
const L2_ITERATIONS = 20_000
const L1_TARGET = 1.1
const L2_TARGET = 1.5

class User extends Schema.Class<User>("User")({
  id: Schema.Number,
  name: Schema.String,
  email: Schema.String,
  roles: Schema.Array(Schema.String)
}) {}
const user = (id: number) =>
  new User({ id, name: `user ${id}`, email: `user${id}@example.com`, roles: ["reader", "writer"] })

const redisAnswers = (): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = net.connect(6379, "127.0.0.1")
    const done = (answer: boolean) => {
      clearTimeout(timer)
      socket.destroy()
      resolve(answer)
    }
    const timer = setTimeout(() => done(false), 500)
    socket.on("connect", () => socket.write("PING\r\n"))
    socket.on("data", (data) => done(data.toString().startsWith("+PONG")))
    socket.on("error", () => done(false))
  })

const loop = (
  runtime: ManagedRuntime.ManagedRuntime<RequestCache, unknown>,
  get: (k: number) => Effect.Effect<User, never, RequestCache>
) =>
(n: number) =>
  runtime.runPromise(Effect.gen(function*() {
    for (let i = 0, k = 0; i < n; i++) {
      yield* get(k)
      if (++k === KEYS) k = 0
    }
  }))

export const run = async (): Promise<void> => {
  if (!(await redisAnswers())) {
    console.log(`\nredis: skipped, Redis does not answer on ${URL}`)
    return
  }
  const prefix = `erc-bench-${process.pid}`
  const store = RedisStore.layer({ url: URL, prefix })
  const lookup = (k: number) => Effect.succeed(user(k))
  const schema = { success: User }

  const memory = ManagedRuntime.make(RequestCache.layer({ capacity: 2_000, timeToLive: "1 hour" }))
  const twoTier = ManagedRuntime.make(
    RequestCache.layerStore({ timeToLive: "1 hour", l1: { capacity: 2_000, timeToLive: "1 hour" } }).pipe(
      Layer.provide(store)
    )
  )
  const l2Only = ManagedRuntime.make(
    RequestCache.layerStore({ timeToLive: "1 hour", l1: { capacity: 1, timeToLive: "1 hour" } }).pipe(
      Layer.provide(store)
    )
  )
  const storeRuntime = ManagedRuntime.make(store)
  const memoryHit = RequestCache.cached({ name: "bench-l1", lookup, schema })
  const l1Hit = RequestCache.cached({ name: "bench-l1", lookup, schema })
  const l2Hit = RequestCache.cached({ name: "bench-l2", lookup, schema })

  // node-redis's defaults, as an application would use it.
  const client = createClient({ url: URL })
  client.on("error", () => {})
  await client.connect()
  try {
    // Fill Redis with the entries of the L2 case, and find their keys for the raw GETs.
    await loop(l2Only, l2Hit)(KEYS)
    const rawKeys: Array<string> = []
    for await (const keys of client.scanIterator({ MATCH: `${prefix}:bench-l2:*`, COUNT: 1_000 })) rawKeys.push(...keys)
    if (rawKeys.length !== KEYS) throw new Error(`expected ${KEYS} entries in Redis, found ${rawKeys.length}`)
    const payload = (await client.get(rawKeys[0]!))!.length
    const storeKeys = rawKeys.map((key) => key.slice(`${prefix}:bench-l2:`.length))

    const l1Cases: Array<Case> = [
      { name: "memory-only hit (RequestCache.layer)", run: loop(memory, memoryHit) },
      { name: "ours: L1 hit, two tiers on Redis", run: loop(twoTier, l1Hit) }
    ]
    const l1 = await measure(l1Cases, L1_ITERATIONS)
    const l1Ratio = l1[1]! / l1[0]!
    table(
      `redis 1. L1 hit vs memory-only hit: ${KEYS} keys, one fiber, ${num(L1_ITERATIONS, 0)} calls, best of 5`,
      ["case", "ns/op", "vs memory", "target", "met"],
      [
        [l1Cases[0]!.name, num(l1[0]!), ratio(1), "", ""],
        [l1Cases[1]!.name, num(l1[1]!), ratio(l1Ratio), `<= ${L1_TARGET}x`, met(l1Ratio <= L1_TARGET)]
      ]
    )

    const l2Cases: Array<Case> = [
      {
        name: "raw node-redis: await client.get(key)",
        run: async (n) => {
          for (let i = 0, k = 0; i < n; i++) {
            await client.get(rawKeys[k]!)
            if (++k === KEYS) k = 0
          }
        }
      },
      {
        // The store alone (time limit and breaker, no first tier, no decoding): where the time goes.
        name: "RedisStore.get (store only)",
        run: (n) =>
          storeRuntime.runPromise(Effect.flatMap(CacheStore.CacheStore, (redis) =>
            Effect.gen(function*() {
              for (let i = 0, k = 0; i < n; i++) {
                yield* redis.get("bench-l2", storeKeys[k]!)
                if (++k === KEYS) k = 0
              }
            })))
      },
      { name: "ours: L2 hit (read + decode)", run: loop(l2Only, l2Hit) }
    ]
    const l2 = await measure(l2Cases, L2_ITERATIONS)
    const storeRatio = l2[1]! / l2[0]!
    const l2Ratio = l2[2]! / l2[0]!
    table(
      `redis 2. L2 hit vs raw GET: ${KEYS} keys of ${payload} bytes, one fiber, ${
        num(L2_ITERATIONS, 0)
      } calls, best of 5`,
      ["case", "µs/op", "vs raw GET", "target", "met"],
      [
        [l2Cases[0]!.name, num(l2[0]! / 1_000, 2), ratio(1), "", ""],
        [l2Cases[1]!.name, num(l2[1]! / 1_000, 2), ratio(storeRatio), "", ""],
        [l2Cases[2]!.name, num(l2[2]! / 1_000, 2), ratio(l2Ratio), `<= ${L2_TARGET}x`, met(l2Ratio <= L2_TARGET)]
      ]
    )

    // 3. Writes: what a fence costs (a script that reads the key's version and writes two keys).
    const entry = (await client.get(rawKeys[0]!))!
    const fence = (): CacheStore.Fence => ({ version: Date.now(), window: 60_000 })
    const onStore = (f: (redis: CacheStore.Service, k: number) => Effect.Effect<unknown, unknown>) => (n: number) =>
      storeRuntime.runPromise(Effect.flatMap(CacheStore.CacheStore, (redis) =>
        Effect.gen(function*() {
          for (let i = 0, k = 0; i < n; i++) {
            yield* f(redis, k)
            if (++k === KEYS) k = 0
          }
        })))
    const writeKey = (k: number) => `${prefix}:bench-w:${k}`
    const writeCases: Array<Case> = [
      {
        name: "raw node-redis: await client.set(key, entry, PX)",
        run: async (n) => {
          for (let i = 0, k = 0; i < n; i++) {
            await client.set(writeKey(k), entry, { expiration: { type: "PX", value: 3_600_000 } })
            if (++k === KEYS) k = 0
          }
        }
      },
      {
        name: "RedisStore.set, no fence",
        run: onStore((redis, k) => redis.set("bench-w", String(k), entry, 3_600_000))
      },
      {
        name: "RedisStore.set, fenced (what the cache writes)",
        run: onStore((redis, k) => redis.set("bench-w", String(k), entry, 3_600_000, fence()))
      },
      {
        name: "raw node-redis: await client.del(key)",
        run: async (n) => {
          for (let i = 0, k = 0; i < n; i++) {
            await client.del(writeKey(k))
            if (++k === KEYS) k = 0
          }
        }
      },
      {
        name: "RedisStore.delete, fenced (an invalidation)",
        run: onStore((redis, k) => redis.delete("bench-w", String(k), fence()))
      }
    ]
    const writes = await measure(writeCases, L2_ITERATIONS)
    table(
      `redis 3. writes: ${KEYS} keys, entries of ${payload} bytes, one fiber, ${
        num(L2_ITERATIONS, 0)
      } calls, best of 5`,
      ["case", "µs/op", "vs raw SET", "vs raw DEL"],
      writeCases.map((c, i) => [
        c.name,
        num(writes[i]! / 1_000, 2),
        i < 3 ? ratio(writes[i]! / writes[0]!) : "",
        i >= 3 ? ratio(writes[i]! / writes[3]!) : ""
      ])
    )
  } finally {
    await Promise.all([memory.dispose(), twoTier.dispose(), l2Only.dispose(), storeRuntime.dispose()])
    for await (const keys of client.scanIterator({ MATCH: `${prefix}:*`, COUNT: 1_000 })) {
      if (keys.length > 0) await client.unlink(keys)
    }
    client.destroy()
  }
}
