import * as Effect from "effect/Effect"
import * as Runtime from "effect/Runtime"
import type * as Scope from "effect/Scope"
import type { StoreEvent } from "../CacheStore.js"
import { type Client, closeWithin, firstConnection, reconnectDelay, watch } from "./redisConnection.js"
import type { Address } from "./redisOptions.js"

/**
 * The event a subscription gives its listeners when it is made again after it was lost: the
 * events published meanwhile were missed, so every process drops its first tier.
 */
const RESET: StoreEvent = { kind: "reset", namespace: "", origin: "" }

const isStoreEvent = (value: unknown): value is StoreEvent => {
  if (typeof value !== "object" || value === null) return false
  const event = value as Record<string, unknown>
  // A reset is made by each process for itself, never published.
  return (event.kind === "set" || event.kind === "delete" || event.kind === "clear") &&
    typeof event.namespace === "string" && typeof event.origin === "string" &&
    (event.key === undefined || typeof event.key === "string")
}

export interface SubscriberOptions {
  readonly channel: string
  readonly commandTimeout: number
  readonly connectTimeout: number
  /** The nodes to subscribe on, in order; read again whenever the subscriber moves. */
  readonly nodes: () => ReadonlyArray<Address>
  /**
   * Failed reconnections to one node before moving to the next (a cluster, where any node hears
   * every event); `Infinity` for a single server, where the subscriber waits for it.
   */
  readonly attemptsPerNode: number
  readonly makeClient: (address: Address, reconnectStrategy: (retries: number) => number | Error) => Client
  /** For logs: `Redis`, `Redis Cluster`. */
  readonly label: string
}

export interface Subscriber {
  /**
   * Calls `onEvent` for every event from now until the scope closes, and with `RESET` whenever the
   * subscription is made again after a loss. Never fails: while Redis is down the listener is kept
   * and hears events once it is back (waits for the subscription at most a command's time).
   */
  readonly listen: (onEvent: (event: StoreEvent) => void) => Effect.Effect<void, never, Scope.Scope>
}

/**
 * One connection subscribed to the channel for the whole layer. node-redis subscribes again by
 * itself after a reconnection (before it says `ready`); when the subscriber moves to another node
 * (a cluster node that does not come back) it subscribes there. Either way, once subscribed again
 * after the cache was built, the listeners get `RESET`.
 */
export const makeSubscriber = (options: SubscriberOptions): Effect.Effect<Subscriber, never, Scope.Scope> =>
  Effect.gen(function*() {
    const runtime = yield* Effect.runtime<never>()
    const log = (effect: Effect.Effect<void>) => Runtime.runFork(runtime, effect)
    const listeners = new Set<(event: StoreEvent) => void>()
    const emit = (event: StoreEvent) => {
      for (const listener of Array.from(listeners)) {
        try {
          listener(event)
        } catch {
          // One listener's failure is not the others'.
        }
      }
    }
    const dispatch = (message: string) => {
      let event: unknown
      try {
        event = JSON.parse(message)
      } catch {
        return
      }
      if (isStoreEvent(event)) emit(event)
    }

    let built = false
    let closed = false
    let current: Client | undefined
    let subscription: Promise<void> | undefined
    let node = 0

    const connect = (address: Address): Client => {
      const client = options.makeClient(
        address,
        (retries) => retries >= options.attemptsPerNode ? new Error("moving to another node") : reconnectDelay(retries)
      )
      const describe = `${options.label} subscriber connection to ${address.host}:${address.port}`
      Runtime.runSync(runtime)(watch(client, describe))
      let lost = false
      let subscribed: Promise<void> | undefined
      client.on("error", () => {
        lost = true
      })
      client.on("ready", () => {
        if (client !== current) return
        const missed = built
        if (subscribed === undefined) {
          // This client's first subscription (at start, or on a node the subscriber moved to).
          subscribed = client.subscribe(options.channel, dispatch).then(() => {
            if (missed && client === current) emit(RESET)
          }, (error) => {
            subscribed = undefined
            throw error
          })
          subscribed.catch(() => {})
        } else if (lost && missed) {
          // node-redis subscribed again before `ready`: events published while it was away are lost.
          emit(RESET)
        }
        lost = false
        subscription = subscribed
      })
      // The reconnection strategy gave up on this node: subscribe on the next one.
      client.on("terminated", () => {
        if (client !== current || closed) return
        client.destroy()
        const nodes = options.nodes()
        node = (node + 1) % Math.max(1, nodes.length)
        const next = nodes[node] ?? address
        log(Effect.logWarning(`${describe} is lost; subscribing on ${next.host}:${next.port} instead`))
        subscription = undefined
        current = connect(next)
        current.connect().catch(() => {})
      })
      return client
    }

    const first = options.nodes()[0]!
    current = connect(first)
    yield* Effect.acquireRelease(
      firstConnection(current, () => current!.connect()),
      () =>
        Effect.promise(() => {
          closed = true
          return current === undefined ? Promise.resolve() : closeWithin(current, options.commandTimeout)
        })
    )
    built = true

    return {
      listen: (onEvent) =>
        Effect.acquireRelease(
          Effect.sync(() => listeners.add(onEvent)),
          () => Effect.sync(() => listeners.delete(onEvent))
        ).pipe(
          Effect.zipRight(
            Effect.tryPromise(() => subscription ?? Promise.resolve()).pipe(
              Effect.timeout(options.commandTimeout),
              Effect.ignore
            )
          )
        )
    }
  })
