/**
 * The `error_code` of a failed HTTP request: one stable name per fault of the
 * target, whatever timing made Node or undici report it. The same reset can
 * surface as `ECONNRESET` or as undici's `UND_ERR_SOCKET` "other side closed",
 * and a name that does not resolve as `ENOTFOUND` or `EAI_AGAIN`; thresholds,
 * the summary and dashboards group by this tag, so each fault gets one name.
 * Every code is listed, with the fault that produces it, in docs/http.md#errors.
 */

/** The name did not resolve: no such host, or the resolver failed. */
const DNS_FAILED = 'ENOTFOUND'
/** The connection was reset or closed by the target before the final response headers. */
const CONNECTION_RESET = 'ECONNRESET'
/** The final response headers arrived, then the connection ended before the body was complete. */
const INCOMPLETE_RESPONSE = 'INCOMPLETE_RESPONSE'
/** What came back is not HTTP/1.1 undici can read: a bad status line, header or chunk. */
const MALFORMED_RESPONSE = 'MALFORMED_RESPONSE'

/** Prefix of the code of a response whose status was not in the request's `expect`: `HTTP_503`. */
const STATUS_PREFIX = 'HTTP_'

// getaddrinfo's ways of saying "no address": which one depends on the resolver and the network.
const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NODATA', 'EAI_NONAME', 'ENODATA', 'ESERVFAIL', 'ENONAME'])
// A connection the target ended: which one is seen depends on whether the client was reading or writing.
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'UND_ERR_SOCKET'])
// undici's SocketError messages for a response it refuses to parse, rather than a closed connection.
const MALFORMED_SOCKET_MESSAGES = new Set(['bad response', 'bad upgrade'])

/**
 * The stable code of a request that failed with `error`. `finalHeaders` says
 * whether the final (non-1xx) response headers had arrived, which tells a
 * reset before the response (`ECONNRESET`) from one in its body
 * (`INCOMPLETE_RESPONSE`). Codes outside the normalised faults (TLS codes such
 * as `DEPTH_ZERO_SELF_SIGNED_CERT`, `UND_ERR_HEADERS_TIMEOUT`,
 * `UND_ERR_BODY_TIMEOUT`, `UND_ERR_CONNECT_TIMEOUT`, `EHOSTUNREACH`) are
 * Node's or undici's own, already stable; an error without a code gives its class name.
 */
export function httpErrorCode(error: Error, finalHeaders: boolean): string {
  const code = codeOf(error)
  if (code === undefined) return error.name === 'HTTPParserError' ? MALFORMED_RESPONSE : error.name
  // undici's internal assertions fail on responses it cannot take, such as a 101 without an upgrade.
  if (code.startsWith('HPE_') || code === 'ERR_ASSERTION') return MALFORMED_RESPONSE
  // A body shorter than its content-length, or (before the final headers) a header block the
  // parser rejected after it had read a content-length.
  if (code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH') return finalHeaders ? INCOMPLETE_RESPONSE : MALFORMED_RESPONSE
  if (DNS_CODES.has(code) || (error as { syscall?: unknown }).syscall === 'getaddrinfo') return DNS_FAILED
  if (code === 'UND_ERR_SOCKET' && MALFORMED_SOCKET_MESSAGES.has(error.message)) return MALFORMED_RESPONSE
  if (RESET_CODES.has(code)) return finalHeaders ? INCOMPLETE_RESPONSE : CONNECTION_RESET
  return code
}

/** The code of a response whose status the request did not expect: `HTTP_404`, `HTTP_503`. */
export function statusErrorCode(status: number): string {
  return `${STATUS_PREFIX}${status}`
}

/** The string `code` of an error; for an `AggregateError` (one per address tried) without one, that of its first error. */
function codeOf(error: Error): string | undefined {
  const code = (error as { code?: unknown }).code
  if (typeof code === 'string' && code !== '') return code
  if (error instanceof AggregateError) {
    const first: unknown = error.errors[0]
    if (first instanceof Error) return codeOf(first)
  }
  return undefined
}
