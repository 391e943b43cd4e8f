// TLS for the integration tests: a self-signed certificate made at test time,
// so no key is checked in, and an HTTPS server on 127.0.0.1 that uses it.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createServer, type Server } from 'node:https'
import type { AddressInfo, Socket } from 'node:net'
import { generate } from 'selfsigned'

/** A PEM key and certificate pair. */
export interface KeyAndCert {
  key: string
  cert: string
}

/** A running HTTPS server. */
export interface HttpsServer {
  /** `https://127.0.0.1:<port>`, without a trailing slash. */
  url: string
  port: number
  /** The Node server, to attach more to it (a WebSocket server, say). */
  server: Server
  close(): Promise<void>
}

let cached: Promise<KeyAndCert> | undefined

/**
 * A self-signed certificate for `localhost` and `127.0.0.1`, valid for a day.
 * Made once per test file (key generation costs tens of milliseconds); it is
 * valid for both names, so a client that rejects it does so only because no
 * authority signed it (`DEPTH_ZERO_SELF_SIGNED_CERT`), not for a name mismatch.
 */
export function selfSignedCert(): Promise<KeyAndCert> {
  cached ??= generate([{ name: 'commonName', value: 'localhost' }], {
    keySize: 2048,
    notAfterDate: new Date(Date.now() + 24 * 60 * 60 * 1000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] },
    ],
  }).then((pems) => ({ key: pems.private, cert: pems.cert }))
  return cached
}

/** Starts an HTTPS server on 127.0.0.1 and a free port, with the self-signed certificate unless given one. */
export async function startHttpsServer(handler: (req: IncomingMessage, res: ServerResponse) => void, tls?: KeyAndCert): Promise<HttpsServer> {
  const server = createServer(tls ?? (await selfSignedCert()), handler)
  const sockets = new Set<Socket>()
  server.on('connection', (socket: Socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  // A client that rejects the certificate hangs up mid-handshake; that is the point, not a failure.
  server.on('tlsClientError', () => {})
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    url: `https://127.0.0.1:${port}`,
    port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        for (const socket of sockets) socket.destroy()
      }),
  }
}
