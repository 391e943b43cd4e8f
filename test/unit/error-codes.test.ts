// The stable error_code of each way a request can fail, from the errors Node and
// undici raise for it. test/integration/fault-matrix.test.ts provokes the real ones.
import { errors } from 'undici'
import { describe, expect, it } from 'vitest'
import { httpErrorCode, statusErrorCode } from '../../src/runtime/http/error-codes.ts'

/** An error as Node's net, dns and tls modules raise it: a message, a `code`, maybe a `syscall`. */
function nodeError(code: string, syscall?: string): Error {
  return Object.assign(new Error(`${syscall ?? 'read'} ${code}`), { code, syscall })
}

describe('httpErrorCode', () => {
  it.each([
    ['ENOTFOUND', nodeError('ENOTFOUND', 'getaddrinfo')],
    ['EAI_AGAIN', nodeError('EAI_AGAIN', 'getaddrinfo')],
    ['EAI_FAIL', nodeError('EAI_FAIL', 'getaddrinfo')],
    ['EAI_NODATA', nodeError('EAI_NODATA', 'getaddrinfo')],
    ['ENODATA from another resolver', nodeError('ENODATA')],
    ['any other getaddrinfo code', nodeError('EAI_SYSTEM', 'getaddrinfo')],
  ])('names a DNS failure ENOTFOUND: %s', (_, error) => {
    expect(httpErrorCode(error, false)).toBe('ENOTFOUND')
  })

  it.each([
    ['ECONNRESET', nodeError('ECONNRESET')],
    ['EPIPE', nodeError('EPIPE', 'write')],
    ['ECONNABORTED', nodeError('ECONNABORTED')],
    ["undici's 'other side closed'", new errors.SocketError('other side closed')],
    ["undici's 'closed'", new errors.SocketError('closed')],
  ])('names a connection the target ended ECONNRESET before the final headers, INCOMPLETE_RESPONSE after: %s', (_, error) => {
    expect(httpErrorCode(error, false)).toBe('ECONNRESET')
    expect(httpErrorCode(error, true)).toBe('INCOMPLETE_RESPONSE')
  })

  it('names a body cut short of its content-length INCOMPLETE_RESPONSE, and a content-length mismatch in the headers MALFORMED_RESPONSE', () => {
    expect(httpErrorCode(new errors.ResponseContentLengthMismatchError(), true)).toBe('INCOMPLETE_RESPONSE')
    // undici reports a header block it cannot parse after a content-length (two of them, or one with chunked) this way.
    expect(httpErrorCode(new errors.ResponseContentLengthMismatchError(), false)).toBe('MALFORMED_RESPONSE')
  })

  it.each([
    ['a parser error without a code (undici 8 leaves it undefined)', new errors.HTTPParserError('Response does not match the HTTP/1.1 protocol (Invalid status code)')],
    ['a parser error with an HPE_ code', Object.assign(new errors.HTTPParserError('Invalid character in chunk size'), { code: 'HPE_INVALID_CHUNK_SIZE' })],
    ["undici's 'bad response' (an unsolicited 100 Continue)", new errors.SocketError('bad response')],
    ["undici's 'bad upgrade'", new errors.SocketError('bad upgrade')],
    ["undici's failed assertion on a 101 without an upgrade header", Object.assign(new Error('The expression evaluated to a falsy value'), { code: 'ERR_ASSERTION' })],
  ])('names a response undici cannot read MALFORMED_RESPONSE, before or after the headers: %s', (_, error) => {
    expect(httpErrorCode(error, false)).toBe('MALFORMED_RESPONSE')
    expect(httpErrorCode(error, true)).toBe('MALFORMED_RESPONSE')
  })

  it.each([
    ['ECONNREFUSED', nodeError('ECONNREFUSED', 'connect')],
    ['EHOSTUNREACH', nodeError('EHOSTUNREACH', 'connect')],
    ['UND_ERR_HEADERS_TIMEOUT', new errors.HeadersTimeoutError()],
    ['UND_ERR_BODY_TIMEOUT', new errors.BodyTimeoutError()],
    ['UND_ERR_CONNECT_TIMEOUT', new errors.ConnectTimeoutError()],
    ['UND_ERR_HEADERS_OVERFLOW', new errors.HeadersOverflowError()],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', nodeError('DEPTH_ZERO_SELF_SIGNED_CERT')],
    ['ERR_TLS_CERT_ALTNAME_INVALID', nodeError('ERR_TLS_CERT_ALTNAME_INVALID')],
  ])('keeps a code that is already stable: %s', (code, error) => {
    expect(httpErrorCode(error, false)).toBe(code)
    expect(httpErrorCode(error, true)).toBe(code)
  })

  it('takes the code of the first error of an AggregateError without one (every address of a name refused)', () => {
    const error = new AggregateError([nodeError('ECONNREFUSED', 'connect'), nodeError('ECONNREFUSED', 'connect')], 'connect ECONNREFUSED ::1:80, connect ECONNREFUSED 127.0.0.1:80')
    expect(httpErrorCode(error, false)).toBe('ECONNREFUSED')
  })

  it('gives an error without any code its class name', () => {
    expect(httpErrorCode(new TypeError('boom'), false)).toBe('TypeError')
  })
})

describe('statusErrorCode', () => {
  it('names an unexpected status HTTP_<status>', () => {
    expect([404, 503, 200].map(statusErrorCode)).toEqual(['HTTP_404', 'HTTP_503', 'HTTP_200'])
  })
})
