/**
 * The Redis store on a real Redis Cluster of 3 masters, started by the test from the installed
 * `redis-server` on free loopback ports (`--cluster-enabled yes`, `redis-cli --cluster create`) and
 * stopped afterwards by pid. Skipped with a notice where `redis-server` is not installed, except
 * under CI=true.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect, Either, Exit, Option, Scope } from "effect"
import { createCluster } from "redis"
import type { CacheStore } from "../src/index.js"
import { slotOf } from "../src/internal/redisSlot.js"
import { RedisStore } from "../src/redis.js"
import { describeRedisServer, freePort, type RedisCluster, startRedisCluster } from "./support/redisServer.js"
import {
  complaints,
  runsKey,
  sourceKey,
  stampede,
  stampedeRounds,
  startWorker,
  type Worker
} from "./support/workers.js"

/** What a time limit may overrun by on a loaded machine (see redis.test.ts). */
const SLACK = 400

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

let cluster: RedisCluster

/** A plain node-redis cluster client, to look at the cluster behind the store's back. */
const raw = Effect.acquireRelease(
  Effect.promise(async () => {
    const client = createCluster({ rootNodes: cluster.rootNodes.map((url) => ({ url })) })
    client.on("error", () => {})
    await client.connect()
    return client
  }),
  (client) => Effect.sync(() => client.destroy())
)

let unique = 0
const prefixFor = (label: string) => `erc-cluster-${label}-${++unique}`
const options = (prefix: string, rootNodes = cluster.rootNodes): RedisStore.ClusterOptions => ({
  rootNodes,
  prefix,
  commandTimeout: "100 millis",
  connectTimeout: "500 millis",
  breaker: { failures: 5, cooldown: "300 millis" }
})

describeRedisServer("Redis Cluster", () => {
  beforeAll(async () => {
    cluster = await startRedisCluster(3)
  }, 60_000)
  afterAll(async () => {
    await cluster?.stop()
  }, 30_000)

  describe("the store on 3 masters", () => {
    it.scopedLive("set, get and delete round trip under prefix:{namespace:key}; entries spread over the masters", () =>
      Effect.gen(function*() {
        const prefix = prefixFor("round-trip")
        const store = yield* RedisStore.makeCluster(options(prefix))
        expect(yield* store.get("users", "n1")).toEqual(Option.none())
        yield* store.set("users", "n1", "Ada", 60_000)
        expect(yield* store.get("users", "n1")).toEqual(Option.some("Ada"))
        const client = yield* raw
        expect(yield* Effect.promise(() => client.get(`${prefix}:{users:n1}`))).toBe("Ada")
        expect(yield* Effect.promise(() => client.pTTL(`${prefix}:{users:n1}`))).toBeGreaterThan(59_000)
        expect(yield* store.delete("users", "n1")).toBe(true)
        expect(yield* store.delete("users", "n1")).toBe(false)
        yield* Effect.forEach(
          Array.from({ length: 60 }, (_, i) => `k${i}`),
          (key) => store.set("users", key, "v", 60_000)
        )
        const masters = new Set(Array.from({ length: 60 }, (_, i) => cluster.masterOf(`${prefix}:{users:k${i}}`)))
        expect(masters.size).toBe(3)
      }))

    it.scopedLive("an entry, its lock and its version share a hash slot, whatever the key holds (braces, colons, %)", () =>
      Effect.gen(function*() {
        const prefix = prefixFor("slots")
        const store = yield* RedisStore.makeCluster(options(prefix))
        const client = yield* raw
        const slot = (key: string) =>
          Effect.promise(() => client.sendCommand(key, true, ["CLUSTER", "KEYSLOT", key]) as Promise<number>)
        for (
          const [namespace, key] of [["users", "n1"], ["a:b", "{x}"], ["}", "%7D"], ["n", "[\"a\",\"b\"]"]] as const
        ) {
          // A fenced write's script touches the entry and its version: one slot, or CROSSSLOT.
          yield* store.set(namespace, key, `${namespace}/${key}`, 60_000, { version: 1, window: 60_000 })
          expect(yield* store.get(namespace, key)).toEqual(Option.some(`${namespace}/${key}`))
          // The lock script touches both keys on one node: it would fail (CROSSSLOT) otherwise.
          expect(yield* store.coordination!.acquire(namespace, key, "me", 5_000)).toBe(true)
          const keys = yield* Effect.promise(() =>
            Promise.all(
              cluster.ports.map((port) =>
                createCluster({ rootNodes: [{ url: `redis://127.0.0.1:${port}` }] }).connect().then(async (node) => {
                  const found = await node.masters.reduce<Promise<Array<string>>>(async (all, master) => {
                    const nodeClient = await node.nodeClient(master)
                    return [...(await all), ...(await nodeClient.keys(`${prefix}*`))]
                  }, Promise.resolve([]))
                  node.destroy()
                  return found
                })
              )
            )
          )
          const mine = Array.from(new Set(keys.flat()))
          const entry = mine.find((k) => !k.includes("::") && k.endsWith("}") && k.length > 0)
          expect(entry).toBeDefined()
          const lock = mine.filter((k) => k.includes("::lock:"))
          expect(lock.length).toBe(1)
          expect(yield* slot(lock[0]!)).toBe(yield* slot(entry!))
          // (The versions of the keys before this one are still there: they outlive their entries.)
          const version = mine.filter((k) => k.includes("::version:") && k.endsWith(entry!.slice(entry!.indexOf("{"))))
          expect(version.length).toBe(1)
          expect(yield* slot(version[0]!)).toBe(yield* slot(entry!))
          expect(yield* store.delete(namespace, key, { version: 2, window: 60_000 })).toBe(true)
          yield* store.coordination!.release(namespace, key, "me")
        }
        // Different keys are different entries: the escaping is injective.
        yield* store.set("n", "a}", "1", 60_000)
        yield* store.set("n", "a%7D", "2", 60_000)
        expect(yield* store.get("n", "a}")).toEqual(Option.some("1"))
        expect(yield* store.get("n", "a%7D")).toEqual(Option.some("2"))
      }))

    it.scopedLive("the slot of a key, computed by the store for its breakers, is Redis's", () =>
      Effect.gen(function*() {
        const client = yield* raw
        const keys = [
          "",
          "a",
          "users",
          "p:{users:n1}",
          "p::lock:{users:n1}",
          "{}x",
          "x{}{a}",
          "{a}{b}",
          "é{ü}",
          "日本",
          "{"
        ]
        for (const key of keys) {
          const slot = yield* Effect.promise(() => client.sendCommand(undefined, true, ["CLUSTER", "KEYSLOT", key]))
          expect([key, slotOf(key)]).toEqual([key, slot])
        }
      }))

    it.scopedLive("clear scans every master: every entry of the namespace goes, and nothing else", () =>
      Effect.gen(function*() {
        const prefix = prefixFor("clear")
        const store = yield* RedisStore.makeCluster(options(prefix))
        const keys = Array.from({ length: 300 }, (_, i) => `k${i}`)
        yield* Effect.forEach(keys, (key) => store.set("users", key, "v", 60_000), { concurrency: 50 })
        yield* store.set("users:admin", "k0", "a namespace with a colon", 60_000)
        yield* store.set("users2", "k0", "another namespace", 60_000)
        expect(yield* store.coordination!.acquire("users", "k1", "me", 5_000)).toBe(true)
        yield* store.clear("users")
        for (const key of keys) expect(yield* store.get("users", key)).toEqual(Option.none())
        expect(yield* store.get("users:admin", "k0")).toEqual(Option.some("a namespace with a colon"))
        expect(yield* store.get("users2", "k0")).toEqual(Option.some("another namespace"))
        // Locks are not entries.
        expect(yield* store.coordination!.acquire("users", "k1", "other", 5_000)).toBe(false)
      }))

    it.scopedLive("locks: one owner, re-entrant for it, released only by it", () =>
      Effect.gen(function*() {
        const { acquire, release } = (yield* RedisStore.makeCluster(options(prefixFor("lock")))).coordination!
        expect(yield* acquire("users", "n1", "a", 5_000)).toBe(true)
        expect(yield* acquire("users", "n1", "a", 5_000)).toBe(true)
        expect(yield* acquire("users", "n1", "b", 5_000)).toBe(false)
        yield* release("users", "n1", "b")
        expect(yield* acquire("users", "n1", "b", 5_000)).toBe(false)
        yield* release("users", "n1", "a")
        expect(yield* acquire("users", "n1", "b", 5_000)).toBe(true)
      }))

    it.scopedLive("events published through one node reach subscribers on every other", () =>
      Effect.gen(function*() {
        const prefix = prefixFor("events")
        // Each subscribes on its first root node: three stores, three different nodes.
        const stores = yield* Effect.forEach(
          cluster.rootNodes,
          (_, i) =>
            RedisStore.makeCluster(options(prefix, [...cluster.rootNodes.slice(i), ...cluster.rootNodes.slice(0, i)]))
        )
        const seen = stores.map(() => [] as Array<CacheStore.StoreEvent>)
        yield* Effect.forEach(stores, (store, i) => store.coordination!.subscribe((event) => seen[i]!.push(event)))
        const events = Array.from({ length: 6 }, (_, i): CacheStore.StoreEvent => ({
          kind: "delete",
          namespace: "users",
          key: `n${i}`,
          origin: `store ${i % 3}`
        }))
        yield* Effect.forEach(events, (event, i) => stores[i % 3]!.coordination!.publish(event))
        yield* eventually(Effect.sync(() => seen.every((s) => s.length === 6)), (all) => all)
        for (const s of seen) expect(new Set(s.map((e) => e.key))).toEqual(new Set(events.map((e) => e.key)))
      }))

    it.scopedLive("the layer builds while no node answers, and its commands fail fast", () =>
      Effect.gen(function*() {
        const nowhere = `redis://127.0.0.1:${yield* Effect.promise(freePort)}`
        const started = Date.now()
        const store = yield* RedisStore.makeCluster(options(prefixFor("nowhere"), [nowhere]))
        expect(Date.now() - started).toBeLessThan(500 + SLACK)
        for (let i = 0; i < 5; i++) {
          const at = Date.now()
          expect(Either.isLeft(yield* Effect.either(store.get("users", "n1")))).toBe(true)
          expect(Date.now() - at).toBeLessThan(100 + SLACK)
        }
        const at = Date.now()
        yield* store.coordination!.subscribe(() => {})
        expect(Date.now() - at).toBeLessThan(100 + SLACK)
      }))
  })

  describe("the two-tier cache on the cluster, in 4 processes", () => {
    const prefix = prefixFor("processes")
    let workers: ReadonlyArray<Worker> = []
    // The master that the test kills last: the first root node of every worker (so each one's
    // subscriber is there), and not the master of the workers' "database" (`{db}`).
    let victim = 0
    beforeAll(async () => {
      const database = cluster.masterOf(sourceKey(prefix, "x"))
      victim = cluster.ports.find((port) => port !== database)!
      const rootNodes = [victim, ...cluster.ports.filter((port) => port !== victim)].map((port) =>
        `redis://127.0.0.1:${port}`
      )
      workers = await Promise.all(Array.from({ length: 4 }, () =>
        startWorker({
          prefix,
          rootNodes,
          l1TimeToLive: 60_000,
          lookupDelay: 100,
          // The default command timeout (250 ms), as in production.
          store: { connectTimeout: "500 millis" }
        })))
    }, 120_000)
    afterAll(async () => {
      await Promise.all(workers.map((worker) => worker.stop()))
    }, 30_000)
    const ask = <A>(worker: Worker, command: Record<string, unknown>) =>
      Effect.promise(() => worker.request<A>(command))

    it.scopedLive(
      `4 processes x 1,000 concurrent calls of one cold key, ${stampedeRounds} rounds: one lookup each, no store error`,
      () =>
        Effect.gen(function*() {
          const client = yield* raw
          const { runs, wrong } = yield* Effect.promise(() =>
            stampede(workers, prefix, {
              set: (key, value) => client.set(key, value),
              get: (key) => client.get(key)
            }, stampedeRounds)
          )
          expect(wrong).toEqual([])
          expect(runs).toEqual(Array.from({ length: stampedeRounds }, () => 1))
          for (const worker of workers) {
            expect(complaints(worker)).toEqual([])
            expect((yield* ask<{ storeErrors: number }>(worker, { op: "stats" })).storeErrors).toBe(0)
          }
        }),
      120_000
    )

    it.scopedLive("coherence: a write in one process drops the key from the others' first tiers within a second", () =>
      Effect.gen(function*() {
        const client = yield* raw
        for (const key of ["c1", "c2", "c3"]) {
          yield* Effect.promise(() => client.set(sourceKey(prefix, key), "v1"))
          // The first tiers keep their copies for a minute: only the event can make them let go.
          for (const worker of workers) expect(yield* ask(worker, { op: "get", key })).toBe("v1")
          yield* ask(workers[0]!, { op: "set", key, value: "v2" })
          const at = Date.now()
          for (const worker of workers.slice(1)) {
            while ((yield* ask(worker, { op: "get", key })) !== "v2") expect(Date.now() - at).toBeLessThan(1_000)
          }
          expect(yield* Effect.promise(() => client.get(runsKey(prefix, key)))).toBe("1")
        }
      }))

    it.scopedLive(
      "a master killed: every caller still gets the right value, each within a second",
      () =>
        Effect.gen(function*() {
          const client = yield* raw
          const keys = Array.from({ length: 30 }, (_, i) => `m${i}`)
          yield* Effect.forEach(
            keys,
            (key) => Effect.promise(() => client.set(sourceKey(prefix, key), `value of ${key}`))
          )
          const onVictim = keys.filter((key) =>
            cluster.masterOf(`${prefix}:{values:${JSON.stringify(key)}}`) === victim
          )
          expect(onVictim.length).toBeGreaterThan(0)
          // Half the keys are loaded before the kill (in every first tier), half after.
          const before = keys.slice(0, 15)
          for (const worker of workers) {
            for (const key of before) expect(yield* ask(worker, { op: "get", key })).toBe(`value of ${key}`)
          }
          yield* Effect.promise(() => cluster.kill(victim))
          // The four processes at once, each asking for every key in turn.
          const slowest: Array<number> = []
          yield* Effect.forEach(workers, (worker) =>
            Effect.forEach(keys, (key) =>
              Effect.map(ask<{ value: string; millis: number }>(worker, { op: "timed", key }), ({ millis, value }) => {
                expect(value).toBe(`value of ${key}`)
                slowest.push(millis)
              })), { concurrency: "unbounded" })
          expect(slowest.length).toBe(4 * keys.length)
          expect(Math.max(...slowest)).toBeLessThan(1_000)
          // The keys of the live masters are still shared: one lookup each in all four. (Not
          // counted above: a process whose subscription moves drops its first tier and the
          // result of a load in flight, as events may have been missed.)
          const later = Array.from({ length: 20 }, (_, i) =>
            `n${i}`).filter((key) =>
              cluster.masterOf(`${prefix}:{values:${JSON.stringify(key)}}`) !== victim
            )
          for (const key of later) yield* Effect.promise(() => client.set(sourceKey(prefix, key), `value of ${key}`))
          for (const worker of workers) {
            for (const key of later) expect(yield* ask(worker, { op: "get", key })).toBe(`value of ${key}`)
          }
          for (const key of later) expect(yield* Effect.promise(() => client.get(runsKey(prefix, key)))).toBe("1")
          // And the subscribers, which were on the killed master, moved: a write is still seen.
          const live = keys.slice(15).find((key) => !onVictim.includes(key))!
          for (const worker of workers) expect(yield* ask(worker, { op: "get", key: live })).toBe(`value of ${live}`)
          const at = Date.now()
          yield* ask(workers[0]!, { op: "set", key: live, value: "rewritten" })
          for (const worker of workers.slice(1)) {
            while ((yield* ask(worker, { op: "get", key: live })) !== "rewritten") {
              expect(Date.now() - at).toBeLessThan(3_000)
              yield* Effect.sleep(20)
            }
          }
        }),
      60_000
    )
  })

  it.live("closing the store's scope closes its connections", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const store = yield* Scope.extend(RedisStore.makeCluster(options(prefixFor("close"))), scope)
      yield* store.set("ns", "k", "v", 60_000)
      const at = Date.now()
      yield* Scope.close(scope, Exit.void)
      expect(Date.now() - at).toBeLessThan(100 + SLACK)
      expect(Either.isLeft(yield* Effect.either(store.get("ns", "k")))).toBe(true)
    }))
})
