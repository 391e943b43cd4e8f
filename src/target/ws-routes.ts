/**
 * The WebSocket side of the bundled target server (routes listed in
 * http-server.ts). One `ws` server without a port of its own takes the HTTP
 * server's upgrades; compression is off, as chaperon's client asks by default.
 */
import type { IncomingMessage } from 'node:http'
import { STATUS_CODES } from 'node:http'
import type { Duplex } from 'node:stream'
import { type RawData, type WebSocket, WebSocketServer } from 'ws'

/** The WebSocket routes of one target server. */
export interface WsRoutes {
  /** Handles an HTTP upgrade: a known route becomes a WebSocket, anything else is answered with an HTTP error. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void
  /** Sends a text message to every client on `/ws/broadcast?channel=…`; returns how many got it. */
  publish(channel: string, message: string): number
  /** Sends every WebSocket client a close frame (1001, going away); the server's close() then destroys the sockets. */
  close(): void
}

const PING_PAYLOAD = 'chaperon'
const MAX_CHANNEL_LENGTH = 200

export function createWsRoutes(): WsRoutes {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, clientTracking: true })
  // ?cookie=name=value on any route sets that cookie with the 101 response.
  wss.on('headers', (headers, req) => {
    const cookie = new URL(req.url ?? '/', 'http://target.invalid').searchParams.get('cookie')
    if (cookie !== null) headers.push(`Set-Cookie: ${cookie}; Path=/`)
  })
  const channels = new Map<string, Set<WebSocket>>()

  function join(channel: string, ws: WebSocket): void {
    let members = channels.get(channel)
    if (members === undefined) channels.set(channel, (members = new Set()))
    members.add(ws)
    ws.on('close', () => {
      members.delete(ws)
      if (members.size === 0 && channels.get(channel) === members) channels.delete(channel)
    })
  }

  function relay(channel: string, data: RawData | string, isBinary: boolean): number {
    const members = channels.get(channel)
    if (members === undefined) return 0
    let delivered = 0
    for (const member of members) {
      if (member.readyState !== member.OPEN) continue
      member.send(data, { binary: isBinary })
      delivered++
    }
    return delivered
  }

  function echo(ws: WebSocket, req: IncomingMessage, url: URL): void {
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (!isBinary) {
        const text = String(data)
        if (text === 'whoami') return ws.send(JSON.stringify({ path: url.pathname, query: Object.fromEntries(url.searchParams), protocol: ws.protocol, headers: req.headers }))
        if (text === 'close') return ws.close(1000, 'closed on request')
        if (text === 'drop') return ws.terminate()
      }
      ws.send(data, { binary: isBinary })
    })
    if (url.searchParams.get('ping') === '1') {
      // The pong's payload is sent back as text, so a client can see its pong arrived.
      ws.on('pong', (payload: Buffer) => ws.send(`pong ${payload.toString()}`))
      ws.ping(PING_PAYLOAD)
    }
  }

  function accept(req: IncomingMessage, ws: WebSocket, url: URL): void {
    // A client that resets its socket mid-run is normal under load; without a listener the error would be thrown.
    ws.on('error', () => ws.terminate())
    switch (url.pathname) {
      case '/ws/echo':
        return echo(ws, req, url)
      case '/ws/ping-pong':
        return void ws.on('message', (data: RawData, isBinary: boolean) => {
          if (!isBinary && String(data) === 'ping') ws.send('pong')
        })
      case '/ws/broadcast': {
        const channel = url.searchParams.get('channel') ?? 'default'
        join(channel, ws)
        return void ws.on('message', (data: RawData, isBinary: boolean) => relay(channel, data, isBinary))
      }
    }
  }

  return {
    upgrade(req, socket, head) {
      const url = new URL(req.url ?? '/', 'http://target.invalid')
      if (url.pathname !== '/ws/echo' && url.pathname !== '/ws/ping-pong' && url.pathname !== '/ws/broadcast') {
        return refuse(socket, 404, `no WebSocket route for ${url.pathname}; try /ws/echo, /ws/ping-pong or /ws/broadcast?channel=name`)
      }
      const channel = url.searchParams.get('channel')
      if (channel !== null && (channel.length === 0 || channel.length > MAX_CHANNEL_LENGTH)) {
        return refuse(socket, 400, `channel must be 1 to ${MAX_CHANNEL_LENGTH} characters, got '${channel.slice(0, 20)}'`)
      }
      wss.handleUpgrade(req, socket, head, (ws) => accept(req, ws, url))
    },
    publish(channel, message) {
      return relay(channel, message, false)
    },
    close() {
      // The close frame goes out first; the HTTP server's close() then destroys the sockets, so none lingers.
      for (const ws of wss.clients) ws.close(1001, 'target server closing')
      channels.clear()
      wss.close()
    },
  }
}

/** Answers an upgrade with a plain HTTP error and ends the socket. */
function refuse(socket: Duplex, status: number, body: string): void {
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`)
}
