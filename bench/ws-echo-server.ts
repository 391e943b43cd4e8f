// The server side of bench/websocket.ts: a WebSocket echo server on raw TCP.
// node:http takes the upgrade; from then on frames are parsed by hand and each
// text or binary message is sent straight back. It skips ws's streams and
// events so that the clients under test, not the server, are the slower side.
// It expects what WebSocket clients send: masked, unfragmented frames, no
// extensions (both clients of the benchmark turn compression off).
//
//   node bench/ws-echo-server.ts   listens on 127.0.0.1, port PORT or a free one,
//                                  and prints `listening <port>` for the parent
import { createHash } from 'node:crypto'
import { createServer } from 'node:http'
import type { Socket } from 'node:net'
import { listenAndReport } from './common.ts'

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'
const OP_CLOSE = 0x8
const OP_PING = 0x9
const OP_PONG = 0xa
const NO_BYTES = Buffer.alloc(0)

/** A server frame (never masked) carrying `payload`, appended to `out`. */
function frame(out: Buffer[], opcode: number, payload: Buffer): void {
  const len = payload.length
  const head = len < 126 ? Buffer.allocUnsafe(2) : len < 65_536 ? Buffer.allocUnsafe(4) : Buffer.allocUnsafe(10)
  head[0] = 0x80 | opcode
  if (len < 126) head[1] = len
  else if (len < 65_536) {
    head[1] = 126
    head.writeUInt16BE(len, 2)
  } else {
    head[1] = 127
    head.writeBigUInt64BE(BigInt(len), 2)
  }
  out.push(head, payload)
}

function serve(socket: Socket, head: Buffer): void {
  socket.setNoDelay(true)
  // Clients stop mid-message at the end of each run; a reset is expected then.
  socket.on('error', () => socket.destroy())
  let pending = head.length === 0 ? NO_BYTES : Buffer.from(head)
  const onData = (chunk: Buffer): void => {
    const data = pending.length === 0 ? chunk : Buffer.concat([pending, chunk])
    const out: Buffer[] = []
    let at = 0
    while (data.length - at >= 2) {
      const opcode = data[at]! & 0x0f
      const masked = (data[at + 1]! & 0x80) !== 0
      let len = data[at + 1]! & 0x7f
      let offset = at + 2
      if (len === 126) {
        if (data.length - offset < 2) break
        len = data.readUInt16BE(offset)
        offset += 2
      } else if (len === 127) {
        if (data.length - offset < 8) break
        len = Number(data.readBigUInt64BE(offset))
        offset += 8
      }
      const maskAt = offset
      if (masked) offset += 4
      if (data.length - offset < len) break
      // Copied, so the reply does not pin the read buffer and unmasking does not touch it.
      const payload = Buffer.from(data.subarray(offset, offset + len))
      if (masked) for (let i = 0; i < len; i++) payload[i]! ^= data[maskAt + (i & 3)]!
      at = offset + len
      if (opcode === OP_CLOSE) {
        frame(out, OP_CLOSE, payload.subarray(0, 2))
        socket.end(Buffer.concat(out))
        socket.off('data', onData)
        return
      }
      if (opcode === OP_PING) frame(out, OP_PONG, payload)
      else if (opcode !== OP_PONG) frame(out, opcode, payload)
    }
    pending = at === data.length ? NO_BYTES : Buffer.from(data.subarray(at))
    if (out.length === 2) {
      socket.write(out[0]!)
      socket.write(out[1]!)
    } else if (out.length > 0) socket.write(Buffer.concat(out))
  }
  socket.on('data', onData)
}

const server = createServer((_req, res) => {
  res.writeHead(426, { 'content-type': 'text/plain' })
  res.end('WebSocket only')
})
const sockets = new Set<Socket>()
server.on('upgrade', (req, socket: Socket, head: Buffer) => {
  const key = req.headers['sec-websocket-key']
  if (typeof key !== 'string') return void socket.destroy()
  const accept = createHash('sha1').update(key + GUID).digest('base64')
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`)
  sockets.add(socket)
  socket.on('close', () => sockets.delete(socket))
  serve(socket, head)
})
// A thousand clients connect at once; the default backlog of 511 would drop some SYNs into a 1 s retry.
listenAndReport(server, sockets, 'echo server', 4096)
