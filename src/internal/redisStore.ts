import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import { createClient } from "redis"
import { CacheStore, CacheStoreError, type Coordination, type Service } from "../CacheStore.js"
import type { Options } from "../RedisStore.js"
import type { CachePolicyError } from "./options.js"
import { type Client, clientOptions, closeWithin, firstConnection, px, watch } from "./redisConnection.js"
import { type Resolved, type ResolvedSingle, resolveSingle } from "./redisOptions.js"
import { makeSubscriber, type Subscriber } from "./redisSubscriber.js"
import { within } from "./redisTimeout.js"
import { resilient } from "./resilientStore.js"

/*
 * The Redis store, on one server or on a cluster: the commands are the same, only the connection
 * (what a key is, where a command goes, how a namespace is scanned) differs.
 */

/** What the store needs of its connection to Redis. */
export interface Connection {
  readonly get: (key: string) => Promise<string | null>
  /** `timeToLive` in ms, `Infinity`: no expiry. */
  readonly set: (key: string, value: string, timeToLive: number) => Promise<unknown>
  readonly del: (key: string) => Promise<number>
  /** A Lua script on keys of one slot (in a cluster: on the node of that slot). */
  readonly script: (script: string, keys: Array<string>, args: Array<string>) => Promise<unknown>
  readonly publish: (channel: string, message: string) => Promise<unknown>
  /** Removes every key that `match` matches (on every master), each round trip under `timed`. */
  readonly unlinkMatching: (match: string, timed: <A>(promise: Promise<A>) => Promise<A>) => Promise<void>
}

/** Where an entry and its lock live. */
export interface KeyLayout {
  readonly entry: (namespace: string, key: string) => string
  readonly lock: (namespace: string, key: string) => string
  /** The key's latest version (`Fence`), in the entry's slot. */
  readonly version: (namespace: string, key: string) => string
  /** The `SCAN MATCH` pattern of every entry of a namespace (and of no lock). */
  readonly entries: (namespace: string) => string
}

/** Characters that `SCAN MATCH` reads as a pattern. */
export const globEscape = (text: string) => text.replace(/[*?[\]\\]/g, "\\$&")

/**
 * One server: `prefix:namespace:key`, the lock `prefix::lock:namespace:key`, the version
 * `prefix::version:namespace:key`.
 */
const serverLayout = (prefix: string): KeyLayout => ({
  entry: (namespace, key) => `${prefix}:${namespace}:${key}`,
  // No namespace is empty, so no entry key starts with `prefix::`.
  lock: (namespace, key) => `${prefix}::lock:${namespace}:${key}`,
  version: (namespace, key) => `${prefix}::version:${namespace}:${key}`,
  entries: (namespace) => `${globEscape(`${prefix}:${namespace}`)}:*`
})

/**
 * Takes the lock for `ARGV[1]` unless another owner holds it. Asked again by its owner (whose
 * first answer was lost to a timeout), it answers yes and renews the lock, so that the owner
 * learns it holds it instead of running the lookup beside the real holder.
 */
const ACQUIRE = `local held = redis.call("get", KEYS[1])
if held == ARGV[1] then redis.call("pexpire", KEYS[1], ARGV[2]) return 1 end
if held then return 0 end
redis.call("set", KEYS[1], ARGV[1], "PX", ARGV[2])
return 1`

/** Stores the time `ARGV[1]` unless a later one is there (a tag's invalidation time), without expiry. */
const RAISE = `local held = tonumber(redis.call("get", KEYS[1]))
if held and held >= tonumber(ARGV[1]) then return 0 end
redis.call("set", KEYS[1], ARGV[1])
return 1`

/**
 * A fenced write (`Fence`): `KEYS[1]` the entry, `KEYS[2]` its version; `ARGV`: the entry, its
 * `PX` (empty: none), the version and its window. Skipped when a later version is held.
 */
const FENCED_SET = `local held = tonumber(redis.call("get", KEYS[2]))
if held and held > tonumber(ARGV[3]) then return 0 end
if ARGV[2] == "" then redis.call("set", KEYS[1], ARGV[1]) else redis.call("set", KEYS[1], ARGV[1], "PX", ARGV[2]) end
redis.call("set", KEYS[2], ARGV[3], "PX", ARGV[4])
return 1`

/**
 * A fenced deletion: deletes the entry, and records the version (`ARGV[1]`, for `ARGV[2]` ms)
 * unless a later one is held. Answers how many entries it deleted.
 */
const FENCED_DELETE = `local held = tonumber(redis.call("get", KEYS[2]))
if not held or held < tonumber(ARGV[1]) then redis.call("set", KEYS[2], ARGV[1], "PX", ARGV[2]) end
return redis.call("del", KEYS[1])`

/** Deletes the lock only if `owner` still holds it (it may have lapsed and been taken by another). */
const RELEASE = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end`

const failure = (operation: string) => (cause: unknown) =>
  new CacheStoreError({ operation, reason: cause instanceof Error ? cause.message : String(cause), cause })

/** The store's commands on `connection`, each under the command timeout (no breaker yet). */
export const makeService = (
  name: string,
  connection: Connection,
  layout: KeyLayout,
  subscriber: Subscriber,
  options: Resolved
): Service => {
  const { channel, commandTimeout } = options
  const timed = <A>(promise: Promise<A>) => within(promise, commandTimeout)
  const command = <A>(operation: string, run: () => Promise<A>) =>
    Effect.tryPromise({ try: () => within(run(), commandTimeout), catch: failure(operation) })
  const coordination: Coordination = {
    acquire: (namespace, key, owner, timeToLive) =>
      command(
        "acquire",
        () => connection.script(ACQUIRE, [layout.lock(namespace, key)], [owner, String(px(timeToLive))])
      )
        .pipe(Effect.map((reply) => reply === 1)),
    release: (namespace, key, owner) =>
      Effect.asVoid(command("release", () => connection.script(RELEASE, [layout.lock(namespace, key)], [owner]))),
    publish: (event) => Effect.asVoid(command("publish", () => connection.publish(channel, JSON.stringify(event)))),
    subscribe: subscriber.listen
  }
  return {
    name,
    get: (namespace, key) =>
      command("get", () => connection.get(layout.entry(namespace, key))).pipe(Effect.map(Option.fromNullable)),
    set: (namespace, key, entry, timeToLive, fence) =>
      Effect.asVoid(command("set", () =>
        fence === undefined
          ? connection.set(layout.entry(namespace, key), entry, timeToLive)
          : connection.script(FENCED_SET, [layout.entry(namespace, key), layout.version(namespace, key)], [
            entry,
            timeToLive === Infinity ? "" : String(px(timeToLive)),
            String(fence.version),
            String(px(fence.window))
          ]))),
    delete: (namespace, key, fence) =>
      command("delete", () =>
        fence === undefined
          ? connection.del(layout.entry(namespace, key))
          : connection.script(FENCED_DELETE, [layout.entry(namespace, key), layout.version(namespace, key)], [
            String(fence.version),
            String(px(fence.window))
          ]) as Promise<number>).pipe(Effect.map((count) => count > 0)),
    // A batch of keys at a time, each round trip under the time limit (not the whole clear).
    clear: (namespace) =>
      Effect.tryPromise({
        try: () => connection.unlinkMatching(layout.entries(namespace), timed),
        catch: failure("clear")
      }),
    raise: (namespace, key, time) =>
      Effect.asVoid(command("raise", () => connection.script(RAISE, [layout.entry(namespace, key)], [String(time)]))),
    coordination
  }
}

/** `service` with the breakers of `options` in front (the timeouts are the service's own). */
export const guarded = (
  service: Service,
  options: Resolved,
  circuitOf?: (namespace: string, key: string) => string
): Service => resilient(service, { ...options, timedByStore: true }, circuitOf)

const serverConnection = (client: Client): Connection => ({
  get: (key) => client.get(key),
  set: (key, value, timeToLive) =>
    timeToLive === Infinity
      ? client.set(key, value)
      : client.set(key, value, { expiration: { type: "PX", value: px(timeToLive) } }),
  del: (key) => client.del(key),
  script: (script, keys, args) => client.eval(script, { keys, arguments: args }),
  publish: (channel, message) => client.publish(channel, message),
  unlinkMatching: async (match, timed) => {
    let cursor = "0"
    do {
      const reply = await timed(client.scan(cursor, { MATCH: match, COUNT: 1_000 }))
      cursor = reply.cursor
      if (reply.keys.length > 0) await timed(client.unlink(reply.keys))
    } while (cursor !== "0")
  }
})

/** The store on one Redis server, with its command and subscriber connections. */
const makeServer = (options: ResolvedSingle): Effect.Effect<Service, never, Scope.Scope> =>
  Effect.gen(function*() {
    const { address, commandTimeout, connectTimeout } = options
    // The address without credentials, for logs.
    const where = `${address.host}:${address.port}`
    const client: Client = createClient(clientOptions(address, connectTimeout))
    yield* watch(client, `Redis command connection to ${where}`)
    yield* Effect.acquireRelease(
      firstConnection(client, () => client.connect()),
      () => Effect.promise(() => closeWithin(client, commandTimeout))
    )
    const subscriber = yield* makeSubscriber({
      channel: options.channel,
      commandTimeout,
      connectTimeout,
      nodes: () => [address],
      attemptsPerNode: Infinity,
      makeClient: (node, reconnectStrategy) => createClient(clientOptions(node, connectTimeout, reconnectStrategy)),
      label: "Redis"
    })
    return guarded(
      makeService("redis", serverConnection(client), serverLayout(options.prefix), subscriber, options),
      options
    )
  })

export const make = (options: Options): Effect.Effect<Service, CachePolicyError, Scope.Scope> =>
  Effect.flatMap(resolveSingle(options), makeServer)

export const layer = (options: Options): Layer.Layer<CacheStore, CachePolicyError> =>
  Layer.scoped(CacheStore, make(options))

/** The options both layers read from `Config`. */
export const commonConfig = {
  prefix: Config.string("prefix"),
  channel: Config.option(Config.string("channel")),
  commandTimeout: Config.option(Config.duration("commandTimeout")),
  connectTimeout: Config.option(Config.duration("connectTimeout")),
  breaker: Config.all({
    failures: Config.option(Config.integer("failures")),
    cooldown: Config.option(Config.duration("cooldown"))
  }).pipe(Config.nested("breaker"))
}

interface CommonRead {
  readonly prefix: string
  readonly channel: Option.Option<string>
  readonly commandTimeout: Option.Option<Duration.Duration>
  readonly connectTimeout: Option.Option<Duration.Duration>
  readonly breaker: { readonly failures: Option.Option<number>; readonly cooldown: Option.Option<Duration.Duration> }
}

/** The common options read, without the absent ones (they are `exactOptionalPropertyTypes`). */
export const commonOptions = (read: CommonRead) => {
  const present = <A>(option: Option.Option<A>): A | undefined => Option.getOrUndefined(option)
  return {
    prefix: read.prefix,
    ...defined({
      channel: present(read.channel),
      commandTimeout: present(read.commandTimeout),
      connectTimeout: present(read.connectTimeout)
    }),
    breaker: defined({ failures: present(read.breaker.failures), cooldown: present(read.breaker.cooldown) })
  }
}

export const config: Config.Config<Options> = Config.all({
  ...commonConfig,
  url: Config.option(Config.string("url"))
}).pipe(Config.map((read): Options => ({
  ...commonOptions(read),
  ...defined({ url: Option.getOrUndefined(read.url) })
})))

/** Drops the `undefined` fields (the options are read with `exactOptionalPropertyTypes`). */
const defined = <A extends Record<string, unknown>>(fields: A): { [K in keyof A]?: Exclude<A[K], undefined> } =>
  Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as {
    [K in keyof A]?: Exclude<A[K], undefined>
  }

export const layerConfig = (
  config: Config.Config<Options>
): Layer.Layer<CacheStore, CachePolicyError | ConfigError.ConfigError> =>
  Layer.scoped(CacheStore, Effect.flatMap(config, make))
