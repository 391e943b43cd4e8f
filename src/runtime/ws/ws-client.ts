import type { Duration } from '../../core/duration.ts'
import { ChaperonError, didYouMean } from '../../core/errors.ts'
import { expectBoolean, expectKnownKeys, expectObject, expectStringRecord, invalid } from '../../core/validate.ts'
import type { SessionCookies } from '../http/cookies.ts'
import { lowerCaseKeys, pathWithoutQuery, SCHEME } from '../http/paths.ts'
import type { ScenarioMetrics } from '../metrics/scenario-metrics.ts'
import { activeMetrics } from '../metrics/user-metrics.ts'
import { ABORT, type CutOff, WsConnection } from './ws-connection.ts'
import { wsSeries } from './ws-metrics.ts'
import { timeoutMs } from './ws-wait.ts'

/** What a session's WebSocket client needs from the session. */
export interface WsScope {
  /** Relative paths are joined to it, with `http:` → `ws:` and `https:` → `wss:`. */
  readonly baseUrl: URL | undefined
  /** Aborted when the session is cut off: every socket is dropped and pending receives reject. */
  readonly signal: AbortSignal
  readonly metrics: ScenarioMetrics
  /** The load test's default headers, lower-case, `user-agent` included; sent with every handshake. */
  readonly headers: Readonly<Record<string, string>>
  /** The session's cookie jar: its cookies for the URL go with each handshake, as a browser sends them. */
  readonly cookies: SessionCookies
  /** The load test's `http.insecure`: skip TLS certificate verification for `wss://` too. */
  readonly insecure: boolean
}

/** Options of `s.ws.connect()`. */
export interface WsConnectOptions {
  /**
   * The connection's name, for `s.ws.get(name)` and the `name` tag of its metrics.
   * @default the path without its query string (an absolute URL keeps its origin)
   */
  name?: string
  /** Extra handshake headers, over the load test's defaults. */
  headers?: Record<string, string>
  /** Subprotocols to offer; the server's choice is `ws.protocol`. */
  protocols?: string | string[]
  /** How long the handshake may take before it is given up as `WS_CONNECT_TIMEOUT`. @default '10s' */
  timeout?: Duration
  /** Offer permessage-deflate compression. Off by default: it costs the generator CPU and memory. @default false */
  perMessageDeflate?: boolean
}

const KNOWN = ['name', 'headers', 'protocols', 'timeout', 'perMessageDeflate'] as const
const WS_SCHEME: Readonly<Record<string, string>> = { 'http:': 'ws:', 'https:': 'wss:', 'ws:': 'ws:', 'wss:': 'wss:' }

/**
 * A session's WebSocket connections, as `s.ws`. Connections stay open across
 * the VU's iterations until they are closed or the session ends. Each
 * connection is known by its name; a name is taken while its connection is open.
 */
export class WsClient {
  readonly #scope: WsScope
  readonly #byName = new Map<string, WsConnection>()
  readonly #live = new Set<WsConnection>()
  readonly #origin: string | undefined
  readonly #basePath: string
  readonly #cut: CutOff = { aborted: false, reason: undefined }

  constructor(scope: WsScope) {
    this.#scope = scope
    const base = scope.baseUrl
    this.#origin = base === undefined ? undefined : `${WS_SCHEME[base.protocol] ?? base.protocol}//${base.host}`
    this.#basePath = base === undefined ? '' : base.pathname.replace(/\/$/, '')
    if (scope.signal.aborted) this.#abortAll()
    else scope.signal.addEventListener('abort', this.#onAbort, { once: true })
  }

  /**
   * Opens a connection and resolves once it is open or has failed; it never
   * rejects for the target's sake. Check `ok`: a failed connection has
   * `ok === false` and `error` (`ECONNREFUSED`, `WS_UNEXPECTED_RESPONSE`,
   * `WS_CONNECT_TIMEOUT`, …), recorded in `errors{action: 'ws.connect'}`.
   * @example
   * const ws = await s.ws.connect('/chat', { name: 'chat', protocols: ['v2'] })
   * ws.send({ json: { type: 'join' } })
   * const welcome = await ws.recv({ json: true })
   */
  async connect(path: string, options: WsConnectOptions = {}): Promise<WsConnection> {
    const cut = this.#cut
    if (cut.aborted) throw cut.reason
    const checked = checkConnectOptions(path, options)
    const { name, where } = checked
    const taken = this.#byName.get(name)
    if (taken?.active === true) {
      throw new ChaperonError(
        'CHAPERON_WS_NAME_IN_USE',
        `A WebSocket connection named "${name}" is already open in this session. Close it first (await s.ws.get(${JSON.stringify(name)}).close()), reuse it with s.ws.get(${JSON.stringify(name)}), or give the new one its own name: s.ws.connect(${JSON.stringify(path)}, { name: '${name}-2' }).`,
      )
    }
    const headers = { ...this.#scope.headers, ...checked.headers }
    const url = this.#url(path)
    // The jar keys cookies by http(s) URL; a handshake to ws(s) is the same origin.
    const cookieUrl = url.replace(/^ws/, 'http')
    const jar = this.#scope.cookies
    if (jar.active) {
      const cookie = jar.header(cookieUrl, headers.cookie)
      if (cookie !== undefined) headers.cookie = cookie
    }
    // A scenario run nested with s.run() shares this client but tags its own connections.
    const metrics = activeMetrics.getStore() ?? this.#scope.metrics
    let connection: WsConnection
    try {
      connection = new WsConnection({
        name,
        url,
        insecure: this.#scope.insecure,
        onUpgrade: (response) => {
          const setCookie = response.headers['set-cookie']
          if (setCookie !== undefined) jar.store(cookieUrl, setCookie)
        },
        metrics,
        series: wsSeries(metrics, name),
        cut,
        headers,
        protocols: checked.protocols,
        timeoutMs: checked.timeoutMs,
        perMessageDeflate: checked.perMessageDeflate,
        onFinish: (c) => this.#live.delete(c),
      })
    } catch (error) {
      // ws checks the URL and subprotocols itself, and throws a SyntaxError for a bad one.
      if (error instanceof SyntaxError) throw new ChaperonError('CHAPERON_INVALID_OPTION', `${where}: ${error.message}.`)
      throw error
    }
    this.#byName.set(name, connection)
    this.#live.add(connection)
    await connection.opened
    if (cut.aborted) throw cut.reason
    return connection
  }

  /** The connection named `name`: its `name` option, else its path without the query. Throws when there is none. */
  get(name: string): WsConnection {
    const connection = this.#byName.get(name)
    if (connection !== undefined) return connection
    const known = [...this.#byName.keys()]
    throw new ChaperonError(
      'CHAPERON_WS_UNKNOWN_CONNECTION',
      known.length === 0
        ? `s.ws.get(${JSON.stringify(name)}): this session has no WebSocket connection yet. Open one first: await s.ws.connect('/path', { name: ${JSON.stringify(name)} }).`
        : `s.ws.get(${JSON.stringify(name)}): no WebSocket connection has that name.${didYouMean(name, known)} Known: ${known.map((k) => JSON.stringify(k)).join(', ')}.`,
    )
  }

  /** True when a connection named `name` is open (or still connecting), so `connect` with that name would throw. */
  has(name: string): boolean {
    return this.#byName.get(name)?.active === true
  }

  /** Closes every connection still open and resolves once all are closed. */
  async closeAll(): Promise<void> {
    await Promise.all([...this.#live].map((c) => c.close()))
  }

  /**
   * @internal The session ended: closes everything and lets go of the session's
   * abort signal, whose listener would otherwise keep this client alive as long
   * as the scenario runs.
   */
  async end(): Promise<void> {
    this.#scope.signal.removeEventListener('abort', this.#onAbort)
    await this.closeAll()
  }

  readonly #onAbort = (): void => this.#abortAll()

  #abortAll(): void {
    const reason = this.#scope.signal.reason
    this.#cut.aborted = true
    this.#cut.reason = reason
    for (const connection of [...this.#live]) connection[ABORT](reason)
  }

  #url(path: string): string {
    if (SCHEME.test(path)) {
      const url = URL.canParse(path) ? new URL(path) : undefined
      const scheme = url === undefined ? undefined : WS_SCHEME[url.protocol]
      if (url === undefined || scheme === undefined) {
        throw new ChaperonError('CHAPERON_INVALID_URL', `Cannot connect to "${path}": an absolute URL must be ws(s) or http(s), such as 'ws://127.0.0.1:3000/chat'.`)
      }
      url.protocol = scheme
      return url.href
    }
    if (this.#origin === undefined) {
      throw new ChaperonError(
        'CHAPERON_NO_TARGET',
        `Cannot connect to "${path}": the load test has no baseUrl. Set loadTest({ baseUrl: 'http://host:port' }) or connect to an absolute URL such as 'ws://host:port${path.startsWith('/') ? '' : '/'}${path}'.`,
      )
    }
    return `${this.#origin}${this.#basePath}${path.startsWith('/') ? '' : '/'}${path}`
  }
}

/** `s.ws.connect()`'s options once checked; `where` names them in later errors. */
interface CheckedConnectOptions {
  name: string
  where: string
  /** Lower-case, to go over the load test's defaults. */
  headers: Record<string, string>
  protocols: string[]
  timeoutMs: number
  perMessageDeflate: boolean
}

/** @internal Checks the path and options of `s.ws.connect()`, before anything is opened. */
export function checkConnectOptions(path: unknown, options: unknown): CheckedConnectOptions {
  if (typeof path !== 'string' || path.length === 0) throw invalid('s.ws.connect(path)', "a path such as '/chat' or a URL such as 'ws://127.0.0.1:3000/chat'", path)
  const where = `s.ws.connect(${JSON.stringify(path)}) options`
  const o = expectObject(options, where, "{ name: 'chat', protocols: ['v2'] }")
  expectKnownKeys(o, KNOWN, where)
  if (o.name !== undefined && (typeof o.name !== 'string' || o.name.length === 0)) throw invalid(`${where}.name`, "a non-empty string such as 'chat'", o.name)
  return {
    name: (o.name as string | undefined) ?? pathWithoutQuery(path),
    where,
    headers: o.headers === undefined ? {} : lowerCaseKeys(expectStringRecord(o.headers, `${where}.headers`, "{ authorization: 'Bearer …' }")),
    protocols: protocols(o.protocols, `${where}.protocols`),
    timeoutMs: timeoutMs(o.timeout, `${where}.timeout`),
    perMessageDeflate: o.perMessageDeflate === undefined ? false : expectBoolean(o.perMessageDeflate, `${where}.perMessageDeflate`),
  }
}

function protocols(value: unknown, where: string): string[] {
  if (value === undefined) return []
  if (typeof value === 'string') return [value]
  if (Array.isArray(value) && value.every((p) => typeof p === 'string')) return value as string[]
  throw invalid(where, "a subprotocol name or an array of them, such as ['chat.v2', 'chat.v1']", value)
}
