/**
 * A TCP proxy that a test puts between a client and a server, and can pause (hold every byte
 * until resumed), slow (delay every chunk) or cut (drop every connection and refuse new ones),
 * and, when asked to, keep a copy of what the clients sent (`tap`).
 */
import * as net from "node:net"

export type ProxyMode = "pass" | "pause" | "cut"

export interface TcpProxy {
  readonly port: number
  readonly url: string
  /** Holds the bytes in both directions; the connections stay open. */
  readonly pause: () => void
  /** Delays every chunk by `millis` (0: no delay). */
  readonly slow: (millis: number) => void
  /** Destroys every connection; new ones are closed as soon as they are accepted. */
  readonly cut: () => void
  /** Passes traffic again, delivering what a pause held. */
  readonly restore: () => void
  /** Connections accepted so far. */
  readonly connections: () => number
  /** With `tap`: the bytes each client connection sent so far (one buffer a connection, in order). */
  readonly sent: () => Array<Buffer>
  readonly close: () => Promise<void>
}

/** One direction of one connection: chunks leave in order, when the proxy lets them. */
class Lane {
  private readonly queue: Array<Buffer> = []
  private busy = false
  constructor(private readonly proxy: { mode: ProxyMode; delay: number }, private readonly to: net.Socket) {}

  push(chunk: Buffer): void {
    this.queue.push(chunk)
    this.pump()
  }

  pump(): void {
    if (this.busy || this.proxy.mode !== "pass" || this.queue.length === 0) return
    const chunk = this.queue.shift()!
    if (this.proxy.delay === 0) {
      if (!this.to.destroyed) this.to.write(chunk)
      return this.pump()
    }
    this.busy = true
    setTimeout(() => {
      this.busy = false
      if (!this.to.destroyed) this.to.write(chunk)
      this.pump()
    }, this.proxy.delay)
  }
}

export const startProxy = async (
  target: { readonly host: string; readonly port: number },
  options: { readonly tap?: boolean } = {}
): Promise<TcpProxy> => {
  const state = { mode: "pass" as ProxyMode, delay: 0 }
  const tapped: Array<Array<Buffer>> = []
  const sockets = new Set<net.Socket>()
  const lanes = new Set<Lane>()
  let accepted = 0
  const server = net.createServer((client) => {
    accepted++
    if (state.mode === "cut") return void client.destroy()
    const upstream = net.connect(target.port, target.host)
    const copy: Array<Buffer> = []
    if (options.tap === true) tapped.push(copy)
    const up = new Lane(state, upstream)
    const down = new Lane(state, client)
    lanes.add(up).add(down)
    sockets.add(client).add(upstream)
    client.on("data", (chunk: Buffer) => {
      if (options.tap === true) copy.push(chunk)
      up.push(chunk)
    })
    upstream.on("data", (chunk) => down.push(chunk))
    const end = () => {
      client.destroy()
      upstream.destroy()
      sockets.delete(client)
      sockets.delete(upstream)
      lanes.delete(up)
      lanes.delete(down)
    }
    client.on("error", end).on("close", end)
    upstream.on("error", end).on("close", end)
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const port = (server.address() as net.AddressInfo).port
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    pause: () => {
      state.mode = "pause"
    },
    slow: (millis) => {
      state.delay = millis
    },
    cut: () => {
      state.mode = "cut"
      for (const socket of sockets) socket.destroy()
    },
    restore: () => {
      state.mode = "pass"
      state.delay = 0
      for (const lane of lanes) lane.pump()
    },
    connections: () => accepted,
    sent: () => tapped.map((chunks) => Buffer.concat(chunks)),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      })
  }
}
