import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Runtime from "effect/Runtime"
import type * as Scope from "effect/Scope"
import { createClient, createCluster } from "redis"
import { CacheStore, type Service } from "../CacheStore.js"
import type { ClusterOptions } from "../RedisStore.js"
import type { CachePolicyError } from "./options.js"
import { clientOptions, closeWithin, px, reconnectDelay, socketOptions } from "./redisConnection.js"
import { type Address, resolveCluster, type ResolvedCluster } from "./redisOptions.js"
import { slotOf } from "./redisSlot.js"
import {
  commonConfig,
  commonOptions,
  type Connection,
  globEscape,
  guarded,
  type KeyLayout,
  makeService
} from "./redisStore.js"
import { makeSubscriber } from "./redisSubscriber.js"

/*
 * The Redis store on a cluster: the single-node store's commands (`makeService`) on a connection
 * that routes each key to its slot's master.
 */

type Cluster = ReturnType<typeof createCluster>

/**
 * In a hash tag, the namespace and the key are escaped so that the tag is never cut short by a
 * `}` (Redis hashes up to the first one), and the namespace holds no `:`: the first `:` inside the
 * tag ends it, so no namespace's pattern matches another's keys. `%` is escaped first: injective.
 */
const escapeNamespace = (text: string) => text.replace(/[%}:]/g, (c) => c === "%" ? "%25" : c === "}" ? "%7D" : "%3A")
const escapeKey = (text: string) => text.replace(/[%}]/g, (c) => c === "%" ? "%25" : "%7D")

/**
 * `prefix:{namespace:key}`, `prefix::lock:{namespace:key}` and `prefix::version:{namespace:key}`:
 * the same hash tag, so an entry, its lock and its version are in one slot (the prefix holds no
 * brace: checked with the options).
 */
const clusterLayout = (prefix: string): KeyLayout => {
  const tag = (namespace: string, key: string) => `{${escapeNamespace(namespace)}:${escapeKey(key)}}`
  return {
    entry: (namespace, key) => `${prefix}:${tag(namespace, key)}`,
    lock: (namespace, key) => `${prefix}::lock:${tag(namespace, key)}`,
    version: (namespace, key) => `${prefix}::version:${tag(namespace, key)}`,
    entries: (namespace) => `${globEscape(`${prefix}:{${escapeNamespace(namespace)}:`)}*`
  }
}

const clusterConnection = (cluster: Cluster): Connection => {
  let next = 0
  return {
    get: (key) => cluster.get(key),
    set: (key, value, timeToLive) =>
      timeToLive === Infinity
        ? cluster.set(key, value)
        : cluster.set(key, value, { expiration: { type: "PX", value: px(timeToLive) } }),
    del: (key) => cluster.del(key),
    script: (script, keys, args) => cluster.eval(script, { keys, arguments: args }),
    // Any master carries a PUBLISH to every node of the cluster; one that is down is passed over.
    publish: async (channel, message) => {
      const masters = cluster.masters
      let last: unknown = new Error("no master of the cluster is known yet")
      for (let i = 0; i < masters.length; i++) {
        const master = masters[(next + i) % masters.length]!
        try {
          const client = await cluster.nodeClient(master)
          const reply = await client.publish(channel, message)
          next = (next + i + 1) % masters.length
          return reply
        } catch (error) {
          last = error
        }
      }
      throw last
    },
    // Every master scanned at once, its keys unlinked one by one (keys of different slots cannot
    // share a command in a cluster, even on one node), a batch at a time.
    unlinkMatching: async (match, timed) => {
      const masters = cluster.masters
      if (masters.length === 0) throw new Error("no master of the cluster is known yet")
      await Promise.all(masters.map(async (master) => {
        const client = await timed(cluster.nodeClient(master))
        let cursor = "0"
        do {
          const reply = await timed(client.scan(cursor, { MATCH: match, COUNT: 1_000 }))
          cursor = reply.cursor
          if (reply.keys.length > 0) await timed(Promise.all(reply.keys.map((key) => client.unlink(key))))
        } while (cursor !== "0")
      }))
    }
  }
}

const makeClusterStore = (options: ResolvedCluster): Effect.Effect<Service, never, Scope.Scope> =>
  Effect.gen(function*() {
    const { commandTimeout, connectTimeout, rootNodes } = options
    const first = rootNodes[0]!
    const runtime = yield* Effect.runtime<never>()
    const log = (effect: Effect.Effect<void>) => Runtime.runFork(runtime, effect)
    const credentials = {
      ...(first.username === undefined ? {} : { username: first.username }),
      ...(first.password === undefined ? {} : { password: first.password })
    }
    const cluster: Cluster = createCluster({
      rootNodes: rootNodes.map((node) => ({ socket: socketOptions(node, { connectTimeout }), ...credentials })),
      defaults: {
        socket: first.tls
          ? { tls: true as const, connectTimeout, reconnectStrategy: reconnectDelay }
          : { connectTimeout, reconnectStrategy: reconnectDelay },
        ...credentials,
        disableOfflineQueue: true
      },
      commandOptions: { timeout: 0 },
      // `connect` only discovers the slots; the store then connects to the masters without waiting
      // for all of them: a master down at start would otherwise hold the whole cluster unready.
      minimizeConnections: true
    })
    const where = rootNodes.map((node) => `${node.host}:${node.port}`).join(", ")
    // An 'error' event without a listener would crash the process; each is logged once per outage.
    let reported = false
    cluster.on("error", (error: Error) => {
      if (reported) return
      reported = true
      log(Effect.logWarning(`Redis Cluster at ${where}: ${error.message}; trying again`))
    })
    const down = new Set<string>()
    cluster.on("node-error", (error: Error, node: { host: string; port: number }) => {
      const at = `${node.host}:${node.port}`
      if (down.has(at)) return
      down.add(at)
      log(Effect.logWarning(`Redis Cluster node ${at}: ${error.message}; reconnecting`))
    })
    cluster.on("node-ready", (node: { host: string; port: number }) => {
      const at = `${node.host}:${node.port}`
      if (down.delete(at)) log(Effect.logInfo(`Redis Cluster node ${at} is back`))
    })

    // Discovery: tried until it succeeds (node-redis tries each root node once per `connect`); the
    // layer waits for it at most the connect timeout (and then as long again for the connections
    // to the masters), and commands fail fast meanwhile.
    const discovered = yield* Deferred.make<void>()
    const connected = yield* Deferred.make<void>()
    let closed = false
    const discover: Effect.Effect<void> = Effect.suspend(() => {
      let attempt = 0
      const loop: Effect.Effect<void> = Effect.tryPromise(() => cluster.connect()).pipe(
        Effect.matchEffect({
          onSuccess: () => {
            if (reported) log(Effect.logInfo(`Redis Cluster at ${where} is back`))
            reported = false
            // Then every master is connected to (for at most the connect timeout: one that is down
            // keeps trying in the background), so that no command waits for a connection later,
            // when a burst of work may hold the event loop past the connect timeout.
            const masters = Effect.promise(() =>
              Promise.allSettled(cluster.masters.map((master) => cluster.nodeClient(master)))
            )
            return Deferred.succeed(discovered, undefined).pipe(
              Effect.zipRight(Effect.ignore(Effect.timeout(masters, connectTimeout))),
              Effect.zipRight(Deferred.succeed(connected, undefined))
            )
          },
          onFailure: () =>
            closed ? Effect.void : Effect.zipRight(Effect.sleep(reconnectDelay(attempt++)), Effect.suspend(() => loop))
        })
      )
      return loop
    })
    yield* Effect.acquireRelease(
      // Interruptible: a fiber forked here would otherwise inherit the acquisition's mask.
      Effect.forkDaemon(Effect.interruptible(discover)),
      (fiber) =>
        Effect.suspend(() => {
          closed = true
          return Effect.zipRight(
            Fiber.interrupt(fiber),
            Effect.promise(() => closeWithin(cluster, commandTimeout))
          )
        })
    )
    const found = yield* Deferred.await(discovered).pipe(Effect.timeout(connectTimeout), Effect.option)
    if (Option.isSome(found)) yield* Deferred.await(connected).pipe(Effect.timeout(connectTimeout), Effect.ignore)

    // The first root node, then the masters known now (reached as the root nodes are: scheme and
    // credentials), then the other root nodes: where the subscriber goes, in turn.
    const nodes = (): ReadonlyArray<Address> => {
      const all = [
        first,
        ...cluster.masters.map((master) => ({ ...first, host: master.host, port: master.port })),
        ...rootNodes
      ]
      const seen = new Set<string>()
      return all.filter((node) => {
        const at = `${node.host}:${node.port}`
        return seen.has(at) ? false : (seen.add(at), true)
      })
    }
    const subscriber = yield* makeSubscriber({
      channel: options.channel,
      commandTimeout,
      connectTimeout,
      nodes,
      // Any node hears every event: after a few failed reconnections, move to the next one.
      attemptsPerNode: 2,
      makeClient: (node, reconnectStrategy) => createClient(clientOptions(node, connectTimeout, reconnectStrategy)),
      label: "Redis Cluster"
    })
    const layout = clusterLayout(options.prefix)
    // A breaker per master: one that is down fails fast on its own slots, the others serve theirs.
    const circuitOf = (namespace: string, key: string) =>
      cluster.slots[slotOf(layout.entry(namespace, key))]?.master.address ?? "no master yet"
    return guarded(
      makeService("redis-cluster", clusterConnection(cluster), layout, subscriber, options),
      options,
      circuitOf
    )
  })

export const makeCluster = (options: ClusterOptions): Effect.Effect<Service, CachePolicyError, Scope.Scope> =>
  Effect.flatMap(resolveCluster(options), makeClusterStore)

export const layerCluster = (options: ClusterOptions): Layer.Layer<CacheStore, CachePolicyError> =>
  Layer.scoped(CacheStore, makeCluster(options))

export const clusterConfig: Config.Config<ClusterOptions> = Config.all({
  ...commonConfig,
  rootNodes: Config.array(Config.string(), "rootNodes")
}).pipe(Config.map((read): ClusterOptions => ({ ...commonOptions(read), rootNodes: read.rootNodes })))

export const layerClusterConfig = (
  config: Config.Config<ClusterOptions>
): Layer.Layer<CacheStore, CachePolicyError | ConfigError.ConfigError> =>
  Layer.scoped(CacheStore, Effect.flatMap(config, makeCluster))
