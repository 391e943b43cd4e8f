import { gzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import type { LoadTestResult } from '../../src/core/result.ts'
import { VERSION } from '../../src/core/version.ts'
import type { Response } from '../../src/runtime/http/response.ts'
import type { LoadTestOptions } from '../../src/runtime/options.ts'
import type { Session } from '../../src/runtime/session.ts'
import { once, series, total, useTarget } from '../support/results.ts'

interface Echo {
  method: string
  path: string
  query: Record<string, string>
  headers: Record<string, string>
  body: string
  bodyBytes: number
}

const target = useTarget()
const run = target.run.bind(target)

/** Runs `fn` once in one session and returns what it returned, with the run's result. */
async function inSession<T>(fn: (s: Session) => Promise<T>, options: Omit<LoadTestOptions, 'baseUrl' | 'scenarios'> = {}): Promise<{ value: T; result: LoadTestResult }> {
  let value: T | undefined
  const result = await run({
    ...options,
    scenarios: once(async (s) => {
      value = await fn(s)
    }),
  })
  expect(result.errors).toEqual([])
  return { value: value as T, result }
}

describe('request bodies', () => {
  it('sends json, form and raw bodies with their content types', async () => {
    const { value } = await inSession(async (s) =>
      Promise.all([
        s.post('/echo', { json: { id: 1, tags: ['a'] } }),
        s.post('/echo', { form: { q: 'oat meal', size: [40, 41], fresh: true } }),
        s.put('/echo', { body: 'raw text', headers: { 'content-type': 'text/plain' } }),
        s.patch('/echo', { body: new Uint8Array([104, 105]) }),
      ]).then((rs) => rs.map((r) => r.json<Echo>())),
    )
    const [json, form, raw, bytes] = value
    expect(json).toMatchObject({ method: 'POST', body: '{"id":1,"tags":["a"]}', headers: { 'content-type': 'application/json' } })
    expect(form).toMatchObject({ body: 'q=oat+meal&size=40&size=41&fresh=true', headers: { 'content-type': 'application/x-www-form-urlencoded' } })
    expect(raw).toMatchObject({ method: 'PUT', body: 'raw text', headers: { 'content-type': 'text/plain' } })
    expect(bytes).toMatchObject({ method: 'PATCH', body: 'hi' })
  })

  it('gzips a body when asked, and counts the compressed bytes as sent', async () => {
    const text = 'chaperon '.repeat(2000)
    const { value, result } = await inSession(async (s) => {
      const zipped = await s.post('/echo', { body: text, gzip: true, name: 'zipped' })
      const plain = await s.post('/echo', { body: text, name: 'plain' })
      const form = await s.post('/echo', { form: { text }, gzip: true, name: 'form' })
      // The fixture refuses a body that claims gzip and is not.
      expect((await s.post('/echo', { body: text, headers: { 'content-encoding': 'gzip' }, expect: 400 })).ok).toBe(true)
      return [zipped, plain, form].map((r) => r.json<Echo>())
    })
    const [zipped, plain, form] = value
    expect(zipped).toMatchObject({ body: text, headers: { 'content-encoding': 'gzip' } })
    expect(zipped!.bodyBytes).toBe(gzipSync(text).length)
    expect(zipped!.bodyBytes).toBeLessThan(text.length / 10)
    expect(plain!.headers['content-encoding']).toBeUndefined()
    expect(form).toMatchObject({ body: new URLSearchParams({ text }).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-encoding': 'gzip' } })
    // The request line and headers add a few hundred bytes to the body.
    const zippedSent = total(result, 'data_sent', { name: 'zipped' })
    expect(zippedSent).toBeGreaterThan(zipped!.bodyBytes)
    expect(zippedSent).toBeLessThan(zipped!.bodyBytes + 400)
    expect(total(result, 'data_sent', { name: 'plain' })).toBeGreaterThan(text.length)
  })
})

describe('basic auth', () => {
  const path = '/basic-auth?user=alice&pass=s3cr%C3%A9t'
  const alice = { username: 'alice', password: 's3crét' }
  const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`

  it('sends the credentials of the request, else of the load test, and a 401 without them', async () => {
    const { value } = await inSession(async (s) => [
      (await s.get(path, { auth: alice })).status,
      (await s.get(path, { auth: { username: 'alice', password: 'wrong' }, expect: 401 })).status,
      (await s.get('/echo', { auth: alice })).json<Echo>().headers.authorization,
    ])
    expect(value).toEqual([200, 401, basic('alice', 's3crét')])

    const unauthenticated = await inSession(async (s) => s.get(path, { expect: 401 }))
    expect(unauthenticated.value.headers['www-authenticate']).toContain('Basic')

    const { value: fromLoadTest } = await inSession(async (s) => [(await s.get(path)).status, (await s.get(path, { auth: { username: 'bob', password: 'x' }, expect: 401 })).status], {
      http: { auth: alice },
    })
    expect(fromLoadTest).toEqual([200, 401])
  })

  it('lets an explicit authorization header win over both', async () => {
    const { value } = await inSession(
      async (s) =>
        Promise.all([
          s.get('/echo'),
          s.get('/echo', { auth: { username: 'req', password: '1' } }),
          s.get('/echo', { auth: { username: 'req', password: '1' }, headers: { Authorization: 'Bearer request' } }),
        ]).then((rs) => rs.map((r) => r.json<Echo>().headers.authorization)),
      { http: { auth: { username: 'suite', password: '2' } } },
    )
    expect(value).toEqual([basic('suite', '2'), basic('req', '1'), 'Bearer request'])

    const { value: header } = await inSession(async (s) => (await s.get('/echo')).json<Echo>().headers.authorization, {
      http: { auth: { username: 'suite', password: '2' }, headers: { authorization: 'Bearer suite' } },
    })
    expect(header).toBe('Bearer suite')
  })
})

describe('what requests have always done', () => {
  it('sends every verb, HEAD and OPTIONS included, with query', async () => {
    const { value } = await inSession(async (s) => {
      const echoed: Array<[string, string]> = []
      for (const r of [
        await s.get('/echo', { query: { v: 'get' } }),
        await s.post('/echo', { query: { v: 'post' } }),
        await s.put('/echo', { query: { v: 'put' } }),
        await s.patch('/echo', { query: { v: 'patch' } }),
        await s.delete('/echo', { query: { v: 'delete' } }),
        await s.options('/echo', { query: { v: 'options' } }),
        await s.request('PURGE', '/echo', { query: { v: 'purge' } }),
      ]) {
        const e = r.json<Echo>()
        echoed.push([e.method, e.query.v!])
      }
      const head = await s.head('/products')
      return { echoed, head: [head.status, head.bytes, head.headers['content-type']] }
    })
    expect(value.echoed).toEqual([
      ['GET', 'get'],
      ['POST', 'post'],
      ['PUT', 'put'],
      ['PATCH', 'patch'],
      ['DELETE', 'delete'],
      ['OPTIONS', 'options'],
      ['PURGE', 'purge'],
    ])
    expect(value.head).toEqual([200, 0, 'application/json'])
  })

  it('names a request without its query string, also when the query comes from the query option', async () => {
    const { result } = await inSession(async (s) => {
      await s.get('/echo?page=1')
      await s.get('/echo', { query: { page: 2 } })
      await s.get('/echo?sort=asc', { query: { page: 3 } })
      await s.get(`${target.url}/echo?page=4`)
    })
    expect(total(result, 'http_reqs', { name: 'GET /echo' })).toBe(3)
    expect(total(result, 'http_reqs', { name: `GET ${target.url}/echo` })).toBe(1)
    expect(series(result, 'http_reqs').every((m) => !m.tags.name?.includes('?'))).toBe(true)
  })

  it('sends the default user agent and accept, plus http.headers, which a request can override', async () => {
    const { value } = await inSession(async (s) => [(await s.get('/echo')).json<Echo>().headers, (await s.get('/echo', { headers: { Accept: 'text/html', 'x-team': 'web' } })).json<Echo>().headers], {
      http: { headers: { 'X-Team': 'load' } },
    })
    expect(value[0]).toMatchObject({ 'user-agent': `chaperon/${VERSION}`, accept: '*/*', 'x-team': 'load' })
    expect(value[1]).toMatchObject({ 'user-agent': `chaperon/${VERSION}`, accept: 'text/html', 'x-team': 'web' })
  })

  it('times a request out after its timeout, else after http.timeout', async () => {
    const { value, result } = await inSession(async (s) => [(await s.get('/hang', { timeout: '100ms' })).error, (await s.get('/hang', { name: 'default' })).error, (await s.get('/delay?ms=10', { timeout: '5s' })).status], {
      http: { timeout: '150ms' },
    })
    expect(value).toEqual(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 200])
    expect(total(result, 'http_req_failed', { error_code: 'UND_ERR_HEADERS_TIMEOUT' }, 'passes')).toBe(2)
  })

  it('counts the statuses of expect as success and others as failed', async () => {
    const { value, result } = await inSession(async (s) =>
      [await s.get('/status/404', { expect: 404 }), await s.get('/status/404'), await s.get('/status/201', { expect: [200, { min: 500, max: 599 }] }), await s.get('/status/503', { expect: { min: 500, max: 599 } })].map((r: Response) => r.ok),
    )
    expect(value).toEqual([true, false, false, true])
    expect(total(result, 'http_req_failed', {}, 'passes')).toBe(2)
    expect(total(result, 'http_req_failed', { expected_response: 'true' }, 'total')).toBe(2)
  })
})
