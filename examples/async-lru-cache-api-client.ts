/**
 * Twin of async-lru-cache's "Production Example: API Response Caching": an API client whose
 * methods are cached, each with its own size and time to live; the weather cache leaves the
 * request timeout out of its key (`ignore_params=["request_timeout"]`), and the user cache is
 * invalidated after an update.
 *
 * `@cachedMethod` is a TC39 standard decorator: one cache per method, keyed by the instance and
 * the arguments; `methodCache(APIClient.prototype.fetchUserData)` reaches its controls. The
 * HTTP session is a local stand-in that counts its requests.
 */
import { cachedMethod, methodCache } from "effect-request-cache/promise"
import { setTimeout as sleep } from "node:timers/promises"

/** Stands in for `aiohttp.ClientSession`: answers JSON after 30 ms and counts the requests. */
class FakeSession {
  requests = 0
  closed = false
  async getJson(url: string, _options: { params?: Record<string, string>; timeout?: number } = {}) {
    if (this.closed) throw new Error("session closed")
    this.requests++
    await sleep(30)
    return { url, fetchedAt: this.requests }
  }
  async close() {
    this.closed = true
  }
}

type Json = Record<string, unknown>

class APIClient {
  session: FakeSession | undefined

  // async with APIClient() as client: open() and close() here.
  async open() {
    this.session = new FakeSession()
    return this
  }

  async close() {
    await this.session?.close()
  }

  private get http(): FakeSession {
    if (this.session === undefined) throw new Error("APIClient is not open")
    return this.session
  }

  // @alru_cache(maxsize=500, ttl=300, ignore_params=["request_timeout"])
  @cachedMethod({ maxsize: 500, ttl: "300 seconds", key: (city: string, units = "metric") => [city, units] })
  async fetchWeather(city: string, units = "metric", requestTimeout = 10.0): Promise<Json> {
    const url = `https://api.weather.com/weather/${city}`
    return this.http.getJson(url, { params: { units }, timeout: requestTimeout })
  }

  // @alru_cache(maxsize=1000, ttl=3600)
  @cachedMethod({ maxsize: 1000, ttl: "3600 seconds" })
  async fetchUserData(userId: string): Promise<Json> {
    return this.http.getJson(`https://api.example.com/users/${userId}`)
  }

  /** Invalidates the user's entry after an update. */
  async invalidateUserCache(userId: string) {
    return methodCache(APIClient.prototype.fetchUserData).cacheInvalidate(this, userId)
  }
}

const client = await new APIClient().open()
try {
  // Cached for 5 minutes; the timeout is not part of the key.
  const weather1 = await client.fetchWeather("London", "metric", 5.0)
  const weather2 = await client.fetchWeather("London", "metric", 10.0) // cache hit
  console.log(`weather: the same response: ${weather1 === weather2}`)

  // User data, cached for an hour.
  await client.fetchUserData("12345")
  // After a user update, invalidate the entry.
  console.log(`invalidateUserCache("12345") -> ${await client.invalidateUserCache("12345")}`)

  const weatherStats = methodCache(APIClient.prototype.fetchWeather).cacheStats()
  const userStats = methodCache(APIClient.prototype.fetchUserData).cacheStats()
  console.log(`Weather cache: ${weatherStats.hits} hits, ${weatherStats.misses} misses`)
  console.log(`User cache: ${userStats.hits} hits, ${userStats.misses} misses, ${userStats.size} entries`)

  // Entries belong to an instance: another client does not see this one's.
  const other = await new APIClient().open()
  await other.fetchWeather("London", "metric", 5.0)
  console.log(
    `another client's fetchWeather("London") is a miss: misses=${
      methodCache(APIClient.prototype.fetchWeather).cacheStats().misses
    }`
  )
  await other.close()
  console.log(`HTTP requests made: ${client.session?.requests ?? 0} + ${other.session?.requests ?? 0}`)
} finally {
  await client.close()
}
