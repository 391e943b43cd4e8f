import type { IncomingHttpHeaders } from 'node:http'
import { performance } from 'node:perf_hooks'
import type { Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { buildConnector, Pool, type Dispatcher } from 'undici'
import { ChaperonError } from '../../core/errors.ts'
import { VERSION } from '../../core/version.ts'
import { pace } from '../executors/pacer.ts'
import type { HttpProto, ScenarioMetrics } from '../metrics/scenario-metrics.ts'
import type { SessionCookies } from './cookies.ts'
import { httpErrorCode } from './error-codes.ts'
import type { InflightNode, InflightRequests } from './inflight.ts'
import { lowerCaseKeys, SCHEME } from './paths.ts'
import { type RequestOptions, type ResolvedRequest, resolveRequest } from './request-options.ts'
import { Response } from './response.ts'

/** What a request needs from the scenario that sends it. */
export interface RequestScope {
  readonly metrics: ScenarioMetrics
  /** Aborted when the scenario is cut off; requests then end without being recorded. */
  readonly signal: AbortSignal
  /** Requests in flight, so a hard stop can abort them. */
  readonly inflight: InflightRequests
  /** The session's cookie jar: sent with each request, filled from each response's `Set-Cookie`. */
  readonly cookies: SessionCookies
  /**
   * How late, in µs, the running arrival-rate iteration started against its plan; its requests
   * also record `http_req_latency_corrected`. Undefined under closed-model executors.
   */
  readonly lagUs?: number | undefined
}

/** What {@link HttpClient} is built from: the load test's resolved `http` options and `baseUrl`. */
export interface HttpClientOptions {
  baseUrl: URL | undefined
  connections: number
  headers: Record<string, string>
  timeoutMs: number
  /** The `authorization` header value of `http.auth`; an `authorization` in `headers` wins over it. */
  authorization?: string | undefined
  /** Skip TLS certificate verification. @default false */
  insecure?: boolean | undefined
  /**
   * 2 speaks HTTP/2: over `https:` offered in the TLS handshake (ALPN), the
   * server choosing HTTP/1.1 instead if it does not take it; over `http:` from
   * the first byte (h2c with prior knowledge), so a server without h2c fails
   * every request.
   * @default 1
   */
  version?: 1 | 2 | undefined
  /** Sends every request through this dispatcher instead of connection pools: a dry run's mocks. */
  dispatcher?: Dispatcher | undefined
}

/** A request with its target, wire headers and size worked out, ready to dispatch. */
export interface PreparedRequest extends ResolvedRequest {
  origin: string
  /** Path and query on `origin`. */
  target: string
  wireHeaders: Record<string, string>
  /**
   * Bytes of the request line, headers and body as HTTP/1.1 puts them on the
   * wire. Over HTTP/2, which is only known once connected, the same count
   * stands: exact for the body, above the real size for the headers, which
   * HPACK compresses.
   */
  bytesSent: number
}

const ignore = (): void => {}

/**
 * undici's options for `http.version`, for a connector and for the pool or
 * client using it: `allowH2` offers h2 in the TLS handshake (undici offers
 * it unless told not to), `useH2c` speaks it on plain connections. undici
 * reads a top-level `useH2c`, though its types list only `h2Options.useH2c`.
 */
export function h2Options(version: 1 | 2): { allowH2: boolean; useH2c: boolean } {
  return { allowH2: version === 2, useH2c: version === 2 }
}

const HTTP_1_1: HttpProto = 'HTTP/1.1'
const HTTP_2: HttpProto = 'HTTP/2.0'

// Requests without options are prepared once per method and path; ids in paths make the set open-ended, hence a cap.
const MAX_CACHED_PATHS = 1000
const EMPTY_HEADERS: IncomingHttpHeaders = Object.freeze({}) as IncomingHttpHeaders

/**
 * Sends the requests of one load test: one undici pool per origin, capped at
 * `connections`, on the low-level `dispatch` API so the hot path allocates
 * little. Bodies are always read to the end so connections are reused. Each
 * request is recorded into the scenario's metrics as it ends. Over HTTP/2 a
 * connection carries up to 100 requests at once (fewer if the server says
 * so), and the pool opens another only when they are all in flight.
 */
export class HttpClient {
  readonly #pools = new Map<string, Pool>()
  readonly #baseOrigin: string | undefined
  readonly #basePath: string
  readonly #headers: Record<string, string>
  readonly #timeoutMs: number
  readonly #connect: buildConnector.connector
  readonly #poolOptions: Pool.Options
  /** Connections opened ahead of the first request (`warm`), by origin, handed to the pool as it asks for them. */
  readonly #spare = new Map<string, Socket[]>()
  readonly #plain = new Map<string, Map<string, PreparedRequest>>()
  readonly #dispatcher: Dispatcher | undefined
  readonly #version: 1 | 2

  constructor(options: HttpClientOptions) {
    this.#baseOrigin = options.baseUrl?.origin
    this.#basePath = options.baseUrl === undefined ? '' : options.baseUrl.pathname.replace(/\/$/, '')
    const auth = options.authorization === undefined ? undefined : { authorization: options.authorization }
    this.#headers = { 'user-agent': `chaperon/${VERSION}`, accept: '*/*', ...auth, ...lowerCaseKeys(options.headers) }
    this.#timeoutMs = options.timeoutMs
    this.#dispatcher = options.dispatcher
    this.#version = options.version ?? 1
    // The connector gives each connection its protocol; the pool reads the same two options to open no
    // second connection until the first one's protocol is known, as HTTP/2 may carry every request on it.
    const protocol = h2Options(this.#version)
    const connect = buildConnector({ ...protocol, ...(options.insecure === true ? { rejectUnauthorized: false } : {}) })
    this.#connect = (opts, callback) => {
      const spare = this.#spare.get(`${opts.protocol}//${opts.host}`)?.pop()
      if (spare === undefined) return connect(opts, callback)
      spare.removeListener('error', ignore)
      process.nextTick(callback, null, spare)
    }
    this.#poolOptions = { connections: options.connections, pipelining: 1, connect: this.#connect, ...protocol }
  }

  /**
   * Opens up to `count` connections to `origin` now, so the first requests
   * do not each wait for a new one. An arrival-rate executor that starts
   * thousands of iterations in its first second would otherwise spend it
   * connecting, fall behind its plan, and allocate VUs (and connections) up
   * to `maxVUs`. Connections that fail are left out; the pool opens them later.
   * Over HTTP/2 one connection carries them all, so one is opened.
   */
  async warm(origin: string, count: number): Promise<void> {
    const url = new URL(origin)
    const opts = { host: url.host, hostname: url.hostname, protocol: url.protocol, port: url.port || (url.protocol === 'https:' ? '443' : '80'), servername: undefined, localAddress: null }
    const open = (): Promise<Socket | undefined> => new Promise((resolve) => this.#connect(opts, (error, socket) => resolve(error === null ? (socket as Socket) : undefined)))
    // Whether the server takes HTTP/2 is known once a connection is up: TLS sets `alpnProtocol`
    // from the handshake, undici's connector sets it on h2c connections.
    const first = this.#version === 2 ? await open() : undefined
    const h2 = (first as TLSSocket | undefined)?.alpnProtocol === 'h2'
    const more = await Promise.all(Array.from({ length: h2 ? 0 : count - (this.#version === 2 ? 1 : 0) }, open))
    const spare = [first, ...more].filter((socket) => socket !== undefined)
    // A spare connection the target closes is dropped; its error must not crash the run.
    for (const socket of spare) socket.on('error', ignore).once('close', () => this.#dropSpare(url.origin, socket))
    this.#spare.set(url.origin, [...(this.#spare.get(url.origin) ?? []), ...spare])
  }

  /** The HTTP version the load test speaks (`http.version`), for connections made outside the pools (Server-Sent Events). */
  get version(): 1 | 2 {
    return this.#version
  }

  /** The dispatcher of a dry run's mocks, which other requests (Server-Sent Events) go through too; undefined in a real run. */
  get dispatcher(): Dispatcher | undefined {
    return this.#dispatcher
  }

  /** The headers every request and WebSocket handshake sends: user agent, `accept`, `http.auth` and `http.headers`. */
  get defaultHeaders(): Readonly<Record<string, string>> {
    return this.#headers
  }

  /**
   * Checks a request's options and works out everything that does not change
   * between sends. Requests without options are prepared once and reused, so
   * the common `s.get('/path')` costs a lookup here.
   */
  prepare(method: string, path: string, options: RequestOptions | undefined): PreparedRequest {
    if (options !== undefined) return this.#prepare(resolveRequest(method, path, options, this.#timeoutMs))
    let byPath = this.#plain.get(method)
    if (byPath === undefined) this.#plain.set(method, (byPath = new Map()))
    let req = byPath.get(path)
    if (req === undefined) {
      req = this.#prepare(resolveRequest(method, path, undefined, this.#timeoutMs))
      if (byPath.size < MAX_CACHED_PATHS) byPath.set(path, req)
    }
    return req
  }

  /** Sends a prepared request and resolves with its response; failures of the target resolve too, as data. */
  send(req: PreparedRequest, scope: RequestScope): Promise<Response> {
    // A session left running after its hard stop must not open pools the run has already closed.
    if (scope.signal.aborted) return Promise.reject(scope.signal.reason)
    let headers = req.wireHeaders
    let bytesSent = req.bytesSent
    // Checked first so a session that never got a cookie builds no URL and copies no headers.
    if (scope.cookies.active) {
      const explicit = headers.cookie
      const cookie = scope.cookies.header(`${req.origin}${req.target}`, explicit)
      if (cookie !== undefined && cookie !== explicit) {
        headers = { ...headers, cookie }
        bytesSent += cookie.length - (explicit === undefined ? -10 : explicit.length) // "cookie: …\r\n"
      }
    }
    return new Promise((resolve, reject) => {
      this.#pool(req.origin).dispatch(
        {
          origin: req.origin,
          path: req.target,
          method: req.method as Dispatcher.HttpMethod,
          headers,
          body: req.body ?? null,
          headersTimeout: req.timeoutMs,
          bodyTimeout: req.timeoutMs,
        },
        new ExchangeHandler(req, bytesSent, scope, resolve, reject),
      )
    })
  }

  #prepare(req: ResolvedRequest): PreparedRequest {
    let origin: string
    let target: string
    let host: string
    if (SCHEME.test(req.path)) {
      const url = parseAbsolute(req.path)
      origin = url.origin
      target = `${url.pathname}${url.search}`
      host = url.host
    } else if (this.#baseOrigin !== undefined) {
      origin = this.#baseOrigin
      target = `${this.#basePath}${req.path.startsWith('/') ? '' : '/'}${req.path}`
      host = origin.slice(origin.indexOf('//') + 2)
    } else {
      throw new ChaperonError(
        'CHAPERON_NO_TARGET',
        `Cannot request "${req.path}": the load test has no baseUrl. Set loadTest({ baseUrl: 'http://host:port' }) or request an absolute URL.`,
      )
    }
    const wireHeaders = req.headers === undefined ? this.#headers : { ...this.#headers, ...lowerCaseKeys(req.headers) }
    // "METHOD target HTTP/1.1\r\n", "host: …\r\n", "connection: keep-alive\r\n", the headers, "\r\n"
    let bytesSent = req.method.length + target.length + 11 + host.length + 8 + 24 + headerBytes(wireHeaders) + 2
    if (req.body !== undefined) {
      const len = typeof req.body === 'string' ? Buffer.byteLength(req.body) : req.body.byteLength
      bytesSent += len + 18 + String(len).length // and its content-length header
    }
    return { ...req, origin, target, wireHeaders, bytesSent }
  }

  /** Ends every connection; requests in flight fail with `UND_ERR_DESTROYED`. */
  async close(): Promise<void> {
    for (const sockets of this.#spare.values()) for (const socket of sockets) socket.destroy()
    this.#spare.clear()
    const pools = [...this.#pools.values()]
    this.#pools.clear()
    await Promise.all(pools.map((p) => p.destroy()))
  }

  #pool(origin: string): Dispatcher {
    if (this.#dispatcher !== undefined) return this.#dispatcher
    let pool = this.#pools.get(origin)
    if (pool === undefined) {
      pool = new Pool(origin, this.#poolOptions)
      this.#pools.set(origin, pool)
    }
    return pool
  }

  #dropSpare(origin: string, socket: Socket): void {
    const sockets = this.#spare.get(origin)
    const i = sockets?.indexOf(socket) ?? -1
    if (i >= 0) sockets!.splice(i, 1)
  }
}

/** Follows one request through undici, then records it and settles the scenario's promise. */
class ExchangeHandler implements Dispatcher.DispatchHandler, InflightNode {
  controller: Dispatcher.DispatchController | undefined
  prev: InflightNode | undefined
  next: InflightNode | undefined
  readonly #req: PreparedRequest
  readonly #bytesSent: number
  readonly #scope: RequestScope
  readonly #resolve: (response: Response) => void
  readonly #reject: (reason: unknown) => void
  readonly #startedAt = performance.now()
  readonly #chunks: Buffer[] | undefined
  #sent = false
  #status = 0
  /** The protocol of the final response; undefined until it begins. */
  #proto: HttpProto | undefined
  #headers: IncomingHttpHeaders = EMPTY_HEADERS
  #headerBytes = 0
  #bodyBytes = 0
  #headersAt = 0

  constructor(req: PreparedRequest, bytesSent: number, scope: RequestScope, resolve: (response: Response) => void, reject: (reason: unknown) => void) {
    this.#req = req
    this.#bytesSent = bytesSent
    this.#scope = scope
    this.#resolve = resolve
    this.#reject = reject
    this.#chunks = req.keepBody ? [] : undefined
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller
    this.#scope.inflight.add(this)
    // Called as undici writes the request, often one of a batch: arrival slots due meanwhile start next.
    pace()
  }

  onRequestSent(): void {
    this.#sent = true
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    // An interim response (103 Early Hints) is not the answer: time and count the final one.
    if (statusCode < 200) return
    this.#headersAt = performance.now()
    this.#status = statusCode
    this.#headers = headers
    const raw = controller.rawHeaders
    // HTTP/1.1 hands its header lines raw; HTTP/2 has no raw header block (HPACK), so undici's
    // HTTP/2 client hands the decoded header object instead. A mock that hands none counts as HTTP/1.1.
    if (raw == null || Array.isArray(raw)) {
      this.#proto = HTTP_1_1
      this.#headerBytes = rawHeaderBytes(raw)
    } else {
      this.#proto = HTTP_2
      // Node's HTTP/2 header object has a null prototype and a sensitive-headers symbol: scenarios get a plain one, as over HTTP/1.1.
      this.#headers = plainHeaders(headers)
      this.#headerBytes = headerObjectBytes(headers)
    }
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.#bodyBytes += chunk.length
    // A chunk can be a small view of the socket's whole read buffer; a response the scenario
    // keeps would pin that buffer, so small views are copied out.
    this.#chunks?.push(chunk.length * 4 < chunk.buffer.byteLength ? Buffer.from(chunk) : chunk)
  }

  onResponseEnd(): void {
    this.#finish(undefined)
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    // `#status` is also set by 1xx interim responses; only a final one means the body had begun.
    this.#finish(httpErrorCode(error, this.#status >= 200))
  }

  #finish(error: string | undefined): void {
    const endedAt = performance.now()
    pace()
    const scope = this.#scope
    scope.inflight.delete(this)
    // A request cut off by the load test's own stop says nothing about the target.
    if (scope.signal.aborted) {
      this.#reject(scope.signal.reason)
      return
    }
    const req = this.#req
    // Stored after the clock stopped, so the jar's work is not timed as the target's; a response
    // whose body then failed still set its cookies, as in a browser.
    const setCookie = this.#headers['set-cookie']
    if (setCookie !== undefined) scope.cookies.store(`${req.origin}${req.target}`, setCookie)
    const status = error === undefined ? this.#status : 0
    const failed = error !== undefined || !req.expect(status)
    const headersAt = this.#headersAt === 0 ? endedAt : this.#headersAt
    const sent = this.#sent ? this.#bytesSent : 0
    scope.metrics.recordHttp(req, this.#proto, status, error, failed, (endedAt - this.#startedAt) * 1000, (headersAt - this.#startedAt) * 1000, sent, this.#headerBytes + this.#bodyBytes, scope.lagUs)
    const response = new Response(req.origin, req.target, status, error === undefined ? this.#headers : EMPTY_HEADERS, this.#bodyBytes, this.#startedAt, headersAt, endedAt, error, !failed, this.#chunks)
    if (req.checks !== undefined) {
      for (const [check, predicate] of req.checks) {
        let ok: boolean
        try {
          ok = Boolean(predicate(response))
        } catch {
          ok = false
        }
        scope.metrics.recordCheck(req.name, check, ok)
      }
    }
    this.#resolve(response)
  }
}

function parseAbsolute(href: string): URL {
  const url = URL.canParse(href) ? new URL(href) : undefined
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new ChaperonError('CHAPERON_INVALID_URL', `Cannot request "${href}": an absolute URL must be http(s), such as 'http://127.0.0.1:3000/products'.`)
  }
  return url
}


/** Bytes of `name: value\r\n` lines. */
function headerBytes(headers: Record<string, string>): number {
  let n = 0
  for (const k in headers) n += k.length + headers[k]!.length + 4
  return n
}

/**
 * Bytes the status line and headers of an HTTP/2 response would take as
 * HTTP/1.1 lines, the size {@link rawHeaderBytes} counts; HPACK sends fewer.
 */
function headerObjectBytes(headers: IncomingHttpHeaders): number {
  let n = 17
  for (const name in headers) {
    const value = headers[name]
    if (typeof value === 'string') n += name.length + value.length + 4
    else if (value !== undefined) for (const v of value) n += name.length + v.length + 4
  }
  return n + 2
}

/** Bytes of the status line and headers; undici hands them as alternating name/value buffers. */
function rawHeaderBytes(raw: Dispatcher.DispatchController['rawHeaders']): number {
  let n = 17 // "HTTP/1.1 200 OK\r\n", close enough for a status line
  if (Array.isArray(raw)) for (const part of raw) n += part.length + 2
  return n + 2
}

/** `headers` as a plain object of its string keys. */
function plainHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {}
  for (const name in headers) out[name] = headers[name]
  return out
}
