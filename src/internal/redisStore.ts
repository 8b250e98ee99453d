import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Runtime from "effect/Runtime"
import type * as Scope from "effect/Scope"
import { createClient } from "redis"
import { CacheStore, CacheStoreError, type Coordination, type Service, type StoreEvent } from "../CacheStore.js"
import type { Options } from "../RedisStore.js"
import { type Resilience, resilient } from "./resilientStore.js"

type Client = ReturnType<typeof createClient>

export const defaults = {
  url: "redis://127.0.0.1:6379",
  commandTimeout: 250,
  connectTimeout: 2_000,
  breakerFailures: 5,
  breakerCooldown: 5_000
} as const

interface Resolved extends Resilience {
  readonly url: string
  readonly prefix: string
  readonly channel: string
  readonly connectTimeout: number
}

const invalid = (option: string, reason: string) =>
  new CacheStoreError({ operation: "configure", reason: `option ${option}: ${reason}` })

const millis = (option: string, input: Duration.DurationInput | undefined, fallback: number) => {
  if (input === undefined) return Effect.succeed(fallback)
  const duration = Duration.decodeUnknown(input)
  if (Option.isNone(duration)) return Effect.fail(invalid(option, `expected a duration, got ${String(input)}`))
  const ms = Duration.toMillis(duration.value)
  return ms > 0 && Number.isFinite(ms)
    ? Effect.succeed(ms)
    : Effect.fail(invalid(option, `expected a positive, finite duration, got ${String(input)}`))
}

const resolve = (options: Options): Effect.Effect<Resolved, CacheStoreError> =>
  Effect.gen(function*() {
    const { prefix } = options
    if (typeof prefix !== "string" || prefix.length === 0) {
      return yield* invalid("prefix", "expected a non-empty string, the first part of every key")
    }
    const failures = options.breaker?.failures ?? defaults.breakerFailures
    if (!Number.isSafeInteger(failures) || failures < 1) {
      return yield* invalid("breaker.failures", `expected a positive integer, got ${failures}`)
    }
    return {
      url: options.url ?? defaults.url,
      prefix,
      channel: options.channel ?? `${prefix}:events`,
      commandTimeout: yield* millis("commandTimeout", options.commandTimeout, defaults.commandTimeout),
      connectTimeout: yield* millis("connectTimeout", options.connectTimeout, defaults.connectTimeout),
      breaker: {
        failures,
        cooldown: yield* millis("breaker.cooldown", options.breaker?.cooldown, defaults.breakerCooldown)
      }
    }
  })

class CommandTimeout extends Error {}

/** `promise`, or a `CommandTimeout` after `millis`: a timer per command, no fiber. */
const within = <A>(promise: Promise<A>, millis: number): Promise<A> =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new CommandTimeout(`no answer from redis within ${millis} ms`)), millis)
    promise.then((value) => {
      clearTimeout(timer)
      resolve(value)
    }, (error) => {
      clearTimeout(timer)
      reject(error)
    })
  })

const failure = (operation: string) => (cause: unknown) =>
  new CacheStoreError({ operation, reason: cause instanceof Error ? cause.message : String(cause), cause })

/** Deletes the lock only if `owner` still holds it (it may have lapsed and been taken by another). */
const RELEASE = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end`

/** Characters that `SCAN MATCH` reads as a pattern. */
const globEscape = (text: string) => text.replace(/[*?[\]\\]/g, "\\$&")

const isStoreEvent = (value: unknown): value is StoreEvent => {
  if (typeof value !== "object" || value === null) return false
  const event = value as Record<string, unknown>
  return (event.kind === "set" || event.kind === "delete" || event.kind === "clear") &&
    typeof event.namespace === "string" && typeof event.origin === "string" &&
    (event.key === undefined || typeof event.key === "string")
}

/**
 * Opens `client` in the current scope and closes it with the scope. Never fails and never waits
 * longer than the connect timeout: when Redis does not answer, the client keeps reconnecting in
 * the background (node-redis's loop, with `reconnectStrategy`) and commands fail fast meanwhile.
 */
const open = (client: Client, role: string, options: Resolved) =>
  Effect.gen(function*() {
    const runtime = yield* Effect.runtime<never>()
    const log = (effect: Effect.Effect<void>) => Runtime.runFork(runtime, effect)
    // An 'error' event without a listener would crash the process; each is logged once per outage.
    let connected = false
    let reported = false
    client.on("error", (error: Error) => {
      if (reported) return
      reported = true
      log(Effect.logWarning(`Redis ${role} connection to ${options.url}: ${error.message}; reconnecting`))
    })
    client.on("ready", () => {
      if (reported || connected) log(Effect.logInfo(`Redis ${role} connection to ${options.url} is back`))
      connected = true
      reported = false
    })
    yield* Effect.acquireRelease(
      Effect.async<void>((resume) => {
        const settle = () => {
          client.off("ready", settle).off("error", settle)
          resume(Effect.void)
        }
        client.once("ready", settle).once("error", settle)
        client.connect().catch(() => {}) // rejects only when closed before it connected
      }),
      // Waits for the commands in flight, for at most a command's time (a finalizer cannot be
      // interrupted, so the limit is on the promise), then closes the socket in any case.
      () => Effect.promise(() => closeWithin(client, options.commandTimeout))
    )
  })

const closeWithin = async (client: Client, millis: number): Promise<void> => {
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    if (client.isOpen) {
      await Promise.race([client.close(), new Promise((resolve) => timer = setTimeout(resolve, millis))])
    }
  } catch {
    // Closing a client that is already closed: nothing to do.
  } finally {
    clearTimeout(timer)
    client.destroy()
  }
}

/** The Redis store, without timeouts or breaker (see `make`). */
const makeRaw = (options: Resolved): Effect.Effect<Service, never, Scope.Scope> =>
  Effect.gen(function*() {
    const client: Client = createClient({
      url: options.url,
      // Commands fail at once while disconnected instead of queueing for a reconnection.
      disableOfflineQueue: true,
      // No node-redis timeout (0: none): it makes an `AbortSignal.timeout` per command, whose timer
      // fires later even when the command is long done; `within` below is the time limit.
      commandOptions: { timeout: 0 },
      socket: {
        connectTimeout: options.connectTimeout,
        reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 1_000)
      }
    })
    yield* open(client, "command", options)

    const { channel, prefix } = options
    const entryKey = (namespace: string, key: string) => `${prefix}:${namespace}:${key}`
    // No namespace is empty, so no entry key starts with `prefix::`.
    const lockKey = (namespace: string, key: string) => `${prefix}::lock:${namespace}:${key}`
    const { commandTimeout } = options
    // node-redis's own `timeout` only covers a command until it is written to the socket; this
    // one also covers the answer (a Redis that hangs, a connection that stalls). A late answer is
    // still read and dropped, so the connection stays in step.
    const command = <A>(operation: string, run: () => Promise<A>) =>
      Effect.tryPromise({ try: () => within(run(), commandTimeout), catch: failure(operation) })

    // One subscription to the channel for the whole layer; `subscribe` adds listeners to it.
    const listeners = new Set<(event: StoreEvent) => void>()
    const dispatch = (message: string) => {
      let event: unknown
      try {
        event = JSON.parse(message)
      } catch {
        return
      }
      if (!isStoreEvent(event)) return
      for (const listener of listeners) listener(event)
    }
    const subscriber: Client = client.duplicate()
    let subscription: Promise<void> | undefined
    // Subscribed on the first connection; node-redis subscribes again after each reconnection.
    const ensureSubscribed = () => {
      if (subscription !== undefined || !subscriber.isReady) return
      subscription = subscriber.subscribe(channel, dispatch).catch((error) => {
        subscription = undefined
        throw error
      })
      subscription.catch(() => {})
    }
    subscriber.on("ready", ensureSubscribed)
    yield* open(subscriber, "subscriber", options)
    ensureSubscribed()

    const coordination: Coordination = {
      acquire: (namespace, key, owner, timeToLive) =>
        command("acquire", () =>
          client.set(lockKey(namespace, key), owner, {
            condition: "NX",
            expiration: { type: "PX", value: Math.max(1, Math.ceil(timeToLive)) }
          })).pipe(Effect.map((reply) => reply !== null)),
      release: (namespace, key, owner) =>
        command("release", () => client.eval(RELEASE, { keys: [lockKey(namespace, key)], arguments: [owner] })),
      publish: (event) => command("publish", () => client.publish(channel, JSON.stringify(event))),
      // Never fails: when Redis is down the listener is kept, and hears events once it is back.
      subscribe: (onEvent) =>
        Effect.acquireRelease(
          Effect.sync(() => listeners.add(onEvent)),
          () => Effect.sync(() => listeners.delete(onEvent))
        ).pipe(
          Effect.zipRight(
            Effect.promise(() => subscription ?? Promise.resolve()).pipe(
              Effect.timeout(options.commandTimeout),
              Effect.ignore
            )
          )
        )
    }

    return {
      name: "redis",
      get: (namespace, key) =>
        command("get", () => client.get(entryKey(namespace, key))).pipe(Effect.map(Option.fromNullable)),
      set: (namespace, key, entry, timeToLive) =>
        command("set", () =>
          timeToLive === Infinity
            ? client.set(entryKey(namespace, key), entry)
            : client.set(entryKey(namespace, key), entry, {
              expiration: { type: "PX", value: Math.max(1, Math.ceil(timeToLive)) }
            })),
      delete: (namespace, key) =>
        command("delete", () => client.del(entryKey(namespace, key))).pipe(Effect.map((count) => count > 0)),
      // A batch of keys at a time, each round trip under the time limit (not the whole clear).
      clear: (namespace) =>
        Effect.tryPromise({
          try: async () => {
            const match = `${globEscape(`${prefix}:${namespace}`)}:*`
            let cursor = "0"
            do {
              const reply = await within(client.scan(cursor, { MATCH: match, COUNT: 1_000 }), commandTimeout)
              cursor = reply.cursor
              if (reply.keys.length > 0) await within(client.unlink(reply.keys), commandTimeout)
            } while (cursor !== "0")
          },
          catch: failure("clear")
        }),
      coordination
    } satisfies Service
  })

export const make = (options: Options): Effect.Effect<Service, CacheStoreError, Scope.Scope> =>
  Effect.flatMap(
    resolve(options),
    (resolved) => Effect.map(makeRaw(resolved), (raw) => resilient(raw, { ...resolved, timedByStore: true }))
  )

export const layer = (options: Options): Layer.Layer<CacheStore, CacheStoreError> =>
  Layer.scoped(CacheStore, make(options))

export const config: Config.Config<Options> = Config.all({
  url: Config.option(Config.string("url")),
  prefix: Config.string("prefix"),
  channel: Config.option(Config.string("channel")),
  commandTimeout: Config.option(Config.duration("commandTimeout")),
  connectTimeout: Config.option(Config.duration("connectTimeout")),
  breaker: Config.all({
    failures: Config.option(Config.integer("failures")),
    cooldown: Config.option(Config.duration("cooldown"))
  }).pipe(Config.nested("breaker"))
}).pipe(Config.map((read): Options => {
  const present = <A>(option: Option.Option<A>): A | undefined => Option.getOrUndefined(option)
  return {
    prefix: read.prefix,
    ...defined({
      url: present(read.url),
      channel: present(read.channel),
      commandTimeout: present(read.commandTimeout),
      connectTimeout: present(read.connectTimeout)
    }),
    breaker: defined({ failures: present(read.breaker.failures), cooldown: present(read.breaker.cooldown) })
  }
}))

/** Drops the `undefined` fields (the options are read with `exactOptionalPropertyTypes`). */
const defined = <A extends Record<string, unknown>>(fields: A): { [K in keyof A]?: Exclude<A[K], undefined> } =>
  Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as {
    [K in keyof A]?: Exclude<A[K], undefined>
  }

export const layerConfig = (
  config: Config.Config<Options>
): Layer.Layer<CacheStore, CacheStoreError | ConfigError.ConfigError> =>
  Layer.scoped(CacheStore, Effect.flatMap(config, make))
