import { setTimeout as sleep } from 'node:timers/promises'
import { request } from 'undici'
import { ChaperonError } from '../core/errors.ts'
import { LINE_PRECISION } from './influxdb-line.ts'

/** Where and how to write: an InfluxDB 1.x database or an InfluxDB 2.x (or 3.x) bucket. */
export interface InfluxDbTarget {
  /** The server's base URL, such as `http://localhost:8086`, without credentials or query. */
  url: string
  /** 1 writes to `/write` (InfluxDB 1.x); 2 writes to `/api/v2/write` (InfluxDB 2.x and 3.x). */
  version: 1 | 2
  /** 1.x: the database. */
  database?: string | undefined
  /** 1.x: sent with `password` as HTTP basic auth. */
  username?: string | undefined
  password?: string | undefined
  /** 2.x: the organization (`org=`). */
  org?: string | undefined
  /** 2.x: the bucket (`bucket=`). */
  bucket?: string | undefined
  /** 2.x: the API token, sent as `Authorization: Token …`. */
  token?: string | undefined
}

/** A target plus how to send to it. */
export interface InfluxDbClientOptions extends InfluxDbTarget {
  /** Lines per request. @default 5000 */
  batchSize?: number
  /** How long one request may take, in ms. @default 10000 */
  timeout?: number
  /** Retries of a request after a 5xx, a 429, a network error or a timeout. @default 3 */
  retries?: number
  /** The first retry's delay in ms; each next one doubles it, less up to half at random. @default 250 */
  backoff?: number
}

/** The defaults of {@link InfluxDbClientOptions}. */
export const INFLUXDB_CLIENT_DEFAULTS = Object.freeze({ batchSize: 5000, timeout: 10_000, retries: 3, backoff: 250 })

// Retry-After is honoured up to this long, so a misbehaving proxy cannot hold the run's end.
const MAX_RETRY_AFTER_MS = 30_000
// How much of InfluxDB's error body goes into the message.
const MAX_BODY_CHARS = 500

/** The write endpoint of `target`, with its query: `/write?db=…&precision=ms` (1.x) or `/api/v2/write?org=…&bucket=…&precision=ms` (2.x). */
export function writeUrl(target: InfluxDbTarget): string {
  const base = target.url.replace(/\/+$/, '')
  const query = new URLSearchParams()
  if (target.version === 1) {
    query.set('db', target.database ?? '')
  } else {
    if (target.org !== undefined) query.set('org', target.org)
    query.set('bucket', target.bucket ?? '')
  }
  query.set('precision', LINE_PRECISION)
  return `${base}${target.version === 1 ? '/write' : '/api/v2/write'}?${query}`
}

/** `url` safe to print: user info and any `p`, `password` or `token` query parameter replaced by `***`. */
export function redactUrl(url: string): string {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return url
  }
  if (parsed.username !== '' || parsed.password !== '') {
    parsed.username = '***'
    parsed.password = ''
  }
  for (const key of ['p', 'password', 'token', 'u']) if (parsed.searchParams.has(key)) parsed.searchParams.set(key, '***')
  return parsed.href
}

/** The request headers for `target`: the content type and its credentials, if any. */
export function writeHeaders(target: InfluxDbTarget): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8' }
  if (target.version === 2 && target.token !== undefined) headers['authorization'] = `Token ${target.token}`
  if (target.version === 1 && (target.username !== undefined || target.password !== undefined)) {
    headers['authorization'] = `Basic ${Buffer.from(`${target.username ?? ''}:${target.password ?? ''}`).toString('base64')}`
  }
  return headers
}

/** The outcome of one attempt that did not succeed. */
interface Failure {
  retry: boolean
  /** What went wrong, for the message: `HTTP 503 Service Unavailable: {"error":…}` or a network error. */
  reason: string
  status?: number
  retryAfterMs?: number
  body?: string
}

/**
 * Writes line protocol to InfluxDB over HTTP, in batches, one request at a
 * time. A request that fails with a 5xx, a 429, a network error or a timeout
 * is retried with exponential backoff and jitter; other 4xx are not. A write
 * that still fails throws `CHAPERON_EXPORT_FAILED`, whose message names the
 * URL (without credentials), the status and InfluxDB's error.
 *
 * With InfluxDB 1.x, a write to a database that does not exist creates it
 * (`CREATE DATABASE`, as k6 does) and is sent again.
 */
export class InfluxDbClient {
  /** The write endpoint, with its query. */
  readonly url: string
  readonly #target: InfluxDbTarget
  readonly #options: Required<Pick<InfluxDbClientOptions, 'batchSize' | 'timeout' | 'retries' | 'backoff'>>
  readonly #headers: Record<string, string>
  #databaseCreated = false

  constructor(options: InfluxDbClientOptions) {
    this.#target = options
    this.#options = {
      batchSize: options.batchSize ?? INFLUXDB_CLIENT_DEFAULTS.batchSize,
      timeout: options.timeout ?? INFLUXDB_CLIENT_DEFAULTS.timeout,
      retries: options.retries ?? INFLUXDB_CLIENT_DEFAULTS.retries,
      backoff: options.backoff ?? INFLUXDB_CLIENT_DEFAULTS.backoff,
    }
    this.url = writeUrl(options)
    this.#headers = writeHeaders(options)
  }

  /** Sends `lines` in batches of `batchSize`, in order; throws CHAPERON_EXPORT_FAILED when a batch cannot be written. */
  async write(lines: readonly string[]): Promise<void> {
    for (let i = 0; i < lines.length; i += this.#options.batchSize) {
      await this.#writeBatch(`${lines.slice(i, i + this.#options.batchSize).join('\n')}\n`)
    }
  }

  async #writeBatch(body: string): Promise<void> {
    const { retries, backoff } = this.#options
    for (let attempt = 0; ; ) {
      const failure = await this.#post(this.url, body)
      if (failure === undefined) return
      if (this.#isMissingDatabase(failure)) {
        // Not a retry: the same write goes again once the database exists.
        this.#databaseCreated = true
        await this.#createDatabase()
        continue
      }
      if (!failure.retry || attempt >= retries) throw this.#error(failure, attempt + 1)
      // Exponential backoff with jitter: between half and all of backoff·2^attempt.
      const delay = backoff * 2 ** attempt * (0.5 + Math.random() / 2)
      await sleep(Math.max(delay, Math.min(failure.retryAfterMs ?? 0, MAX_RETRY_AFTER_MS)))
      attempt++
    }
  }

  /** POSTs `body` once; undefined when InfluxDB took it. */
  async #post(url: string, body: string): Promise<Failure | undefined> {
    const signal = AbortSignal.timeout(this.#options.timeout)
    try {
      const response = await request(url, { method: 'POST', headers: this.#headers, body, signal })
      const text = await response.body.text()
      if (response.statusCode >= 200 && response.statusCode < 300) return undefined
      const retryAfter = Number(response.headers['retry-after'])
      return {
        retry: response.statusCode >= 500 || response.statusCode === 429 || response.statusCode === 408,
        reason: `HTTP ${response.statusCode}${statusText(response.statusCode)}${text.trim() === '' ? '' : `: ${truncate(text.trim())}`}`,
        status: response.statusCode,
        body: text,
        ...(Number.isFinite(retryAfter) && retryAfter >= 0 ? { retryAfterMs: retryAfter * 1000 } : {}),
      }
    } catch (error) {
      if (signal.aborted) return { retry: true, reason: `no answer within ${this.#options.timeout} ms (timeout)` }
      const e = error as NodeJS.ErrnoException
      return { retry: true, reason: e.code === undefined ? e.message : `${e.message} (${e.code})` }
    }
  }

  #isMissingDatabase(failure: Failure): boolean {
    return this.#target.version === 1 && !this.#databaseCreated && failure.status === 404 && /database not found/i.test(failure.body ?? '')
  }

  /** `CREATE DATABASE` is a no-op when the database exists; its failure shows up as the write's own. */
  async #createDatabase(): Promise<void> {
    const query = new URLSearchParams({ q: `CREATE DATABASE "${(this.#target.database ?? '').replace(/["\\]/g, (c) => `\\${c}`)}"` })
    await this.#post(`${this.#target.url.replace(/\/+$/, '')}/query?${query}`, '')
  }

  #error(failure: Failure, attempts: number): ChaperonError {
    const where = redactUrl(this.url)
    const tries = attempts === 1 ? '' : ` after ${attempts} attempts`
    return new ChaperonError('CHAPERON_EXPORT_FAILED', `Writing to InfluxDB at ${where} failed${tries}: ${failure.reason}. ${hint(failure.status, this.#target.version)}`)
  }
}

function hint(status: number | undefined, version: 1 | 2): string {
  if (status === 401 || status === 403) {
    return version === 1 ? "Check the 'influxdb' reporter's username and password." : "Check the 'influxdb' reporter's token (or INFLUXDB_TOKEN) and that it may write to the bucket."
  }
  if (status === 404) return version === 1 ? 'Check the url and database.' : 'Check the url, org and bucket, and that the server is InfluxDB 2.x or later (use version: 1 for 1.x).'
  if (status === 413) return "Lower the 'influxdb' reporter's batchSize."
  if (status === 400) return 'InfluxDB refused the points; if the error is about line protocol, please report it as a chaperon bug.'
  return "Check that InfluxDB runs and is reachable at that address, or raise the 'influxdb' reporter's timeout or retries."
}

const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  408: 'Request Timeout',
  413: 'Payload Too Large',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
}

function statusText(status: number): string {
  const text = STATUS_TEXT[status]
  return text === undefined ? '' : ` ${text}`
}

function truncate(text: string): string {
  return text.length > MAX_BODY_CHARS ? `${text.slice(0, MAX_BODY_CHARS)}…` : text
}
