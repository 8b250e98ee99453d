/**
 * The cache's metrics and spans through OpenTelemetry, as an Effect program exports its own:
 * `@effect/opentelemetry` turns Effect's metrics into OpenTelemetry metrics, which the Prometheus
 * exporter serves on `/metrics`, and Effect's spans into OpenTelemetry spans, here collected by
 * an in-memory span exporter and printed (use the OTLP exporter of your collector instead).
 *
 * `npx tsx examples/observability.ts` serves `/metrics` on $METRICS_PORT (default: a free port),
 * prints its address, makes a miss, a hit and a failed lookup under a caller's span, prints the
 * spans and what `/metrics` says of the cache, and exits; add `--serve` to keep serving.
 */
import { NodeSdk } from "@effect/opentelemetry"
import { PrometheusExporter } from "@opentelemetry/exporter-prometheus"
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { Console, Data, Effect, Layer } from "effect"
import { RequestCache } from "effect-request-cache"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"

class NotFound extends Data.TaggedError("NotFound")<{ readonly id: number }> {}

const users: Record<number, string> = { 1: "Ada", 2: "Grace" }

const getUser = RequestCache.cached({
  name: "users",
  lookup: (id: number) =>
    Effect.sleep("10 millis").pipe(
      Effect.zipRight(id in users ? Effect.succeed(users[id]!) : Effect.fail(new NotFound({ id })))
    ),
  policy: { timeToLive: "1 minute" }
})

// A reader that only answers scrapes: the exporter's own server is not started, ours below is.
const prometheus = new PrometheusExporter({ preventServerStart: true })
const spans = new InMemorySpanExporter()

/** Effect's tracer and metrics, exported through OpenTelemetry. */
const TelemetryLive = NodeSdk.layer(() => ({
  resource: { serviceName: "effect-request-cache-example" },
  metricReader: prometheus,
  spanProcessor: new SimpleSpanProcessor(spans)
}))

/** `GET /metrics` in the Prometheus text format, on `port` (0: a free one), closed with the scope. */
const serveMetrics = (port: number) =>
  Effect.acquireRelease(
    Effect.async<ReturnType<typeof createServer>>((resume) => {
      const server = createServer((request, response) => {
        if (request.method === "GET" && request.url === "/metrics") {
          prometheus.getMetricsRequestHandler(request, response)
        } else {
          response.statusCode = 404
          response.end("not found\n")
        }
      })
      server.listen(port, "127.0.0.1", () => resume(Effect.succeed(server)))
    }),
    (server) =>
      Effect.async<void>((resume) => {
        server.close(() => resume(Effect.void))
        server.closeAllConnections() // the scrape's keep-alive connection too
      })
  )

const describeSpan = (span: ReadableSpan): string => {
  const attributes = Object.entries(span.attributes).map(([key, value]) => ` ${key}=${String(value)}`).join("")
  return `span ${span.name} id=${span.spanContext().spanId} parent=${
    span.parentSpanContext?.spanId ?? "-"
  } status=${span.status.code}${attributes}`
}

const program = Effect.gen(function*() {
  const server = yield* serveMetrics(Number(process.env.METRICS_PORT ?? 0))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`
  yield* Console.log(`metrics: ${url}`)

  // Each call inside a span of its own, as a request handler's would be.
  const handle = (id: number) =>
    getUser(id).pipe(
      Effect.match({ onFailure: (error) => `fails with ${error._tag}`, onSuccess: (name) => name }),
      Effect.withSpan("handle request", { attributes: { "user.id": id } })
    )
  yield* Console.log(`getUser(1) -> ${yield* handle(1)} (a miss: the lookup runs in a span)`)
  yield* Console.log(`getUser(1) -> ${yield* handle(1)} (a hit: no span)`)
  yield* Console.log(`getUser(3) -> ${yield* handle(3)} (a miss whose lookup fails)`)

  const finished = spans.getFinishedSpans()
  yield* Console.log(`spans exported: ${finished.length}`)
  for (const span of finished) yield* Console.log(`  ${describeSpan(span)}`)

  // What a Prometheus server scraping this process reads about the cache.
  const scraped = yield* Effect.promise(() => fetch(url).then((response) => response.text()))
  yield* Console.log(`scraped ${url}:`)
  for (const line of scraped.split("\n")) {
    if (line.startsWith("request_cache_") && line.includes(`namespace="users"`)) yield* Console.log(`  ${line}`)
  }

  if (process.argv.includes("--serve")) {
    yield* Console.log("serving until interrupted (Ctrl-C)")
    yield* Effect.never
  }
})

Effect.runPromise(
  program.pipe(
    Effect.scoped,
    Effect.provide(Layer.merge(RequestCache.layer({ capacity: 1_000 }), TelemetryLive))
  )
).catch((error) => {
  console.error(error)
  process.exitCode = 1
})
