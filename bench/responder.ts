// The server side of bench/throughput.ts: a raw-TCP HTTP/1.1 responder that
// answers every request with the same tiny keep-alive 200. It skips node:http
// so that the clients under test, not the server, are the slower side. It
// parses only request boundaries (`\r\n\r\n`), so it serves body-less requests
// such as the benchmark's GETs, pipelined or not.
//
//   node bench/responder.ts        listens on 127.0.0.1, port PORT or a free one,
//                                  and prints `listening <port>` for the parent
import { createServer } from 'node:net'
import type { Socket } from 'node:net'
import { listenAndReport } from './common.ts'

const RESPONSE = Buffer.from(
  'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok',
)
const END_OF_HEAD = Buffer.from('\r\n\r\n')
const NO_BYTES = Buffer.alloc(0)

function serve(socket: Socket): void {
  socket.setNoDelay(true)
  // A client stops mid-request at the end of each run; a reset is expected then.
  socket.on('error', () => socket.destroy())
  // The last bytes of the previous chunk, in case a terminator straddles two reads.
  let tail = NO_BYTES
  socket.on('data', (chunk: Buffer) => {
    const data = tail.length === 0 ? chunk : Buffer.concat([tail, chunk])
    let requests = 0
    let end = 0
    for (let at = data.indexOf(END_OF_HEAD); at !== -1; at = data.indexOf(END_OF_HEAD, end)) {
      requests++
      end = at + END_OF_HEAD.length
    }
    tail = Buffer.from(data.subarray(Math.max(end, data.length - (END_OF_HEAD.length - 1))))
    if (requests === 1) socket.write(RESPONSE)
    else if (requests > 1) socket.write(Buffer.concat(Array<Buffer>(requests).fill(RESPONSE)))
  })
}

const server = createServer(serve)
const sockets = new Set<Socket>()
server.on('connection', (socket) => {
  sockets.add(socket)
  socket.on('close', () => sockets.delete(socket))
})
listenAndReport(server, sockets, 'responder')
