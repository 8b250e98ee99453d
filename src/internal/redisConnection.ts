import * as Effect from "effect/Effect"
import * as Runtime from "effect/Runtime"
import type { createClient } from "redis"
import type { Address } from "./redisOptions.js"

/** A node-redis client (of one server, or of one node of a cluster). */
export type Client = ReturnType<typeof createClient>

/** Between reconnection attempts: 50 ms, doubling up to a second. */
export const reconnectDelay = (retries: number): number => Math.min(50 * 2 ** retries, 1_000)

/** The socket of `address` (node-redis types TLS and TCP sockets apart). */
export const socketOptions = <A extends object>(address: Address, more: A) =>
  address.tls
    ? { tls: true as const, host: address.host, port: address.port, ...more }
    : { host: address.host, port: address.port, ...more }

/** The node-redis options of a client of `address`. */
export const clientOptions = (
  address: Address,
  connectTimeout: number,
  reconnectStrategy: (retries: number) => number | Error = reconnectDelay
) => ({
  socket: socketOptions(address, { connectTimeout, reconnectStrategy }),
  ...(address.username === undefined ? {} : { username: address.username }),
  ...(address.password === undefined ? {} : { password: address.password }),
  ...(address.database === 0 ? {} : { database: address.database }),
  // Commands fail at once while disconnected instead of queueing for a reconnection.
  disableOfflineQueue: true,
  // No node-redis timeout (0: none): it makes an `AbortSignal.timeout` per command, whose timer
  // fires later even when the command is long done; `within` is the time limit.
  commandOptions: { timeout: 0 }
})

/**
 * Logs the connection's losses (once per outage: an 'error' event without a listener would crash
 * the process) and returns (`is back`) for as long as the scope is open.
 */
export const watch = (
  client: Client,
  describe: string
): Effect.Effect<void> =>
  Effect.map(Effect.runtime<never>(), (runtime) => {
    const log = (effect: Effect.Effect<void>) => Runtime.runFork(runtime, effect)
    let connected = false
    let reported = false
    client.on("error", (error: Error) => {
      if (reported) return
      reported = true
      log(Effect.logWarning(`${describe}: ${error.message}; reconnecting`))
    })
    client.on("ready", () => {
      if (reported || connected) log(Effect.logInfo(`${describe} is back`))
      connected = true
      reported = false
    })
  })

/**
 * Waits for the first connection of `client` (started by `connect`), at most until it is ready
 * or fails once: never fails, and never waits longer than the connect timeout. When the server
 * does not answer, node-redis keeps reconnecting in the background and commands fail fast.
 */
export const firstConnection = (client: Client, connect: () => Promise<unknown>): Effect.Effect<void> =>
  Effect.async<void>((resume) => {
    const settle = () => {
      client.off("ready", settle)
      client.off("error", settle)
      resume(Effect.void)
    }
    client.once("ready", settle)
    client.once("error", settle)
    connect().catch(() => {}) // rejects only when closed before it connected
  })

/** A time to live as Redis's `PX` takes it: whole milliseconds, at least 1. */
export const px = (timeToLive: number): number => Math.max(1, Math.ceil(timeToLive))

/**
 * Closes `client`: waits for the commands in flight for at most `millis` (a finalizer cannot be
 * interrupted, so the limit is on the promise), then destroys the socket in any case.
 */
export const closeWithin = async (
  client: { readonly isOpen: boolean; close(): Promise<unknown>; destroy(): unknown },
  millis: number
): Promise<void> => {
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
