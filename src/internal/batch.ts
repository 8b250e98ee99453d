import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as FiberId from "effect/FiberId"

type AnyExit = Exit.Exit<unknown, unknown>

/**
 * A batch lookup as the batcher calls it: one `Exit` per argument, in order. A failure of the
 * effect itself fails every key of the batch with it.
 */
export type LookupMany = (
  args: readonly [unknown, ...Array<unknown>]
) => Effect.Effect<ReadonlyArray<AnyExit>, unknown, unknown>

export interface BatcherOptions {
  /** The namespace, for messages. */
  readonly name: string
  readonly lookupMany: LookupMany
  /** Milliseconds to collect keys; `undefined`: one turn of the scheduler. */
  readonly window: number | undefined
  readonly maxBatchSize: number
}

/** One key's place in a batch: its argument, and how its lookup gets its result. */
interface Entry {
  readonly arg: unknown
  /** The waiting lookup, once it waits. */
  resume: ((exit: AnyExit) => void) | undefined
  /** The result, when it came before the lookup waited. */
  exit: AnyExit | undefined
  /** The key's lookup was interrupted (its callers all left). */
  left: boolean
}

/** The keys of one batch: collected until its window ends or it is full, then sent at once. */
class Batch {
  readonly entries: Array<Entry> = []
  sent = false
  /** Entries still waiting once the batch is sent; the last one to leave stops its lookup. */
  live = 0
  fiber: Fiber.RuntimeFiber<unknown, unknown> | undefined = undefined
}

/**
 * Turns a batch lookup into a per-key lookup for a namespace: each call is one key's lookup (the
 * namespace's single flight already runs it once per key, in a fiber of its own), and the calls
 * made within the window, from any fiber, go to `lookupMany` as one batch (split at
 * `maxBatchSize`). A key whose lookup is interrupted before its batch is sent (its callers all
 * left) is dropped from the batch; a batch whose keys have all left once it is sent is
 * interrupted. The window is waited in a daemon fiber forked from the first key's lookup, so it
 * has that caller's context (its `Clock`: `TestClock` drives a window) and ends with the batch.
 * `onBatch` is told the size of each batch sent.
 */
export const makeBatcher = (options: BatcherOptions, onBatch: (keys: number) => void) => {
  const { lookupMany, maxBatchSize, name, window } = options
  let collecting: Batch | undefined

  const deliver = (batch: Batch, exit: Exit.Exit<ReadonlyArray<AnyExit>, unknown>): void => {
    const entries = batch.entries
    let results: ReadonlyArray<AnyExit> | undefined
    let failure: AnyExit | undefined
    if (exit._tag === "Failure") {
      failure = exit
    } else if (exit.value.length !== entries.length) {
      failure = Exit.die(
        new Error(
          `RequestCache: the batch lookup of namespace "${name}" returned ${exit.value.length} results for ` +
            `${entries.length} keys; it must return one result per key, in order`
        )
      )
    } else {
      results = exit.value
    }
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!
      const result = results === undefined ? failure! : results[i]!
      const resume = entry.resume
      entry.resume = undefined
      if (resume !== undefined) resume(result)
      else if (!entry.left) entry.exit = result
    }
  }

  /** Sends a batch: the keys still there, in one call of `lookupMany`, in a daemon fiber. */
  const send = (batch: Batch): Effect.Effect<void> =>
    Effect.suspend(() => {
      if (batch.sent) return Effect.void
      batch.sent = true
      if (collecting === batch) collecting = undefined
      const entries = batch.entries.filter((entry) => !entry.left)
      batch.entries.length = 0
      batch.entries.push(...entries)
      batch.live = entries.length
      if (entries.length === 0) return Effect.void
      onBatch(entries.length)
      const args = entries.map((entry) => entry.arg) as unknown as readonly [unknown, ...Array<unknown>]
      let effect: Effect.Effect<ReadonlyArray<AnyExit>, unknown, unknown>
      try {
        effect = lookupMany(args)
      } catch (error) {
        effect = Effect.die(error)
      }
      const run = Effect.flatMap(
        Effect.exit(effect),
        (exit) => Effect.sync(() => deliver(batch, exit))
      ) as Effect.Effect<void>
      return Effect.asVoid(Effect.tap(Effect.forkDaemon(run), (fiber) => {
        batch.fiber = fiber
        if (batch.live === 0) fiber.unsafeInterruptAsFork(FiberId.none)
      }))
    })

  const wait = window === undefined ? Effect.yieldNow() : Effect.sleep(window)

  /** One key's lookup: its argument joins the batch being collected, and waits for its result. */
  return (arg: unknown): Effect.Effect<unknown, unknown> =>
    Effect.suspend(() => {
      let batch = collecting
      let start: Effect.Effect<unknown> = Effect.void
      if (batch === undefined) {
        const created = batch = collecting = new Batch()
        // The window, in a daemon: it must outlive this key's lookup, whose callers may leave.
        start = Effect.forkDaemon(Effect.zipRight(wait, send(created)))
      }
      const entry: Entry = { arg, resume: undefined, exit: undefined, left: false }
      batch.entries.push(entry)
      if (batch.entries.length >= maxBatchSize) {
        collecting = undefined
        start = Effect.zipRight(start, send(batch))
      }
      const joined = batch
      const result = Effect.async<unknown, unknown>((resume) => {
        if (entry.exit !== undefined) return resume(entry.exit)
        entry.resume = resume
      })
      return Effect.onInterrupt(Effect.zipRight(start, result), () =>
        Effect.sync(() => {
          if (entry.left || entry.exit !== undefined) return
          entry.left = true
          entry.resume = undefined
          // Not sent yet: dropped from the batch. Sent: the last key to leave stops it.
          if (joined.sent && --joined.live === 0) joined.fiber?.unsafeInterruptAsFork(FiberId.none)
        }))
    })
}

/** A batch lookup of values (`cachedBatch`): one value per argument, in order; a failure fails them all. */
export const ofValues = (
  lookupMany: (args: readonly [unknown, ...Array<unknown>]) => Effect.Effect<ReadonlyArray<unknown>, unknown, unknown>
): LookupMany =>
(args) => Effect.map(lookupMany(args), (values) => values.map((value) => Exit.succeed(value)))
