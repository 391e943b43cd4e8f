import { createSecureServer, createServer as createH2cServer, type Http2SecureServer, type Http2Server } from 'node:http2'
import type { AddressInfo } from 'node:net'
import { Agent, request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { startTargetServer, type TargetServer } from '../../fixtures/servers/http.ts'
import type { LoadTestResult } from '../../src/core/result.ts'
import type { LoadTestOptions } from '../../src/runtime/options.ts'
import { scenario } from '../../src/runtime/scenario.ts'
import type { Session } from '../../src/runtime/session.ts'
import { targetCertificate } from '../../src/target/certificate.ts'
import { once, runResult, series, total } from '../support/results.ts'
import { type HttpsServer, startHttpsServer } from '../support/tls.ts'

interface Echo {
  method: string
  headers: Record<string, string>
  body: string
}

const HTTP_SERIES = ['http_reqs', 'http_req_duration', 'http_req_waiting', 'http_req_receiving', 'http_req_failed', 'data_sent', 'data_received']

let target: TargetServer
let plainTarget: TargetServer
beforeAll(async () => {
  ;[target, plainTarget] = await Promise.all([startTargetServer({ tls: true }), startTargetServer()])
})
afterAll(() => Promise.all([target.close(), plainTarget.close()]))

/** Runs `fn` once in one session against `baseUrl` (the TLS target unless given) and returns what it returned, with the result. */
async function inSession<T>(http: LoadTestOptions['http'], fn: (s: Session) => Promise<T>, baseUrl = target.url): Promise<{ value: T; result: LoadTestResult }> {
  let value: T | undefined
  const result = await runResult({
    baseUrl,
    http,
    scenarios: once(async (s) => {
      value = await fn(s)
    }),
  })
  expect(result.errors).toEqual([])
  return { value: value as T, result }
}

/** The distinct `proto` tags of the HTTP series of a result; `undefined` for series without one. */
function protos(result: LoadTestResult): (string | undefined)[] {
  return [...new Set(result.metrics.filter((m) => HTTP_SERIES.includes(m.metric)).map((m) => m.tags.proto))]
}

/** An HTTP/2 server (TLS, or h2c without) that counts its connections and the most requests it held at once. */
async function countingServer(tls: boolean): Promise<{ url: string; sessions: () => number; maxInFlight: () => number; close: () => Promise<void> }> {
  let sessions = 0
  let inFlight = 0
  let maxInFlight = 0
  const handler = (req: { url?: string }, res: { end(body: string): void }): void => {
    maxInFlight = Math.max(maxInFlight, ++inFlight)
    setTimeout(
      () => {
        inFlight--
        res.end('ok')
      },
      req.url === '/slow' ? 100 : 0,
    )
  }
  const server: Http2SecureServer | Http2Server = tls ? createSecureServer(await targetCertificate(), handler) : createH2cServer(handler)
  server.on('session', () => sessions++)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`,
    sessions: () => sessions,
    maxInFlight: () => maxInFlight,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

describe('HTTP/2 with http.version: 2', () => {
  it('speaks HTTP/2 over TLS and tags every HTTP series proto HTTP/2.0', async () => {
    const { value, result } = await inSession({ version: 2, insecure: true }, async (s) => {
      const products = await s.get('/products', { check: { 'is 200': (r) => r.status === 200 } })
      const echo = await s.post('/echo', { json: { id: 1 } })
      const missing = await s.get('/products/99', { expect: 404 })
      return { count: products.json<unknown[]>().length, echo: echo.json<Echo>(), missing: missing.status, ok: missing.ok }
    })
    expect(value).toMatchObject({ count: 10, echo: { method: 'POST', body: '{"id":1}' }, missing: 404, ok: true })
    // The target saw HTTP/2: its requests carry pseudo-headers.
    expect(value.echo.headers).toMatchObject({ ':method': 'POST', ':scheme': 'https', 'content-type': 'application/json' })
    expect(protos(result)).toEqual(['HTTP/2.0'])
    expect(total(result, 'http_reqs', { proto: 'HTTP/2.0' })).toBe(3)
    expect(total(result, 'checks', {}, 'passes')).toBe(1)
  })

  it('keeps cookies and sends bodies over HTTP/2', async () => {
    const { value } = await inSession({ version: 2, insecure: true }, async (s) => {
      await s.get('/set-cookie', { query: { name: ['a', 'b'], value: ['1', '2'] } })
      const cookies = (await s.get('/cookies')).json<{ cookies: Record<string, string> }>().cookies
      const carts = [await s.post('/cart', { json: { id: 1 } }), await s.post('/cart', { json: { id: 2 } })].map((r) => r.json<{ items: number }>().items)
      const form = (await s.post('/echo', { form: { q: 'oat meal' } })).json<Echo>().body
      const zipped = (await s.post('/echo', { body: 'chaperon '.repeat(100), gzip: true })).json<Echo>().body
      return { cookies, carts, form, zipped: zipped.length }
    })
    expect(value).toEqual({ cookies: { a: '1', b: '2' }, carts: [1, 2], form: 'q=oat+meal', zipped: 900 })
  })

  it('counts bodies exactly and headers at their HTTP/1.1 size in data_sent and data_received', async () => {
    const bytes = async (version: 1 | 2) => {
      const { result } = await inSession({ version, insecure: true }, (s) => s.get('/bytes/10000'))
      return { sent: total(result, 'data_sent'), received: total(result, 'data_received') }
    }
    const [h1, h2] = [await bytes(1), await bytes(2)]
    expect(h2.sent).toBe(h1.sent)
    // The body, a status line and the header lines; HTTP/1.1's own (connection, keep-alive) are not there.
    expect(h2.received).toBeGreaterThan(10_000 + 100)
    expect(h2.received).toBeLessThan(h1.received)
  })

  it('multiplexes the concurrent requests of all VUs over one connection', async () => {
    const server = await countingServer(true)
    try {
      // Five VUs send ten requests each at once, from the start: none waits for a connection of its own.
      const result = await runResult({
        baseUrl: server.url,
        http: { version: 2, insecure: true },
        scenarios: once(async (s) => void (await Promise.all(Array.from({ length: 10 }, () => s.get('/slow')))), 5),
      })
      expect(total(result, 'http_reqs', { proto: 'HTTP/2.0', status: '200' })).toBe(50)
      expect(server.sessions()).toBe(1)
      expect(server.maxInFlight()).toBe(50)
    } finally {
      await server.close()
    }
  })

  it('warms one connection for an arrival-rate scenario, as it carries every request', async () => {
    const server = await countingServer(true)
    try {
      const ping = scenario('ping', async (s) => {
        await s.get('/')
      })
      const result = await runResult({
        baseUrl: server.url,
        http: { version: 2, insecure: true },
        scenarios: { open: { scenario: ping, executor: 'constant-arrival-rate', rate: 20, duration: '500ms', preAllocatedVUs: 4 } },
      })
      expect(total(result, 'http_reqs', { proto: 'HTTP/2.0', status: '200' })).toBe(10)
      expect(server.sessions()).toBe(1)
    } finally {
      await server.close()
    }
  })

  it('falls back to HTTP/1.1 when the server does not offer h2, and tags it so', async () => {
    let https: HttpsServer | undefined
    try {
      https = await startHttpsServer((_req, res) => res.end('h1 only'))
      const { value, result } = await inSession({ version: 2, insecure: true }, async (s) => (await s.get('/')).text(), https.url)
      expect(value).toBe('h1 only')
      expect(protos(result)).toEqual(['HTTP/1.1'])
    } finally {
      await https?.close()
    }
  })

  it('speaks h2c (HTTP/2 with prior knowledge) on an http:// URL', async () => {
    const server = await countingServer(false)
    try {
      const { value, result } = await inSession({ version: 2 }, async (s) => (await Promise.all([s.get('/'), s.get('/'), s.get('/')])).map((r) => r.status), server.url)
      expect(value).toEqual([200, 200, 200])
      expect(protos(result)).toEqual(['HTTP/2.0'])
      expect(server.sessions()).toBe(1)
    } finally {
      await server.close()
    }
  })

  it('fails every request, as data, to an http:// server without h2c', async () => {
    const { value, result } = await inSession({ version: 2 }, async (s) => s.get('/'), plainTarget.url)
    expect(value).toMatchObject({ status: 0, error: 'ERR_HTTP2_ERROR' })
    expect(total(result, 'http_req_failed', { error_code: 'ERR_HTTP2_ERROR' }, 'passes')).toBe(1)
  })

  it('records a stream reset as a failed request with its error code, the connection going on', async () => {
    const { value, result } = await inSession({ version: 2, insecure: true }, async (s) => {
      const rs = await Promise.all([s.get('/reset'), s.get('/fault/reset-after-headers'), s.get('/fault/close-after-headers'), s.get('/delay', { query: { ms: 300 } })])
      return rs.map((r) => [r.status, r.error])
    })
    expect(value).toEqual([
      [0, 'ERR_HTTP2_STREAM_ERROR'],
      [0, 'ERR_HTTP2_STREAM_ERROR'],
      [0, 'INCOMPLETE_RESPONSE'],
      [200, undefined],
    ])
    // As in k6, a request that got no response has no protocol; one whose response began has.
    expect(series(result, 'http_reqs', { name: 'GET /reset' }).map((m) => m.tags.proto)).toEqual([undefined])
    expect(series(result, 'http_reqs', { name: 'GET /fault/reset-after-headers' }).map((m) => m.tags.proto)).toEqual(['HTTP/2.0'])
    expect(total(result, 'http_req_failed', { proto: 'HTTP/2.0' }, 'passes')).toBe(2)
  })
})

describe('HTTP/1.1, the default', () => {
  it('stays on HTTP/1.1 against a server that offers HTTP/2', async () => {
    const { value, result } = await inSession({ insecure: true }, async (s) => (await s.get('/echo')).json<Echo>().headers)
    expect(value).not.toHaveProperty(':method')
    expect(value).toHaveProperty('host')
    expect(protos(result)).toEqual(['HTTP/1.1'])
  })

  it('opens Server-Sent Events streams on the same protocol as requests', async () => {
    const headersOf = async (version: 1 | 2): Promise<Record<string, string>> => {
      const { value } = await inSession({ version, insecure: true }, async (s) => {
        for await (const event of s.sse('/sse/whoami', { maxEvents: 1 })) return JSON.parse(event.data) as { headers: Record<string, string> }
        throw new Error('no event')
      })
      return value.headers
    }
    expect(await headersOf(1)).not.toHaveProperty(':method')
    expect(await headersOf(2)).toMatchObject({ ':method': 'GET', ':scheme': 'https' })
  })

  it('tags plain http:// requests HTTP/1.1, and failures without a response with no proto', async () => {
    const { result } = await inSession({}, async (s) => [await s.get('/'), await s.get('/reset')], plainTarget.url)
    expect(total(result, 'http_reqs', { name: 'GET /', proto: 'HTTP/1.1' })).toBe(1)
    expect(series(result, 'http_reqs', { name: 'GET /reset' }).map((m) => m.tags.proto)).toEqual([undefined])
  })
})

describe('target server with tls', () => {
  const agent = (allowH2: boolean) => new Agent({ allowH2, connect: { ca: target.cert } })

  it('serves https:// with a certificate valid for 127.0.0.1, over HTTP/2 and HTTP/1.1', async () => {
    expect(target.url).toBe(`https://127.0.0.1:${target.port}`)
    for (const allowH2 of [true, false]) {
      const dispatcher = agent(allowH2)
      const echo = await request(`${target.url}/echo`, { dispatcher, method: 'POST', body: 'hi' })
      const body = (await echo.body.json()) as Echo
      expect(body.body).toBe('hi')
      expect(body.headers[':scheme']).toBe(allowH2 ? 'https' : undefined)
      const products = await request(`${target.url}/products/3`, { dispatcher })
      expect(await products.body.json()).toMatchObject({ id: 3 })
      const early = await request(`${target.url}/fault/informational?code=102`, { dispatcher })
      expect([early.statusCode, await early.body.text()]).toEqual([200, 'ok'])
      const big = await request(`${target.url}/bytes/100000`, { dispatcher })
      expect((await big.body.arrayBuffer()).byteLength).toBe(100_000)
      await dispatcher.close()
    }
  })

  it('answers the connection fault routes with their HTTP/2 stream faults', async () => {
    const dispatcher = agent(true)
    const code = (path: string) =>
      request(`${target.url}${path}`, { dispatcher })
        .then((r) => r.body.text())
        .then(
          () => 'ok',
          (e: NodeJS.ErrnoException) => `${e.code} ${e.message}`,
        )
    expect(await code('/reset')).toBe('ERR_HTTP2_STREAM_ERROR Stream closed with error code NGHTTP2_INTERNAL_ERROR')
    expect(await code('/fault/malformed-status')).toBe('ERR_HTTP2_STREAM_ERROR Stream closed with error code NGHTTP2_PROTOCOL_ERROR')
    expect(await code('/fault/close-after-headers')).toMatch(/^UND_ERR_RES_CONTENT_LENGTH_MISMATCH/)
    expect(await code('/')).toBe('ok')
    await dispatcher.close()
    // Over HTTP/1.1 on TLS, whose socket Node cannot reset, the connection is closed without its TLS close.
    const h1 = agent(false)
    expect(await request(`${target.url}/reset`, { dispatcher: h1 }).catch((e: NodeJS.ErrnoException) => e.code)).toBe('UND_ERR_SOCKET')
    await h1.close()
  })

  it('fails, as data, a load test that does not trust its certificate, and goes on serving', async () => {
    const { value, result } = await inSession({ version: 2 }, (s) => s.get('/'))
    expect(value).toMatchObject({ status: 0, error: 'DEPTH_ZERO_SELF_SIGNED_CERT' })
    expect(protos(result)).toEqual([undefined])
    expect((await inSession({ version: 2, insecure: true }, (s) => s.get('/'))).value).toMatchObject({ status: 200 })
  })

  it('upgrades WebSockets over HTTP/1.1 (wss://)', async () => {
    const ws = new WebSocket(`${target.url.replace('https', 'wss')}/ws/echo`, { ca: target.cert })
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))
    ws.send('hello')
    expect(await new Promise((resolve) => ws.once('message', (data: Buffer) => resolve(data.toString())))).toBe('hello')
    ws.close()
  })

  it('closes while an HTTP/2 request hangs', async () => {
    const server = await startTargetServer({ tls: true })
    const dispatcher = agent(true)
    const hung = request(`${server.url}/hang`, { dispatcher }).catch((e: NodeJS.ErrnoException) => e.code)
    await new Promise((resolve) => setTimeout(resolve, 100))
    const started = performance.now()
    await server.close()
    expect(performance.now() - started).toBeLessThan(2_000)
    expect(await hung).toMatch(/^(UND_ERR_SOCKET|ECONNRESET)$/)
    await dispatcher.destroy()
  })
})
