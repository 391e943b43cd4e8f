import { gunzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { ChaperonError } from '../../src/core/errors.ts'
import { type RequestOptions, resolveRequest } from '../../src/runtime/http/request-options.ts'
import type { LoadTestOptions } from '../../src/runtime/options.ts'
import { resolveLoadTestOptions } from '../../src/runtime/resolve-options.ts'
import { scenario } from '../../src/runtime/scenario.ts'

const resolve = (path: string, options?: RequestOptions) => resolveRequest('GET', path, options, 60_000)

describe('resolveRequest', () => {
  it('names a request by method and path, never with the query string', () => {
    expect(resolve('/products?page=2').name).toBe('GET /products')
    expect(resolve('/products', { query: { page: 2 } })).toMatchObject({ name: 'GET /products', path: '/products?page=2' })
    expect(resolve('/a?x=1', { query: { tag: ['p', 'q'], on: true } }).path).toBe('/a?x=1&tag=p&tag=q&on=true')
    expect(resolve('/a', { name: 'custom' }).name).toBe('custom')
  })

  it('encodes json with its content type and keeps a raw body as is', () => {
    expect(resolve('/a', { json: { id: 1 } })).toMatchObject({ body: '{"id":1}', headers: { 'content-type': 'application/json' } })
    expect(resolve('/a', { json: { id: 1 }, headers: { 'content-type': 'application/vnd+json' } }).headers).toEqual({ 'content-type': 'application/vnd+json' })
    expect(resolve('/a', { body: 'raw' }).body).toBe('raw')
  })

  it('encodes a form like a query string, with its content type', () => {
    expect(resolve('/a', { form: { q: 'oat meal', size: [40, 41], fresh: false } })).toMatchObject({
      body: 'q=oat+meal&size=40&size=41&fresh=false',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    })
    expect(resolve('/a', { form: {}, headers: { 'Content-Type': 'text/x-form' } }).headers).toEqual({ 'content-type': 'application/x-www-form-urlencoded', 'Content-Type': 'text/x-form' })
  })

  it('gzips the body, whichever kind, and says so in content-encoding', () => {
    for (const options of [{ json: { id: 1 } }, { form: { id: 1 } }, { body: 'id=1' }, { body: new TextEncoder().encode('id=1') }]) {
      const req = resolve('/a', { ...options, gzip: true })
      expect(req.headers?.['content-encoding']).toBe('gzip')
      expect(gunzipSync(req.body as Uint8Array).toString()).toMatch(/id/)
    }
    expect(resolve('/a', { body: 'x', gzip: false })).toMatchObject({ body: 'x', headers: undefined })
  })

  it('turns auth into a Basic authorization header unless the request sets one', () => {
    expect(resolve('/a', { auth: { username: 'alice', password: 'pä:ss' } }).headers).toEqual({ authorization: `Basic ${Buffer.from('alice:pä:ss').toString('base64')}` })
    expect(resolve('/a', { auth: { username: 'a', password: 'b' }, headers: { Authorization: 'Bearer t' } }).headers).toEqual({ Authorization: 'Bearer t' })
  })

  it('counts 200–399 as success by default and honours expect', () => {
    const def = resolve('/a').expect
    expect([199, 200, 302, 399, 400, 500].map(def)).toEqual([false, true, true, true, false, false])
    const only404 = resolve('/a', { expect: 404 }).expect
    expect([200, 404].map(only404)).toEqual([false, true])
    const mixed = resolve('/a', { expect: [201, { min: 400, max: 404 }] }).expect
    expect([200, 201, 400, 404, 405].map(mixed)).toEqual([false, true, true, true, false])
  })

  it('parses timeouts and keeps the default otherwise', () => {
    expect(resolve('/a').timeoutMs).toBe(60_000)
    expect(resolve('/a', { timeout: '1.5s' }).timeoutMs).toBe(1500)
  })

  it('keeps the body unless discardBody is true', () => {
    expect(resolve('/a', {}).keepBody).toBe(true)
    expect(resolve('/a', { discardBody: false }).keepBody).toBe(true)
    expect(resolve('/a', { discardBody: true }).keepBody).toBe(false)
  })

  it.each<[string, RequestOptions | unknown, string]>([
    ['both json and body', { json: {}, body: 'x' }, "give json and body; send one body: { json: {...} } for JSON, or { body: '...' } for raw bytes"],
    ['both form and json', { json: {}, form: {} }, "give json and form; send one body: { json: {...} } for JSON, or { form: { q: 'shoes' } } for an HTML form"],
    ['a form that is not an object', { form: 'a=1' }, "form must be an object such as { q: 'shoes', size: [40, 41] }"],
    ['an object form value', { form: { a: { b: 1 } } }, 'form.a must be a string, number, boolean'],
    ['gzip that is not a boolean', { body: 'x', gzip: 'yes' }, 'gzip must be true or false'],
    ['gzip without a body', { gzip: true }, 'gzip must be left out on a request without a body'],
    ['auth without a password', { auth: { username: 'a' } }, "auth.password must be a string, as in { username: 'alice', password: 'secret' }"],
    ['auth with a colon in the username', { auth: { username: 'a:b', password: 'c' } }, "auth.username must be a string without ':'"],
    ['auth with an unknown key', { auth: { usernme: 'a', password: 'c' } }, 'Did you mean "username"?'],
    ['auth that is invalid even when a header wins', { auth: 'a:b', headers: { authorization: 'x' } }, 'auth must be an object'],
    ['an unknown option, with a suggestion', { header: {} }, 'Did you mean "headers"?'],
    ['non-string headers', { headers: { 'x-n': 1 } }, 'headers.x-n must be a string'],
    ['a status out of range', { expect: 700 }, '{ min: 200, max: 299 }'],
    ['an inverted range', { expect: { min: 300, max: 200 } }, '{ min: 200, max: 299 }'],
    ['a check that is not a function', { check: { 'is 200': true } }, "check['is 200'] must be a function"],
    ['an object query value', { query: { a: { b: 1 } } }, 'query.a must be a string, number, boolean'],
    ['an empty name', { name: '' }, 'non-empty string'],
    ['discardBody that is not a boolean', { discardBody: 'yes' }, 'discardBody must be true or false'],
    ['a timeout of zero, which undici reads as none', { timeout: 0 }, "timeout must be a duration above zero such as '30s'"],
    ['a timeout with a space', { timeout: '30 s' }, "Write '30s'."],
    ['an empty expect list, which no status would match', { expect: [] }, 'expect must be a status (200), a range'],
    ['a range with an unknown key', { expect: { min: 200, mx: 299 } }, 'expect has an unknown option "mx". Did you mean "max"?'],
  ])('rejects %s', (_, options, hint) => {
    let error: unknown
    try {
      resolve('/a', options as RequestOptions)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(ChaperonError)
    expect((error as Error).message).toContain(hint)
  })
})

describe('load test http options', () => {
  const http = (value: unknown) => resolveLoadTestOptions('t', { http: value, scenarios: { a: { scenario: scenario('s', async () => {}), concurrency: 1 } } } as LoadTestOptions).http

  it('resolves auth to a header value and insecure to a boolean, off by default', () => {
    expect(http({ auth: { username: 'alice', password: 'secret' }, insecure: true })).toMatchObject({ authorization: `Basic ${btoa('alice:secret')}`, insecure: true })
    expect(http(undefined)).toMatchObject({ authorization: undefined, insecure: false })
  })

  it.each<[string, unknown, string]>([
    ['insecure that is not a boolean', { insecure: 'yes' }, 'http.insecure must be true or false'],
    ['auth that is not an object', { auth: 'alice:secret' }, "http.auth must be an object such as { username: 'alice', password: 'secret' }"],
    ['auth with a misspelt key', { auth: { username: 'a', pasword: 'b' } }, 'Did you mean "password"?'],
  ])('rejects %s', (_, value, hint) => {
    expect(() => http(value)).toThrow(hint)
  })
})
