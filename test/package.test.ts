/**
 * The package as a user gets it: `npm pack`, then a new project outside the repository installs
 * the tarball with its peers (the versions this repository is tested with, from npm's cache when
 * it has them) and no TypeScript loader. There `test/consumer/app.ts` is type-checked against the
 * installed declarations (strict, `exactOptionalPropertyTypes`, `skipLibCheck: false`, with
 * `moduleResolution` `nodenext` and `bundler`), compiled, and run under plain `node`: it imports
 * every entry point, and its Redis part runs when a Redis answers (always under CI=true).
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { execFileSync, spawnSync, type SpawnSyncReturns } from "node:child_process"
import {
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync
} from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { REDIS_URL, redisAnswers } from "./support/redis.js"

const root = fileURLToPath(new URL("..", import.meta.url))
const redisRequired = process.env.CI === "true"

/** The version of a package as installed in this repository: the consumer gets the same. */
const installedVersion = (name: string): string =>
  (JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8")) as { version: string }).version

/** A strict Node program's settings. `DOM` is there for @effect/platform, whose declarations name
 * the web's `Storage` (KeyValueStore.layerStorage): with `skipLibCheck: false`, every program
 * that imports it needs that lib. */
const compilerOptions = {
  strict: true,
  exactOptionalPropertyTypes: true,
  skipLibCheck: false,
  target: "ES2022",
  lib: ["ES2022", "DOM"],
  types: ["node"],
  verbatimModuleSyntax: true
}

let work = ""
let project = ""
let installed: { readonly dir: string; readonly tarball: string } | undefined
let compiled: SpawnSyncReturns<string> | undefined

const tsc = (config: string): SpawnSyncReturns<string> =>
  spawnSync(process.execPath, [
    join(root, "node_modules", "typescript", "bin", "tsc"),
    "-p",
    config,
    "--pretty",
    "false"
  ], {
    cwd: project,
    encoding: "utf8"
  })

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "erc-consumer-"))
  project = join(work, "app")
  mkdirSync(project)
  // `npm pack` runs `prepack`, the build.
  const packed = JSON.parse(
    execFileSync("npm", ["pack", "--json", "--pack-destination", work], {
      cwd: root,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"]
    })
  ) as ReadonlyArray<{ readonly filename: string }>
  const tarball = join(work, packed[0]!.filename)
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }))
  copyFileSync(join(root, "test", "consumer", "app.ts"), join(project, "app.ts"))
  writeFileSync(
    join(project, "tsconfig.nodenext.json"),
    JSON.stringify({
      compilerOptions: { ...compilerOptions, module: "nodenext", moduleResolution: "nodenext", outDir: "out" },
      files: ["app.ts"]
    })
  )
  writeFileSync(
    join(project, "tsconfig.bundler.json"),
    JSON.stringify({
      compilerOptions: { ...compilerOptions, module: "esnext", moduleResolution: "bundler", noEmit: true },
      files: ["app.ts"]
    })
  )
  execFileSync("npm", [
    "install",
    "--prefer-offline",
    "--no-audit",
    "--no-fund",
    "--loglevel=error",
    tarball,
    `effect@${installedVersion("effect")}`,
    `@effect/platform@${installedVersion("@effect/platform")}`,
    `redis@${installedVersion("redis")}`,
    `@types/node@${installedVersion("@types/node")}`
  ], { cwd: project, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })
  installed = { dir: join(project, "node_modules", "effect-request-cache"), tarball }
  // Type-checked and emitted (out/app.js) with nodenext; its result is the first test's.
  compiled = tsc("tsconfig.nodenext.json")
}, 180_000)

afterAll(() => {
  if (work !== "") rmSync(work, { recursive: true, force: true })
})

/** The directories of every copy of `name` under `dir`'s node_modules, nested ones included. */
const copiesOf = (dir: string, name: string): Array<string> => {
  const found: Array<string> = []
  const visit = (modules: string) => {
    if (!existsSync(modules)) return
    for (const entry of readdirSync(modules)) {
      const dirs = entry.startsWith("@")
        ? readdirSync(join(modules, entry)).map((scoped) => join(modules, entry, scoped))
        : [join(modules, entry)]
      for (const candidate of dirs) {
        const manifest = join(candidate, "package.json")
        if (!existsSync(manifest)) continue
        if ((JSON.parse(readFileSync(manifest, "utf8")) as { name?: string }).name === name) found.push(candidate)
        visit(join(candidate, "node_modules"))
      }
    }
  }
  visit(join(dir, "node_modules"))
  return found
}

describe("the packed package in a new project", () => {
  it("is installed from the tarball: a copy of its files, entry points in dist/", () => {
    expect(installed).toBeDefined()
    const dir = installed!.dir
    expect(lstatSync(dir).isSymbolicLink()).toBe(false)
    const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
      exports: Record<string, { types: string; default: string }>
    }
    for (const [entry, target] of Object.entries(manifest.exports)) {
      expect(target.default, entry).toMatch(/^\.\/dist\/.*\.js$/)
      expect(target.types, entry).toMatch(/^\.\/dist\/.*\.d\.ts$/)
      expect(existsSync(join(dir, target.default)), target.default).toBe(true)
      expect(existsSync(join(dir, target.types)), target.types).toBe(true)
    }
    for (const file of ["README.md", "LICENSE", "CHANGELOG.md", "src/index.ts", "dist/index.js.map"]) {
      expect(existsSync(join(dir, file)), file).toBe(true)
    }
  })

  it("type-checks a strict consumer with moduleResolution nodenext", () => {
    expect(compiled).toBeDefined()
    expect(`${compiled!.stdout}${compiled!.stderr}`).toBe("")
    expect(compiled!.status).toBe(0)
  })

  it("type-checks a strict consumer with moduleResolution bundler", () => {
    const result = tsc("tsconfig.bundler.json")
    expect(`${result.stdout}${result.stderr}`).toBe("")
    expect(result.status).toBe(0)
  })

  it("has one copy of effect, which the package shares with the program", () => {
    const copies = copiesOf(project, "effect")
    expect(copies).toEqual([join(project, "node_modules", "effect")])
    expect(copiesOf(project, "@effect/platform")).toHaveLength(1)
    expect(existsSync(join(installed!.dir, "node_modules"))).toBe(false)
  })

  it("runs under plain node: every entry point, the program's own layer found by the accessors", () => {
    if (!redisAnswers && redisRequired) {
      throw new Error(`Redis does not answer on ${REDIS_URL}, and CI=true requires the consumer's Redis part to run`)
    }
    if (!redisAnswers) {
      console.warn(
        `[skip] the consumer's Redis store part: Redis does not answer on ${REDIS_URL}; it runs when it does (and always with CI=true)`
      )
    }
    const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: "" }
    if (redisAnswers) env.CONSUMER_REDIS_URL = REDIS_URL
    else delete env.CONSUMER_REDIS_URL
    const run = spawnSync(process.execPath, [join("out", "app.js")], {
      cwd: project,
      encoding: "utf8",
      env,
      timeout: 60_000
    })
    const output = `${run.stdout}${run.stderr}`
    expect(run.status, output).toBe(0)
    for (
      const line of [
        "ok Effect API: a miss, then a hit",
        "ok Effect API: the cached function's stats",
        "ok Effect API: the accessors (RequestCache.stats, statsFor, get) find this program's layer",
        "ok Promise API: alruCache calls once",
        "ok Promise API: cacheInfo counts the hit",
        "consumer: done"
      ]
    ) expect(run.stdout, output).toContain(line)
    if (redisAnswers) {
      expect(run.stdout, output).toContain("ok Redis store: a second cache reads it from Redis, no lookup")
    } else {
      expect(run.stdout, output).toContain("skip Redis store")
    }
  }, 60_000)
})
