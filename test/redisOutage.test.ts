/**
 * An invalidation made while Redis is down is not lost: against a Redis server of the test's own
 * (started from the installed `redis-server` on a free port, stopped and started again by its pid,
 * its data kept on disk), with the two-tier cache in worker processes.
 */
import { afterAll, beforeAll, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { createClient } from "redis"
import { describeRedisServer, type RedisServer, startRedisServer } from "./support/redisServer.js"
import { sourceKey, startWorker, type Worker } from "./support/workers.js"

describeRedisServer("Two-tier cache on Redis: an invalidation made while Redis is down", () => {
  let server: RedisServer
  const workers: Array<Worker> = []
  beforeAll(async () => {
    server = await startRedisServer()
  }, 30_000)
  afterAll(async () => {
    await Promise.all(workers.map((worker) => worker.stop()))
    await server?.remove()
  }, 30_000)

  const prefix = "outage"
  const store = { commandTimeout: "100 millis", connectTimeout: "300 millis" } as const
  const worker = async () => {
    const started = await startWorker({ prefix, url: server.url, l1TimeToLive: 60_000, lookupDelay: 10, store })
    workers.push(started)
    return started
  }
  const ask = <A>(worker: Worker, command: Record<string, unknown>) => Effect.promise(() => worker.request<A>(command))
  const raw = Effect.acquireRelease(
    Effect.promise(async () => {
      const client = createClient({ url: server.url })
      client.on("error", () => {})
      await client.connect()
      return client
    }),
    (client) => Effect.sync(() => client.destroy())
  )
  const entry = (key: string) => `${prefix}:values:${JSON.stringify(key)}`

  it.scopedLive(
    "stop Redis, invalidate, start it again: a fresh process reads the new value",
    () =>
      Effect.gen(function*() {
        const [a, c] = yield* Effect.promise(() => Promise.all([worker(), worker()]))
        const before = yield* raw
        yield* Effect.promise(() => before.set(sourceKey(prefix, "k"), "old"))
        expect(yield* ask(a, { op: "get", key: "k" })).toBe("old") // in Redis, and in a's first tier
        expect(yield* ask(c, { op: "get", key: "k" })).toBe("old") // read from Redis into c's first tier
        expect(yield* Effect.promise(() => before.exists(entry("k")))).toBe(1)
        yield* Effect.promise(() => before.set(sourceKey(prefix, "k"), "new")) // the data changes...
        before.destroy()

        yield* Effect.promise(() => server.stop()) // ...and Redis is down when it is invalidated
        expect(yield* ask(a, { op: "invalidate", key: "k" })).toBe(true)
        yield* Effect.promise(() => server.start())

        // Redis is back with what it had: the old entry (the proof that without the outbox, the next
        // reader would get "old"), until a replays its invalidation, which it does on its own.
        const client = yield* raw
        const deadline = Date.now() + 5_000
        while ((yield* Effect.promise(() => client.exists(entry("k")))) === 1) {
          expect(Date.now()).toBeLessThan(deadline)
          yield* Effect.sleep(20)
        }
        const fresh = yield* Effect.promise(() => worker())
        expect(yield* ask(fresh, { op: "get", key: "k" })).toBe("new")
        expect(yield* ask(a, { op: "get", key: "k" })).toBe("new")
        // c kept "old" in its first tier for a minute: its subscription came back (a reset) and the
        // replayed invalidation's event reached it, so it dropped it.
        const replayedAt = Date.now()
        while ((yield* ask(c, { op: "get", key: "k" })) !== "new") {
          expect(Date.now() - replayedAt).toBeLessThan(1_000)
          yield* Effect.sleep(20)
        }
      }),
    60_000
  )
})
