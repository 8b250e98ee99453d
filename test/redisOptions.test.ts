/**
 * Every option of both Redis layers is checked when the layer is built: a bad one is a
 * `CachePolicyError` naming it (as the cache's own options are), never a defect from node-redis.
 * No server is needed: a layer with a bad option fails before it connects.
 */
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Either, Layer } from "effect"
import { CachePolicy } from "../src/index.js"
import { resolveCluster, resolveSingle } from "../src/internal/redisOptions.js"
import { RedisStore } from "../src/redis.js"

/** What a bad option is: the layer fails with the option's error, naming it. */
const failsWith = <A, E>(layer: Layer.Layer<A, E>, option: string) =>
  Effect.gen(function*() {
    const error = yield* Effect.flip(Effect.scoped(Layer.build(layer)))
    expect(error).toBeInstanceOf(CachePolicy.CachePolicyError)
    const policyError = error as CachePolicy.CachePolicyError
    expect(policyError.option).toBe(option)
    expect(policyError.message).toMatch(new RegExp(`^Invalid cache option "${option.replace(/[[\].]/g, "\\$&")}": .+`))
    return policyError
  })

const single: ReadonlyArray<readonly [string, unknown, string, RegExp]> = [
  ["not an object", null, "options", /expected an object/],
  ["an unknown option (a typo)", { prefix: "p", commandTimout: 100 }, "commandTimout", /unknown option/],
  ["no prefix", {}, "prefix", /non-empty string/],
  ["an empty prefix", { prefix: "" }, "prefix", /non-empty string/],
  ["a prefix that is not a string", { prefix: 42 }, "prefix", /got 42/],
  ["a URL of another scheme", { prefix: "p", url: "http://x" }, "url", /redis: or rediss:.*http:/],
  ["a URL without a host", { prefix: "p", url: "redis://" }, "url", /no host/],
  ["a URL that does not parse", { prefix: "p", url: "cache.internal:6379" }, "url", /redis: or rediss:|not a URL/],
  ["a URL that is not one at all", { prefix: "p", url: "redis://:6379" }, "url", /not a URL/],
  ["port 0", { prefix: "p", url: "redis://localhost:0" }, "url", /port must be 1 to 65535/],
  ["a port out of range", { prefix: "p", url: "redis://localhost:70000" }, "url", /not a URL/],
  ["a database that is not a number", { prefix: "p", url: "redis://localhost/cache" }, "url", /database/],
  ["a negative database", { prefix: "p", url: "redis://localhost/-1" }, "url", /database/],
  ["a query string", { prefix: "p", url: "redis://localhost?db=1" }, "url", /no query/],
  ["a badly encoded password", { prefix: "p", url: "redis://:%zz@localhost" }, "url", /URL-encoded/],
  ["a URL that is not a string", { prefix: "p", url: 6379 }, "url", /expected a URL/],
  ["an empty channel", { prefix: "p", channel: "" }, "channel", /non-empty string/],
  ["a channel that is not a string", { prefix: "p", channel: 1 }, "channel", /non-empty string/],
  ["a negative command timeout", { prefix: "p", commandTimeout: -1 }, "commandTimeout", /positive/],
  ["a zero command timeout", { prefix: "p", commandTimeout: 0 }, "commandTimeout", /positive/],
  ["an infinite command timeout", { prefix: "p", commandTimeout: Infinity }, "commandTimeout", /finite/],
  ["a command timeout that is not a duration", { prefix: "p", commandTimeout: "soon" }, "commandTimeout", /duration/],
  ["NaN as a command timeout", { prefix: "p", commandTimeout: NaN }, "commandTimeout", /duration/],
  ["a negative connect timeout", { prefix: "p", connectTimeout: "-5 seconds" }, "connectTimeout", /positive/],
  ["a breaker that is not an object", { prefix: "p", breaker: 5 }, "breaker", /object/],
  ["zero breaker failures", { prefix: "p", breaker: { failures: 0 } }, "breaker.failures", /positive integer/],
  ["fractional breaker failures", { prefix: "p", breaker: { failures: 1.5 } }, "breaker.failures", /integer/],
  ["breaker failures as a string", { prefix: "p", breaker: { failures: "3" } }, "breaker.failures", /integer/],
  [
    "a breaker cooldown that is not a duration",
    { prefix: "p", breaker: { cooldown: "soon" } },
    "breaker.cooldown",
    /duration/
  ],
  ["an infinite breaker cooldown", { prefix: "p", breaker: { cooldown: Infinity } }, "breaker.cooldown", /finite/],
  [
    "an unknown breaker option",
    { prefix: "p", breaker: { failures: 3, window: 10 } },
    "breaker.window",
    /unknown option/
  ]
]

const cluster: ReadonlyArray<readonly [string, unknown, string, RegExp]> = [
  ["not an object", "redis://x", "options", /expected an object/],
  ["no root nodes", { prefix: "p" }, "rootNodes", /non-empty array/],
  ["no root node in the list", { prefix: "p", rootNodes: [] }, "rootNodes", /non-empty array/],
  ["root nodes as one string", { prefix: "p", rootNodes: "redis://a:7000" }, "rootNodes", /array/],
  ["a root node that is not a string", { prefix: "p", rootNodes: [7000] }, "rootNodes[0]", /expected a URL/],
  [
    "a root node of another scheme",
    { prefix: "p", rootNodes: ["redis://a:7000", "http://b"] },
    "rootNodes[1]",
    /http:/
  ],
  ["a root node with a database", { prefix: "p", rootNodes: ["redis://a:7000/2"] }, "rootNodes[0]", /only database 0/],
  [
    "root nodes with different schemes",
    {
      prefix: "p",
      rootNodes: ["redis://a:7000", "rediss://b:7000"]
    },
    "rootNodes[1]",
    /scheme, user and password/
  ],
  [
    "root nodes with different credentials",
    {
      prefix: "p",
      rootNodes: ["redis://u:pw@a:7000", "redis://b:7000"]
    },
    "rootNodes[1]",
    /scheme, user and password/
  ],
  [
    "a url (the single-node option)",
    {
      prefix: "p",
      rootNodes: ["redis://a:7000"],
      url: "redis://a:7000"
    },
    "url",
    /unknown option/
  ],
  [
    "a prefix with a brace (it would move the hash tag)",
    {
      prefix: "app{1}",
      rootNodes: ["redis://a:7000"]
    },
    "prefix",
    /cannot contain \{ or \}/
  ],
  ["no prefix", { rootNodes: ["redis://a:7000"] }, "prefix", /non-empty string/],
  [
    "a bad command timeout",
    { prefix: "p", rootNodes: ["redis://a:7000"], commandTimeout: "0 millis" },
    "commandTimeout",
    /positive/
  ],
  [
    "a bad breaker",
    { prefix: "p", rootNodes: ["redis://a:7000"], breaker: { failures: -1 } },
    "breaker.failures",
    /positive/
  ],
  ["an empty channel", { prefix: "p", rootNodes: ["redis://a:7000"], channel: "" }, "channel", /non-empty/]
]

describe("RedisStore.layer: every bad option fails the layer with the option's error", () => {
  for (const [what, options, option, reason] of single) {
    it.effect(`${what}: ${option}`, () =>
      Effect.gen(function*() {
        const error = yield* failsWith(RedisStore.layer(options as RedisStore.Options), option)
        expect(error.reason).toMatch(reason)
      }))
  }

  it.effect("the issue's case: RedisStore.layer({ prefix, url: 'http://x' }) fails, it does not die", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Effect.scoped(Layer.build(RedisStore.layer({ prefix: "p", url: "http://x" }))))
      expect(exit._tag).toBe("Failure")
      const error = yield* failsWith(RedisStore.layer({ prefix: "p", url: "http://x" }), "url")
      expect(error.message).toBe(
        `Invalid cache option "url": the scheme must be redis: or rediss: (TLS), got http: in "http://x"`
      )
    }))

  it.effect("RedisStore.make fails the same way", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Effect.scoped(RedisStore.make({ prefix: "p", commandTimeout: -5 })))
      expect(error).toBeInstanceOf(CachePolicy.CachePolicyError)
      expect(error.option).toBe("commandTimeout")
    }))

  it.effect("options read from Config are checked too", () =>
    Effect.gen(function*() {
      const layer = RedisStore.layerConfig(RedisStore.config).pipe(
        Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map([["prefix", "p"], ["url", "http://x"]]))))
      )
      yield* failsWith(layer, "url")
    }))

  it("good options resolve with their defaults", () => {
    const resolved = resolveSingle({ prefix: "p", url: "rediss://user:p%40ss@cache.internal:6380/2" })
    expect(Either.getOrThrow(resolved)).toEqual({
      prefix: "p",
      channel: "p:events",
      commandTimeout: 250,
      connectTimeout: 2_000,
      breaker: { failures: 5, cooldown: 5_000 },
      address: {
        url: "rediss://user:p%40ss@cache.internal:6380/2",
        host: "cache.internal",
        port: 6380,
        tls: true,
        username: "user",
        password: "p@ss",
        database: 2
      }
    })
    expect(Either.getOrThrow(resolveSingle({ prefix: "p", url: "redis://[::1]" })).address).toMatchObject({
      host: "::1",
      port: 6379,
      database: 0
    })
    expect(Either.isRight(resolveSingle({ prefix: "p", commandTimeout: "100 millis", breaker: {} }))).toBe(true)
  })
})

describe("RedisStore.layerCluster: every bad option fails the layer with the option's error", () => {
  for (const [what, options, option, reason] of cluster) {
    it.effect(`${what}: ${option}`, () =>
      Effect.gen(function*() {
        const error = yield* failsWith(RedisStore.layerCluster(options as RedisStore.ClusterOptions), option)
        expect(error.reason).toMatch(reason)
      }))
  }

  it.effect("options read from Config are checked too, root nodes as a comma-separated list", () =>
    Effect.gen(function*() {
      const provide = (entries: ReadonlyArray<[string, string]>) =>
        Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map(entries))))
      yield* failsWith(
        RedisStore.layerClusterConfig(RedisStore.clusterConfig).pipe(
          provide([["prefix", "p"], ["rootNodes", "redis://a:7000,http://b:7000"]])
        ),
        "rootNodes[1]"
      )
      const read = yield* RedisStore.clusterConfig.pipe(
        Effect.withConfigProvider(
          ConfigProvider.fromMap(new Map([["prefix", "p"], ["rootNodes", "redis://a:7000,redis://b:7001"]]))
        )
      )
      expect(read).toEqual({ prefix: "p", rootNodes: ["redis://a:7000", "redis://b:7001"], breaker: {} })
    }))

  it("good options resolve: every root node, database 0", () => {
    const resolved = Either.getOrThrow(
      resolveCluster({ prefix: "p", rootNodes: ["redis://a:7000", "redis://b"], breaker: { failures: 2 } })
    )
    expect(resolved.rootNodes.map((node) => [node.host, node.port, node.database])).toEqual([
      ["a", 7000, 0],
      ["b", 6379, 0]
    ])
    expect(resolved.breaker).toEqual({ failures: 2, cooldown: 5_000 })
  })
})
