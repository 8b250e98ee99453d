import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { Fence, Service, StoreEvent } from "../CacheStore.js"

interface Held {
  readonly value: string
  /** Milliseconds by the `Clock`; `Infinity`: never. */
  readonly expiresAt: number
}

/** `namespace` and `key` in one string, injectively (the namespace's length comes first). */
const slot = (namespace: string, key: string): string => `${namespace.length}:${namespace}:${key}`

const live = (held: Held | undefined, now: number): held is Held => held !== undefined && now < held.expiresAt

/**
 * A store in this process's memory with the coordination of a shared store: a lock table and an
 * event hub. Every cache built on the same instance sees the others' entries, locks and events,
 * as processes sharing one Redis do.
 */
export const makeMemory: Effect.Effect<Service> = Effect.sync(() => {
  const entries = new Map<string, Held>()
  const locks = new Map<string, { readonly owner: string; readonly expiresAt: number }>()
  const subscribers = new Set<(event: StoreEvent) => void>()
  const namespaces = new Map<string, Set<string>>()
  /** Each fenced key's latest version, until its window ends. */
  const versions = new Map<string, { readonly version: number; readonly expiresAt: number }>()
  const latest = (id: string, now: number): number => {
    const held = versions.get(id)
    if (held === undefined) return -Infinity
    if (now < held.expiresAt) return held.version
    versions.delete(id)
    return -Infinity
  }
  /** Records `fence` unless a later version is held; answers whether it is not older than that. */
  const admit = (id: string, fence: Fence | undefined, now: number): boolean => {
    if (fence === undefined) return true
    if (latest(id, now) > fence.version) return false
    versions.set(id, { version: fence.version, expiresAt: now + fence.window })
    return true
  }
  return {
    name: "memory",
    get: (namespace, key) =>
      Effect.map(Clock.currentTimeMillis, (now) => {
        const id = slot(namespace, key)
        const held = entries.get(id)
        if (live(held, now)) return Option.some(held.value)
        if (held !== undefined) {
          entries.delete(id)
          namespaces.get(namespace)?.delete(id)
        }
        return Option.none()
      }),
    set: (namespace, key, value, timeToLive, fence) =>
      Effect.map(Clock.currentTimeMillis, (now) => {
        const id = slot(namespace, key)
        if (!admit(id, fence, now)) return
        entries.set(id, { value, expiresAt: timeToLive === Infinity ? Infinity : now + timeToLive })
        let keys = namespaces.get(namespace)
        if (keys === undefined) namespaces.set(namespace, keys = new Set())
        keys.add(id)
      }),
    delete: (namespace, key, fence) =>
      Effect.map(Clock.currentTimeMillis, (now) => {
        const id = slot(namespace, key)
        admit(id, fence, now) // an older version deletes all the same, and leaves the later one
        const held = entries.get(id)
        entries.delete(id)
        namespaces.get(namespace)?.delete(id)
        return live(held, now)
      }),
    clear: (namespace) =>
      Effect.sync(() => {
        for (const id of namespaces.get(namespace) ?? []) entries.delete(id)
        namespaces.delete(namespace)
      }),
    raise: (namespace, key, time) =>
      Effect.sync(() => {
        const id = slot(namespace, key)
        const held = entries.get(id)
        if (held !== undefined && Number(held.value) >= time) return
        entries.set(id, { value: String(time), expiresAt: Infinity })
        let keys = namespaces.get(namespace)
        if (keys === undefined) namespaces.set(namespace, keys = new Set())
        keys.add(id)
      }),
    coordination: {
      acquire: (namespace, key, owner, timeToLive) =>
        Effect.map(Clock.currentTimeMillis, (now) => {
          const id = slot(namespace, key)
          const held = locks.get(id)
          if (held !== undefined && now < held.expiresAt && held.owner !== owner) return false
          locks.set(id, { owner, expiresAt: now + timeToLive })
          return true
        }),
      release: (namespace, key, owner) =>
        Effect.sync(() => {
          const id = slot(namespace, key)
          if (locks.get(id)?.owner === owner) locks.delete(id)
        }),
      publish: (event) =>
        Effect.sync(() => {
          for (const subscriber of Array.from(subscribers)) {
            try {
              subscriber(event)
            } catch {
              // One subscriber's failure is not the publisher's.
            }
          }
        }),
      subscribe: (onEvent) =>
        Effect.asVoid(Effect.acquireRelease(
          Effect.sync(() => subscribers.add(onEvent)),
          () => Effect.sync(() => subscribers.delete(onEvent))
        ))
    }
  }
})
