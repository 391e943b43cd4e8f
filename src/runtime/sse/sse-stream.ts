import { performance } from 'node:perf_hooks'
import { clearTimeout, setTimeout } from 'node:timers'
import type { IncomingHttpHeaders } from 'node:http'
import { Client, type Dispatcher } from 'undici'
import { timerMs } from '../../core/duration.ts'
import type { SessionCookies } from '../http/cookies.ts'
import { h2Options } from '../http/client.ts'
import { httpErrorCode, statusErrorCode } from '../http/error-codes.ts'
import type { ScenarioMetrics } from '../metrics/scenario-metrics.ts'
import { MessageQueue } from '../ws/message-queue.ts'
import { type CheckedSseOptions, isHeaderValue } from './sse-options.ts'
import type { SseSeries } from './sse-metrics.ts'
import { type ParsedEvent, SseParser } from './sse-parser.ts'

/** One event of a stream, as `for await (const event of s.sse(path))` yields it. */
export interface SseEvent extends ParsedEvent {
  /** Milliseconds from the open of the connection that delivered the event (its response headers) to its arrival: its `sse_event_duration`. */
  readonly elapsed: number
  /** How many reconnections came before the connection that delivered the event; 0 on the first. */
  readonly reconnects: number
}

/** Why a stream failed, also recorded in `errors{action: 'sse.connect' | 'sse.stream'}`. */
export interface SseError {
  /** `HTTP_503`, `SSE_UNEXPECTED_CONTENT_TYPE`, `SSE_CONNECT_TIMEOUT`, `ECONNREFUSED`, `INCOMPLETE_RESPONSE`, … */
  readonly code: string
  readonly message: string
  /** The HTTP status of a response that was not a stream. */
  readonly status?: number
}

/** @internal What a stream needs from its session. */
export interface SseScope {
  /** The load test's default headers, lower-case, `user-agent` included. */
  readonly headers: Readonly<Record<string, string>>
  /** The load test's `http.insecure`: skip TLS certificate verification. */
  readonly insecure: boolean
  /** The session's cookie jar: its cookies go with each request, and the responses' `Set-Cookie` into it. */
  readonly cookies: SessionCookies
  readonly metrics: ScenarioMetrics
  readonly series: SseSeries
  /** Aborted when the session ends early: the stream ends and its loop throws the reason. */
  readonly signal: AbortSignal
  /** A dry run's mocks, which answer the stream instead of a connection of its own. */
  readonly dispatcher: Dispatcher | undefined
  /** The load test's `http.version`: 2 offers h2 over TLS and speaks h2c on `http://`. */
  readonly version: 1 | 2
  /** The session's streams that are open: the session closes them when it ends. */
  readonly open: Set<SseStream>
}

/** How one connection ended: reconnect or not, and the failure that ended it, if one did. */
interface Attempt {
  again: boolean
  failure?: SseError | undefined
}

interface Waiter {
  resolve: (result: IteratorResult<SseEvent, undefined>) => void
  reject: (reason: unknown) => void
}

// An event that never ends (no blank line) must not fill the generator's memory.
const MAX_EVENT_CHARS = 16 * 1024 * 1024
// Past this many events nobody took, reading pauses until the loop has taken half of them.
const HIGH_WATER = 1024
const DONE: IteratorResult<SseEvent, undefined> = Object.freeze({ value: undefined, done: true })
/** Passed to the connection's destroy when the stream stops; never recorded. */
const STOPPED = new Error('the stream was stopped')
const noop = (): void => {}

/**
 * A Server-Sent Events stream, as `s.sse()` returns it: an async iterable of
 * its events that connects on the first `next()`, reconnects as the HTML
 * standard says (after the `retry` time, with `Last-Event-ID`), and ends when
 * the loop breaks, at `maxEvents` or `duration`, when the server answers 204
 * or something other than an event stream, when its reconnections are spent,
 * or when the session is cut off. Failures of the target are data: recorded
 * as errors, and the last one that ended the stream is `error`.
 */
export class SseStream implements AsyncIterableIterator<SseEvent, undefined> {
  /** The stream's name: the `name` option, else the path without its query. Also its metrics' `name` tag. */
  readonly name: string
  /** The URL requested. */
  readonly url: string
  readonly #options: CheckedSseOptions
  readonly #scope: SseScope
  readonly #queue = new MessageQueue<SseEvent>()
  readonly #waiters: Waiter[] = []
  #state: 'new' | 'running' | 'ended' = 'new'
  /** Set once the stream should end; the connection in flight is being destroyed. */
  #stopping = false
  /** Set when the session was cut off: `next()` rejects with the reason. */
  #cut: { reason: unknown } | undefined
  #ended: Promise<void> = Promise.resolve()
  /** Ends the current connection: destroys its client, or aborts its request to a dry run's mocks. */
  #hangUp: (() => Promise<void>) | undefined
  #controller: Dispatcher.DispatchController | undefined
  #deadline: NodeJS.Timeout | undefined
  #wake: (() => void) | undefined
  #received = 0
  #status = 0
  #error: SseError | undefined
  #lastEventId: string
  #retryMs: number
  #reconnects = 0

  /** @internal Streams are made by `s.sse()`. */
  constructor(options: CheckedSseOptions, scope: SseScope) {
    this.name = options.name
    this.url = options.url.href
    this.#options = options
    this.#scope = scope
    this.#lastEventId = options.lastEventId
    this.#retryMs = options.retryMs
  }

  /** The status of the last response: 200 while streaming, 204 when the server said to stop, 0 before any. */
  get status(): number {
    return this.#status
  }

  /** The failure that ended the stream, if one did; also recorded in `errors`. */
  get error(): SseError | undefined {
    return this.#error
  }

  /** The last event ID: sent as `Last-Event-ID` when reconnecting. */
  get lastEventId(): string {
    return this.#lastEventId
  }

  /** Reconnections made so far. */
  get reconnects(): number {
    return this.#reconnects
  }

  /** The stream is its own iterator, so it is iterated once: a second loop gets what the first left. */
  [Symbol.asyncIterator](): this {
    return this
  }

  /** The next event; connects on the first call. Rejects with the session's abort reason once it is cut off. */
  next(): Promise<IteratorResult<SseEvent, undefined>> {
    if (this.#state === 'new') this.#start()
    if (this.#cut !== undefined) return Promise.reject(this.#cut.reason)
    const event = this.#queue.shift()
    if (event !== undefined) {
      if (this.#controller?.paused === true && this.#queue.size <= HIGH_WATER / 2) this.#controller.resume()
      return Promise.resolve({ value: event, done: false })
    }
    if (this.#state === 'ended') return Promise.resolve(DONE)
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }))
  }

  /** Called when a `for await` loop ends early (`break`, `return`, a throw): closes the stream. */
  async return(): Promise<IteratorResult<SseEvent, undefined>> {
    await this.close()
    return DONE
  }

  /** Ends the stream and resolves once its connection is closed. Events already received can still be taken. */
  close(): Promise<void> {
    if (this.#state === 'new') this.#state = 'ended'
    this.#stop()
    return this.#ended
  }

  #start(): void {
    this.#state = 'running'
    const { signal } = this.#scope
    if (signal.aborted) {
      this.#cut = { reason: signal.reason }
      this.#state = 'ended'
      return
    }
    signal.addEventListener('abort', this.#onAbort, { once: true })
    this.#scope.open.add(this)
    if (this.#options.durationMs !== undefined) this.#deadline = setTimeout(() => this.#stop(), this.#options.durationMs)
    this.#ended = this.#run()
  }

  readonly #onAbort = (): void => {
    this.#cut = { reason: this.#scope.signal.reason }
    for (const waiter of this.#waiters.splice(0)) waiter.reject(this.#cut.reason)
    this.#stop()
  }

  /** Connects, and reconnects after each end until something stops it or the reconnections are spent. */
  async #run(): Promise<void> {
    for (;;) {
      const attempt = await this.#connect()
      if (this.#stopping || !attempt.again) break
      if (this.#reconnects >= this.#options.maxReconnects) {
        this.#error = attempt.failure
        break
      }
      await this.#sleep(this.#retryMs)
      if (this.#stopping) break
      this.#reconnects++
      this.#scope.series.reconnected()
    }
    this.#state = 'ended'
    clearTimeout(this.#deadline)
    this.#scope.open.delete(this)
    this.#scope.signal.removeEventListener('abort', this.#onAbort)
    for (const waiter of this.#waiters.splice(0)) waiter.resolve(DONE)
  }

  #stop(): void {
    if (this.#stopping) return
    this.#stopping = true
    clearTimeout(this.#deadline)
    this.#wake?.()
    this.#hangUp?.().catch(noop)
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer)
        this.#wake = undefined
        resolve()
      }
      const timer = setTimeout(done, ms)
      this.#wake = done
    })
  }

  /** One connection, from the request to the end of its response. */
  #connect(): Promise<Attempt> {
    const { url } = this
    const options = this.#options
    const scope = this.#scope
    const startedAt = performance.now()
    const parser = new SseParser(this.#lastEventId)
    // One client per connection: destroying it is the one way to stop a connect still under way.
    // A dry run's mocks are shared: aborting the request is enough to stop it.
    const own = scope.dispatcher === undefined ? new Client(options.url.origin, { connect: { rejectUnauthorized: !scope.insecure, timeout: 0, ...h2Options(scope.version) }, ...h2Options(scope.version), headersTimeout: 0, bodyTimeout: 0 } as Client.Options) : undefined
    let request: Dispatcher.DispatchController | undefined
    const hangUp = async (): Promise<void> => {
      if (own !== undefined) await own.destroy(STOPPED)
      else request?.abort(STOPPED)
    }
    this.#hangUp = hangUp
    let opened = false
    /** When the stream opened (its response headers arrived): each event's `sse_event_duration` counts from there. */
    let openedAt = 0
    let settled = false
    return new Promise<Attempt>((resolve) => {
      const settle = (attempt: Attempt): void => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        this.#hangUp = undefined
        this.#controller = undefined
        // Hanging up ends the socket (or the mocked request) and sends the request in flight, if any, to onResponseError.
        hangUp().then(() => resolve(attempt), () => resolve(attempt))
      }
      const fail = (action: string, again: boolean, code: string, message: string, status?: number): void => {
        const failure: SseError = status === undefined ? { code, message } : { code, message, status }
        scope.metrics.recordError(action, code, message)
        if (!again) this.#error = failure
        settle({ again, failure })
      }
      const timer = setTimeout(() => fail('sse.connect', true, 'SSE_CONNECT_TIMEOUT', `${url} did not answer with response headers within ${options.timeoutMs}ms`), options.timeoutMs)
      const handler: Dispatcher.DispatchHandler = {
        onRequestStart: (controller) => {
          request = controller
        },
        onResponseStart: (controller, status, headers) => {
          // An interim response (103 Early Hints) is not the answer.
          if (status < 200) return
          clearTimeout(timer)
          this.#status = status
          const setCookie = headers['set-cookie']
          if (setCookie !== undefined) scope.cookies.store(url, setCookie)
          // The spec fails the connection for any status but 200; 204 is the server's way of saying the stream is over.
          if (status === 204) return settle({ again: false })
          if (status !== 200) return fail('sse.connect', false, statusErrorCode(status), `${url} answered HTTP ${status}, not 200 with an event stream`, status)
          const type = contentType(headers)
          if (type !== 'text/event-stream') return fail('sse.connect', false, 'SSE_UNEXPECTED_CONTENT_TYPE', `${url} answered with content-type ${type === '' ? 'none' : `'${type}'`}, not 'text/event-stream'`)
          opened = true
          openedAt = performance.now()
          this.#controller = controller
          scope.series.opened((openedAt - startedAt) * 1000)
        },
        onResponseData: (controller, chunk) => {
          if (!opened || settled) return
          const arrivedAt = performance.now()
          for (const event of parser.push(chunk)) this.#deliver(event, arrivedAt, openedAt)
          if (this.#stopping) return
          this.#lastEventId = parser.lastEventId
          // A server's retry may be any number of ms; timers take 2^31 - 1 at most.
          if (parser.retry !== undefined) this.#retryMs = timerMs(parser.retry)
          if (parser.buffered > MAX_EVENT_CHARS) return fail('sse.stream', false, 'SSE_EVENT_TOO_LARGE', `${this.name} sent an event of more than ${MAX_EVENT_CHARS} characters`)
          if (this.#queue.size >= HIGH_WATER) controller.pause()
        },
        onResponseEnd: () => settle({ again: true }),
        onResponseError: (_controller, error) => {
          if (settled) return
          if (this.#stopping) return settle({ again: false })
          // Before the stream opened, a network error is a failed connect; the spec reconnects after both.
          fail(opened ? 'sse.stream' : 'sse.connect', true, httpErrorCode(error, opened), `${url}: ${error.message}`)
        },
      }
      const path = `${options.url.pathname}${options.url.search}`
      ;(own ?? scope.dispatcher!).dispatch({ origin: options.url.origin, path, method: 'GET', headers: this.#headers() }, handler)
    })
  }

  /** The request's headers: the defaults, the stream's own, the session's cookies and the last event ID. */
  #headers(): Record<string, string> {
    const headers: Record<string, string> = { ...this.#scope.headers, accept: 'text/event-stream', 'cache-control': 'no-cache', ...this.#options.headers }
    // The load test's defaults must not ask for a compressed stream (it is read as it comes, not decoded), nor resume from their own id.
    if (this.#options.headers['accept-encoding'] === undefined) delete headers['accept-encoding']
    delete headers['last-event-id']
    // Sent as UTF-8, which a header value carries as bytes; an id with control characters cannot be sent, and is not.
    const lastEventId = Buffer.from(this.#lastEventId).toString('latin1')
    if (lastEventId !== '' && isHeaderValue(lastEventId)) headers['last-event-id'] = lastEventId
    const jar = this.#scope.cookies
    if (jar.active) {
      const cookie = jar.header(this.url, headers.cookie)
      if (cookie !== undefined) headers.cookie = cookie
    }
    return headers
  }

  #deliver(parsed: ParsedEvent, arrivedAt: number, openedAt: number): void {
    if (this.#stopping) return
    const us = (arrivedAt - openedAt) * 1000
    this.#scope.series.event(us)
    this.#lastEventId = parsed.id
    const event: SseEvent = { type: parsed.type, data: parsed.data, id: parsed.id, elapsed: us / 1000, reconnects: this.#reconnects }
    const waiter = this.#waiters.shift()
    if (waiter !== undefined) waiter.resolve({ value: event, done: false })
    else this.#queue.push(event)
    if (++this.#received >= this.#options.maxEvents) this.#stop()
  }
}

/** The essence of the response's content type, lower-case, without parameters such as `charset`. */
function contentType(headers: IncomingHttpHeaders): string {
  const value = headers['content-type']
  return (typeof value === 'string' ? value : '').split(';')[0]!.trim().toLowerCase()
}
