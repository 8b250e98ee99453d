/**
 * The soak test's judge (test/support/soakCheck.ts) on small hand-made histories: it finds each
 * kind of wrong read, and lets the right ones pass. (The soak itself must be able to fail.)
 */
import { describe, expect, it } from "@effect/vitest"
import { type CallRecord, check, type CommandRecord, type SoakRecord, type WorkerLog } from "./support/soakCheck.js"

const L1 = 1_000
const judge = (...logs: ReadonlyArray<WorkerLog>) => check(logs, { l1TimeToLive: L1, taggedNamespace: "tagged" })

/** A worker's records, each given its sequence number in the order written. */
const worker = (name: string, ...records: ReadonlyArray<Omit<SoakRecord, "q" | "qe">>): WorkerLog => {
  let q = 0
  return {
    worker: name,
    records: records.map((record) =>
      ({ ...record, ...(record.k === "lookup" ? { q: ++q } : { q: ++q, qe: ++q }) }) as SoakRecord
    )
  }
}
const lookup = (v: string, t: number, key = "k1", ns = "values") => ({ k: "lookup" as const, ns, key, v, t })
const get = (v: string, s: number, e = s + 1, key = "k1", ns = "values") => ({ k: "get" as const, ns, key, v, s, e })
const invalidate = (s: number, e = s + 1, key = "k1", ns = "values") => ({ k: "invalidate" as const, ns, key, s, e })
const set = (v: string, s: number, e = s + 1, key = "k1", ns = "values") => ({ k: "set" as const, ns, key, v, s, e })
const tags = (list: Array<string>, s: number, e = s + 1) => ({ k: "tags" as const, ns: "tagged", tags: list, s, e })
const command = (c: CommandRecord["c"], s: number, e: number, ok = true, key = "k1", ns = "values", time?: number) => ({
  k: "cmd" as const,
  c,
  ns,
  key,
  s,
  e,
  ok,
  o: "call" as const,
  cq: 0,
  ...(time === undefined ? {} : { time })
})
const rules = (violations: ReadonlyArray<{ readonly rule: string }>) => violations.map((v) => v.rule)

describe("The soak's judge", () => {
  it("a process's own invalidation holds at once: a later read of the old value is wrong", () => {
    const ok = judge(worker("a", lookup("a:l1", 10), get("a:l1", 12), invalidate(20), command("delete", 20, 21)))
    expect(ok.violations).toEqual([])
    const stale = judge(
      worker("a", lookup("a:l1", 10), invalidate(20), command("delete", 20, 21), get("a:l1", 30)),
      worker("b")
    )
    expect(rules(stale.violations)).toEqual(["served a value its own process had superseded before the call started"])
    // A read that started while the invalidation was under way may still get the old value.
    const a = worker("a", lookup("a:l1", 10))
    const records = [...a.records]
    records.push({ k: "invalidate", ns: "values", key: "k1", s: 20, q: 2, e: 25, qe: 5 } as CallRecord)
    records.push({ k: "get", ns: "values", key: "k1", v: "a:l1", s: 21, q: 3, e: 22, qe: 4 } as CallRecord)
    expect(judge({ worker: "a", records }).violations).toEqual([])
  })

  it("another process's invalidation: the old value may be served up to l1.timeToLive after it reached the store", () => {
    const history = (readAt: number, deleted = 22) =>
      judge(
        worker("a", lookup("a:l1", 10), get("a:l1", readAt)),
        worker("b", invalidate(20, 30), command("delete", 21, deleted))
      )
    expect(history(22 + L1).violations).toEqual([])
    expect(history(22 + L1).servedSuperseded).toBe(1)
    expect(rules(history(23 + L1).violations)).toEqual([
      "served a value superseded in another process more than l1.timeToLive before the call started"
    ])
    // Until it reaches the store (its process cut off: the outbox replays it later), no bound.
    expect(history(5_000, 4_500).violations).toEqual([])
  })

  it("an invalidation that overlaps the set of a value does not supersede it; one after it does", () => {
    const overlapping = judge(
      worker("a", set("a:s1", 10, 20), get("a:s1", 5_000)),
      worker("b", invalidate(15, 16), command("delete", 15, 16))
    )
    expect(overlapping.violations).toEqual([])
    const after = judge(
      worker("a", set("a:s1", 10, 20), get("a:s1", 5_000)),
      worker("b", invalidate(21, 22), command("delete", 21, 22))
    )
    expect(after.violations).toHaveLength(1)
    // Across processes, a tie on the clock is not "after".
    const tie = judge(
      worker("a", lookup("a:l1", 10), get("a:l1", 5_000)),
      worker("b", invalidate(10), command("delete", 10, 11))
    )
    expect(tie.violations).toEqual([])
  })

  it("a set supersedes the values before it, and its own value is current", () => {
    const result = judge(
      worker("a", lookup("a:l1", 10), get("a:l1", 11)),
      worker("b", set("b:s1", 20, 21), command("set", 20, 21), get("b:s1", 30), get("a:l1", 40))
    )
    expect(rules(result.violations)).toEqual(["served a value its own process had superseded before the call started"])
    expect(result.violations[0]!.call.s).toBe(40)
  })

  it("a tag invalidation supersedes the values of every key with that tag, and only those", () => {
    const result = judge(
      worker(
        "a",
        lookup("a:t1", 10, "k1", "tagged"), // g1
        lookup("a:t2", 10, "k2", "tagged"), // g2
        lookup("a:v1", 10, "k1", "values"), // no tags
        tags(["g1"], 20),
        command("raise", 20, 21, true, "g1", "~tags", 20),
        get("a:t1", 30, 31, "k1", "tagged"),
        get("a:t2", 30, 31, "k2", "tagged"),
        get("a:v1", 30, 31, "k1", "values")
      )
    )
    expect(result.violations.map((v) => v.call.v)).toEqual(["a:t1"])
    // Another process's: reached the store with the raise of a time at or after its start.
    const late = judge(
      worker("a", lookup("a:t1", 10, "k1", "tagged"), get("a:t1", 100 + L1, 101 + L1, "k1", "tagged")),
      worker(
        "b",
        tags(["g1"], 20),
        command("raise", 20, 21, true, "g1", "~tags", 19),
        command("raise", 90, 99, true, "g1", "~tags", 20)
      )
    )
    expect(late.violations).toHaveLength(1) // reached at 99: served past 99 + l1.timeToLive
    expect(late.forgotten).toEqual([])
  })

  it("an invalidation whose store command never succeeded is forgotten", () => {
    const result = judge(worker("a", invalidate(20), command("delete", 20, 21, false), tags(["g0"], 30)))
    expect(result.forgotten.map((f) => f.call.k)).toEqual(["invalidate", "tags"])
    expect(result.failures["a"]).toEqual({ call: 1, tags: 0, background: 0 })
  })

  it("a value never made for its key, or made after the read ended, is wrong", () => {
    const result = judge(
      worker("a", get("a:l9", 10), lookup("a:l1", 10, "k2"), get("a:l1", 11, 12, "k1")),
      worker("b", get("b:l1", 5, 6), lookup("b:l1", 7))
    )
    expect(rules(result.violations)).toEqual([
      "a value that was never made for this key",
      "a value that was never made for this key",
      "a value made after the call ended"
    ])
  })
})
