/**
 * What the Redis tests share: whether Redis answers on this machine, a describe that runs only
 * then (and always under CI=true), a fresh prefix per test and the deletion of its keys.
 */
import * as crypto from "node:crypto"
import * as net from "node:net"
import { createClient } from "redis"
import { describeNeeding } from "./needs.js"

export const REDIS = { host: "127.0.0.1", port: 6379 } as const
export const REDIS_URL = `redis://${REDIS.host}:${REDIS.port}`

/** A PING over a raw socket, answered within `timeout` ms. */
const ping = (timeout: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = net.connect(REDIS.port, REDIS.host)
    const done = (answer: boolean) => {
      clearTimeout(timer)
      socket.destroy()
      resolve(answer)
    }
    const timer = setTimeout(() => done(false), timeout)
    socket.on("connect", () => socket.write("PING\r\n"))
    socket.on("data", (data) => done(data.toString().startsWith("+PONG")))
    socket.on("error", () => done(false))
  })

export const redisAnswers: boolean = await ping(500)

/** `describe` when Redis answers (see `describeNeeding`: under `CI=true` these tests must run). */
export const describeRedis = (name: string, body: () => void): void =>
  describeNeeding(name, redisAnswers ? undefined : `Redis does not answer on ${REDIS_URL}`, body)

/** A prefix of its own for one test: no two tests (or runs) share keys or channels. */
export const freshPrefix = (label: string): string => `erc-test-${label}-${crypto.randomBytes(6).toString("hex")}`

/** A plain node-redis client for looking at Redis behind the store's back. */
export const rawClient = async () => {
  const client = createClient({ url: REDIS_URL })
  client.on("error", () => {})
  await client.connect()
  return client
}

/** Deletes every key under `prefix` (entries, locks, counters). */
export const deletePrefix = async (prefix: string): Promise<void> => {
  const client = await rawClient()
  try {
    for await (const keys of client.scanIterator({ MATCH: `${prefix}:*`, COUNT: 1_000 })) {
      if (keys.length > 0) await client.unlink(keys)
    }
  } finally {
    client.destroy()
  }
}
