import { describe, expect, it } from 'vitest'
import { ChaperonError } from '../../src/core/errors.ts'
import { type RequestOptions, resolveRequest } from '../../src/runtime/http/request-options.ts'

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

  it.each<[string, RequestOptions | unknown, string]>([
    ['both json and body', { json: {}, body: 'x' }, 'send one'],
    ['an unknown option, with a suggestion', { header: {} }, 'Did you mean "headers"?'],
    ['non-string headers', { headers: { 'x-n': 1 } }, 'headers.x-n must be a string'],
    ['a status out of range', { expect: 700 }, '{ min: 200, max: 299 }'],
    ['an inverted range', { expect: { min: 300, max: 200 } }, '{ min: 200, max: 299 }'],
    ['a check that is not a function', { check: { 'is 200': true } }, "check['is 200'] must be a function"],
    ['an object query value', { query: { a: { b: 1 } } }, 'query.a must be a string, number, boolean'],
    ['an empty name', { name: '' }, 'non-empty string'],
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
