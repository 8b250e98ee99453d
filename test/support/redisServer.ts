/**
 * Redis servers that a test starts from the installed `redis-server` on free loopback ports and
 * stops afterwards, by their pid (only the processes it started): one server that can be stopped
 * and started again with its data (append-only file, synced on every write), or a cluster of
 * masters (`--cluster-enabled yes`, then `redis-cli --cluster create`).
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { describeNeeding } from "./needs.js"

export const redisServerInstalled: boolean = (() => {
  try {
    return spawnSync("redis-server", ["--version"], { stdio: "ignore" }).status === 0 &&
      spawnSync("redis-cli", ["--version"], { stdio: "ignore" }).status === 0
  } catch {
    return false
  }
})()

/** `describe` when `redis-server` is installed (see `describeNeeding`: under `CI=true` these tests must run). */
export const describeRedisServer = (name: string, body: () => void): void =>
  describeNeeding(name, redisServerInstalled ? undefined : "redis-server and redis-cli are not installed", body)

const portFree = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const server = net.createServer()
    server.once("error", () => resolve(false))
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)))
  })

/** A free loopback port whose cluster bus port (+10000) is free too. */
export const freePort = async (): Promise<number> => {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 30_000)
    if (await portFree(port) && await portFree(port + 10_000)) return port
  }
  throw new Error("no free port pair found")
}

/** PING over a raw socket until PONG, for up to `within` ms. */
const answers = async (port: number, within: number): Promise<boolean> => {
  const deadline = Date.now() + within
  while (Date.now() < deadline) {
    const pong = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1")
      const done = (answer: boolean) => {
        socket.destroy()
        resolve(answer)
      }
      socket.setTimeout(200, () => done(false))
      socket.on("connect", () => socket.write("PING\r\n"))
      socket.on("data", (data) => done(data.toString().startsWith("+PONG")))
      socket.on("error", () => done(false))
    })
    if (pong) return true
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  return false
}

export interface RedisServer {
  readonly port: number
  readonly url: string
  /** The running server's pid (`undefined` while stopped). */
  readonly pid: () => number | undefined
  /** Starts the server (again: with the data it had, on the same port). */
  readonly start: () => Promise<void>
  /** Kills the server by its pid (SIGKILL: as a crash; its writes were synced) and waits for its exit. */
  readonly stop: () => Promise<void>
  /** Stops it and removes its directory. */
  readonly remove: () => Promise<void>
}

const exited = (child: ChildProcess): Promise<void> =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once("exit", () => resolve()))

const launch = async (port: number, args: ReadonlyArray<string>, dir: string): Promise<ChildProcess> => {
  const child = spawn("redis-server", [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--dir",
    dir,
    "--save",
    "",
    "--daemonize",
    "no",
    "--loglevel",
    "warning",
    ...args
  ], { stdio: ["ignore", "ignore", "pipe"] })
  let stderr = ""
  child.stderr!.on("data", (chunk) => stderr += chunk)
  if (!(await answers(port, 5_000))) {
    child.kill("SIGKILL")
    throw new Error(`redis-server on port ${port} did not start: ${stderr}`)
  }
  return child
}

const kill = async (child: ChildProcess | undefined): Promise<void> => {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return
  child.kill("SIGKILL")
  await exited(child)
}

/** One server with an append-only file synced on every write: stopped and started, its data stays. */
export const startRedisServer = async (): Promise<RedisServer> => {
  const port = await freePort()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "erc-redis-"))
  const args = ["--appendonly", "yes", "--appendfsync", "always"]
  let child: ChildProcess | undefined = await launch(port, args, dir)
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    pid: () => child?.pid,
    start: async () => {
      if (child === undefined) child = await launch(port, args, dir)
    },
    stop: async () => {
      await kill(child)
      child = undefined
    },
    remove: async () => {
      await kill(child)
      child = undefined
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }
}

export interface RedisCluster {
  readonly ports: ReadonlyArray<number>
  readonly rootNodes: ReadonlyArray<string>
  /** Kills the master on `port` by its pid (SIGKILL). */
  readonly kill: (port: number) => Promise<void>
  /** The port of the master that holds `key`'s slot. */
  readonly masterOf: (key: string) => number
  /** Kills every server it started and removes their directories. */
  readonly stop: () => Promise<void>
}

const cli = (args: ReadonlyArray<string>): string => {
  const result = spawnSync("redis-cli", args, { encoding: "utf8", timeout: 30_000 })
  if (result.status !== 0) throw new Error(`redis-cli ${args.join(" ")}: ${result.stderr}${result.stdout}`)
  return result.stdout
}

/**
 * A cluster of `masters` masters, no replicas, every slot assigned. `cluster-require-full-coverage
 * no`: when a master dies, the others keep serving their slots.
 */
export const startRedisCluster = async (masters = 3): Promise<RedisCluster> => {
  const ports: Array<number> = []
  while (ports.length < masters) {
    const port = await freePort()
    if (!ports.includes(port)) ports.push(port)
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "erc-cluster-"))
  const children = new Map<number, ChildProcess>()
  const stop = async () => {
    await Promise.all(Array.from(children.values(), kill))
    children.clear()
    fs.rmSync(dir, { recursive: true, force: true })
  }
  try {
    await Promise.all(ports.map(async (port) => {
      const nodeDir = path.join(dir, String(port))
      fs.mkdirSync(nodeDir)
      children.set(
        port,
        await launch(port, [
          "--cluster-enabled",
          "yes",
          "--cluster-config-file",
          path.join(nodeDir, "nodes.conf"),
          "--cluster-node-timeout",
          "2000",
          "--cluster-require-full-coverage",
          "no",
          "--appendonly",
          "no"
        ], nodeDir)
      )
    }))
    cli([
      "--cluster",
      "create",
      ...ports.map((port) => `127.0.0.1:${port}`),
      "--cluster-replicas",
      "0",
      "--cluster-yes"
    ])
    // Every node agrees that every slot is served.
    const deadline = Date.now() + 15_000
    for (const port of ports) {
      while (!cli(["-p", String(port), "cluster", "info"]).includes("cluster_state:ok")) {
        if (Date.now() > deadline) throw new Error(`the cluster on ${ports.join(", ")} never became ok`)
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    }
  } catch (error) {
    await stop()
    throw error
  }
  return {
    ports,
    rootNodes: ports.map((port) => `redis://127.0.0.1:${port}`),
    kill: async (port) => {
      await kill(children.get(port))
      children.delete(port)
    },
    masterOf: (key) => {
      const live = ports.find((port) => children.has(port))!
      const slot = Number(cli(["-p", String(live), "cluster", "keyslot", key]).trim())
      for (const line of cli(["-p", String(live), "cluster", "nodes"]).trim().split("\n")) {
        const fields = line.split(" ")
        const port = Number(fields[1]!.split(":")[1]!.split("@")[0])
        for (const range of fields.slice(8)) {
          const [from, to] = range.split("-").map(Number)
          if (slot >= from! && slot <= (to ?? from)!) return port
        }
      }
      throw new Error(`no master holds slot ${slot}`)
    },
    stop
  }
}
