/**
 * The Redis store and the two-tier cache against the real Redis on 127.0.0.1:6379. Skipped with a
 * notice when Redis does not answer, except under CI=true. Each test has its own prefix and
 * deletes its keys. (Vitest fails the run on any unhandled error, so a stray node-redis 'error'
 * event or rejection would fail these tests.)
 */
import { afterEach, expect, it } from "@effect/vitest"
import { Duration, Effect, Either, Exit, Option, Scope } from "effect"
import type { CacheStore } from "../src/index.js"
import { RedisStore } from "../src/redis.js"
import { deletePrefix, describeRedis, freshPrefix, rawClient, REDIS, REDIS_URL } from "./support/redis.js"
import { startProxy, type TcpProxy } from "./support/tcpProxy.js"

const prefixes: Array<string> = []
const proxies: Array<TcpProxy> = []
const prefixFor = (label: string) => {
  const prefix = freshPrefix(label)
  prefixes.push(prefix)
  return prefix
}
const proxy = () =>
  Effect.promise(async () => {
    const started = await startProxy(REDIS)
    proxies.push(started)
    return started
  })
afterEach(async () => {
  await Promise.all(proxies.splice(0).map((p) => p.close()))
  await Promise.all(prefixes.splice(0).map(deletePrefix))
})

const raw = Effect.acquireRelease(Effect.promise(rawClient), (client) => Effect.sync(() => client.destroy()))

const store = (options: RedisStore.Options) => RedisStore.make(options)

/** Runs `effect` and answers how long it took, in milliseconds. */
const timed = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.map(Effect.timed(effect), ([duration, result]) => [Duration.toMillis(duration), result] as const)

/** Retries `effect` until it succeeds with a value that `accept` takes, for up to `within` ms. */
const eventually = <A, E, R>(effect: Effect.Effect<A, E, R>, accept: (a: A) => boolean, within = 5_000) =>
  Effect.gen(function*() {
    const deadline = Date.now() + within
    for (;;) {
      const result = yield* Effect.either(effect)
      if (Either.isRight(result) && accept(result.right)) return result.right
      if (Date.now() > deadline) return yield* Effect.dieMessage(`never accepted: ${JSON.stringify(result)}`)
      yield* Effect.sleep(20)
    }
  })

const isSome = (value: unknown) => Option.isOption(value) && Option.isSome(value)

describeRedis("RedisStore: commands", () => {
  it.scopedLive("set, get and delete round trip under prefix:namespace:key", () =>
    Effect.gen(function*() {
      const prefix = prefixFor("round-trip")
      const redis = yield* store({ prefix })
      expect(yield* redis.get("users", "n1")).toEqual(Option.none())
      yield* redis.set("users", "n1", `{"value":"Ada"}`, 60_000)
      expect(yield* redis.get("users", "n1")).toEqual(Option.some(`{"value":"Ada"}`))
      const client = yield* raw
      expect(yield* Effect.promise(() => client.get(`${prefix}:users:n1`))).toBe(`{"value":"Ada"}`)
      expect(yield* redis.get("orders", "n1")).toEqual(Option.none())
      expect(yield* redis.delete("users", "n1")).toBe(true)
      expect(yield* redis.delete("users", "n1")).toBe(false)
      expect(yield* redis.get("users", "n1")).toEqual(Option.none())
    }))

  it.scopedLive("entries expire in Redis after their time to live (PX); Infinity sets none", () =>
    Effect.gen(function*() {
      const prefix = prefixFor("expiry")
      const redis = yield* store({ prefix })
      const client = yield* raw
      yield* redis.set("ns", "short", "a", 80)
      yield* redis.set("ns", "forever", "b", Infinity)
      yield* redis.set("ns", "fraction", "c", 0.4) // rounded up to 1 ms, never an error
      const pttl = yield* Effect.promise(() => client.pTTL(`${prefix}:ns:short`))
      expect(pttl).toBeGreaterThan(0)
      expect(pttl).toBeLessThanOrEqual(80)
      expect(yield* Effect.promise(() => client.pTTL(`${prefix}:ns:forever`))).toBe(-1)
      expect(yield* redis.get("ns", "short")).toEqual(Option.some("a"))
      yield* Effect.sleep(120)
      expect(yield* redis.get("ns", "short")).toEqual(Option.none())
      expect(yield* redis.get("ns", "fraction")).toEqual(Option.none())
      expect(yield* redis.get("ns", "forever")).toEqual(Option.some("b"))
    }))

  it.scopedLive("clear removes every entry of its namespace, in batches, and nothing else", () =>
    Effect.gen(function*() {
      const prefix = prefixFor("clear")
      const redis = yield* store({ prefix })
      const client = yield* raw
      const many = Array.from({ length: 2_500 }, (_, i) => [`${prefix}:users:k${i}`, "v"] as [string, string])
      yield* Effect.promise(() => client.mSet(many))
      yield* redis.set("users2", "k", "other namespace", 60_000)
      yield* redis.set("user*", "k", "a namespace with a glob character", 60_000)
      yield* redis.clear("user*") // a pattern character in a namespace is matched literally
      expect(yield* redis.get("users", "k0")).toEqual(Option.some("v"))
      expect(yield* redis.get("user*", "k")).toEqual(Option.none())
      yield* redis.clear("users")
      expect(yield* Effect.promise(() => client.exists(many.map(([key]) => key)))).toBe(0)
      expect(yield* redis.get("users2", "k")).toEqual(Option.some("other namespace"))
    }))

  it.scopedLive("a lock is taken by one owner, released only by it, and lapses after its time to live", () =>
    Effect.gen(function*() {
      const prefix = prefixFor("lock")
      const { acquire, release } = (yield* store({ prefix })).coordination!
      expect(yield* acquire("users", "n1", "process-a", 5_000)).toBe(true)
      expect(yield* acquire("users", "n1", "process-b", 5_000)).toBe(false)
      expect(yield* acquire("users", "n2", "process-b", 5_000)).toBe(true) // one lock per key
      yield* release("users", "n1", "process-b") // not the owner: nothing happens
      expect(yield* acquire("users", "n1", "process-b", 5_000)).toBe(false)
      yield* release("users", "n1", "process-a")
      expect(yield* acquire("users", "n1", "process-b", 60)).toBe(true)
      yield* Effect.sleep(100)
      expect(yield* acquire("users", "n1", "process-c", 5_000)).toBe(true)
      // Locks are not entries: reading or clearing the namespace does not see them.
      const redis = yield* store({ prefix })
      expect(yield* redis.get("users", "n1")).toEqual(Option.none())
      yield* redis.clear("users")
      expect(yield* acquire("users", "n1", "process-d", 5_000)).toBe(false)
    }))

  it.scopedLive("events published by one store reach every subscriber, its own included, until its scope closes", () =>
    Effect.gen(function*() {
      const prefix = prefixFor("events")
      const a = (yield* store({ prefix })).coordination!
      const b = (yield* store({ prefix })).coordination!
      const other = (yield* store({ prefix: prefixFor("other") })).coordination!
      const seenA: Array<CacheStore.StoreEvent> = []
      const seenB: Array<CacheStore.StoreEvent> = []
      const seenOther: Array<CacheStore.StoreEvent> = []
      yield* a.subscribe((event) => seenA.push(event))
      const scopeB = yield* Scope.make()
      yield* Scope.extend(b.subscribe((event) => seenB.push(event)), scopeB)
      yield* other.subscribe((event) => seenOther.push(event))
      const event: CacheStore.StoreEvent = { kind: "delete", namespace: "users", key: "n1", origin: "a" }
      yield* a.publish(event)
      // Something that is not an event, on the same channel, is ignored.
      const client = yield* raw
      yield* Effect.promise(() => client.publish(`${prefix}:events`, "not json"))
      yield* Effect.promise(() => client.publish(`${prefix}:events`, `{"kind":"explode"}`))
      yield* b.publish({ kind: "clear", namespace: "users", origin: "b" })
      yield* eventually(Effect.sync(() => seenA.length + seenB.length), (n) => n === 4)
      expect(seenA).toEqual([event, { kind: "clear", namespace: "users", origin: "b" }])
      expect(seenB).toEqual(seenA)
      yield* Scope.close(scopeB, Exit.void)
      yield* a.publish({ kind: "set", namespace: "users", key: "n2", origin: "a" })
      yield* eventually(Effect.sync(() => seenA.length), (n) => n === 3)
      yield* Effect.sleep(50)
      expect(seenB.length).toBe(2)
      expect(seenOther).toEqual([])
    }))

  it.scopedLive("a custom channel", () =>
    Effect.gen(function*() {
      const prefix = prefixFor("channel")
      const redis = (yield* store({ prefix, channel: `${prefix}:custom` })).coordination!
      const client = yield* raw
      const seen: Array<CacheStore.StoreEvent> = []
      yield* redis.subscribe((event) => seen.push(event))
      yield* Effect.promise(() =>
        client.publish(`${prefix}:custom`, JSON.stringify({ kind: "delete", namespace: "n", key: "k", origin: "x" }))
      )
      yield* eventually(Effect.sync(() => seen.length), (n) => n === 1)
    }))

  it.effect("bad options fail the layer, naming the option", () =>
    Effect.gen(function*() {
      const fails = (options: RedisStore.Options) => Effect.flip(Effect.scoped(store(options)))
      expect((yield* fails({ prefix: "" })).message).toContain("prefix")
      expect((yield* fails({ prefix: "p", commandTimeout: -1 })).message).toContain("commandTimeout")
      expect((yield* fails({ prefix: "p", breaker: { failures: 0 } })).message).toContain("breaker.failures")
      expect((yield* fails({ prefix: "p", breaker: { cooldown: "soon" as never } })).message).toContain("breaker.cooldown")
    }))
})

describeRedis("RedisStore: faults", () => {
  const options = (url: string, prefix: string): RedisStore.Options => ({
    url,
    prefix,
    commandTimeout: "100 millis",
    connectTimeout: "300 millis",
    breaker: { failures: 3, cooldown: "300 millis" }
  })
  const circuitOpen = (result: Either.Either<unknown, CacheStore.CacheStoreError>) =>
    Either.isLeft(result) && result.left.reason.includes("circuit")

  it.scopedLive("the layer builds while Redis is unreachable, and commands fail fast", () =>
    Effect.gen(function*() {
      const tcp = yield* proxy()
      tcp.cut()
      const [built, redis] = yield* timed(store(options(tcp.url, prefixFor("down"))))
      expect(built).toBeLessThan(1_000)
      for (let i = 0; i < 10; i++) {
        const [took, result] = yield* timed(Effect.either(redis.get("ns", "k")))
        expect(Either.isLeft(result)).toBe(true)
        expect(took).toBeLessThan(100 + 150)
      }
      // The subscription does not wait for Redis longer than a command would.
      const [subscribed] = yield* timed(redis.coordination!.subscribe(() => {}))
      expect(subscribed).toBeLessThan(100 + 150)
    }))

  it.scopedLive("Redis down at start: once it answers, the store and its subscription work", () =>
    Effect.gen(function*() {
      const prefix = prefixFor("late")
      const tcp = yield* proxy()
      tcp.cut()
      const redis = yield* store(options(tcp.url, prefix))
      const seen: Array<CacheStore.StoreEvent> = []
      yield* redis.coordination!.subscribe((event) => seen.push(event))
      tcp.restore()
      yield* eventually(redis.set("ns", "k", "v", 60_000), () => true)
      expect(yield* redis.get("ns", "k")).toEqual(Option.some("v"))
      const event: CacheStore.StoreEvent = { kind: "set", namespace: "ns", key: "k", origin: "me" }
      yield* eventually(
        Effect.zipRight(redis.coordination!.publish(event), Effect.sleep(20)).pipe(Effect.map(() => seen.length)),
        (n) => n > 0
      )
      expect(seen[0]).toEqual(event)
    }))

  it.scopedLive("a paused connection: each command gives up at the command timeout, then the circuit opens", () =>
    Effect.gen(function*() {
      const tcp = yield* proxy()
      const redis = yield* store(options(tcp.url, prefixFor("pause")))
      yield* redis.set("ns", "k", "v", 60_000)
      tcp.pause()
      for (let i = 0; i < 3; i++) {
        const [took, result] = yield* timed(Effect.either(redis.get("ns", "k")))
        expect(Either.isLeft(result) && result.left.reason).toContain("within 100 ms")
        expect(took).toBeGreaterThanOrEqual(95)
        expect(took).toBeLessThan(100 + 150)
      }
      const [took, result] = yield* timed(Effect.either(redis.get("ns", "k")))
      expect(circuitOpen(result)).toBe(true)
      expect(took).toBeLessThan(50)
      // Recovery: traffic passes again; after the cooldown a probe closes the circuit.
      tcp.restore()
      yield* Effect.sleep(300)
      expect(yield* redis.get("ns", "k")).toEqual(Option.some("v"))
      expect(yield* redis.get("ns", "k")).toEqual(Option.some("v"))
    }))

  it.scopedLive("a slow connection: answers slower than the timeout fail, faster ones pass", () =>
    Effect.gen(function*() {
      const tcp = yield* proxy()
      const redis = yield* store(options(tcp.url, prefixFor("slow")))
      yield* redis.set("ns", "k", "v", 60_000)
      tcp.slow(30) // each way: 60 ms a round trip
      expect(yield* redis.get("ns", "k")).toEqual(Option.some("v"))
      tcp.slow(80) // 160 ms a round trip
      const [took, result] = yield* timed(Effect.either(redis.get("ns", "k")))
      expect(Either.isLeft(result)).toBe(true)
      expect(took).toBeLessThan(100 + 150)
      tcp.restore()
      yield* Effect.sleep(200) // the late answer arrives and is dropped; the connection stays in step
      expect(yield* redis.get("ns", "k")).toEqual(Option.some("v"))
      expect(yield* redis.delete("ns", "k")).toBe(true)
      expect(yield* redis.get("ns", "k")).toEqual(Option.none())
    }))

  it.scopedLive("a cut connection: commands fail fast, the circuit opens and closes, and the client reconnects", () =>
    Effect.gen(function*() {
      const prefix = prefixFor("cut")
      const tcp = yield* proxy()
      const redis = yield* store(options(tcp.url, prefix))
      const seen: Array<CacheStore.StoreEvent> = []
      yield* redis.coordination!.subscribe((event) => seen.push(event))
      yield* redis.set("ns", "k", "v", 60_000)
      tcp.cut()
      yield* Effect.sleep(20)
      const results = yield* Effect.forEach(Array.from({ length: 6 }), () => timed(Effect.either(redis.get("ns", "k"))))
      for (const [took, result] of results) {
        expect(Either.isLeft(result)).toBe(true)
        expect(took).toBeLessThan(100 + 150)
      }
      expect(circuitOpen(results[5]![1])).toBe(true)
      tcp.restore()
      // No restart: the client reconnects on its own and the next probe closes the circuit.
      expect(yield* eventually(redis.get("ns", "k"), isSome)).toEqual(Option.some("v"))
      // The subscriber reconnected too and subscribed again.
      const event: CacheStore.StoreEvent = { kind: "delete", namespace: "ns", key: "k", origin: "me" }
      yield* eventually(
        Effect.zipRight(redis.coordination!.publish(event), Effect.sleep(20)).pipe(Effect.map(() => seen.length)),
        (n) => n > 0
      )
      expect(seen[0]).toEqual(event)
    }))

  it.live("closing the layer's scope while Redis hangs does not hang", () =>
    Effect.gen(function*() {
      const tcp = yield* proxy()
      const scope = yield* Scope.make()
      const redis = yield* Scope.extend(store(options(tcp.url, prefixFor("close"))), scope)
      yield* redis.set("ns", "k", "v", 60_000)
      tcp.pause()
      yield* Effect.fork(Effect.either(redis.get("ns", "k")))
      const [took] = yield* timed(Scope.close(scope, Exit.void))
      expect(took).toBeLessThan(500)
    }))
})

export { REDIS_URL }
