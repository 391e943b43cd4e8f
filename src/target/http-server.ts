/**
 * chaperon's bundled target server: a programmable HTTP/1.1 and WebSocket
 * service to point load tests, examples and integration tests at. Node
 * built-ins, plus `ws` for the WebSocket routes (src/target/ws-routes.ts). It is
 * compiled with the package so the load project's global setup can start it;
 * `fixtures/servers/http.ts` runs it on its own (`npm run target`).
 *
 * With `tls: true` it serves HTTPS instead, HTTP/2 and HTTP/1.1 on the same
 * port (the client's ALPN offer decides), with a self-signed certificate made at
 * start (src/target/certificate.ts). Every route below answers over both, through
 * Node's HTTP/2 compatibility API; where a fault is about an HTTP/1.1 connection,
 * HTTP/2 gets the nearest stream-level fault, as each route says.
 *
 * Routes (query parameters steer the behaviour):
 *
 *   GET  /, /health             200 text "ok"
 *   GET  /products              200 JSON array of 10 products {id, name, price}
 *   GET  /products/:id          200 JSON product, or 404
 *   POST /cart                  JSON body → 201 {ok: true, items: n}; n counts the items in
 *                               the cart named by the `cart` cookie (set on the first call)
 *   GET  /delay?ms=N            200 after N ms; ?min=A&max=B waits uniformly in [A, B] (≤ 60 s)
 *   POST /stall?ms=N            blocks the server's event loop with a busy wait for N ms
 *                               (default 1000, ≤ 10 000), then 200 text `stalled N ms`: every
 *                               other request and connection waits meanwhile, as in a long GC
 *                               pause or a synchronous hot loop (bench/coordinated-omission.ts)
 *   ANY  /status/:code          that status, body `?body=` or the reason phrase; codes
 *                               outside 200–599 are clamped into that range
 *   GET  /bytes/:n              n bytes of application/octet-stream (n ≤ 50 MiB)
 *   GET  /json?size=N           {items: [...]} with N items (default 10, N ≤ 100 000)
 *   ANY  /echo                  JSON {method, path, query, headers, body, bodyBytes}; a body
 *                               sent with content-encoding: gzip is gunzipped, bodyBytes
 *                               counts it as it came over the wire
 *   GET  /set-cookie?name=a&value=b   sets cookie a=b (Path=/); repeat name and value to set
 *                               several; path=, maxAge=, expires=, domain=, secure=1 set
 *                               those attributes on each
 *   GET  /cookies, /cookies/*   JSON {cookies: {name: value}} as received
 *   GET  /basic-auth?user=u&pass=p    200 {user} when the request's Basic credentials are
 *                               u:p, else 401 with www-authenticate
 *   ANY  /reset                 resets the connection (TCP RST) before any response byte;
 *                               over HTTP/2 resets the request's stream (RST_STREAM
 *                               INTERNAL_ERROR), the connection's other requests going on;
 *                               over HTTP/1.1 with TLS destroys the connection without a
 *                               TLS close (Node cannot reset a TLS socket)
 *   ANY  /hang                  never answers; the socket is destroyed by close()
 *
 * Fault routes, each one way a target can fail a client (docs/http.md#errors says what a
 * load test records for each). The `after-headers` ones send 200 headers announcing a
 * 1024-byte body, `?sent=N` bytes of it (0–1023, default 512), then:
 *
 *   GET  /fault/reset-after-headers   a TCP reset, 200 ms later (time for the client to read
 *                               what was sent: a reset drops data the client has not read yet);
 *                               as /reset over HTTP/2 and TLS
 *   GET  /fault/close-after-headers   a normal close (FIN), leaving the body short; over
 *                               HTTP/2 the end of the stream (END_STREAM)
 *   GET  /fault/hang-after-headers    nothing more; the socket is destroyed by close()
 *   GET  /fault/drip?chunks=N&every=MS&size=B   200 with a body of N chunks (default 10,
 *                               ≤ 1000) of B bytes (default 16, ≤ 65 536), one every MS ms
 *                               (default 100, ≤ 60 000), the first at once
 *   GET  /fault/malformed-status      `HTTP/1.1 2OO OK` (letter O's), then closes; HTTP/2 has
 *                               no status line and Node writes no malformed frame, so there
 *                               the stream is reset with PROTOCOL_ERROR
 *   GET  /fault/informational?code=C  a 1xx interim response (100 Continue, 102 Processing
 *                               or 103 Early Hints with a `link` header; default 103),
 *                               then 200 text "ok"
 *   POST /broadcast/:channel    sends the body as a text message to every WebSocket on
 *                               /ws/broadcast?channel=:channel → 200 {delivered: n}
 *   anything else               404
 *
 * Server-Sent Events routes (GET only; src/target/sse-routes.ts):
 *
 *   GET  /sse/ticks?count=N&interval=MS&retry=MS&drop=K   events `id: n`, data {"n":n} for
 *                               n = 1…N (default 10, ≤ 100 000), one every MS ms (default 100,
 *                               ≤ 60 000); retry= sends that `retry:` field first; Last-Event-ID: n
 *                               resumes after n, and is answered 204 once n ≥ N; drop=K destroys
 *                               the connection after K events of each connection
 *   GET  /sse/mixed             one fixed stream of parser edge cases (BOM, CR/CRLF/LF, comments,
 *                               multi-line data, NULL id…); 204 when resumed with Last-Event-ID
 *   GET  /sse/whoami            one event whose data is JSON {headers} of the request
 *   GET  /sse/wrong-type        200 text/plain that looks like an event stream
 *
 * WebSocket routes (upgrade with GET over HTTP/1.1, `wss://` with `tls`; not over HTTP/2,
 * whose extended CONNECT (RFC 8441) it does not speak; no compression; the first
 * subprotocol offered is chosen):
 *
 *   /ws/echo                    echoes each message as it came (text or binary); text
 *                               commands: 'whoami' → JSON {path, query, protocol, headers}
 *                               of the handshake, 'close' → closes with 1000, 'drop' →
 *                               destroys the TCP connection without a close frame
 *   /ws/echo?ping=1             also pings with payload 'chaperon' on open and answers the
 *                               pong with the text 'pong chaperon'
 *   /ws/ping-pong               answers the text 'ping' with 'pong', ignores the rest
 *   /ws/broadcast?channel=x     relays every message to all clients on channel x (default
 *                               'default'), the sender included
 *   ?cookie=name=value          on any of them, sets that cookie (Path=/) on the 101 response
 *   any other upgrade           404
 *
 * GET routes answer HEAD too and 405 to other methods. Bad parameters answer
 * 400 with a message saying what to send instead.
 *
 * It listens on loopback only (127.0.0.0/8, ::1 or `localhost`): it answers anyone
 * with resets, hangs and a busy loop, so it must not be reachable from the network.
 */
import { createServer, STATUS_CODES } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { constants as h2, createSecureServer, type Http2ServerRequest, type Http2ServerResponse, type ServerHttp2Stream } from 'node:http2'
import { BlockList, isIP, type Socket } from 'node:net'
import { performance } from 'node:perf_hooks'
import { TLSSocket } from 'node:tls'
import { gunzipSync } from 'node:zlib'
import { ChaperonError } from '../core/errors.ts'
import { targetCertificate } from './certificate.ts'
import { BadRequest, intParam, send } from './respond.ts'
import { sseRoute } from './sse-routes.ts'
import { createWsRoutes, type WsRoutes } from './ws-routes.ts'

/** Where {@link startTargetServer} listens. */
export interface TargetServerOptions {
  /** @default 0 (a free port) */
  port?: number
  /** A loopback address (127.0.0.0/8, `::1`) or `localhost`; anything else throws `CHAPERON_INVALID_OPTION`. @default '127.0.0.1' */
  host?: string
  /**
   * Serve HTTPS: HTTP/2 and HTTP/1.1 on one port, as the client's ALPN offer
   * decides, with a self-signed certificate for `localhost`, `127.0.0.1` and
   * `::1`. WebSocket routes answer over HTTP/1.1 (`wss://`) only.
   * @default false
   */
  tls?: boolean
}

/** A running target server. */
export interface TargetServer {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:41234` (`https://` with `tls`). */
  url: string
  port: number
  /** With `tls`, the PEM certificate the server presents, for a client to trust as its CA. */
  cert: string | undefined
  /** Stops listening and destroys every open socket, hung requests and WebSockets included. */
  close(): Promise<void>
}

const MAX_DELAY_MS = 60_000
const MAX_STALL_MS = 10_000
const MAX_BYTES = 50 * 1024 * 1024
const MAX_JSON_ITEMS = 100_000
const MAX_BODY_BYTES = 10 * 1024 * 1024
// Load tests open many sessions, each with its own cart; the oldest are dropped.
const MAX_CARTS = 10_000
// The body the /fault/*-after-headers routes announce but never finish.
const PARTIAL_LENGTH = 1024
const RESET_AFTER_MS = 200
const MAX_DRIP_CHUNKS = 1000
const MAX_DRIP_SIZE = 64 * 1024
const INFORMATIONAL = [100, 102, 103]

const LOOPBACK = new BlockList()
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4')
LOOPBACK.addAddress('::1', 'ipv6')

const PRODUCTS = Array.from({ length: 10 }, (_, i) => ({
  id: i + 1,
  name: `Product ${i + 1}`,
  price: Math.round((4.99 + i * 7.5) * 100) / 100,
}))
const PRODUCTS_JSON = JSON.stringify(PRODUCTS)
// One shared chunk, so /bytes/50000000 streams instead of allocating 50 MB.
const FILLER = Buffer.alloc(64 * 1024, 'chaperon-')

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, JSON.stringify(value), 'application/json')
}

function parseCookies(header: string | undefined): Record<string, string> {
  const cookies: Record<string, string> = {}
  for (const pair of (header ?? '').split(';')) {
    const eq = pair.indexOf('=')
    if (eq <= 0) continue
    const value = pair.slice(eq + 1).trim()
    try {
      cookies[pair.slice(0, eq).trim()] = decodeURIComponent(value)
    } catch {
      cookies[pair.slice(0, eq).trim()] = value
    }
  }
  return cookies
}

async function readBody(req: IncomingMessage): Promise<string> {
  return (await readBytes(req)).toString('utf8')
}

async function readBytes(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > MAX_BODY_BYTES) throw new BadRequest(`request body must be at most ${MAX_BODY_BYTES} bytes`)
    chunks.push(chunk)
  }
  return Buffer.concat(chunks)
}

function delay(res: ServerResponse, query: URLSearchParams): void {
  let ms: number
  if (query.has('ms')) {
    ms = intParam(query, 'ms', 0, 0, MAX_DELAY_MS)
  } else {
    const min = intParam(query, 'min', 0, 0, MAX_DELAY_MS)
    const max = intParam(query, 'max', min, 0, MAX_DELAY_MS)
    if (max < min) throw new BadRequest(`max (${max}) must not be below min (${min})`)
    ms = min + Math.random() * (max - min)
  }
  // A client that gives up must not leave a timer holding the process open.
  const timer = setTimeout(() => send(res, 200, `waited ${Math.round(ms)} ms`), ms)
  res.on('close', () => clearTimeout(timer))
}

/** Busy-waits, so that the whole server stops, not only this request. */
function stall(res: ServerResponse, query: URLSearchParams): void {
  const ms = intParam(query, 'ms', 1000, 0, MAX_STALL_MS)
  const until = performance.now() + ms
  while (performance.now() < until) {
    // Spinning on purpose: no timer, no I/O, nothing else runs until the time is up.
  }
  send(res, 200, `stalled ${ms} ms`)
}

function status(res: ServerResponse, rawCode: string, query: URLSearchParams): void {
  const parsed = Number(rawCode)
  if (!Number.isInteger(parsed)) throw new BadRequest(`status must be an integer from 200 to 599, got '${rawCode}'`)
  const code = Math.min(599, Math.max(200, parsed))
  // 204 and 304 may not carry a body (RFC 9110), so ?body= is ignored for them.
  if (code === 204 || code === 304) {
    res.writeHead(code)
    res.end()
    return
  }
  send(res, code, query.get('body') ?? STATUS_CODES[code] ?? String(code))
}

function bytes(res: ServerResponse, rawCount: string): void {
  const n = Number(rawCount)
  if (!Number.isInteger(n) || n < 0 || n > MAX_BYTES) {
    throw new BadRequest(`n must be an integer from 0 to ${MAX_BYTES}, got '${rawCount}'`)
  }
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': n })
  let left = n
  const pump = (): void => {
    while (left > 0) {
      const chunk = FILLER.subarray(0, Math.min(left, FILLER.length))
      left -= chunk.length
      if (!res.write(chunk)) {
        res.once('drain', pump)
        return
      }
    }
    res.end()
  }
  pump()
}

/** The start of a 200 response announcing {@link PARTIAL_LENGTH} bytes, and `?sent=` of them. */
function partial(res: ServerResponse, query: URLSearchParams, then: () => void): void {
  const sent = intParam(query, 'sent', PARTIAL_LENGTH / 2, 0, PARTIAL_LENGTH - 1)
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': PARTIAL_LENGTH })
  res.write(FILLER.subarray(0, sent), then)
}

/** The HTTP/2 stream a request came on (Node's compatibility API); undefined over HTTP/1.1. */
function streamOf(req: IncomingMessage): ServerHttp2Stream | undefined {
  return (req as unknown as Partial<Http2ServerRequest>).stream
}

/**
 * Ends a request abruptly: over HTTP/2 a reset of its own stream, over HTTP/1.1
 * a TCP reset of its connection, or, with TLS, whose socket Node cannot reset,
 * the connection destroyed without its TLS close.
 */
function reset(req: IncomingMessage): void {
  const stream = streamOf(req)
  if (stream !== undefined) stream.close(h2.NGHTTP2_INTERNAL_ERROR)
  else if (req.socket instanceof TLSSocket) req.socket.destroy()
  else req.socket.resetAndDestroy()
}

/** Ends a request's response where it is: its connection closed normally, or over HTTP/2 its stream ended. */
function close(req: IncomingMessage): void {
  const stream = streamOf(req)
  if (stream === undefined) req.socket.end()
  else stream.end()
}

function malformedStatus(req: IncomingMessage): void {
  const stream = streamOf(req)
  // Written past the ServerResponse, which can only send a valid status line.
  if (stream === undefined) req.socket.end('HTTP/1.1 2OO OK\r\ncontent-length: 2\r\n\r\nok')
  else stream.close(h2.NGHTTP2_PROTOCOL_ERROR)
}

type Fault = (req: IncomingMessage, res: ServerResponse, query: URLSearchParams) => void

/** The /fault/:name routes. */
const FAULTS: Readonly<Record<string, Fault>> = {
  'reset-after-headers': (req, res, query) =>
    partial(res, query, () => {
      const timer = setTimeout(() => reset(req), RESET_AFTER_MS)
      // On the response, not the socket: an HTTP/2 connection carries many requests.
      res.once('close', () => clearTimeout(timer))
    }),
  'close-after-headers': (req, res, query) => partial(res, query, () => close(req)),
  'hang-after-headers': (_req, res, query) => partial(res, query, () => {}),
  drip: (_req, res, query) => drip(res, query),
  'malformed-status': malformedStatus,
  informational,
}

function drip(res: ServerResponse, query: URLSearchParams): void {
  const chunks = intParam(query, 'chunks', 10, 0, MAX_DRIP_CHUNKS)
  const every = intParam(query, 'every', 100, 0, MAX_DELAY_MS)
  const size = intParam(query, 'size', 16, 0, MAX_DRIP_SIZE)
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': chunks * size })
  let left = chunks
  let timer: NodeJS.Timeout | undefined
  const next = (): void => {
    if (left === 0) return void res.end()
    left--
    res.write(FILLER.subarray(0, size))
    timer = setTimeout(next, left === 0 ? 0 : every)
  }
  res.on('close', () => clearTimeout(timer))
  next()
}

function informational(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): void {
  const code = Number(query.get('code') ?? 103)
  if (!INFORMATIONAL.includes(code)) throw new BadRequest(`code must be one of ${INFORMATIONAL.join(', ')}, got '${query.get('code')}'`)
  const stream = streamOf(req)
  if (code === 100) res.writeContinue()
  else if (code === 103) res.writeEarlyHints({ link: '</products>; rel=preload; as=fetch' })
  else if (stream === undefined) res.writeProcessing()
  // HTTP/2's compatibility response has no writeProcessing().
  else stream.additionalHeaders({ ':status': 102 })
  send(res, 200, 'ok')
}

function createCarts() {
  const carts = new Map<string, number>()
  let nextId = 1
  return async function cart(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      JSON.parse(await readBody(req))
    } catch (error) {
      if (error instanceof BadRequest) throw error
      throw new BadRequest('POST /cart expects a JSON body, e.g. {"id": 1}')
    }
    let id = parseCookies(req.headers.cookie).cart
    if (id === undefined || !carts.has(id)) {
      id = String(nextId++)
      res.setHeader('set-cookie', `cart=${id}; Path=/; HttpOnly`)
    }
    const items = (carts.get(id) ?? 0) + 1
    carts.delete(id)
    carts.set(id, items)
    if (carts.size > MAX_CARTS) carts.delete(carts.keys().next().value as string)
    sendJson(res, 201, { ok: true, items })
  }
}

async function echo(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const raw = await readBytes(req)
  let body = raw
  if (req.headers['content-encoding'] === 'gzip') {
    try {
      body = gunzipSync(raw, { maxOutputLength: MAX_BODY_BYTES })
    } catch (error) {
      throw new BadRequest(`a content-encoding: gzip body must be gzip data of at most ${MAX_BODY_BYTES} bytes unpacked: ${(error as Error).message}`)
    }
  }
  sendJson(res, 200, {
    method: req.method,
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers: req.headers,
    body: body.toString('utf8'),
    bodyBytes: raw.length,
  })
}

function setCookie(res: ServerResponse, query: URLSearchParams): void {
  const names = query.getAll('name')
  const values = query.getAll('value')
  if (names.length === 0) names.push('')
  for (const name of names) {
    if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) {
      throw new BadRequest(`name must be a cookie name (letters, digits, !#$%&'*+-.^_\`|~), got '${name}'`)
    }
  }
  const attributes = cookieAttributes(query)
  res.setHeader('set-cookie', names.map((name, i) => `${name}=${encodeURIComponent(values[i] ?? '')}${attributes}`))
  if (names.length === 1) return sendJson(res, 200, { name: names[0], value: values[0] ?? '' })
  sendJson(res, 200, names.map((name, i) => ({ name, value: values[i] ?? '' })))
}

/** `; Path=/…` and the other attributes asked for; checked so no parameter can inject another. */
function cookieAttributes(query: URLSearchParams): string {
  const path = query.get('path') ?? '/'
  if (!/^\/[^;\s]*$/.test(path)) throw new BadRequest(`path must start with / and hold no ';' or spaces, got '${path}'`)
  let out = `; Path=${path}`
  const maxAge = query.get('maxAge')
  if (maxAge !== null) {
    if (!/^-?\d{1,10}$/.test(maxAge)) throw new BadRequest(`maxAge must be a whole number of seconds, got '${maxAge}'`)
    out += `; Max-Age=${maxAge}`
  }
  const expires = query.get('expires')
  if (expires !== null) {
    const at = Date.parse(expires)
    if (Number.isNaN(at)) throw new BadRequest(`expires must be a date such as '${new Date(0).toUTCString()}', got '${expires}'`)
    out += `; Expires=${new Date(at).toUTCString()}`
  }
  const domain = query.get('domain')
  if (domain !== null) {
    if (!/^\.?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$/.test(domain)) throw new BadRequest(`domain must be a host name such as 'localhost', got '${domain}'`)
    out += `; Domain=${domain}`
  }
  if (query.get('secure') === '1' || query.get('secure') === 'true') out += '; Secure'
  return out
}

function basicAuth(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): void {
  const user = query.get('user')
  const pass = query.get('pass')
  if (user === null || pass === null) throw new BadRequest('give the credentials to accept: /basic-auth?user=alice&pass=secret')
  if (req.headers.authorization === `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`) return sendJson(res, 200, { user })
  res.setHeader('www-authenticate', 'Basic realm="chaperon", charset="UTF-8"')
  send(res, 401, 'Unauthorized')
}

async function broadcast(req: IncomingMessage, res: ServerResponse, channel: string, ws: WsRoutes): Promise<void> {
  let name: string
  try {
    name = decodeURIComponent(channel)
  } catch {
    throw new BadRequest(`channel must be URL-encoded, got '${channel}'`)
  }
  const body = await readBody(req)
  sendJson(res, 200, { delivered: ws.publish(name, body) })
}

function methodNotAllowed(res: ServerResponse, allow: string): void {
  res.setHeader('allow', allow)
  send(res, 405, `use ${allow}`)
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>

function createHandler(ws: WsRoutes): Handler {
  const cart = createCarts()
  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://target.invalid')
    const path = url.pathname
    const query = url.searchParams
    const [, first = '', second, extra] = path.split('/')
    if (path === '/echo') return echo(req, res, url)
    if (sseRoute(req, res, url)) return
    if (path === '/reset') return reset(req)
    if (path === '/hang') return
    if (first === 'fault' && second !== undefined && extra === undefined && Object.hasOwn(FAULTS, second)) {
      return req.method === 'GET' || req.method === 'HEAD' ? FAULTS[second]!(req, res, query) : methodNotAllowed(res, 'GET, HEAD')
    }
    if (first === 'status' && second !== undefined && extra === undefined) return status(res, second, query)
    if (path === '/cart') return req.method === 'POST' ? cart(req, res) : methodNotAllowed(res, 'POST')
    // POST, not GET: it stops the whole server, which no prefetch or crawler should do by accident.
    if (path === '/stall') return req.method === 'POST' ? stall(res, query) : methodNotAllowed(res, 'POST')
    if (first === 'broadcast' && second !== undefined && second !== '' && extra === undefined) {
      return req.method === 'POST' ? broadcast(req, res, second, ws) : methodNotAllowed(res, 'POST')
    }

    const isGetRoute = ['', 'health', 'products', 'delay', 'bytes', 'json', 'set-cookie', 'cookies', 'basic-auth'].includes(first)
    if (!isGetRoute) return send(res, 404, `no route for ${path}`)
    if (req.method !== 'GET' && req.method !== 'HEAD') return methodNotAllowed(res, 'GET, HEAD')
    if (path === '/' || path === '/health') return send(res, 200, 'ok')
    if (path === '/products') return send(res, 200, PRODUCTS_JSON, 'application/json')
    if (first === 'products' && second !== undefined && extra === undefined) {
      const product = PRODUCTS.find((p) => String(p.id) === second)
      return product ? sendJson(res, 200, product) : sendJson(res, 404, { error: `no product ${second}` })
    }
    if (path === '/delay') return delay(res, query)
    if (first === 'bytes' && second !== undefined && extra === undefined) return bytes(res, second)
    if (path === '/json') {
      const size = intParam(query, 'size', 10, 0, MAX_JSON_ITEMS)
      return sendJson(res, 200, { items: Array.from({ length: size }, (_, i) => ({ id: i + 1, name: `item ${i + 1}`, value: i })) })
    }
    if (path === '/set-cookie') return setCookie(res, query)
    if (first === 'cookies') return sendJson(res, 200, { cookies: parseCookies(req.headers.cookie) })
    if (path === '/basic-auth') return basicAuth(req, res, query)
    send(res, 404, `no route for ${path}`)
  }
}

/**
 * Starts the target server on 127.0.0.1 and a free port unless told otherwise;
 * with `tls`, an HTTPS one that speaks HTTP/2 and HTTP/1.1.
 * @example
 * const target = await startTargetServer()
 * await fetch(`${target.url}/products`)
 * await target.close()
 */
export async function startTargetServer(options: TargetServerOptions = {}): Promise<TargetServer> {
  const host = options.host ?? '127.0.0.1'
  if (!isLoopback(host)) {
    throw new ChaperonError('CHAPERON_INVALID_OPTION', `The target server listens on loopback only, got host '${host}'. Use '127.0.0.1' (or '::1', 'localhost'): it resets, hangs and stalls on request, so it must not be reachable from the network.`)
  }
  const ws = createWsRoutes()
  const handle = createHandler(ws)
  // Tracked by hand because closeAllConnections() misses sockets still sending their request.
  const sockets = new Set<Socket>()
  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    Promise.resolve(handle(req, res)).catch((error: unknown) => {
      if (res.headersSent) return void res.destroy()
      if (error instanceof BadRequest) return send(res, 400, error.message)
      send(res, 500, error instanceof Error ? error.message : String(error))
    })
  }
  const tls = options.tls === true ? await targetCertificate() : undefined
  // Node's compatibility API gives an HTTP/2 request and response the shape of HTTP/1.1's, so one
  // handler serves both; allowHTTP1 hands connections that do not pick h2 to Node's HTTP/1.1 server.
  const server =
    tls === undefined ? createServer(listener) : createSecureServer({ ...tls, allowHTTP1: true }, listener as unknown as (req: Http2ServerRequest, res: Http2ServerResponse) => void)
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => ws.upgrade(req, socket, head))
  server.on('connection', (socket: Socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject)
      resolveListen()
    })
  })
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('target server has no TCP address')
  const urlHost = host.includes(':') ? `[${host}]` : host
  let closing: Promise<void> | undefined
  return {
    url: `${tls === undefined ? 'http' : 'https'}://${urlHost}:${address.port}`,
    port: address.port,
    cert: tls?.cert,
    close() {
      closing ??= new Promise<void>((resolveClose) => {
        server.close(() => resolveClose())
        ws.close()
        for (const socket of sockets) socket.destroy()
      })
      return closing
    },
  }
}

/** Whether `host` is a loopback address (127.0.0.0/8, `::1`, also written out or IPv4-mapped) or `localhost`. */
export function isLoopback(host: string): boolean {
  if (host.toLowerCase() === 'localhost') return true
  const family = isIP(host)
  if (family === 0) return false
  return LOOPBACK.check(host, family === 4 ? 'ipv4' : 'ipv6')
}
