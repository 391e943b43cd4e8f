import { type Duration, parseDuration, timerMs } from '../../core/duration.ts'
import { ChaperonError } from '../../core/errors.ts'
import { expectInteger, expectKnownKeys, expectObject, expectStringRecord, invalid } from '../../core/validate.ts'
import { lowerCaseKeys, pathWithoutQuery, SCHEME } from '../http/paths.ts'
import { timeoutMs } from '../ws/ws-wait.ts'

/** Options of `s.sse()`. */
export interface SseOptions {
  /** The stream's name: the `name` tag of its metrics and errors. @default the path without its query string */
  name?: string
  /**
   * Request headers, over the load test's defaults (which `accept:
   * text/event-stream` and `cache-control: no-cache` join). A `last-event-id`
   * header seeds the last event ID, as when resuming a stream.
   */
  headers?: Record<string, string>
  /** Ends the stream once this many events have arrived. @default no limit */
  maxEvents?: number
  /** Ends the stream this long after it started, reconnections included. @default no limit */
  duration?: Duration
  /** How long each connection may take to answer with its response headers; past it the attempt fails as `SSE_CONNECT_TIMEOUT`. @default '10s' */
  timeout?: Duration
  /** The wait before a reconnection until the server sets one with a `retry` field. @default '3s' */
  retry?: Duration
  /** Reconnections allowed after the stream ended or broke (the spec's would never stop); 0 never reconnects. @default 3 */
  maxReconnects?: number
}

/** @internal `s.sse()`'s path and options once checked. */
export interface CheckedSseOptions {
  name: string
  /** The URL to request: `baseUrl` joined with a relative path. */
  url: URL
  /** Lower-case, without `last-event-id`. */
  headers: Record<string, string>
  /** From a `last-event-id` header, else empty. */
  lastEventId: string
  maxEvents: number
  durationMs: number | undefined
  timeoutMs: number
  retryMs: number
  maxReconnects: number
}

const KNOWN = ['name', 'headers', 'maxEvents', 'duration', 'timeout', 'retry', 'maxReconnects'] as const
const DEFAULT_RETRY_MS = 3_000
const DEFAULT_MAX_RECONNECTS = 3

/** @internal Checks the path and options of `s.sse()` before anything is sent; throws `ChaperonError` for misuse. */
export function checkSseOptions(path: unknown, options: unknown, baseUrl: URL | undefined): CheckedSseOptions {
  if (typeof path !== 'string' || path.length === 0) throw invalid('s.sse(path)', "a path such as '/events' or a URL such as 'http://127.0.0.1:3000/events'", path)
  const where = `s.sse(${JSON.stringify(path)}) options`
  const o = expectObject(options === undefined ? {} : options, where, "{ maxEvents: 10, duration: '30s' }")
  expectKnownKeys(o, KNOWN, where)
  if (o.name !== undefined && (typeof o.name !== 'string' || o.name.length === 0)) throw invalid(`${where}.name`, "a non-empty string such as 'prices'", o.name)
  const headers = o.headers === undefined ? {} : lowerCaseKeys(expectStringRecord(o.headers, `${where}.headers`, "{ authorization: 'Bearer …' }"))
  for (const [name, value] of Object.entries(headers)) {
    if (!isHeaderValue(value)) throw invalid(`${where}.headers['${name}']`, 'a header value of printable characters, without line breaks or other control characters', value)
  }
  const lastEventId = headers['last-event-id'] ?? ''
  delete headers['last-event-id']
  return {
    name: (o.name as string | undefined) ?? pathWithoutQuery(path),
    url: streamUrl(path, baseUrl),
    headers,
    lastEventId,
    maxEvents: o.maxEvents === undefined ? Number.POSITIVE_INFINITY : expectInteger(o.maxEvents, `${where}.maxEvents`, 1, 10),
    durationMs: o.duration === undefined ? undefined : timeoutMs(o.duration, `${where}.duration`),
    timeoutMs: timeoutMs(o.timeout, `${where}.timeout`),
    retryMs: o.retry === undefined ? DEFAULT_RETRY_MS : timerMs(parseDuration(o.retry, `${where}.retry`)),
    maxReconnects: o.maxReconnects === undefined ? DEFAULT_MAX_RECONNECTS : expectInteger(o.maxReconnects, `${where}.maxReconnects`, 0, 3),
  }
}

/** `path` joined to `baseUrl` (whose path is kept as a prefix), or an absolute http(s) URL as is. */
function streamUrl(path: string, baseUrl: URL | undefined): URL {
  if (SCHEME.test(path)) {
    const url = URL.canParse(path) ? new URL(path) : undefined
    if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      throw new ChaperonError('CHAPERON_INVALID_URL', `Cannot open "${path}": an absolute URL must be http(s), such as 'http://127.0.0.1:3000/events'.`)
    }
    return url
  }
  if (baseUrl === undefined) {
    throw new ChaperonError(
      'CHAPERON_NO_TARGET',
      `Cannot open "${path}": the load test has no baseUrl. Set loadTest({ baseUrl: 'http://host:port' }) or open an absolute URL such as 'http://host:port${path.startsWith('/') ? '' : '/'}${path}'.`,
    )
  }
  return new URL(`${baseUrl.origin}${baseUrl.pathname.replace(/\/$/, '')}${path.startsWith('/') ? '' : '/'}${path}`)
}

/** Whether `value` can go in an HTTP header as it is: tabs and printable Latin-1, no line breaks or other controls. */
export function isHeaderValue(value: string): boolean {
  return !/[^\t\x20-\x7e\x80-\xff]/.test(value)
}
