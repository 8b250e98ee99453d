import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Either, Layer } from "effect"
import { CachePolicy, RequestCache } from "../src/index.js"
import { resolve } from "../src/internal/options.js"

const error = (options: Record<string, unknown>) => {
  const result = resolve(options as CachePolicy.Options<never>)
  if (Either.isRight(result)) throw new Error(`expected ${JSON.stringify(options)} to be rejected`)
  return result.left
}

describe("CachePolicy", () => {
  it("resolves the defaults", () => {
    const policy = Either.getOrThrow(resolve(undefined))
    expect(policy).toMatchObject({
      capacity: 1_000,
      timeToLive: Infinity,
      jitter: 0,
      staleWhileRevalidate: 0,
      errorTimeToLive: Infinity,
      cacheErrors: undefined
    })
  })

  it("reads durations in every DurationInput form; errorTimeToLive defaults to timeToLive", () => {
    const policy = Either.getOrThrow(resolve({ timeToLive: "2 minutes", jitter: 500, staleWhileRevalidate: [1, 0] }))
    expect(policy).toMatchObject({
      timeToLive: 120_000,
      jitter: 500,
      staleWhileRevalidate: 1_000,
      errorTimeToLive: 120_000
    })
    expect(Either.getOrThrow(resolve({ capacity: Infinity, staleWhileRevalidate: Infinity })).capacity).toBe(Infinity)
  })

  it("puts a namespace's overrides on top of the layer's options", () => {
    const policy = Either.getOrThrow(resolve({ capacity: 10, timeToLive: 1_000 }, { capacity: 2 }))
    expect(policy).toMatchObject({ capacity: 2, timeToLive: 1_000 })
  })

  it("names the option and says what is wrong", () => {
    expect(error({ capacity: 0 }).message).toBe(
      "Invalid cache option \"capacity\": expected a positive integer or Infinity, got 0"
    )
    expect(error({ capacity: 1.5 }).option).toBe("capacity")
    expect(error({ capacity: "10" }).reason).toContain("got \"10\"")
    expect(error({ timeToLive: Number.NaN }).message).toContain("timeToLive")
    expect(error({ timeToLive: "-5 seconds" }).reason).toContain("zero or more")
    expect(error({ jitter: Infinity }).reason).toBe("must be finite")
    expect(error({ errorTimeToLive: "tomorrow" }).reason).toContain("\"tomorrow\"")
    expect(error({ eviction: "lfu" }).message).toBe(
      "Invalid cache option \"eviction\": expected \"lru\" or \"w-tinylfu\", got \"lfu\""
    )
    expect(error({ maxWeight: 100 }).reason).toContain("needs a weigher")
    expect(error({ maxWeight: 0, weigher: () => 1 }).reason).toContain("positive number")
    expect(error({ weigher: 3 }).option).toBe("weigher")
    expect(error({ cacheErrors: 1 }).option).toBe("cacheErrors")
    expect(error({ maxsize: 5 }).message).toBe(
      "Invalid cache option \"maxsize\": unknown option; the options are capacity, eviction, timeToLive, jitter, staleWhileRevalidate, cacheErrors, errorTimeToLive, maxWeight, weigher"
    )
  })

  it("cacheTags caches failures by tag", () => {
    const predicate = CachePolicy.cacheTags("NotFound", "Gone")
    expect(predicate({ _tag: "NotFound" })).toBe(true)
    expect(predicate({ _tag: "Timeout" })).toBe(false)
    expect(predicate("NotFound")).toBe(false)
    expect(predicate(null)).toBe(false)
  })

  it.effect("config reads the options from a ConfigProvider", () =>
    Effect.gen(function*() {
      const provider = ConfigProvider.fromMap(
        new Map([["capacity", "5"], ["timeToLive", "10 seconds"], ["cacheErrors", "true"]])
      )
      const options = yield* Effect.withConfigProvider(CachePolicy.config, provider)
      expect(options.capacity).toBe(5)
      expect(options.cacheErrors).toBe(true)
      expect(Object.keys(options).sort()).toEqual(["cacheErrors", "capacity", "timeToLive"])
      const stats = yield* RequestCache.statsFor("n").pipe(
        Effect.provide(
          RequestCache.layerConfig(CachePolicy.config).pipe(Layer.provide(Layer.setConfigProvider(provider)))
        )
      )
      expect(stats.capacity).toBe(5)
    }))

  it.effect("a bad value from Config fails the layer with the option's name", () =>
    Effect.gen(function*() {
      const provider = ConfigProvider.fromMap(new Map([["capacity", "-3"]]))
      const failure = yield* Effect.flip(
        RequestCache.statsFor("n").pipe(
          Effect.provide(
            RequestCache.layerConfig(CachePolicy.config).pipe(Layer.provide(Layer.setConfigProvider(provider)))
          )
        )
      )
      expect(failure.message).toContain("\"capacity\"")
    }))
})
