// The bundled target server (src/target/http-server.ts, compiled to dist) in a
// process of its own, for bench/rate-accuracy.ts and bench/coordinated-omission.ts:
// the server's event loop must not share a thread with the client under test,
// above all when `POST /stall` blocks it on purpose.
//
//   node bench/target.ts           listens on 127.0.0.1, port PORT or a free one,
//                                  and prints `listening <port>` for the parent
import { startTargetServer } from '../dist/target/http-server.js'

const server = await startTargetServer({ port: Number(process.env.PORT ?? 0) })
console.log(`listening ${server.port}`)
const stop = (): void => void server.close().then(() => process.exit(0))
process.once('SIGINT', stop)
process.once('SIGTERM', stop)
