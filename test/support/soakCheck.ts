/**
 * The soak test's judge: reads what each worker process logged (test/support/soakWorker.ts) and
 * finds every call that returned a value it must not have, every invalidation that never reached
 * the store, and the figures of the run. The rule is written out in test/soak.test.ts's header;
 * `check` is that rule, clause by clause.
 */

/** The tag of a key of the tagged namespace: `k4` carries `g1`. */
export const tagOf = (key: string): string => `g${Number(key.slice(1)) % 3}`

/** A call: a read (`get`), a write (`set`), an invalidation of a key or of tags. */
export interface CallRecord {
  readonly k: "get" | "set" | "invalidate" | "tags"
  readonly ns: string
  readonly key?: string
  readonly tags?: ReadonlyArray<string>
  /** The value a `get` returned, or the one a `set` wrote. */
  readonly v?: string
  /** Start and end: `Date.now()`, and the worker's sequence numbers (its own exact order). */
  readonly s: number
  readonly q: number
  readonly e: number
  readonly qe: number
}

export interface LookupRecord {
  readonly k: "lookup"
  readonly ns: string
  readonly key: string
  readonly v: string
  readonly t: number
  readonly q: number
}

/** A command the cache sent to the store, as the observer saw it. */
export interface CommandRecord {
  readonly k: "cmd"
  readonly c: "get" | "set" | "delete" | "clear" | "raise" | "acquire" | "release" | "publish"
  readonly ns: string
  readonly key?: string
  /** `raise`: the time raised. */
  readonly time?: number
  readonly s: number
  readonly q: number
  readonly e: number
  readonly qe: number
  readonly ok: boolean
  /** Who sent it: a call, a tag invalidation, or the cache's background work (the outbox). */
  readonly o: "call" | "tags" | "background"
  /** The sequence number of the call that sent it (0: the background). */
  readonly cq: number
  readonly err?: string
}

export interface LogRecord {
  readonly k: "log"
  readonly level: string
  readonly msg: string
  readonly t: number
}

export interface EventRecord {
  readonly k: "event"
  readonly ev: string
  readonly ns: string
  readonly key?: string
  readonly from: string
  readonly t: number
}

export type SoakRecord = CallRecord | LookupRecord | CommandRecord | LogRecord | EventRecord

/** One worker's log. */
export interface WorkerLog {
  readonly worker: string
  readonly records: ReadonlyArray<SoakRecord>
}

export interface CheckOptions {
  /** `l1.timeToLive` of every worker, ms. */
  readonly l1TimeToLive: number
  /** The namespace whose entries carry tags (`tagOf` their key). */
  readonly taggedNamespace: string
}

/** Where a value came from. */
interface Birth {
  readonly worker: string
  readonly from: "lookup" | "set"
  readonly ns: string
  readonly key: string
  /** When it became a value: the lookup's start, or the `set`'s start. */
  readonly at: number
  readonly seq: number
  /** A `set`: when it ended (it supersedes nothing before, and nothing supersedes it before). */
  readonly end: number
  readonly endSeq: number
}

/** A set, an invalidation or a tag invalidation, as it bears on one key. */
interface Superseding {
  readonly worker: string
  readonly call: CallRecord
  /**
   * When it reached the store: the end of the first command of its worker that removed what the
   * store held for the key after the call started (a successful `delete` or `set`), or for a tag
   * the first successful `raise` of a time at or after the call's start. `Infinity`: never.
   */
  readonly reached: number
}

export interface Violation {
  readonly rule: string
  readonly worker: string
  readonly call: CallRecord
  readonly detail: string
}

export interface CheckResult {
  readonly violations: ReadonlyArray<Violation>
  /** Sets and invalidations that never reached the store. */
  readonly forgotten: ReadonlyArray<{ readonly worker: string; readonly call: CallRecord }>
  readonly calls: Record<CallRecord["k"], number>
  readonly lookups: number
  /** Per worker and call kind: the longest call, ms, and the call. */
  readonly longest: Record<string, Record<CallRecord["k"], { readonly millis: number; readonly call?: CallRecord }>>
  /** Per worker: the store commands that failed, by who sent them. */
  readonly failures: Record<string, { call: number; tags: number; background: number }>
  /** Per worker: the tag invalidations with a failed command (each should log a warning). */
  readonly tagCallsFailed: Record<string, number>
  /** Reads that returned a value superseded before they started (in another process, within the bound). */
  readonly servedSuperseded: number
}

const bisectLeft = <A>(sorted: ReadonlyArray<A>, value: number, of: (a: A) => number): number => {
  let low = 0
  let high = sorted.length
  while (low < high) {
    const middle = (low + high) >>> 1
    if (of(sorted[middle]!) < value) low = middle + 1
    else high = middle
  }
  return low
}

/** The minimum of `of` over the elements from each index to the end. */
const suffixMin = <A>(sorted: ReadonlyArray<A>, of: (a: A) => number): Array<number> => {
  const out = new Array<number>(sorted.length + 1)
  out[sorted.length] = Infinity
  for (let i = sorted.length - 1; i >= 0; i--) out[i] = Math.min(of(sorted[i]!), out[i + 1]!)
  return out
}

const id = (ns: string, key: string) => `${ns}\0${key}`

export const check = (logs: ReadonlyArray<WorkerLog>, options: CheckOptions): CheckResult => {
  const violations: Array<Violation> = []
  const births = new Map<string, Birth>()
  const calls = { get: 0, set: 0, invalidate: 0, tags: 0 }
  const longest: Record<string, Record<CallRecord["k"], { millis: number; call?: CallRecord }>> = {}
  const failures: CheckResult["failures"] = {}
  const tagCallsFailed: Record<string, number> = {}
  let lookups = 0
  /** Keys of the tagged namespace that appear anywhere: a tag invalidation bears on each of its tag. */
  const taggedKeys = new Set<string>()

  // 1. Where every value came from; the failures.
  for (const { records, worker } of logs) {
    failures[worker] = { call: 0, tags: 0, background: 0 }
    const longestHere = longest[worker] = {
      get: { millis: 0 },
      set: { millis: 0 },
      invalidate: { millis: 0 },
      tags: { millis: 0 }
    } as Record<CallRecord["k"], { millis: number; call?: CallRecord }>
    for (const record of records) {
      if (record.k === "lookup") {
        lookups++
        if (births.has(record.v)) throw new Error(`value ${record.v} made twice`)
        births.set(record.v, {
          worker,
          from: "lookup",
          ns: record.ns,
          key: record.key,
          at: record.t,
          seq: record.q,
          end: record.t,
          endSeq: record.q
        })
        if (record.ns === options.taggedNamespace) taggedKeys.add(record.key)
      } else if (record.k === "set") {
        births.set(record.v!, {
          worker,
          from: "set",
          ns: record.ns,
          key: record.key!,
          at: record.s,
          seq: record.q,
          end: record.e,
          endSeq: record.qe
        })
      } else if (record.k === "cmd" && !record.ok) {
        failures[worker]![record.o]++
      }
      if (record.k === "get" || record.k === "set" || record.k === "invalidate" || record.k === "tags") {
        calls[record.k]++
        const millis = record.e - record.s
        if (millis > longestHere[record.k].millis) longestHere[record.k] = { millis, call: record }
        if (record.ns === options.taggedNamespace && record.key !== undefined) taggedKeys.add(record.key)
      }
    }
  }

  // 2. When each set and invalidation reached the store.
  const superseding = new Map<string, Array<Superseding>>()
  const add = (key: string, entry: Superseding) => {
    let list = superseding.get(key)
    if (list === undefined) superseding.set(key, list = [])
    list.push(entry)
  }
  const forgotten: Array<{ worker: string; call: CallRecord }> = []
  for (const { records, worker } of logs) {
    // Removals per key, by start; raises per tag, by time raised.
    const removals = new Map<string, Array<CommandRecord>>()
    const raises = new Map<string, Array<CommandRecord>>()
    const tagCallsWithFailures = new Set<number>()
    for (const record of records) {
      if (record.k === "cmd" && record.ok && record.key !== undefined) {
        if ((record.c === "delete" || record.c === "set") && !record.ns.startsWith("~")) {
          const list = removals.get(id(record.ns, record.key)) ?? []
          list.push(record)
          removals.set(id(record.ns, record.key), list)
        } else if (record.c === "raise") {
          const list = raises.get(record.key) ?? []
          list.push(record)
          raises.set(record.key, list)
        }
      }
      if (record.k === "cmd" && !record.ok && record.o === "tags") tagCallsWithFailures.add(record.cq)
    }
    const removalIndex = new Map<string, { sorted: Array<CommandRecord>; min: Array<number> }>()
    for (const [key, list] of removals) {
      const sorted = list.sort((a, b) => a.q - b.q)
      removalIndex.set(key, { sorted, min: suffixMin(sorted, (c) => c.e) })
    }
    const raiseIndex = new Map<string, { sorted: Array<CommandRecord>; min: Array<number> }>()
    for (const [tag, list] of raises) {
      const sorted = list.sort((a, b) => a.time! - b.time!)
      raiseIndex.set(tag, { sorted, min: suffixMin(sorted, (c) => c.e) })
    }
    tagCallsFailed[worker] = tagCallsWithFailures.size

    for (const record of records) {
      if (record.k === "set" || record.k === "invalidate") {
        const index = removalIndex.get(id(record.ns, record.key!))
        const reached = index === undefined
          ? Infinity
          : index.min[bisectLeft(index.sorted, record.q + 1, (c) => c.q)]!
        if (reached === Infinity) forgotten.push({ worker, call: record })
        add(id(record.ns, record.key!), { worker, call: record, reached })
      } else if (record.k === "tags") {
        let never = false
        for (const tag of record.tags!) {
          const index = raiseIndex.get(tag)
          const reached = index === undefined
            ? Infinity
            : index.min[bisectLeft(index.sorted, record.s, (c) => c.time!)]!
          if (reached === Infinity) never = true
          for (const key of taggedKeys) {
            if (tagOf(key) === tag) add(id(options.taggedNamespace, key), { worker, call: record, reached })
          }
        }
        if (never) forgotten.push({ worker, call: record })
      }
    }
  }
  for (const list of superseding.values()) list.sort((a, b) => a.call.s - b.call.s)

  // 3. Every read against the rule.
  let servedSuperseded = 0
  for (const { records, worker } of logs) {
    for (const call of records) {
      if (call.k !== "get") continue
      const birth = births.get(call.v!)
      if (birth === undefined || birth.ns !== call.ns || birth.key !== call.key) {
        violations.push({
          rule: "a value that was never made for this key",
          worker,
          call,
          detail: JSON.stringify(birth)
        })
        continue
      }
      const sameWorker = birth.worker === worker
      if (sameWorker ? birth.seq > call.qe : birth.at > call.e) {
        violations.push({ rule: "a value made after the call ended", worker, call, detail: JSON.stringify(birth) })
        continue
      }
      const list = superseding.get(id(call.ns, call.key!)) ?? []
      // Only what started between the value's birth and the call's start can bear on it.
      const from = bisectLeft(list, birth.at - 1, (o) => o.call.s)
      let superseded = false
      for (let i = from; i < list.length; i++) {
        const o = list[i]!
        if (o.call.s > call.s + 1) break
        // O supersedes the value when it started after the value was made (a lookup's start), or
        // after the `set` that wrote it ended: in one worker by its sequence, across by the clock.
        const after = birth.from === "lookup"
          ? (o.worker === birth.worker ? o.call.q > birth.seq : o.call.s > birth.at)
          : (o.worker === birth.worker ? o.call.q > birth.endSeq : o.call.s > birth.end)
        if (!after) continue
        if (o.worker === worker) {
          // The caller's own invalidation, done before this call started: never served again.
          if (o.call.qe < call.q) {
            violations.push({
              rule: "served a value its own process had superseded before the call started",
              worker,
              call,
              detail: `value from ${JSON.stringify(birth)}; superseded by ${o.worker} ${JSON.stringify(o.call)}`
            })
            break
          }
        } else if (o.reached + options.l1TimeToLive < call.s) {
          // Another process's: served at most l1.timeToLive after it reached the store.
          violations.push({
            rule: "served a value superseded in another process more than l1.timeToLive before the call started",
            worker,
            call,
            detail: `value from ${JSON.stringify(birth)}; superseded by ${o.worker} ${JSON.stringify(o.call)}, in ` +
              `the store at ${o.reached} (${call.s - o.reached} ms before the call)`
          })
          break
        } else if (o.call.e < call.s) {
          superseded = true
        }
      }
      if (superseded) servedSuperseded++
    }
  }
  return { violations, forgotten, calls, lookups, longest, failures, tagCallsFailed, servedSuperseded }
}
