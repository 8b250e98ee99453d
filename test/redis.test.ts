/**
 * The Redis store and the two-tier cache against the real Redis on 127.0.0.1:6379. Skipped with a
 * notice when Redis does not answer, except under CI=true. Each test has its own prefix and
 * deletes its keys. (Vitest fails the run on any unhandled error, so a stray node-redis 'error'
 * event or rejection would fail these tests.)
 */
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from "@effect/vitest"
import { type Context, Duration, Effect, Either, Exit, Fiber, Layer, Option, Runtime, Scope } from "effect"
import { monitorEventLoopDelay } from "node:perf_hooks"
import { type CacheStore, RequestCache } from "../src/index.js"
import { RedisStore } from "../src/redis.js"
import { deletePrefix, describeRedis, freshPrefix, rawClient, REDIS, REDIS_URL } from "./support/redis.js"
import { startProxy, type TcpProxy } from "./support/tcpProxy.js"
import { NotFound, User, usersFunction as users } from "./support/users.js"
import {
  complaints,
  runsKey,
  sourceKey,
  stampede,
  stampedeRounds,
  startWorker,
  type Worker
} from "./support/workers.js"

const prefixes: Array<string> = []
const proxies: Array<TcpProxy> = []
const prefixFor = (label: string) => {
  const prefix = freshPrefix(label)
  prefixes.push(prefix)
  return prefix
}
const proxy = (options: { readonly tap?: boolean } = {}) =>
  Effect.promise(async () => {
    const started = await startProxy(REDIS, options)
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

/** This process's event loop, watched during each test: how late its timers can have fired. */
const loopDelay = monitorEventLoopDelay({ resolution: 10 })
loopDelay.enable()
beforeEach(() => loopDelay.reset())

/**
 * What a time limit may overrun by on a loaded machine: 400 ms, plus the longest this process's
 * event loop has been held in this test so far (timers fire late by that much when the CPUs are
 * busy, as when the whole suite runs in parallel). A hang is forever: no command has a timeout of
 * node-redis's.
 */
const slack = () => 400 + loopDelay.max / 1e6

/** Waits `millis` of real time, whatever clock the test's Effects use (a `TestClock` stands still). */
const realSleep = (millis: number) => Effect.promise(() => new Promise((resolve) => setTimeout(resolve, millis)))

/** Polls `condition` in real time until it holds, for at most `within` ms; answers when it did. */
const realTimeUntil = <E, R>(condition: Effect.Effect<boolean, E, R>, within = 5_000) =>
  Effect.gen(function*() {
    const deadline = Date.now() + within
    while (!(yield* condition)) {
      if (Date.now() > deadline) return yield* Effect.dieMessage(`still not so after ${within} ms`)
      yield* realSleep(10)
    }
    return Date.now()
  })

/** The commands in what a client sent (RESP arrays of bulk strings, as node-redis writes them). */
const commandsIn = (bytes: Buffer): Array<Array<string>> => {
  const commands: Array<Array<string>> = []
  let at = 0
  const line = () => {
    const end = bytes.indexOf("\r\n", at)
    const text = bytes.toString("utf8", at, end)
    at = end + 2
    return text
  }
  while (at < bytes.length) {
    const header = line()
    if (!header.startsWith("*")) throw new Error(`not a command: ${header}`)
    const args: Array<string> = []
    for (let n = Number(header.slice(1)); n > 0; n--) {
      const length = Number(line().slice(1))
      args.push(bytes.toString("utf8", at, at + length))
      at += length + 2
    }
    commands.push(args)
  }
  return commands
}

/**
 * The `PX` of every write of `key` that went through `tcp` (undefined: none): a `SET key value
 * [PX ms]`, or the fenced write's script (`EVAL script 2 key version entry px ...`, its `PX`
 * empty for none).
 */
const writesOf = (tcp: TcpProxy, key: string) =>
  tcp.sent().flatMap(commandsIn).flatMap((args) => {
    const command = args[0]!.toUpperCase()
    if (command === "SET" && args[1] === key) {
      const px = args.findIndex((arg) => arg.toUpperCase() === "PX")
      return [{ value: args[2]!, px: px < 0 ? undefined : Number(args[px + 1]) }]
    }
    if (command === "EVAL" && args[2] === "2" && args[3] === key) {
      return [{ value: args[5]!, px: args[6] === "" ? undefined : Number(args[6]) }]
    }
    return []
  })

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
      // What the store sends is read off the wire, and the expiry is waited for: however long the
      // machine stalls between two steps, nothing here races Redis's clock.
      const prefix = prefixFor("expiry")
      const tcp = yield* proxy({ tap: true })
      const redis = yield* store({ prefix, url: tcp.url })
      const client = yield* raw
      const setAt = Date.now()
      yield* redis.set("ns", "short", "a", 80)
      yield* redis.set("ns", "long", "d", 60_000)
      yield* redis.set("ns", "forever", "b", Infinity)
      yield* redis.set("ns", "fraction", "c", 0.4) // rounded up to 1 ms, never an error
      expect(writesOf(tcp, `${prefix}:ns:short`)).toEqual([{ value: "a", px: 80 }])
      expect(writesOf(tcp, `${prefix}:ns:long`)).toEqual([{ value: "d", px: 60_000 }])
      expect(writesOf(tcp, `${prefix}:ns:forever`)).toEqual([{ value: "b", px: undefined }])
      expect(writesOf(tcp, `${prefix}:ns:fraction`)).toEqual([{ value: "c", px: 1 }])
      // Redis took them so: a time to live only where one was given.
      expect(yield* redis.get("ns", "long")).toEqual(Option.some("d"))
      const pttl = yield* Effect.promise(() => client.pTTL(`${prefix}:ns:long`))
      expect(pttl).toBeGreaterThan(0)
      expect(pttl).toBeLessThanOrEqual(60_000)
      expect(yield* Effect.promise(() => client.pTTL(`${prefix}:ns:forever`))).toBe(-1)
      // And drops them at their time, not before.
      const goneAt = yield* realTimeUntil(Effect.map(redis.get("ns", "short"), Option.isNone))
      expect(goneAt - setAt).toBeGreaterThanOrEqual(80)
      yield* realTimeUntil(Effect.map(redis.get("ns", "fraction"), Option.isNone))
      expect(yield* redis.get("ns", "forever")).toEqual(Option.some("b"))
    }))

  it.scopedLive("a fenced write older than the key's last write or invalidation is refused, atomically in Redis", () =>
    Effect.gen(function*() {
      const prefix = prefixFor("fence")
      const redis = yield* store({ prefix })
      const client = yield* raw
      const window = 60_000
      yield* redis.set("ns", "k", "new", 60_000, { version: 20, window })
      yield* redis.set("ns", "k", "old", 60_000, { version: 10, window }) // landed late: refused
      expect(yield* redis.get("ns", "k")).toEqual(Option.some("new"))
      // The version lives beside the entry, for its window (and the entry keeps its own PX).
      expect(yield* Effect.promise(() => client.get(`${prefix}::version:ns:k`))).toBe("20")
      const versionTtl = yield* Effect.promise(() => client.pTTL(`${prefix}::version:ns:k`))
      expect(versionTtl).toBeGreaterThan(window - 5_000)
      expect(versionTtl).toBeLessThanOrEqual(window)
      expect(yield* Effect.promise(() => client.pTTL(`${prefix}:ns:k`))).toBeLessThanOrEqual(60_000)
      yield* redis.set("ns", "k", "same time", Infinity, { version: 20, window }) // a tie is not older
      expect(yield* redis.get("ns", "k")).toEqual(Option.some("same time"))
      expect(yield* Effect.promise(() => client.pTTL(`${prefix}:ns:k`))).toBe(-1)
      expect(yield* redis.delete("ns", "k", { version: 30, window })).toBe(true)
      yield* redis.set("ns", "k", "made before the invalidation", 60_000, { version: 25, window })
      expect(yield* redis.get("ns", "k")).toEqual(Option.none())
      yield* redis.set("ns", "k", "after", 60_000, { version: 31, window })
      expect(yield* redis.get("ns", "k")).toEqual(Option.some("after"))
      // An older invalidation (replayed late) deletes all the same and leaves the later version.
      expect(yield* redis.delete("ns", "k", { version: 5, window })).toBe(true)
      expect(yield* redis.delete("ns", "k", { version: 5, window })).toBe(false)
      expect(yield* Effect.promise(() => client.get(`${prefix}::version:ns:k`))).toBe("31")
      // Versions are not entries: a namespace's clear leaves them; unfenced commands ignore them.
      yield* redis.clear("ns")
      expect(yield* Effect.promise(() => client.exists(`${prefix}::version:ns:k`))).toBe(1)
      yield* redis.set("ns", "k", "unfenced", 60_000)
      expect(yield* redis.get("ns", "k")).toEqual(Option.some("unfenced"))
      // Past its window the version is gone, and an older write is taken again.
      yield* redis.set("ns", "short", "a", 60_000, { version: 100, window: 50 })
      yield* eventually(Effect.promise(() => client.exists(`${prefix}::version:ns:short`)), (n) => n === 0)
      yield* redis.set("ns", "short", "b", 60_000, { version: 1, window: 50 })
      expect(yield* redis.get("ns", "short")).toEqual(Option.some("b"))
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
      // Asked again by its owner (whose first answer was lost), it says yes and renews the lock.
      expect(yield* acquire("users", "n1", "process-a", 8_000)).toBe(true)
      const client = yield* raw
      expect(yield* Effect.promise(() => client.pTTL(`${prefix}::lock:users:n1`))).toBeGreaterThan(5_000)
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
})

/** Holds this process's event loop for `millis`, as a burst of a thousand fibers can. */
const holdEventLoop = (millis: number) => {
  const until = Date.now() + millis
  while (Date.now() < until) {
    // Busy: no timer fires, no socket is read.
  }
  loopDelay.reset() // held on purpose: not the machine's lateness (`slack`)
}

describeRedis("RedisStore: a timeout measures Redis, not this process's event loop", () => {
  // Redis (a process of its own, on a busy machine) has a quarter of a second to answer; the event
  // loop is held well past that, so a timer that measured the loop would surely fire.
  const timeouts = { commandTimeout: "250 millis", breaker: { failures: 3, cooldown: "300 millis" } } as const
  const HOLD = 600

  /** Starts `effect` at once, on this very tick (its command is sent before this returns). */
  const startNow = <A, E>(effect: Effect.Effect<A, E>) =>
    Effect.map(Effect.runtime<never>(), (runtime) => Runtime.runFork(runtime)(effect, { immediate: true }))

  it.scopedLive("the loop held past the timeout before the command is written: the answer is taken", () =>
    Effect.gen(function*() {
      const redis = yield* store({ prefix: prefixFor("held-before-write"), ...timeouts })
      yield* redis.set("ns", "k", "v", 60_000)
      const fiber = yield* startNow(Effect.either(redis.get("ns", "k")))
      holdEventLoop(HOLD) // node-redis writes the command once this returns; the timer starts then
      expect(yield* Fiber.join(fiber)).toEqual(Either.right(Option.some("v")))
    }))

  it.scopedLive("the loop held past the timeout while the answer waits in the socket: the answer is taken", () =>
    Effect.gen(function*() {
      const redis = yield* store({ prefix: prefixFor("held-after-write"), ...timeouts })
      yield* redis.set("ns", "k", "v", 60_000)
      const fiber = yield* startNow(Effect.either(redis.get("ns", "k")))
      // Queued after node-redis's write and the timer's start: the command is on the wire, Redis
      // answers at once, and the timer expires while this holds the loop.
      yield* Effect.promise(() => new Promise<void>((resolve) => setImmediate(() => (holdEventLoop(HOLD), resolve()))))
      expect(yield* Fiber.join(fiber)).toEqual(Either.right(Option.some("v")))
      // And many at once, as in a cold stampede: none times out.
      const many = yield* startNow(
        Effect.all(Array.from({ length: 200 }, (_, i) => redis.get("ns", i === 0 ? "k" : `k${i}`)), {
          concurrency: "unbounded"
        })
      )
      yield* Effect.promise(() => new Promise<void>((resolve) => setImmediate(() => (holdEventLoop(HOLD), resolve()))))
      const values = yield* Fiber.join(many)
      expect(values[0]).toEqual(Option.some("v"))
      expect(values.slice(1).every(Option.isNone)).toBe(true)
    }))

  it.scopedLive("a paused Redis still times out, the loop held or not", () =>
    Effect.gen(function*() {
      const tcp = yield* proxy()
      const redis = yield* store({ url: tcp.url, prefix: prefixFor("held-paused"), ...timeouts })
      yield* redis.set("ns", "k", "v", 60_000)
      tcp.pause()
      const [took, result] = yield* timed(Effect.either(redis.get("ns", "k")))
      expect(Either.isLeft(result) && result.left.reason).toContain("within 250 ms")
      expect(took).toBeGreaterThanOrEqual(245)
      expect(took).toBeLessThan(250 + slack())
      const started = Date.now()
      const fiber = yield* startNow(Effect.either(redis.get("ns", "k")))
      yield* Effect.promise(() => new Promise<void>((resolve) => setImmediate(() => (holdEventLoop(HOLD), resolve()))))
      const held = yield* Fiber.join(fiber)
      expect(Either.isLeft(held) && held.left.reason).toContain("within 250 ms")
      expect(Date.now() - started).toBeLessThan(HOLD + 250 + slack())
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
        expect(took).toBeLessThan(100 + slack())
      }
      // The subscription does not wait for Redis longer than a command would.
      const [subscribed] = yield* timed(redis.coordination!.subscribe(() => {}))
      expect(subscribed).toBeLessThan(100 + slack())
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
        Effect.zipRight(redis.coordination!.publish(event), Effect.sleep(20)).pipe(
          Effect.map(() => seen.filter((e) => e.kind === "set").length)
        ),
        (n) => n > 0
      )
      // Subscribed only after the layer was built: what was published before is lost, so the
      // listener heard a reset first (its cache drops its first tier), then the events.
      expect(seen[0]).toEqual({ kind: "reset", namespace: "", origin: "" })
      expect(seen[1]).toEqual(event)
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
        expect(took).toBeLessThan(100 + slack())
      }
      const [took, result] = yield* timed(Effect.either(redis.get("ns", "k")))
      expect(circuitOpen(result)).toBe(true)
      expect(took).toBeLessThan(slack())
      // Recovery: traffic passes again; after the cooldown a probe closes the circuit.
      tcp.restore()
      yield* Effect.sleep(300)
      expect(yield* redis.get("ns", "k")).toEqual(Option.some("v"))
      expect(yield* redis.get("ns", "k")).toEqual(Option.some("v"))
    }))

  it.scopedLive("a slow connection: answers slower than the timeout fail, faster ones pass", () =>
    Effect.gen(function*() {
      const tcp = yield* proxy()
      // A timeout of its own, far from both delays: a loaded machine only adds to a round trip, so
      // the slow one is always slower than the timeout, and the fast one has 250 ms to spare.
      const redis = yield* store({ ...options(tcp.url, prefixFor("slow")), commandTimeout: "300 millis" })
      yield* redis.set("ns", "k", "v", 60_000)
      tcp.slow(25) // each way: 50 ms a round trip
      expect(yield* redis.get("ns", "k")).toEqual(Option.some("v"))
      tcp.slow(200) // 400 ms a round trip
      const [took, result] = yield* timed(Effect.either(redis.get("ns", "k")))
      expect(Either.isLeft(result) && result.left.reason).toContain("within 300 ms")
      expect(took).toBeLessThan(300 + slack())
      tcp.restore()
      yield* Effect.sleep(300) // the late answer arrives and is dropped; the connection stays in step
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
        expect(took).toBeLessThan(100 + slack())
      }
      expect(circuitOpen(results[5]![1])).toBe(true)
      tcp.restore()
      // No restart: the client reconnects on its own and the next probe closes the circuit.
      expect(yield* eventually(redis.get("ns", "k"), isSome)).toEqual(Option.some("v"))
      // The subscriber reconnected too, subscribed again and said that events may have been missed.
      const event: CacheStore.StoreEvent = { kind: "delete", namespace: "ns", key: "k", origin: "me" }
      yield* eventually(
        Effect.zipRight(redis.coordination!.publish(event), Effect.sleep(20)).pipe(
          Effect.map(() => seen.filter((e) => e.kind === "delete").length)
        ),
        (n) => n > 0
      )
      expect(seen[0]).toEqual({ kind: "reset", namespace: "", origin: "" })
      expect(seen.filter((e) => e.kind === "reset")).toHaveLength(1)
      expect(seen.at(-1)).toEqual(event)
    }))

  it.scopedLive("a write that reaches Redis after its timeout, and after another process's invalidation: refused when fenced", () =>
    Effect.gen(function*() {
      const prefix = prefixFor("late-write")
      const tcp = yield* proxy()
      const late = yield* store(options(tcp.url, prefix)) // a process whose commands are held
      const other = yield* store({ prefix })
      const window = 60_000
      yield* late.set("ns", "barrier", "b", 60_000)
      for (const fenced of [false, true]) {
        const key = fenced ? "fenced" : "unfenced"
        tcp.pause()
        // Made at 10: the command waits in the proxy; the cache gives up on it.
        const written = yield* Effect.either(
          late.set("ns", key, "made at 10", 60_000, fenced ? { version: 10, window } : undefined)
        )
        expect(Either.isLeft(written)).toBe(true)
        // Meanwhile another process invalidates the key, at 20.
        yield* other.delete("ns", key, fenced ? { version: 20, window } : undefined)
        tcp.restore()
        // The held command reaches Redis; a command after it on the same connection says when it ran.
        yield* eventually(late.get("ns", "barrier"), isSome)
        expect(yield* other.get("ns", key)).toEqual(fenced ? Option.none() : Option.some("made at 10"))
      }
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
      expect(took).toBeLessThan(100 + slack())
    }))
})

// -------------------------------------------------------------------------------------------------
// The two-tier cache (RequestCache.layerStore) on Redis

/** The shared users function, with its typed failures cached (the round trips carry them). */
const usersFunction = (
  name = "users",
  policy?: { readonly timeToLive?: number; readonly staleWhileRevalidate?: number }
) => users(name, { policy: { cacheErrors: true, ...policy } })

/** One "process": the two-tier cache on its own Redis connection, built in the test's scope. */
const cacheProcess = (
  store: RedisStore.Options,
  options: RequestCache.StoreOptions = {}
): Effect.Effect<Context.Context<RequestCache>, unknown, Scope.Scope> =>
  Layer.build(RequestCache.layerStore(options).pipe(Layer.provide(RedisStore.layer(store))))

const keysUnder = (pattern: string) =>
  Effect.gen(function*() {
    const client = yield* raw
    return yield* Effect.promise(() => client.keys(pattern))
  })

describeRedis("Two-tier cache on Redis: round trips", () => {
  it.scopedLive("a value goes through Redis to another process, decoded by its Schema", () =>
    Effect.gen(function*() {
      const prefix = prefixFor("values")
      const { get, state } = usersFunction()
      const a = yield* cacheProcess({ prefix })
      const b = yield* cacheProcess({ prefix })
      const first = yield* get(1).pipe(Effect.provide(a))
      expect(state.runs).toBe(1)
      const keys = yield* keysUnder(`${prefix}:users:*`)
      expect(keys.length).toBe(1)
      const second = yield* get(1).pipe(Effect.provide(b))
      expect(state.runs).toBe(1) // b read it from Redis
      expect(second).toBeInstanceOf(User)
      expect(second).toEqual(first)
      expect((yield* get.stats.pipe(Effect.provide(b))).hits).toBe(1)
    }))

  it.scopedLive("a cached typed failure goes through Redis and comes back as the same failure", () =>
    Effect.gen(function*() {
      const prefix = prefixFor("failures")
      const { get, state } = usersFunction()
      const a = yield* cacheProcess({ prefix })
      const b = yield* cacheProcess({ prefix })
      const failure = yield* Effect.flip(get(-1).pipe(Effect.provide(a)))
      expect(failure).toEqual(new NotFound({ id: -1 }))
      const replayed = yield* Effect.flip(get(-1).pipe(Effect.provide(b)))
      expect(state.runs).toBe(1)
      expect(replayed).toBeInstanceOf(NotFound)
      expect(replayed).toEqual(failure)
    }))

  it.scoped("entries expire in Redis at the end of their stale window, and the lookup runs again", () =>
    Effect.gen(function*() {
      // The cache's clock stands still (a TestClock): the entry is written with its whole window
      // as its PX (150 + 100 ms) however long the machine takes between the load and the write,
      // and the cache itself never finds it stale; only Redis's clock (real time) can drop it.
      // What the store sent is read off the wire: nothing here races Redis's expiry.
      const prefix = prefixFor("expiry")
      const tcp = yield* proxy({ tap: true })
      const { get, state } = usersFunction("users", { timeToLive: 150, staleWhileRevalidate: 100 })
      const a = yield* cacheProcess({ prefix, url: tcp.url })
      const loadedAt = Date.now()
      yield* get(1).pipe(Effect.provide(a))
      const writes = writesOf(tcp, `${prefix}:users:n1`)
      expect(writes.map((write) => write.px)).toEqual([250])
      // Redis drops it at the end of that window (not before), and another process loads it again.
      const goneAt = yield* realTimeUntil(Effect.map(keysUnder(`${prefix}:users:*`), (keys) => keys.length === 0))
      expect(goneAt - loadedAt).toBeGreaterThanOrEqual(250)
      const b = yield* cacheProcess({ prefix })
      yield* get(1).pipe(Effect.provide(b))
      expect(state.runs).toBe(2)
    }))

  it.scopedLive("a corrupt entry written straight into Redis is a miss, counted, and replaced", () =>
    Effect.gen(function*() {
      const prefix = prefixFor("corrupt")
      const { get, state } = usersFunction()
      const a = yield* cacheProcess({ prefix })
      yield* get(1).pipe(Effect.provide(a))
      const [key] = yield* keysUnder(`${prefix}:users:*`)
      const client = yield* raw
      for (const garbage of ["{not json", `{"v":1,"kind":"success","value":{"id":"one"}}`, "42"]) {
        yield* Effect.promise(() => client.set(key!, garbage))
        const b = yield* cacheProcess({ prefix })
        const runs = state.runs
        const user = yield* get(1).pipe(Effect.provide(b))
        expect(user).toBeInstanceOf(User)
        expect(state.runs).toBe(runs + 1)
        expect((yield* get.stats.pipe(Effect.provide(b))).storeErrors).toBeGreaterThanOrEqual(1)
        const replaced = yield* Effect.promise(() => client.get(key!))
        expect(replaced).not.toBe(garbage)
      }
    }))
})

describeRedis("Two-tier cache on Redis: several processes", () => {
  // Four worker processes (each a cache on its own Redis connections), shared by the tests of
  // this suite (they use different keys): starting a Node process with tsx takes seconds.
  const prefix = freshPrefix("processes")
  let processes: ReadonlyArray<Worker> = []
  beforeAll(async () => {
    processes = await Promise.all(
      Array.from({ length: 4 }, () => startWorker({ prefix, url: REDIS_URL, l1TimeToLive: 60_000, lookupDelay: 100 }))
    )
  }, 120_000)
  afterAll(async () => {
    await Promise.all(processes.map((worker) => worker.stop()))
    await deletePrefix(prefix)
  })
  const ask = <A>(worker: Worker, command: Record<string, unknown>) => Effect.promise(() => worker.request<A>(command))

  it.scopedLive(
    `4 processes x 1,000 concurrent calls of one cold key, ${stampedeRounds} rounds: one lookup each, no store error`,
    () =>
      Effect.gen(function*() {
        const client = yield* raw
        const { runs, wrong } = yield* Effect.promise(() =>
          stampede(processes, prefix, {
            set: (key, value) => client.set(key, value),
            get: (key) => client.get(key)
          }, stampedeRounds)
        )
        expect(wrong).toEqual([])
        expect(runs).toEqual(Array.from({ length: stampedeRounds }, () => 1))
        // Redis answered at once: no command timed out, however busy the processes were.
        for (const worker of processes) {
          expect(complaints(worker)).toEqual([])
          expect((yield* ask<{ storeErrors: number }>(worker, { op: "stats" })).storeErrors).toBe(0)
        }
      }),
    120_000
  )

  it.scopedLive("L1 coherence: an invalidation in one process is seen by the others through its event", () =>
    Effect.gen(function*() {
      const client = yield* raw
      yield* Effect.promise(() => client.set(sourceKey(prefix, "k"), "v1"))
      // The first tiers keep their copies for a minute: only the event can make them let go.
      for (const worker of processes) expect(yield* ask(worker, { op: "get", key: "k" })).toBe("v1")
      expect(yield* Effect.promise(() => client.get(runsKey(prefix, "k")))).toBe("1")
      yield* Effect.promise(() => client.set(sourceKey(prefix, "k"), "v2"))
      expect(yield* ask(processes[0]!, { op: "invalidate", key: "k" })).toBe(true)
      // Without the event each first tier would keep "v1" for its minute: the others drop it well
      // before (how long the event takes is the machine's business: a tenth of that is plenty).
      const invalidatedAt = Date.now()
      for (const worker of processes.slice(1)) {
        while ((yield* ask(worker, { op: "get", key: "k" })) !== "v2") {
          expect(Date.now() - invalidatedAt).toBeLessThan(6_000)
        }
      }
      expect(yield* ask(processes[0]!, { op: "get", key: "k" })).toBe("v2")
      // One reload in all: the others read it from Redis (or waited for it under the lock).
      expect(yield* Effect.promise(() => client.get(runsKey(prefix, "k")))).toBe("2")
    }))
})

describeRedis("Two-tier cache on Redis: faults", () => {
  const storeOptions = (url: string, prefix: string): RedisStore.Options => ({
    url,
    prefix,
    commandTimeout: "100 millis",
    connectTimeout: "300 millis",
    breaker: { failures: 3, cooldown: "300 millis" }
  })
  /** Every caller of `calls` concurrent calls gets its value; answers how long they all took. */
  const everyCallerServed = <E>(
    calls: ReadonlyArray<Effect.Effect<User, E, RequestCache>>,
    context: Context.Context<RequestCache>
  ) =>
    Effect.gen(function*() {
      const [took, users] = yield* timed(Effect.all(calls, { concurrency: "unbounded" }).pipe(Effect.provide(context)))
      for (const user of users) expect(user).toBeInstanceOf(User)
      return took
    })

  it.scopedLive("pause, slow, cut: every caller gets its value, nothing waits past the command timeout, and the cache recovers", () =>
    Effect.gen(function*() {
      const prefix = prefixFor("faults")
      const tcp = yield* proxy()
      const { get, state } = usersFunction()
      const cache = yield* cacheProcess(storeOptions(tcp.url, prefix), { l1: { timeToLive: 60_000 } })
      yield* get(1).pipe(Effect.provide(cache))
      expect((yield* keysUnder(`${prefix}:users:*`)).length).toBe(1)

      // Paused: a hit in the first tier does not touch Redis; misses give up on it.
      tcp.pause()
      expect(yield* everyCallerServed([get(1)], cache)).toBeLessThan(slack())
      expect((yield* get.stats.pipe(Effect.provide(cache))).storeErrors).toBe(0)
      const paused = yield* everyCallerServed(Array.from({ length: 100 }, (_, i) => get(100 + (i % 10))), cache)
      // A read, a lock and a write, each cut short at 100 ms, at worst; then the circuit is open.
      expect(paused).toBeLessThan(3 * 100 + slack())
      const stats = yield* get.stats.pipe(Effect.provide(cache))
      expect(stats.storeErrors).toBeGreaterThan(0)
      // The circuit is open: misses no longer wait for Redis at all.
      expect(yield* everyCallerServed([get(200), get(201)], cache)).toBeLessThan(slack())

      // Slow beyond the timeout, then cut: still served.
      tcp.slow(150)
      tcp.restore()
      tcp.slow(150)
      expect(yield* everyCallerServed(Array.from({ length: 20 }, (_, i) => get(300 + i)), cache)).toBeLessThan(
        3 * 100 + slack()
      )
      tcp.cut()
      expect(yield* everyCallerServed(Array.from({ length: 20 }, (_, i) => get(400 + i)), cache)).toBeLessThan(
        3 * 100 + slack()
      )

      // Back: after the cooldown the cache writes to Redis again, and another process reads it.
      tcp.restore()
      // (A new key each time: a key loaded while Redis was away stays in the first tier.)
      let id = 500
      const stored = yield* eventually(
        Effect.zipRight(Effect.suspend(() => get(++id)).pipe(Effect.provide(cache)), keysUnder(`${prefix}:users:*`)),
        (keys) => keys.length >= 2
      )
      expect(stored.length).toBe(2)
      const runs = state.runs
      const other = yield* cacheProcess({ prefix })
      yield* get(id).pipe(Effect.provide(other))
      expect(state.runs).toBe(runs)
    }))

  it.scopedLive("Redis down when the cache starts: callers are served, and Redis is used once it is back", () =>
    Effect.gen(function*() {
      const prefix = prefixFor("start-down")
      const tcp = yield* proxy()
      tcp.cut()
      const { get } = usersFunction()
      const cache = yield* cacheProcess(storeOptions(tcp.url, prefix))
      expect(yield* everyCallerServed(Array.from({ length: 50 }, () => get(1)), cache)).toBeLessThan(100 + slack())
      expect((yield* get.stats.pipe(Effect.provide(cache))).storeErrors).toBeGreaterThan(0)
      tcp.restore()
      let id = 1
      const [took] = yield* timed(eventually(
        Effect.zipRight(Effect.suspend(() => get(++id)).pipe(Effect.provide(cache)), keysUnder(`${prefix}:users:*`)),
        (keys) => keys.length >= 1
      ))
      // Reconnecting (at most a second between attempts) and the circuit's cooldown.
      expect(took).toBeLessThan(2_000)
    }))
})
