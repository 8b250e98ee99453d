import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import type { ClusterOptions, Options } from "../RedisStore.js"
import { CachePolicyError } from "./options.js"
import type { Resilience } from "./resilientStore.js"

/*
 * The options of both Redis layers, checked when the layer is built: a wrong type, a value out of
 * range, an unknown option or a URL node-redis would refuse is a `CachePolicyError` naming the
 * option, never a defect thrown later by node-redis.
 */

export const defaults = {
  url: "redis://127.0.0.1:6379",
  commandTimeout: 250,
  connectTimeout: 2_000,
  breakerFailures: 5,
  breakerCooldown: 5_000
} as const

/** Where to connect, read from a `redis[s]://` URL. */
export interface Address {
  readonly url: string
  readonly host: string
  readonly port: number
  readonly tls: boolean
  readonly username: string | undefined
  readonly password: string | undefined
  readonly database: number
}

/** What both stores share once checked. */
export interface Resolved extends Resilience {
  readonly prefix: string
  readonly channel: string
  readonly connectTimeout: number
}

export interface ResolvedSingle extends Resolved {
  readonly address: Address
}

export interface ResolvedCluster extends Resolved {
  readonly rootNodes: ReadonlyArray<Address>
}

type Checked<A> = Either.Either<A, CachePolicyError>

const invalid = (option: string, reason: string): Checked<never> =>
  Either.left(new CachePolicyError({ option, reason }))

const show = (value: unknown): string => {
  if (typeof value === "string") return JSON.stringify(value)
  if (typeof value === "function") return "a function"
  if (typeof value === "bigint") return `${value}n`
  if (typeof value === "symbol") return value.toString()
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return String(value)
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/** An unknown option is a mistake (a typo keeps its default silently otherwise). */
const onlyKnown = (
  value: Record<string, unknown>,
  known: ReadonlyArray<string>,
  path: string
): Checked<void> => {
  for (const name of Object.keys(value)) {
    if (!known.includes(name)) {
      return invalid(`${path}${name}`, `unknown option; the options are ${known.join(", ")}`)
    }
  }
  return Either.void
}

/** A positive, finite duration in milliseconds. */
const millis = (option: string, input: unknown, fallback: number): Checked<number> => {
  if (input === undefined) return Either.right(fallback)
  const decoded = typeof input === "number" && Number.isNaN(input) ? Option.none() : Duration.decodeUnknown(input)
  if (Option.isNone(decoded)) {
    return invalid(option, `expected a duration such as "100 millis" or a number of milliseconds, got ${show(input)}`)
  }
  const ms = Duration.toMillis(decoded.value)
  const negative = (typeof input === "number" && input < 0) ||
    (typeof input === "string" && input.trimStart().startsWith("-"))
  if (negative || ms <= 0 || !Number.isFinite(ms)) {
    return invalid(option, `expected a positive, finite duration, got ${show(input)}`)
  }
  return Either.right(ms)
}

const nonEmptyString = (option: string, value: unknown, what: string): Checked<string> =>
  typeof value === "string" && value.length > 0
    ? Either.right(value)
    : invalid(option, `expected a non-empty string, ${what}, got ${show(value)}`)

const decoded = (text: string): string | undefined => {
  try {
    return decodeURIComponent(text)
  } catch {
    return undefined
  }
}

/**
 * A `redis[s]://[[user][:password]@]host[:port][/db]` URL, checked as node-redis would read it
 * (and stricter: a port, a database and the credentials that it would misread are errors too).
 */
export const parseAddress = (option: string, value: unknown, allowDatabase: boolean): Checked<Address> => {
  const expected = allowDatabase
    ? "redis[s]://[[user][:password]@]host[:port][/db]"
    : "redis[s]://[[user][:password]@]host[:port]"
  if (typeof value !== "string") return invalid(option, `expected a URL ${expected}, got ${show(value)}`)
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return invalid(option, `${show(value)} is not a URL; expected ${expected}`)
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") {
    return invalid(option, `the scheme must be redis: or rediss: (TLS), got ${url.protocol} in ${show(value)}`)
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1")
  if (host.length === 0) return invalid(option, `no host in ${show(value)}; expected ${expected}`)
  const port = url.port === "" ? 6379 : Number(url.port)
  if (!Number.isSafeInteger(port) || port < 1 || port > 65_535) {
    return invalid(option, `the port must be 1 to 65535, got ${url.port} in ${show(value)}`)
  }
  let database = 0
  const path = url.pathname
  if (path.length > 1) {
    const db = path.slice(1)
    if (!allowDatabase) {
      return invalid(option, `a cluster has only database 0: no /${db} in ${show(value)}`)
    }
    if (!/^\d+$/.test(db) || !Number.isSafeInteger(Number(db))) {
      return invalid(option, `the database must be a number 0 or more, got /${db} in ${show(value)}`)
    }
    database = Number(db)
  }
  if (url.search !== "" || url.hash !== "") {
    return invalid(option, `no query or fragment is read, got ${show(url.search + url.hash)} in ${show(value)}`)
  }
  const username = url.username === "" ? undefined : decoded(url.username)
  const password = url.password === "" ? undefined : decoded(url.password)
  if ((url.username !== "" && username === undefined) || (url.password !== "" && password === undefined)) {
    return invalid(option, `the user or password is not URL-encoded correctly in ${show(value)}`)
  }
  return Either.right({ url: value, host, port, tls: url.protocol === "rediss:", username, password, database })
}

const commonKnown = ["prefix", "commandTimeout", "connectTimeout", "breaker", "channel"] as const

/** `prefix`, `channel`, the timeouts and the breaker: the options both layers share. */
const resolveCommon = (options: Record<string, unknown>, cluster: boolean): Checked<Resolved> =>
  Either.gen(function*() {
    const prefix = yield* nonEmptyString("prefix", options.prefix, "the first part of every key")
    if (cluster && /[{}]/.test(prefix)) {
      // The key's hash tag is the first {...}: a brace in the prefix would move it.
      return yield* invalid("prefix", `a cluster's prefix cannot contain { or }, got ${show(prefix)}`)
    }
    const channel = options.channel === undefined
      ? `${prefix}:events`
      : yield* nonEmptyString("channel", options.channel, "the pub/sub channel")
    const breaker = options.breaker ?? {}
    if (!isRecord(breaker)) {
      return yield* invalid("breaker", `expected an object { failures, cooldown }, got ${show(breaker)}`)
    }
    yield* onlyKnown(breaker, ["failures", "cooldown"], "breaker.")
    const failures = breaker.failures ?? defaults.breakerFailures
    if (typeof failures !== "number" || !Number.isSafeInteger(failures) || failures < 1) {
      return yield* invalid("breaker.failures", `expected a positive integer, got ${show(failures)}`)
    }
    return {
      prefix,
      channel,
      commandTimeout: yield* millis("commandTimeout", options.commandTimeout, defaults.commandTimeout),
      connectTimeout: yield* millis("connectTimeout", options.connectTimeout, defaults.connectTimeout),
      breaker: {
        failures,
        cooldown: yield* millis("breaker.cooldown", breaker.cooldown, defaults.breakerCooldown)
      }
    }
  })

const notAnObject = (value: unknown): Checked<never> =>
  invalid("options", `expected an object with at least prefix, got ${show(value)}`)

export const resolveSingle = (options: Options): Checked<ResolvedSingle> =>
  Either.gen(function*() {
    const raw: unknown = options
    if (!isRecord(raw)) return yield* notAnObject(raw)
    yield* onlyKnown(raw, [...commonKnown, "url"], "")
    const common = yield* resolveCommon(raw, false)
    const address = yield* parseAddress("url", raw.url ?? defaults.url, true)
    return { ...common, address }
  })

export const resolveCluster = (options: ClusterOptions): Checked<ResolvedCluster> =>
  Either.gen(function*() {
    const raw: unknown = options
    if (!isRecord(raw)) return yield* notAnObject(raw)
    yield* onlyKnown(raw, [...commonKnown, "rootNodes"], "")
    const common = yield* resolveCommon(raw, true)
    const nodes = raw.rootNodes
    if (!Array.isArray(nodes) || nodes.length === 0) {
      return yield* invalid(
        "rootNodes",
        `expected a non-empty array of URLs redis[s]://[[user][:password]@]host[:port], got ${show(nodes)}`
      )
    }
    const rootNodes: Array<Address> = []
    for (let i = 0; i < nodes.length; i++) rootNodes.push(yield* parseAddress(`rootNodes[${i}]`, nodes[i], false))
    // node-redis connects to the nodes it discovers with one set of credentials and one scheme.
    const first = rootNodes[0]!
    for (let i = 1; i < rootNodes.length; i++) {
      const node = rootNodes[i]!
      if (node.tls !== first.tls || node.username !== first.username || node.password !== first.password) {
        return yield* invalid(
          `rootNodes[${i}]`,
          "every root node needs the scheme, user and password of the first: the cluster's nodes are reached with one"
        )
      }
    }
    return { ...common, rootNodes }
  })
