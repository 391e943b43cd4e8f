import { type Duration, parseDuration, timerMs } from '../../core/duration.ts'
import { expectKnownKeys, expectObject, invalid } from '../../core/validate.ts'

/** Default wait of a WebSocket connect and receive: Chaperon's session timeout. */
export const DEFAULT_WS_TIMEOUT_MS = 10_000

/** Options of `ws.recv()` and `ws.awaitRecv()`. */
export interface WaitOptions {
  /** How long to wait for a message before resolving `undefined` (recorded as `WS_RECV_TIMEOUT`). @default '10s' */
  timeout?: Duration
  /** Parse each message as JSON and resolve with the value. @default false */
  json?: boolean
}

const KNOWN = ['timeout', 'json'] as const
const DEFAULTS = { timeoutMs: DEFAULT_WS_TIMEOUT_MS, json: false }

/** Checks a receive's options; `recv()` without options, the common case, costs nothing. */
export function waitOptions(options: WaitOptions | undefined, action: string): { timeoutMs: number; json: boolean } {
  if (options === undefined) return DEFAULTS
  const where = `${action}() options`
  expectKnownKeys(expectObject(options, where, "{ timeout: '2s', json: true }"), KNOWN, where)
  if (options.json !== undefined && typeof options.json !== 'boolean') throw invalid(`${where}.json`, 'true or false', options.json)
  return { timeoutMs: timeoutMs(options.timeout, `${where}.timeout`), json: options.json ?? false }
}

/** A timeout option in ms: a positive duration, so no wait is endless by accident. */
export function timeoutMs(value: unknown, where: string): number {
  if (value === undefined) return DEFAULT_WS_TIMEOUT_MS
  const ms = parseDuration(value, where)
  if (ms <= 0) throw invalid(where, "a duration above zero such as '2s' (for a long wait write '1h')", value)
  return timerMs(ms)
}

/** Returned by `parseJson` for a message that is not JSON, since `null` is valid JSON. */
export const NOT_JSON: unique symbol = Symbol('not JSON')

export function parseJson(message: string | Buffer): unknown {
  try {
    return JSON.parse(typeof message === 'string' ? message : message.toString())
  } catch {
    return NOT_JSON
  }
}
