import type { IncomingHttpHeaders } from 'node:http'

/** How long parts of a request took, in milliseconds. */
export interface ResponseTimings {
  /** From handing the request to the connection pool to the response headers (includes connecting and sending). */
  waiting: number
  /** From the response headers to the end of the body. */
  receiving: number
  /** The whole request: `waiting + receiving`. */
  duration: number
}

/**
 * A response as a scenario sees it. The body is always read to the end, so
 * connections are reused; `text()` and `json()` decode it on demand.
 * A request that got no response has `status` 0 and an `error`.
 */
export class Response {
  /** The URL that was requested. */
  readonly url: string
  /** The HTTP status, or 0 when no response arrived. */
  readonly status: number
  readonly headers: IncomingHttpHeaders
  /** Body bytes received. */
  readonly bytes: number
  readonly timings: ResponseTimings
  /** Why no response arrived, e.g. `ECONNREFUSED`, `UND_ERR_HEADERS_TIMEOUT`; undefined when one did. */
  readonly error: string | undefined
  /** False when the status was not one the request expected, or no response arrived. */
  readonly ok: boolean
  readonly #chunks: Buffer[] | undefined

  /** @internal Made by the session; scenarios only read responses. */
  constructor(init: {
    url: string
    status: number
    headers: IncomingHttpHeaders
    bytes: number
    timings: ResponseTimings
    error: string | undefined
    ok: boolean
    chunks: Buffer[] | undefined
  }) {
    this.url = init.url
    this.status = init.status
    this.headers = init.headers
    this.bytes = init.bytes
    this.timings = init.timings
    this.error = init.error
    this.ok = init.ok
    this.#chunks = init.chunks
  }

  /** The body decoded as UTF-8. Empty when the request set `discardBody`. */
  text(): string {
    const chunks = this.#chunks
    if (chunks === undefined || chunks.length === 0) return ''
    return (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString('utf8')
  }

  /** The body parsed as JSON. Throws a SyntaxError, which fails the iteration, when it is not JSON. */
  json<T = unknown>(): T {
    return JSON.parse(this.text()) as T
  }
}
