/**
 * Twin of async-lru-cache's "Ignoring Specific Parameters":
 * `@alru_cache(maxsize=100, ignore_params=["request_id", "timestamp"])`. A `key` function names
 * what the entry depends on; the request id and the timestamp are left out, so the three calls
 * share one entry.
 */
import { alruCache } from "effect-request-cache/promise"
import { setTimeout as sleep } from "node:timers/promises"

// Cache user permissions, ignoring the request metadata.
const getUserPermissions = alruCache(
  async (userId: string, _resource: string, _requestId: string, _timestamp: number) => {
    await sleep(100) // simulate a database query
    return userId === "admin" ? ["read", "write"] : ["read"]
  },
  { maxsize: 100, key: (userId, resource) => [userId, resource] }
)

// These calls hit the same entry despite different request ids and timestamps.
const now = Date.now() / 1000
const perms1 = await getUserPermissions("admin", "document", "req-1", now)
const perms2 = await getUserPermissions("admin", "document", "req-2", now + 1)
const perms3 = await getUserPermissions("admin", "document", "req-3", now + 2)
console.log(`permissions: ${JSON.stringify(perms1)}, the same for all three: ${perms1 === perms2 && perms2 === perms3}`)

// Only the first call ran the function.
const stats = getUserPermissions.cacheStats()
console.log(`Function calls: ${stats.misses}`)
console.log(`hits: ${stats.hits}`)

// Another user is another entry.
await getUserPermissions("guest", "document", "req-4", now + 3)
console.log(`after a guest's call: Function calls: ${getUserPermissions.cacheStats().misses}`)
