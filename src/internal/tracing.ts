import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as DefaultServices from "effect/DefaultServices"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as FiberRef from "effect/FiberRef"
import * as Tracer from "effect/Tracer"
import { LookupResult } from "./expiry.js"

/** What a traced lookup is: a load of a missing entry, or a refresh of one that is there. */
export type LookupKind = "load" | "refresh"

/** How a lookup ended, as the `request_cache.outcome` attribute says it. */
export type Outcome = "success" | "failure" | "defect" | "interrupted"

const SPAN_LOAD = "RequestCache.load"
const SPAN_REFRESH = "RequestCache.refresh"
const ATTRIBUTE_NAMESPACE = "request_cache.namespace"
const ATTRIBUTE_OUTCOME = "request_cache.outcome"

type AnyFiber = Fiber.RuntimeFiber<unknown, unknown>
/** `FiberRuntime` keeps the tracer of its default services in a field, refreshed whenever they change. */
type FiberWithTracer = AnyFiber & { readonly currentTracer?: Tracer.Tracer | undefined }

/** Effect's built-in tracer: installed by default, it exports nothing, so a span for it is waste. */
const nativeTracer = Context.get(DefaultServices.liveServices, Tracer.Tracer)

const tracerOf = (fiber: AnyFiber): Tracer.Tracer =>
  (fiber as FiberWithTracer).currentTracer ??
    Context.get(fiber.getFiberRef(DefaultServices.currentServices), Tracer.Tracer)

/**
 * The lookup `effect` of a namespace's load or refresh, to run in the flight's fiber (whose context
 * is `caller`'s): inside a span `RequestCache.load` / `RequestCache.refresh`, a child of the
 * caller's span, with the namespace and the outcome as attributes, when `caller` has a tracer
 * other than Effect's built-in one and tracing enabled. Otherwise `effect` itself, untouched (an
 * `Exit` stays an `Exit`): a program without a tracer pays one field read and one comparison.
 */
export const traced = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  namespace: string,
  kind: LookupKind,
  caller: AnyFiber
): Effect.Effect<A, E, R> => {
  const tracer = tracerOf(caller)
  if (tracer === nativeTracer || !caller.getFiberRef(FiberRef.currentTracerEnabled)) return effect
  return Effect.useSpan(
    kind === "load" ? SPAN_LOAD : SPAN_REFRESH,
    { attributes: { [ATTRIBUTE_NAMESPACE]: namespace }, kind: "internal", captureStackTrace: false },
    (span) => Effect.onExit(Effect.withParentSpan(effect, span), (exit) => end(span, exit))
  )
}

/**
 * `traced` where the caller's fiber is not at hand: the span is decided by the fiber that runs the
 * returned effect (a flight's or a refresh's, whose context is its caller's).
 */
export const tracedOnFiber = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  namespace: string,
  kind: LookupKind
): Effect.Effect<A, E, R> => Effect.withFiberRuntime((fiber) => traced(effect, namespace, kind, fiber))

/**
 * Ends the span with the lookup's own result: a `LookupResult` (a result that carries its expiry
 * or tags) is unwrapped, so that a failure stored with its expiry ends the span as the failure it is. `useSpan`
 * then finds the span ended and leaves it.
 */
const end = (span: Tracer.Span, exit: Exit.Exit<unknown, unknown>): Effect.Effect<void> =>
  Effect.withFiberRuntime((fiber) => {
    const result = exit._tag === "Success" && exit.value instanceof LookupResult ? exit.value.exit : exit
    span.attribute(ATTRIBUTE_OUTCOME, outcomeOf(result))
    const clock = Context.get(fiber.getFiberRef(DefaultServices.currentServices), Clock.Clock)
    span.end(
      fiber.getFiberRef(FiberRef.currentTracerTimingEnabled) ? clock.unsafeCurrentTimeNanos() : BigInt(0),
      result
    )
    return Effect.void
  })

/** A defect wins over a typed failure, which wins over an interruption (a cause may hold several). */
const outcomeOf = (exit: Exit.Exit<unknown, unknown>): Outcome =>
  exit._tag === "Success"
    ? "success"
    : Cause.isDie(exit.cause)
    ? "defect"
    : Cause.isFailure(exit.cause)
    ? "failure"
    : "interrupted"
