import { KeyValueStore } from "@effect/platform"
import { NodeKeyValueStore } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Layer, Logger, Option, Schema, TestClock } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { CacheStore, KeyValueStoreStore, RequestCache } from "../src/index.js"
import { NotFound, User, usersFunction } from "./support/users.js"

let unique = 0
const fresh = (prefix: string) => `${prefix}-${++unique}`

/** A temporary directory, removed when the test's scope closes. */
const temporaryDirectory = Effect.acquireRelease(
  Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "request-cache-kv-"))),
  (directory) => Effect.sync(() => fs.rmSync(directory, { recursive: true, force: true }))
)

/** One "process": a cache on a file-system KeyValueStore in `directory`, built in the test's scope. */
const onDisk = (directory: string, options?: RequestCache.StoreOptions) =>
  Layer.build(
    RequestCache.layerStore(options).pipe(
      Layer.provide(KeyValueStoreStore.layer({ prefix: "cache/" })),
      Layer.provide(NodeKeyValueStore.layerFileSystem(directory))
    )
  )

const inside = (context: Context.Context<RequestCache>) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.provide(effect, context)

const files = (directory: string) => fs.readdirSync(directory)

describe("KeyValueStoreStore on the file system", () => {
  it.scoped("values round-trip through the disk into another process, decoded by their schema", () =>
    Effect.gen(function*() {
      const directory = yield* temporaryDirectory
      const { get, state } = usersFunction(fresh("users"))
      const a = yield* onDisk(directory)
      const written = yield* get(1).pipe(inside(a))
      expect(files(directory).length).toBe(1)
      const b = yield* onDisk(directory)
      const read = yield* get(1).pipe(inside(b))
      expect(read).toBeInstanceOf(User)
      expect(read).toEqual(written)
      expect(state.runs).toBe(1)
      expect(yield* get.stats.pipe(inside(b))).toMatchObject({ hits: 1, misses: 0, storeErrors: 0 })
    }))

  it.scoped("cached typed failures round-trip with their _tag", () =>
    Effect.gen(function*() {
      const directory = yield* temporaryDirectory
      const { get, state } = usersFunction(fresh("users"))
      const a = yield* onDisk(directory, { cacheErrors: true, errorTimeToLive: "10 seconds" })
      const b = yield* onDisk(directory, { cacheErrors: true, errorTimeToLive: "10 seconds" })
      const first = yield* Effect.flip(get(-5).pipe(inside(a)))
      const second = yield* Effect.flip(get(-5).pipe(inside(b)))
      expect(second).toBeInstanceOf(NotFound)
      expect(second).toEqual(first)
      expect(state.runs).toBe(1)
      // The failure's own time to live travels with it.
      yield* TestClock.adjust("10 seconds")
      const c = yield* onDisk(directory, { cacheErrors: true, errorTimeToLive: "10 seconds" })
      yield* Effect.flip(get(-5).pipe(inside(c)))
      expect(state.runs).toBe(2)
    }))

  it.scoped("expiry round-trips: an expired entry read back is removed and is a miss", () =>
    Effect.gen(function*() {
      const directory = yield* temporaryDirectory
      const { get, state } = usersFunction(fresh("users"))
      const a = yield* onDisk(directory, { timeToLive: "1 minute" })
      yield* get(1).pipe(inside(a))
      yield* TestClock.adjust("59 seconds")
      const b = yield* onDisk(directory, { timeToLive: "1 minute" })
      yield* get(1).pipe(inside(b))
      expect(state.runs).toBe(1)
      yield* TestClock.adjust("1 second")
      const store = yield* KeyValueStoreStore.make({ prefix: "cache/" }).pipe(
        Effect.provide(NodeKeyValueStore.layerFileSystem(directory))
      )
      expect(yield* store.get(get.namespace, "n1")).toEqual(Option.none())
      expect(files(directory)).toEqual([])
      const c = yield* onDisk(directory, { timeToLive: "1 minute" })
      expect((yield* get(1).pipe(inside(c))).name).toBe("user 1-2")
    }))

  it.scoped("stale-while-revalidate windows round-trip", () =>
    Effect.gen(function*() {
      const directory = yield* temporaryDirectory
      const { get, state } = usersFunction(fresh("users"))
      const options = { timeToLive: "1 minute", staleWhileRevalidate: "1 minute" } as const
      const a = yield* onDisk(directory, options)
      yield* get(1).pipe(inside(a))
      yield* TestClock.adjust("90 seconds")
      const b = yield* onDisk(directory, options)
      expect((yield* get(1).pipe(inside(b))).name).toBe("user 1-1") // stale, served at once
      for (let i = 0; i < 10_000 && (yield* get.stats.pipe(inside(b))).refreshes === 0; i++) yield* Effect.yieldNow()
      expect(state.runs).toBe(2)
      const c = yield* onDisk(directory, options)
      expect((yield* get(1).pipe(inside(c))).name).toBe("user 1-2")
    }))

  it.scoped("invalidate and invalidateAll reach the disk", () =>
    Effect.gen(function*() {
      const directory = yield* temporaryDirectory
      const { get, state } = usersFunction(fresh("users"))
      const a = yield* onDisk(directory)
      yield* Effect.forEach([1, 2, 3], (id) => get(id)).pipe(inside(a))
      expect(yield* get.invalidate(1).pipe(inside(a))).toBe(true)
      expect(yield* get.invalidate(1).pipe(inside(a))).toBe(false)
      const b = yield* onDisk(directory)
      yield* get(1).pipe(inside(b))
      yield* get(2).pipe(inside(b))
      expect(state.runs).toBe(4)
      yield* get.invalidateAll.pipe(inside(b))
      const c = yield* onDisk(directory)
      yield* Effect.forEach([1, 2, 3], (id) => get(id)).pipe(inside(c))
      expect(state.runs).toBe(7)
    }))

  it.scoped("long and odd keys get a file of their own", () =>
    Effect.gen(function*() {
      const directory = yield* temporaryDirectory
      let runs = 0
      const get = RequestCache.cached({
        name: fresh("long/keys ü"),
        lookup: (key: string) => Effect.sync(() => `${key.length}:${++runs}`),
        schema: { success: Schema.String }
      })
      const keys = ["x".repeat(600), "y".repeat(600), "é/\\:*?\"<>|".repeat(40), ".", ""]
      const a = yield* onDisk(directory)
      const values = yield* Effect.forEach(keys, (key) => get(key)).pipe(inside(a))
      const b = yield* onDisk(directory)
      expect(yield* Effect.forEach(keys, (key) => get(key)).pipe(inside(b))).toEqual(values)
      expect(runs).toBe(keys.length)
      expect(yield* get.stats.pipe(inside(b))).toMatchObject({ hits: keys.length, storeErrors: 0 })
    }))

  it.scoped("a file that does not decode is a miss and a store error", () =>
    Effect.gen(function*() {
      const directory = yield* temporaryDirectory
      const { get, state } = usersFunction(fresh("users"))
      const a = yield* onDisk(directory)
      yield* get(1).pipe(inside(a))
      const [file] = files(directory)
      const content = fs.readFileSync(path.join(directory, file!), "utf8")
      fs.writeFileSync(path.join(directory, file!), content.replace(/"name":"[^"]*"/, "\"name\":42"))
      const b = yield* onDisk(directory)
      expect((yield* get(1).pipe(inside(b))).name).toBe("user 1-2")
      expect(state.runs).toBe(2)
      expect(yield* get.stats.pipe(inside(b))).toMatchObject({ storeErrors: 1, misses: 1 })
    }).pipe(Effect.provide(Logger.replace(Logger.defaultLogger, Logger.none))))
})

describe("KeyValueStoreStore on layerMemory", () => {
  it.scoped("the same encoding on any KeyValueStore", () =>
    Effect.gen(function*() {
      const kv = yield* Layer.build(KeyValueStore.layerMemory)
      const storeLayer = KeyValueStoreStore.layer().pipe(Layer.provide(Layer.succeedContext(kv)))
      const processOn = () =>
        Layer.build(RequestCache.layerStore({ cacheErrors: true }).pipe(Layer.provide(storeLayer)))
      const { get, state } = usersFunction(fresh("users"))
      const a = yield* processOn()
      const b = yield* processOn()
      yield* get(1).pipe(inside(a))
      yield* Effect.flip(get(-1).pipe(inside(a)))
      expect((yield* get(1).pipe(inside(b))).name).toBe("user 1-1")
      expect((yield* Effect.flip(get(-1).pipe(inside(b))))._tag).toBe("NotFound")
      expect(state.runs).toBe(2)
      const store = yield* Effect.provide(CacheStore.CacheStore, storeLayer)
      expect(store.name).toBe("key-value-store")
    }))
})
