import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import { CacheStoreError, type Coordination, type Service } from "../CacheStore.js"

/** How a remote store is guarded: a time limit per command and a circuit breaker. */
export interface Resilience {
  /** Milliseconds a command may take before it fails with a `CacheStoreError`. */
  readonly commandTimeout: number
  /**
   * The service enforces `commandTimeout` itself (the Redis store puts a timer on each command's
   * promise), so no timer is raced here: `Effect.timeoutFail` forks two fibers per command, which
   * costs more than a local Redis round trip.
   */
  readonly timedByStore?: boolean | undefined
  readonly breaker: {
    /** Consecutive failed commands that open the circuit. */
    readonly failures: number
    /** Milliseconds the circuit stays open before one probe command is let through. */
    readonly cooldown: number
  }
}

/**
 * The circuit of one store. Closed: commands run, consecutive failures are counted. Open: commands
 * fail at once, without calling the store, until `cooldown` has passed since it opened. Half-open:
 * one command (the probe) runs while the others still fail at once; its success closes the
 * circuit, its failure opens it again. Time comes from Effect's `Clock`, so `TestClock` drives it.
 */
class Breaker {
  failures = 0
  /** When the circuit opened; `undefined` while closed. */
  openedAt: number | undefined = undefined
  probing = false

  constructor(readonly name: string, readonly options: Resilience) {}

  run<A>(operation: string, command: Effect.Effect<A, CacheStoreError>): Effect.Effect<A, CacheStoreError> {
    const timed = this.options.timedByStore === true ? command : Effect.timeoutFail(command, {
      duration: this.options.commandTimeout,
      onTimeout: () =>
        new CacheStoreError({
          operation,
          reason: `no answer from ${this.name} within ${this.options.commandTimeout} ms`
        })
    })
    const closed = Effect.tapErrorCause(Effect.tap(timed, this.closedSuccess), this.closedFailure)
    // The state is read when the command runs (an Effect may be built once and run many times);
    // the closed circuit, the common case, reads no clock.
    return Effect.suspend(() => this.openedAt === undefined ? closed : this.whenOpen(operation, timed))
  }

  private whenOpen<A>(operation: string, timed: Effect.Effect<A, CacheStoreError>): Effect.Effect<A, CacheStoreError> {
    // Uninterruptible from reading the state to installing the probe's finalizer, so that a probe
    // interrupted at any point clears `probing`.
    return Effect.uninterruptibleMask((restore) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        if (this.probing || now - this.openedAt! < this.options.breaker.cooldown) return this.rejected(operation)
        this.probing = true
        return restore(timed).pipe(
          Effect.onExit((exit) => {
            this.probing = false
            if (exit._tag === "Success") return this.close
            // An interrupted probe leaves the circuit as it was: the next command probes again.
            if (Cause.isInterruptedOnly(exit.cause)) return Effect.void
            return this.open(`the probe ${operation} failed`)
          })
        )
      })
    )
  }

  private rejected(operation: string): Effect.Effect<never, CacheStoreError> {
    return Effect.fail(
      new CacheStoreError({
        operation,
        reason: `the circuit to ${this.name} is open after ${this.options.breaker.failures} failed commands`
      })
    )
  }

  private readonly closedSuccess = () => {
    if (this.openedAt === undefined) this.failures = 0
    return Effect.void
  }

  private readonly closedFailure = (cause: Cause.Cause<CacheStoreError>) => {
    // Interruption says nothing of the store; a command that failed once the circuit is already
    // open (it started before) does not open it again.
    if (Cause.isInterruptedOnly(cause) || this.openedAt !== undefined) return Effect.void
    if (++this.failures < this.options.breaker.failures) return Effect.void
    return this.open(`${this.failures} consecutive commands failed`)
  }

  private open(why: string): Effect.Effect<void> {
    return Effect.flatMap(Clock.currentTimeMillis, (now) => {
      this.openedAt = now
      return Effect.logWarning(
        `Cache store ${this.name}: circuit open (${why}); not called for ${this.options.breaker.cooldown} ms`
      )
    })
  }

  private readonly close: Effect.Effect<void> = Effect.suspend(() => {
    this.openedAt = undefined
    this.failures = 0
    return Effect.logInfo(`Cache store ${this.name}: circuit closed, the store answers again`)
  })
}

/**
 * `service` with every command under a time limit and behind a circuit breaker: a store that
 * is down or slow costs each caller at most `commandTimeout`, and nothing at all while the circuit
 * is open. `subscribe` is passed through: it is made once, by the layer, and must not depend on
 * the store answering.
 *
 * One breaker for the store; with `circuitOf`, the commands of a key go through the breaker of
 * the circuit it names (a cluster's master of the key's slot: one master down opens its own
 * circuit, not the others'), and `clear` and `publish` through the store's.
 */
export const resilient = (
  service: Service,
  options: Resilience,
  circuitOf?: (namespace: string, key: string) => string
): Service => {
  const breaker = new Breaker(service.name, options)
  const circuits = new Map<string, Breaker>()
  const of = circuitOf === undefined ? () => breaker : (namespace: string, key: string) => {
    const name = circuitOf(namespace, key)
    let circuit = circuits.get(name)
    if (circuit === undefined) circuits.set(name, circuit = new Breaker(`${service.name} (${name})`, options))
    return circuit
  }
  const coordination = service.coordination
  return {
    name: service.name,
    get: (namespace, key) => of(namespace, key).run("get", service.get(namespace, key)),
    set: (namespace, key, entry, timeToLive, fence) =>
      of(namespace, key).run("set", service.set(namespace, key, entry, timeToLive, fence)),
    delete: (namespace, key, fence) => of(namespace, key).run("delete", service.delete(namespace, key, fence)),
    clear: (namespace) => breaker.run("clear", service.clear(namespace)),
    raise: service.raise === undefined
      ? undefined
      : (namespace, key, time) => of(namespace, key).run("raise", service.raise!(namespace, key, time)),
    coordination: coordination === undefined ? undefined : {
      acquire: (namespace, key, owner, timeToLive) =>
        of(namespace, key).run("acquire", coordination.acquire(namespace, key, owner, timeToLive)),
      release: (namespace, key, owner) =>
        of(namespace, key).run("release", coordination.release(namespace, key, owner)),
      publish: (event) => breaker.run("publish", coordination.publish(event)),
      subscribe: coordination.subscribe
    } satisfies Coordination
  }
}
