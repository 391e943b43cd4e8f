import { performance } from 'node:perf_hooks'
import { clearTimeout, setTimeout } from 'node:timers'
import type { IncomingMessage } from 'node:http'
import { type RawData, WebSocket } from 'ws'
import { expectKnownKeys, invalid, isPlainObject, toJson } from '../../core/validate.ts'
import { httpErrorCode } from '../http/error-codes.ts'
import type { ScenarioMetrics } from '../metrics/scenario-metrics.ts'
import { Inbox } from './ws-inbox.ts'
import type { WsSeries } from './ws-metrics.ts'
import type { WaitOptions } from './ws-wait.ts'

/** A received message: a string for a text frame, a Buffer for a binary one. */
export type WsMessage = string | Buffer

/** What `send()` takes: text, bytes (sent as a binary frame), or `{ json }` sent as text. */
export type WsSendData = string | Uint8Array | { json: unknown }

/** Why a connection failed to open, also recorded in `errors{action: 'ws.connect'}`. */
export interface WsConnectError {
  /** `ECONNREFUSED`, `WS_UNEXPECTED_RESPONSE`, `WS_CONNECT_TIMEOUT`, `WS_HANDSHAKE_FAILED`, … */
  readonly code: string
  readonly message: string
  /** The HTTP status the server answered the upgrade with, for `WS_UNEXPECTED_RESPONSE`. */
  readonly status?: number
}

/** @internal What a connection is opened with; `WsClient.connect` works it out. */
export interface ConnectionInit {
  readonly name: string
  readonly url: string
  readonly metrics: ScenarioMetrics
  readonly series: WsSeries
  /** Set when the session is cut off; a plain field, as reading a composite AbortSignal's `aborted` costs a refresh. */
  readonly cut: CutOff
  readonly headers: Record<string, string>
  readonly protocols: string[]
  readonly timeoutMs: number
  readonly perMessageDeflate: boolean
  /** Skip TLS certificate verification (the load test's `http.insecure`). */
  readonly insecure: boolean
  /** Sees the server's 101 response, for the cookies it sets. */
  readonly onUpgrade?: ((response: IncomingMessage) => void) | undefined
  /** Called once when the connection is done with, however it ended. */
  readonly onFinish: (connection: WsConnection) => void
}

/** @internal Whether, and why, the session that owns a connection was cut off. */
export interface CutOff {
  aborted: boolean
  reason: unknown
}

/** @internal Lets the client cut a connection off when the session is aborted. */
export const ABORT = Symbol('chaperon.ws.abort')

// Past this wait for the server's close frame the socket is destroyed: a session must not hang on a silent server.
const CLOSE_GRACE_MS = 2_000

/**
 * One WebSocket connection of a session. Received messages queue up in order
 * until `recv()` or `awaitRecv()` takes them. Failures of the target are data:
 * a connection that could not open has `ok === false` and its `error`, its
 * sends are dropped and its receives resolve `undefined`; a receive that times
 * out resolves `undefined` too. All of them are recorded as errors.
 */
export class WsConnection {
  /** The connection's name: the `name` option, else the path without its query. Also its metrics' `name` tag. */
  readonly name: string
  /** The `ws://` or `wss://` URL connected to. */
  readonly url: string
  readonly #init: ConnectionInit
  readonly #socket: WebSocket
  readonly #startedAt = performance.now()
  readonly #inbox: Inbox
  readonly #opened: Promise<void>
  readonly #closed: Promise<void>
  #settleOpened!: () => void
  #settleClosed!: () => void
  #state: 'connecting' | 'open' | 'closing' | 'closed' = 'connecting'
  #error: WsConnectError | undefined
  #endedBy: 'scenario' | 'remote' | 'abort' | undefined
  #errored = false
  #timer: NodeJS.Timeout | undefined

  /** @internal Connections are opened by `s.ws.connect()`. */
  constructor(init: ConnectionInit) {
    this.name = init.name
    this.url = init.url
    this.#init = init
    this.#inbox = new Inbox(init.name, init.metrics, init.series)
    this.#opened = new Promise((resolve) => (this.#settleOpened = resolve))
    this.#closed = new Promise((resolve) => (this.#settleClosed = resolve))
    this.#socket = new WebSocket(init.url, init.protocols, { headers: init.headers, perMessageDeflate: init.perMessageDeflate, followRedirects: false, rejectUnauthorized: !init.insecure })
    this.#socket.binaryType = 'nodebuffer'
    if (init.onUpgrade !== undefined) this.#socket.on('upgrade', init.onUpgrade)
    this.#socket.on('open', () => this.#onOpen())
    this.#socket.on('message', (data: RawData, isBinary: boolean) => this.#onMessage(isBinary ? (data as Buffer) : (data as Buffer).toString()))
    this.#socket.on('unexpected-response', (_req: unknown, res: IncomingMessage) => {
      res.resume()
      this.#fail('WS_UNEXPECTED_RESPONSE', `${this.url} answered the WebSocket upgrade with HTTP ${res.statusCode}, not 101`, res.statusCode)
    })
    // Kept for the socket's whole life: an 'error' without a listener would crash the process.
    this.#socket.on('error', (error: Error) => this.#onError(error))
    this.#socket.on('close', (code: number) => this.#onClose(code))
    this.#timer = setTimeout(() => this.#fail('WS_CONNECT_TIMEOUT', `${this.url} did not complete the WebSocket handshake within ${init.timeoutMs}ms`), init.timeoutMs)
  }

  /** True when the connection opened; false when connecting failed (see `error`). */
  get ok(): boolean {
    return this.#error === undefined
  }

  /** Why the connection could not open; undefined when it opened. */
  get error(): WsConnectError | undefined {
    return this.#error
  }

  /** True while messages can be sent and received. */
  get isOpen(): boolean {
    return this.#state === 'open'
  }

  /** The subprotocol the server chose, or `''`. */
  get protocol(): string {
    return this.#socket.protocol
  }

  /** @internal Settles once the handshake succeeded or failed. */
  get opened(): Promise<void> {
    return this.#opened
  }

  /** @internal Connecting or open: the name is taken. */
  get active(): boolean {
    return this.#state === 'connecting' || this.#state === 'open'
  }

  /**
   * Sends one message: a string as a text frame, bytes as a binary frame,
   * `{ json: value }` as JSON text. On a connection that is not open the
   * message is dropped (recorded as `WS_CLOSED` when the server closed it).
   */
  send(data: WsSendData): void {
    const cut = this.#init.cut
    if (cut.aborted) throw cut.reason
    let payload: string | Uint8Array
    if (typeof data === 'string' || data instanceof Uint8Array) payload = data
    else if (isPlainObject(data) && data.json !== undefined) {
      expectKnownKeys(data, ['json'], 'ws.send()')
      payload = toJson(data.json, 'ws.send({ json })')
    } else throw invalid('ws.send(data)', "a string, a Uint8Array (or Buffer), or { json: value }, such as ws.send({ json: { type: 'join' } })", data)
    if (this.#state !== 'open') {
      this.#lost('ws.send')
      return
    }
    this.#socket.send(payload)
    this.#init.series.messageSent()
  }

  /**
   * The next received message, oldest first: a string (text frame) or a Buffer
   * (binary frame), or the parsed value with `{ json: true }`. Resolves
   * `undefined` after the timeout (recorded as `WS_RECV_TIMEOUT`), or when the
   * connection is not open and nothing is left in its queue.
   */
  recv(options?: WaitOptions & { json?: false }): Promise<WsMessage | undefined>
  recv<T = unknown>(options: WaitOptions & { json: true }): Promise<T | undefined>
  recv(options?: WaitOptions): Promise<unknown> {
    return this.#wait('ws.recv', undefined, options)
  }

  /**
   * Takes messages until one matches and resolves with it; the others are
   * dropped. `match` is a string (equal to a text message), a predicate, or with
   * `{ json: true }` a value compared deeply with each parsed message (messages
   * that are not JSON never match). Times out like `recv()`, as `WS_RECV_TIMEOUT`.
   */
  awaitRecv(match: string | ((message: WsMessage) => unknown), options?: WaitOptions & { json?: false }): Promise<WsMessage | undefined>
  awaitRecv<T = unknown>(match: ((value: T) => unknown) | T, options: WaitOptions & { json: true }): Promise<T | undefined>
  awaitRecv(match: unknown, options?: WaitOptions): Promise<unknown> {
    if (match === undefined) return Promise.reject(invalid('ws.awaitRecv(match)', "a string, a predicate such as (msg) => msg.startsWith('done'), or with { json: true } a value", match))
    return this.#wait('ws.awaitRecv', match, options)
  }

  /**
   * Closes the connection (default code 1000) and resolves once it is closed;
   * a server that does not answer the close within 2 s has its socket destroyed.
   */
  close(code = 1000, reason = ''): Promise<void> {
    if (code !== 1000 && !(Number.isInteger(code) && code >= 3000 && code <= 4999)) return Promise.reject(invalid('ws.close(code)', '1000 or an integer from 3000 to 4999', code))
    if (typeof reason !== 'string' || Buffer.byteLength(reason) > 123) return Promise.reject(invalid('ws.close(code, reason)', 'a string of at most 123 bytes', reason))
    if (this.#state === 'connecting' || this.#state === 'open') {
      this.#endedBy ??= 'scenario'
      if (this.#state === 'connecting') {
        this.#fail('WS_CLOSED', `${this.url} was closed by the scenario before it opened`)
      } else {
        this.#state = 'closing'
        this.#socket.close(code, reason)
        this.#timer = setTimeout(() => this.#socket.terminate(), CLOSE_GRACE_MS)
      }
    }
    return this.#closed
  }

  /** @internal The session was cut off: drop the socket and reject every pending receive. */
  [ABORT](reason: unknown): void {
    if (this.#state === 'closed') return
    this.#endedBy = 'abort'
    this.#inbox.abortAll(reason)
    this.#socket.terminate()
    this.#finish()
  }

  #wait(action: 'ws.recv' | 'ws.awaitRecv', match: unknown, options: WaitOptions | undefined): Promise<unknown> {
    const cut = this.#init.cut
    if (cut.aborted) return Promise.reject(cut.reason)
    const waiting = this.#inbox.wait(action, match, options, this.#state === 'open')
    if (waiting !== undefined) return waiting
    this.#lost(action)
    return Promise.resolve(undefined)
  }

  #onOpen(): void {
    if (this.#state !== 'connecting') return
    clearTimeout(this.#timer)
    this.#timer = undefined
    this.#state = 'open'
    this.#init.series.opened((performance.now() - this.#startedAt) * 1000)
    this.#settleOpened()
  }

  #onMessage(message: WsMessage): void {
    if (this.#state === 'closed') return
    this.#init.series.messageReceived()
    this.#inbox.deliver(message)
  }

  #onError(error: Error): void {
    if (this.#state === 'closed') return
    // Node's codes normalised as for HTTP (a failed lookup is always ENOTFOUND); ws's own WS_ERR_* kept.
    const code = typeof (error as { code?: unknown }).code === 'string' ? httpErrorCode(error, false) : undefined
    if (this.#state === 'connecting') {
      this.#fail(code ?? 'WS_HANDSHAKE_FAILED', `${this.url}: ${error.message}`)
      return
    }
    this.#errored = true
    this.#init.metrics.recordError('ws.socket', code ?? 'WS_ERROR', `${this.name}: ${error.message}`)
  }

  #onClose(code: number): void {
    if (this.#state === 'closed') return
    this.#endedBy ??= 'remote'
    // 1006: the TCP connection ended without a close frame; an error event already said why, when there was one.
    if (this.#endedBy === 'remote' && code === 1006 && !this.#errored) {
      this.#init.metrics.recordError('ws.socket', 'WS_ABNORMAL_CLOSURE', `${this.name} was closed without a close frame (1006)`)
    }
    this.#init.series.closed((performance.now() - this.#startedAt) * 1000)
    this.#inbox.closeAll((action) => this.#lost(action))
    this.#finish()
  }

  /** The handshake failed: recorded once, and the connection ends without ever opening. */
  #fail(code: string, message: string, status?: number): void {
    if (this.#state !== 'connecting') return
    this.#error = status === undefined ? { code, message } : { code, message, status }
    if (code !== 'WS_CLOSED') this.#init.metrics.recordError('ws.connect', code, message)
    this.#socket.terminate()
    this.#finish()
  }

  #finish(): void {
    clearTimeout(this.#timer)
    this.#state = 'closed'
    this.#settleOpened()
    this.#settleClosed()
    this.#init.onFinish(this)
  }

  /** A send or receive found the connection gone; worth an error only when the server took it away. */
  #lost(action: string): void {
    if (this.#endedBy === 'remote') this.#init.metrics.recordError(action, 'WS_CLOSED', `${this.name} was closed by the server`)
  }
}
