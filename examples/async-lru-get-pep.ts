/**
 * Twin of async-lru's usage example (both the current async-lru and the older async_lru READMEs):
 * `get_pep` cached with `maxsize=32`, called for 8, 290, 308, 320, 8, 218, 320, 279, 289, 320,
 * 9991, then `cache_info()` -> CacheInfo(hits=3, misses=8, maxsize=32, currsize=8), then
 * `cache_close()`.
 *
 * python.org is replaced by a local stand-in: a PEP's page is a deterministic body, and PEP 9991
 * does not exist, so the client error becomes 'Not Found' as in the seed.
 */
import { alruCache, CacheClosedError } from "effect-request-cache/promise"
import { setTimeout as sleep } from "node:timers/promises"

class ClientError extends Error {
  override readonly name = "ClientError"
}

const knownPeps = new Set([8, 218, 279, 289, 290, 308, 320])
let requests = 0

/** Stands in for `session.get(resource)`: the page's bytes after 10 ms, or a client error. */
const httpGet = async (resource: string): Promise<Uint8Array> => {
  requests++
  await sleep(10)
  const num = Number(/pep-(\d+)/.exec(resource)?.[1])
  if (!knownPeps.has(num)) throw new ClientError(`404 for ${resource}`)
  return new TextEncoder().encode(`<html>PEP ${num}</html>`.padEnd(1000 + num * 7, "."))
}

// @alru_cache(maxsize=32)
const getPep = alruCache(
  async (num: number): Promise<Uint8Array | string> => {
    const resource = `http://www.python.org/dev/peps/pep-${String(num).padStart(4, "0")}/`
    try {
      return await httpGet(resource)
    } catch (error) {
      if (error instanceof ClientError) return "Not Found"
      throw error
    }
  },
  { maxsize: 32 }
)

for (const n of [8, 290, 308, 320, 8, 218, 320, 279, 289, 320, 9991]) {
  const pep = await getPep(n)
  console.log(n, pep.length)
}

const { hits, misses, maxsize, currsize } = getPep.cacheInfo()
console.log(`CacheInfo(hits=${hits}, misses=${misses}, maxsize=${maxsize}, currsize=${currsize})`)
console.log(`requests to python.org: ${requests}`)

// Closing is optional, but highly recommended: it stops loads and refreshes in flight.
await getPep.cacheClose()
const afterClose = await getPep(8).catch((error: unknown) => error)
console.log(`a call after cacheClose rejects with CacheClosedError: ${afterClose instanceof CacheClosedError}`)
