import { fileURLToPath } from "node:url"
import { defineConfig } from "vitest/config"

/** The package's own entry points resolve to its sources (as tsconfig.json's `paths` do for tsc
 * and tsx): the tests run on src/, never on a stale dist/. */
const source = (file: string) => fileURLToPath(new URL(`./src/${file}`, import.meta.url))

export default defineConfig({
  resolve: {
    alias: [
      { find: /^effect-request-cache$/, replacement: source("index.ts") },
      { find: /^effect-request-cache\/promise$/, replacement: source("Promise.ts") },
      { find: /^effect-request-cache\/redis$/, replacement: source("redis.ts") }
    ]
  },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000
  }
})
