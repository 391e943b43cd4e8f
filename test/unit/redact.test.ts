import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import { REDACTED, redactResult, Redactor, secretValues } from '../../src/core/redact.ts'
import { fixedResult } from '../support/fixed-results.ts'

const plain = new Redactor({ keys: [], values: [] })
const configured = new Redactor({ keys: ['x-api-key', 'password'], values: ['sk_live_0123456789'] })

describe('Redactor', () => {
  it.each([
    ['a header line, to its end', 'Authorization: Bearer abc.def.ghi\nnext', `Authorization: ${REDACTED}\nnext`],
    ['a cookie header', 'cookie: sid=abc; theme=dark', `cookie: ${REDACTED}`],
    ['a JSON field', '{"authorization":"Basic dXNlcjpwYXNz","accept":"*/*"}', `{"authorization":"${REDACTED}","accept":"*/*"}`],
    ['a JSON field with escapes', '{"cookie":"a=\\"b\\"; c=d"}', `{"cookie":"${REDACTED}"}`],
    ["util.inspect's quoting", "{ authorization: 'Bearer x', 'set-cookie': [ 'a=1; Path=/', 'b=2' ] }", `{ authorization: '${REDACTED}', 'set-cookie': ${REDACTED} }`],
    ['a JSON array', '{"set-cookie":["sid=1; HttpOnly"]}', `{"set-cookie":${REDACTED}}`],
    ['a URL password', 'GET http://alice:s3cret@127.0.0.1:3000/x failed', `GET http://alice:${REDACTED}@127.0.0.1:3000/x failed`],
    ['any case', 'AUTHORIZATION: token', `AUTHORIZATION: ${REDACTED}`],
  ])('takes out %s', (_, text, expected) => {
    expect(plain.text(text)).toBe(expected)
  })

  it('leaves text without secrets as it is', () => {
    for (const text of ['GET /products 200', 'authorization header missing', 'the cookie jar is empty', '{"status":"ok"}', 'http://127.0.0.1:3000/a?b=c']) {
      expect(plain.text(text)).toBe(text)
    }
  })

  it('redacts configured names as query parameters, fields and headers, and known values anywhere', () => {
    expect(configured.text('/login?user=alice&password=hunter2&next=/')).toBe(`/login?user=alice&password=${REDACTED}&next=/`)
    expect(configured.text("{ 'x-api-key': 'k-123' }")).toBe(`{ 'x-api-key': '${REDACTED}' }`)
    expect(configured.text('X-Api-Key: k-123')).toBe(`X-Api-Key: ${REDACTED}`)
    expect(configured.text('token sk_live_0123456789 was refused')).toBe(`token ${REDACTED} was refused`)
    expect(configured.text(`encoded: ${encodeURIComponent('sk_live_0123456789')}`)).toBe(`encoded: ${REDACTED}`)
  })

  it('knows more shapes: Map and URLSearchParams as inspected, JSON numbers, and password by default', () => {
    expect(plain.text("Map(1) { 'authorization' => 'Bearer x' }")).toBe(`Map(1) { 'authorization' => '${REDACTED}' }`)
    expect(configured.text('{"x-api-key":12345678,"n":1}')).toBe(`{"x-api-key":${REDACTED},"n":1}`)
    expect(plain.text("{ password: 'hunter2' }")).toBe(`{ password: '${REDACTED}' }`)
  })

  it('keeps names apart: a name loses known values, parameters and URL passwords, not the rest of its line', () => {
    expect(configured.name('authorization: rejected without a token')).toBe('authorization: rejected without a token')
    expect(configured.name('GET /login?password=hunter2')).toBe(`GET /login?password=${REDACTED}`)
    expect(configured.name('GET /x as sk_live_0123456789')).toBe(`GET /x as ${REDACTED}`)
  })

  it('replaces only known values of 8 characters or more, so a short one does not eat ordinary words', () => {
    const short = new Redactor({ keys: [], values: ['test', 'test:test'] })
    expect(short.text('GET /api/latest with test:test')).toBe(`GET /api/latest with ${REDACTED}`)
  })

  it('stays linear on long adversarial text', () => {
    for (const text of ['a-'.repeat(50_000), 'a.'.repeat(50_000), 'cookie:['.repeat(12_000), `cookie:"${'x'.repeat(100_000)}`]) {
      const started = performance.now()
      plain.text(text)
      expect(performance.now() - started).toBeLessThan(1000)
    }
  })

  it('redacts what util.inspect prints of a response-like object', () => {
    const headers = { 'content-type': 'text/plain', 'set-cookie': ['sid=abc123; Path=/; HttpOnly'], authorization: 'Bearer tok' }
    const text = plain.text(inspect({ status: 200, headers }))
    expect(text).not.toContain('abc123')
    expect(text).not.toContain('tok\'')
    expect(text).toContain("'content-type': 'text/plain'")
  })
})

describe('secretValues', () => {
  it('finds header values under secret names, Bearer tokens and Basic credentials, and config values under configured keys at any depth', () => {
    const basic = `Basic ${Buffer.from('alice:wonderland').toString('base64')}`
    const values = secretValues(['password'], { Authorization: 'Bearer tok_1234', accept: 'x' }, { db: { Password: 'hunter22', host: 'h' }, list: [{ password: 1234 }] }, basic)
    expect(values).toEqual(expect.arrayContaining(['Bearer tok_1234', 'tok_1234', basic, 'alice:wonderland', 'wonderland', 'hunter22', '1234']))
    expect(values).not.toContain('x')
    expect(values).not.toContain('h')
  })

  it('does not read a cookie header as a scheme and a token', () => {
    expect(secretValues([], { cookie: 'theme=dark; lang=en-US' }, {}, undefined)).toEqual(['theme=dark; lang=en-US'])
  })
})

describe('redactResult', () => {
  it('redacts tags, check names and error messages and stacks, and nothing else', () => {
    const r = fixedResult()
    const secret = 'sk_live_0123456789'
    const leaky = { ...r, metrics: r.metrics.map((m, i) => (i === 0 ? { ...m, tags: { ...m.tags, check: `token ${secret}` } } : m)), errors: r.errors.map((e) => ({ ...e, message: `${e.message} ${secret}`, stack: `Error: ${secret}\n at x` })) }
    const out = redactResult(leaky, configured)
    expect(JSON.stringify(out)).not.toContain(secret)
    expect(out.metrics[0]!.tags['check']).toBe(`token ${REDACTED}`)
    expect(out.errors[0]!.stack).toBe(`Error: ${REDACTED}\n at x`)
    expect(redactResult(r, configured)).toEqual(r)
  })
})
