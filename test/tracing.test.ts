/**
 * Spans: a load and a refresh run in `RequestCache.load` / `RequestCache.refresh`, a child of the
 * caller's span, with the namespace and the outcome as attributes; a hit makes none. The spans
 * go through the real pipeline a program uses: Effect's tracer from `@effect/opentelemetry`, an
 * OpenTelemetry span processor, an in-memory exporter. Without a tracer the lookup is untouched.
 */
import { NodeSdk } from "@effect/opentelemetry"
import { describe, expect, it } from "@effect/vitest"
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { Deferred, Effect, Fiber, Layer, TestClock } from "effect"
import { CachePolicy, CacheStore, RequestCache } from "../src/index.js"
import { traced } from "../src/internal/tracing.js"
import { usersFunction } from "./support/users.js"

/** Effect's tracer through OpenTelemetry, into `exporter`. */
const tracing = (exporter: InMemorySpanExporter) =>
  NodeSdk.layer(() => ({ spanProcessor: new SimpleSpanProcessor(exporter) }))

let unique = 0
const fresh = (prefix: string) => `${prefix}-${++unique}`

/** Yields to the scheduler until `condition` holds: no clock, no sleeping. */
const eventually = (condition: () => boolean) =>
  Effect.gen(function*() {
    for (let i = 0; i < 10_000 && !condition(); i++) yield* Effect.yieldNow()
    if (!condition()) return yield* Effect.dieMessage("condition never held")
  })

const named = (spans: ReadonlyArray<ReadableSpan>, name: string) => spans.filter((span) => span.name === name)
const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId

/** A counting lookup of `name` (its runs in `state`). */
const counted = <A, E>(name: string, result: (id: number) => Effect.Effect<A, E>) => {
  const state = { runs: 0 }
  const get = RequestCache.cached({
    name,
    lookup: (id: number) => Effect.suspend(() => (state.runs++, result(id)))
  })
  return { get, state }
}

describe("Tracing: spans of loads and refreshes", () => {
  it.effect("a miss runs its lookup in RequestCache.load, a child of the caller's span; a hit makes no span", () => {
    const exporter = new InMemorySpanExporter()
    const name = fresh("users")
    const { get, state } = counted(name, (id) => Effect.succeed(`user ${id}`))
    return Effect.gen(function*() {
      expect(yield* get(1).pipe(Effect.withSpan("miss caller"))).toBe("user 1")
      expect(yield* get(1).pipe(Effect.withSpan("hit caller"))).toBe("user 1")
      expect(state.runs).toBe(1)
      const spans = exporter.getFinishedSpans()
      const loads = named(spans, "RequestCache.load")
      expect(loads).toHaveLength(1)
      const [caller] = named(spans, "miss caller")
      expect(parentOf(loads[0]!)).toBe(caller!.spanContext().spanId)
      expect(loads[0]!.spanContext().traceId).toBe(caller!.spanContext().traceId)
      expect(loads[0]!.attributes).toEqual({ "request_cache.namespace": name, "request_cache.outcome": "success" })
      const [hitCaller] = named(spans, "hit caller")
      expect(spans.filter((span) => parentOf(span) === hitCaller!.spanContext().spanId)).toEqual([])
      expect(named(spans, "RequestCache.refresh")).toEqual([])
    }).pipe(Effect.provide(Layer.merge(RequestCache.layer(), tracing(exporter))))
  })

  it.effect("the outcome: failure, defect", () => {
    const exporter = new InMemorySpanExporter()
    const failing = counted(fresh("failing"), (id) => Effect.fail(`no user ${id}`))
    const dying = counted(fresh("dying"), () => Effect.die("boom"))
    return Effect.gen(function*() {
      expect(yield* Effect.flip(failing.get(1))).toBe("no user 1")
      yield* Effect.exit(dying.get(1))
      const outcomes = named(exporter.getFinishedSpans(), "RequestCache.load").map((span) => [
        span.attributes["request_cache.namespace"],
        span.attributes["request_cache.outcome"]
      ])
      expect(outcomes).toEqual([[failing.get.namespace, "failure"], [dying.get.namespace, "defect"]])
    }).pipe(Effect.provide(Layer.merge(RequestCache.layer(), tracing(exporter))))
  })

  it.effect("the outcome of a load whose last caller left: interrupted", () => {
    const exporter = new InMemorySpanExporter()
    return Effect.gen(function*() {
      const started = yield* Deferred.make<void>()
      const { get } = counted(fresh("left"), () => Effect.zipRight(Deferred.succeed(started, undefined), Effect.never))
      yield* Effect.gen(function*() {
        const caller = yield* Effect.fork(get(1).pipe(Effect.withSpan("caller")))
        yield* Deferred.await(started)
        yield* Fiber.interrupt(caller)
      }).pipe(Effect.provide(RequestCache.layer())) // its scope closes: the load has ended
      const [load] = named(exporter.getFinishedSpans(), "RequestCache.load")
      expect(load?.attributes["request_cache.outcome"]).toBe("interrupted")
      expect(parentOf(load!)).toBe(named(exporter.getFinishedSpans(), "caller")[0]!.spanContext().spanId)
    }).pipe(Effect.provide(tracing(exporter)))
  })

  it.effect("RequestCache.get with a time to live: a load in a span too; a failure ends it with an error status", () => {
    const exporter = new InMemorySpanExporter()
    const name = fresh("timed")
    return Effect.gen(function*() {
      const lookup = Effect.fail("nope")
      expect(yield* Effect.flip(RequestCache.get(name, 1, lookup, { timeToLive: "1 minute" }))).toBe("nope")
      const [load] = named(exporter.getFinishedSpans(), "RequestCache.load")
      expect(load?.attributes["request_cache.outcome"]).toBe("failure")
      expect(load?.status.code).toBe(2) // ERROR
    }).pipe(Effect.provide(Layer.merge(RequestCache.layer({ cacheErrors: true }), tracing(exporter))))
  })

  it.effect("an explicit refresh and a stale hit's background refresh run in RequestCache.refresh", () => {
    const exporter = new InMemorySpanExporter()
    const name = fresh("refreshed")
    let version = 0
    const { get, state } = counted(name, (id) => Effect.sync(() => `user ${id} v${++version}`))
    return Effect.gen(function*() {
      yield* get(1)
      expect(yield* get.refresh(1).pipe(Effect.withSpan("refresher"))).toBe("user 1 v2")
      yield* TestClock.adjust("61 seconds")
      expect(yield* get(1).pipe(Effect.withSpan("stale caller"))).toBe("user 1 v2") // stale, refresh started
      expect(yield* get.refresh(1)).toBe("user 1 v3") // joins the refresh in flight
      expect(state.runs).toBe(3)
      const spans = exporter.getFinishedSpans()
      const refreshes = named(spans, "RequestCache.refresh")
      expect(refreshes.map(parentOf)).toEqual([
        named(spans, "refresher")[0]!.spanContext().spanId,
        named(spans, "stale caller")[0]!.spanContext().spanId
      ])
      for (const span of refreshes) {
        expect(span.attributes).toEqual({ "request_cache.namespace": name, "request_cache.outcome": "success" })
      }
      expect(named(spans, "RequestCache.load")).toHaveLength(1)
    }).pipe(Effect.provide(Layer.merge(
      RequestCache.layer({ timeToLive: "1 minute", staleWhileRevalidate: "1 minute" }),
      tracing(exporter)
    )))
  })

  it.effect("through a store: a load, a hit served by the store (no span), a cached failure, a background refresh", () => {
    const exporter = new InMemorySpanExporter()
    const { get, state } = usersFunction(fresh("users"))
    return Effect.gen(function*() {
      const store = yield* CacheStore.makeMemory
      const policy = {
        timeToLive: "1 minute",
        staleWhileRevalidate: "1 minute",
        cacheErrors: CachePolicy.cacheTags("NotFound")
      } as const
      const cache = (effect: Effect.Effect<unknown, unknown, RequestCache>) =>
        Effect.provide(
          effect,
          RequestCache.layerStore(policy).pipe(Layer.provide(Layer.succeed(CacheStore.CacheStore, store)))
        )
      yield* cache(Effect.gen(function*() {
        yield* get(1).pipe(Effect.withSpan("loader"))
        yield* Effect.flip(get(-1))
      }))
      yield* cache(get(1).pipe(Effect.withSpan("reader"))) // another process: served by the store
      yield* TestClock.adjust("61 seconds")
      yield* cache(Effect.gen(function*() {
        yield* get(1).pipe(Effect.withSpan("stale reader")) // stale in the store: a background refresh
        yield* eventually(() => named(exporter.getFinishedSpans(), "RequestCache.refresh").length === 1)
        yield* get.refresh(1).pipe(Effect.withSpan("refresher")) // an explicit one, after it
      }))
      expect(state.runs).toBe(4)
      const spans = exporter.getFinishedSpans()
      const spanId = (name: string) => named(spans, name)[0]!.spanContext().spanId
      const loads = named(spans, "RequestCache.load")
      expect(loads.map((span) => span.attributes["request_cache.outcome"])).toEqual(["success", "failure"])
      expect(parentOf(loads[0]!)).toBe(spanId("loader"))
      expect(spans.filter((span) => parentOf(span) === spanId("reader"))).toEqual([])
      const refreshes = named(spans, "RequestCache.refresh")
      expect(refreshes.map((span) => span.attributes["request_cache.outcome"])).toEqual(["success", "success"])
      expect(refreshes.map(parentOf)).toEqual([spanId("stale reader"), spanId("refresher")])
      for (const span of [...loads, ...refreshes]) {
        expect(span.attributes["request_cache.namespace"]).toBe(get.namespace)
      }
    }).pipe(Effect.provide(tracing(exporter)))
  })
})

describe("Tracing: no span without a tracer", () => {
  const lookup = Effect.succeed(1)

  it.effect("Effect's built-in tracer: the lookup effect itself (an Exit stays an Exit)", () =>
    Effect.withFiberRuntime((fiber) => {
      expect(traced(lookup, "n", "load", fiber)).toBe(lookup)
      return Effect.void
    }))

  it.effect("tracing disabled under a tracer: the lookup effect itself", () =>
    Effect.withFiberRuntime((fiber) => {
      expect(traced(lookup, "n", "load", fiber)).toBe(lookup)
      return Effect.void
    }).pipe(Effect.withTracerEnabled(false), Effect.provide(tracing(new InMemorySpanExporter()))))

  it.effect("an OpenTelemetry tracer: a new effect, run in the span", () =>
    Effect.withFiberRuntime((fiber) => {
      expect(traced(lookup, "n", "load", fiber)).not.toBe(lookup)
      return Effect.void
    }).pipe(Effect.provide(tracing(new InMemorySpanExporter()))))
})
