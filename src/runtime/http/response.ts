import type { IncomingHttpHeaders } from 'node:http'

/** How long parts of a request took, in milliseconds. */
export interface ResponseTimings {
  /** From handing the request to the connection pool to the response headers (includes waiting for a connection, connecting and sending). */
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
  /** The HTTP status, or 0 when no response arrived. */
  readonly status: number
  /** Response headers, lower-cased; empty when no response arrived. */
  readonly headers: IncomingHttpHeaders
  /** Body bytes received. */
  readonly bytes: number
  /**
   * Why no usable response arrived, as a stable code (docs/http.md#errors), e.g.
   * `ECONNREFUSED`, `INCOMPLETE_RESPONSE`; undefined when one did, also for an unexpected status.
   */
  readonly error: string | undefined
  /** False when the status was not one the request expected, or no response arrived. */
  readonly ok: boolean
  readonly #origin: string
  readonly #path: string
  readonly #startedAt: number
  readonly #headersAt: number
  readonly #endedAt: number
  readonly #chunks: Buffer[] | undefined

  /** @internal Made by the HTTP client; scenarios only read responses. */
  constructor(
    origin: string,
    path: string,
    status: number,
    headers: IncomingHttpHeaders,
    bytes: number,
    startedAt: number,
    headersAt: number,
    endedAt: number,
    error: string | undefined,
    ok: boolean,
    chunks: Buffer[] | undefined,
  ) {
    this.#origin = origin
    this.#path = path
    this.status = status
    this.headers = headers
    this.bytes = bytes
    this.#startedAt = startedAt
    this.#headersAt = headersAt
    this.#endedAt = endedAt
    this.error = error
    this.ok = ok
    this.#chunks = chunks
  }

  /** The URL that was requested. */
  get url(): string {
    return `${this.#origin}${this.#path}`
  }

  get timings(): ResponseTimings {
    return {
      waiting: this.#headersAt - this.#startedAt,
      receiving: this.#endedAt - this.#headersAt,
      duration: this.#endedAt - this.#startedAt,
    }
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
