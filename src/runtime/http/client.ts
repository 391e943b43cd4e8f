import type { IncomingHttpHeaders } from 'node:http'
import { performance } from 'node:perf_hooks'
import { Pool, type Dispatcher } from 'undici'
import { ChaperonError } from '../../core/errors.ts'
import { VERSION } from '../../core/version.ts'

/** A request as the client sends it: absolute target, final headers, encoded body. */
export interface OutgoingRequest {
  method: string
  /** A path with query, joined to the base URL, or an absolute URL. */
  path: string
  headers: Record<string, string> | undefined
  body: string | Uint8Array | undefined
  timeoutMs: number
  /** Keep the body chunks for `text()`/`json()`. */
  keepBody: boolean
  /** Requests in flight of the caller's scenario, so a hard stop can abort them. */
  inflight: Set<Dispatcher.DispatchController>
}

/** What came back: a response, or the error that stopped one from arriving. */
export interface RequestOutcome {
  url: string
  status: number
  headers: IncomingHttpHeaders
  chunks: Buffer[] | undefined
  bytesSent: number
  bytesReceived: number
  bodyBytes: number
  startedAt: number
  headersAt: number
  endedAt: number
  error: Error | undefined
}

const SCHEME = /^[a-z][a-z\d+.-]*:\/\//i
const EMPTY_HEADERS: IncomingHttpHeaders = Object.freeze({}) as IncomingHttpHeaders

/**
 * Sends the requests of one load test: one undici pool per origin, capped at
 * `connections`, on the low-level `dispatch` API so the hot path allocates little.
 * Bodies are always read to the end so connections are reused.
 */
export class HttpClient {
  readonly #pools = new Map<string, Pool>()
  readonly #connections: number
  readonly #baseOrigin: string | undefined
  readonly #basePath: string
  readonly #headers: Record<string, string>
  #closed = false

  constructor(options: { baseUrl: URL | undefined; connections: number; headers: Record<string, string> }) {
    this.#connections = options.connections
    this.#baseOrigin = options.baseUrl?.origin
    this.#basePath = options.baseUrl === undefined ? '' : options.baseUrl.pathname.replace(/\/$/, '')
    this.#headers = { 'user-agent': `chaperon/${VERSION}`, accept: '*/*', ...lowerCaseKeys(options.headers) }
  }

  /** The headers sent with every request, lower-cased. */
  get defaultHeaders(): Readonly<Record<string, string>> {
    return this.#headers
  }

  send(req: OutgoingRequest): Promise<RequestOutcome> {
    let origin: string
    let path: string
    if (SCHEME.test(req.path)) {
      const url = new URL(req.path)
      origin = url.origin
      path = `${url.pathname}${url.search}`
    } else if (this.#baseOrigin !== undefined) {
      origin = this.#baseOrigin
      path = `${this.#basePath}${req.path.startsWith('/') ? '' : '/'}${req.path}`
    } else {
      throw new ChaperonError(
        'CHAPERON_NO_TARGET',
        `Cannot request "${req.path}": the load test has no baseUrl. Set loadTest({ baseUrl: 'http://host:port' }) or request an absolute URL.`,
      )
    }
    if (this.#closed) return Promise.resolve(abortedOutcome(origin + path))
    const headers = req.headers === undefined ? this.#headers : { ...this.#headers, ...lowerCaseKeys(req.headers) }
    const bytesSent = requestBytes(req.method, path, origin, headers, req.body)
    return new Promise((resolve) => {
      const handler = new OutcomeHandler(`${origin}${path}`, bytesSent, req.keepBody, req.inflight, resolve)
      this.#pool(origin).dispatch(
        {
          origin,
          path,
          method: req.method as Dispatcher.HttpMethod,
          headers,
          body: req.body ?? null,
          headersTimeout: req.timeoutMs,
          bodyTimeout: req.timeoutMs,
        },
        handler,
      )
    })
  }

  /** Ends every connection; requests in flight fail with `UND_ERR_DESTROYED`. */
  async close(): Promise<void> {
    this.#closed = true
    const pools = [...this.#pools.values()]
    this.#pools.clear()
    await Promise.all(pools.map((p) => p.destroy()))
  }

  #pool(origin: string): Pool {
    let pool = this.#pools.get(origin)
    if (pool === undefined) {
      pool = new Pool(origin, { connections: this.#connections, pipelining: 1 })
      this.#pools.set(origin, pool)
    }
    return pool
  }
}

class OutcomeHandler implements Dispatcher.DispatchHandler {
  readonly #resolve: (outcome: RequestOutcome) => void
  readonly #url: string
  readonly #chunks: Buffer[] | undefined
  readonly #startedAt = performance.now()
  readonly #bytesSent: number
  readonly #inflight: Set<Dispatcher.DispatchController>
  #controller: Dispatcher.DispatchController | undefined
  #status = 0
  #headers: IncomingHttpHeaders = EMPTY_HEADERS
  #headerBytes = 0
  #bodyBytes = 0
  #headersAt = 0

  constructor(url: string, bytesSent: number, keepBody: boolean, inflight: Set<Dispatcher.DispatchController>, resolve: (outcome: RequestOutcome) => void) {
    this.#url = url
    this.#bytesSent = bytesSent
    this.#chunks = keepBody ? [] : undefined
    this.#inflight = inflight
    this.#resolve = resolve
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller
    this.#inflight.add(controller)
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    this.#headersAt = performance.now()
    this.#status = statusCode
    this.#headers = headers
    this.#headerBytes = rawHeaderBytes(controller.rawHeaders)
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.#bodyBytes += chunk.length
    this.#chunks?.push(chunk)
  }

  onResponseEnd(): void {
    this.#finish(undefined)
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.#finish(error)
  }

  #finish(error: Error | undefined): void {
    const endedAt = performance.now()
    if (this.#controller !== undefined) this.#inflight.delete(this.#controller)
    this.#resolve({
      url: this.#url,
      status: error === undefined ? this.#status : 0,
      headers: this.#headers,
      chunks: this.#chunks,
      bytesSent: this.#bytesSent,
      bytesReceived: this.#headerBytes + this.#bodyBytes,
      bodyBytes: this.#bodyBytes,
      startedAt: this.#startedAt,
      headersAt: this.#headersAt === 0 ? endedAt : this.#headersAt,
      endedAt,
      error,
    })
  }
}

function abortedOutcome(url: string): RequestOutcome {
  const now = performance.now()
  const error = Object.assign(new Error('the load test is stopping'), { code: 'UND_ERR_DESTROYED' })
  return { url, status: 0, headers: EMPTY_HEADERS, chunks: undefined, bytesSent: 0, bytesReceived: 0, bodyBytes: 0, startedAt: now, headersAt: now, endedAt: now, error }
}

function lowerCaseKeys(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const k in headers) out[k.toLowerCase()] = headers[k]!
  return out
}

/** Bytes of the request line, headers and body as HTTP/1.1 puts them on the wire. */
function requestBytes(method: string, path: string, origin: string, headers: Record<string, string>, body: string | Uint8Array | undefined): number {
  // "METHOD path HTTP/1.1\r\n" + "host: …\r\n" + "connection: keep-alive\r\n" + "\r\n"
  let n = method.length + path.length + 11 + 8 + origin.length - origin.indexOf('//') - 2 + 24 + 2
  for (const k in headers) n += k.length + headers[k]!.length + 4
  if (body !== undefined) {
    const len = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength
    n += len + 18 + String(len).length // content-length header
  }
  return n
}

/** Bytes of the status line and headers; undici hands them as alternating name/value buffers. */
function rawHeaderBytes(raw: Dispatcher.DispatchController['rawHeaders']): number {
  let n = 17 // "HTTP/1.1 200 OK\r\n", close enough for a status line
  if (Array.isArray(raw)) for (const part of raw) n += part.length + 2
  return n + 2
}
