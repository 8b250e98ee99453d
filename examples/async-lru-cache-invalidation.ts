/**
 * Twin of async-lru-cache's "Manual Cache Invalidation": after updating a profile, its entry is
 * invalidated so that the next read fetches the fresh profile.
 */
import { alruCache } from "effect-request-cache/promise"
import { setTimeout as sleep } from "node:timers/promises"

/** The "database". */
const profiles = new Map<string, { name: string; updatedAt: number }>()
let version = 0

// @alru_cache(maxsize=200)
const getUserProfile = alruCache(
  async (userId: string) => {
    await sleep(100) // the seed's 0.3 s
    const stored = profiles.get(userId)
    return { user_id: userId, name: stored?.name ?? `User ${userId}`, version: stored?.updatedAt ?? 0 }
  },
  { maxsize: 200 }
)

const updateUserProfile = async (userId: string, newData: { name: string }) => {
  // Update in the database...
  await sleep(50)
  profiles.set(userId, { name: newData.name, updatedAt: ++version })
  // ...then invalidate that user's entry.
  const invalidated = await getUserProfile.cacheInvalidate(userId)
  console.log(`Cache invalidated: ${invalidated}`)
}

// Cache the profile.
const profile1 = await getUserProfile("user123")
// A hit.
const profile2 = await getUserProfile("user123")
console.log(`before the update: ${profile1.name} / ${profile2.name}`)
// Update the profile and invalidate its entry.
await updateUserProfile("user123", { name: "Updated Name" })
// A miss: the fresh profile.
const profile3 = await getUserProfile("user123")
console.log(`after the update: ${profile3.name}`)

const stats = getUserProfile.cacheStats()
console.log(`Total calls: ${stats.hits + stats.misses} (hits=${stats.hits} misses=${stats.misses})`)
