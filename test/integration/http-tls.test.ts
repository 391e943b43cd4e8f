import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocketServer } from 'ws'
import type { LoadTestOptions } from '../../src/runtime/options.ts'
import { once, runResult, total } from '../support/results.ts'
import { type HttpsServer, startHttpsServer } from '../support/tls.ts'

let server: HttpsServer
beforeAll(async () => {
  server = await startHttpsServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' })
    res.end(`secure ${req.url}`)
  })
  new WebSocketServer({ server: server.server, perMessageDeflate: false }).on('connection', (socket) => socket.send('secure hello'))
})
afterAll(() => server.close())

async function fetchOnce(http: LoadTestOptions['http']): Promise<{ status: number; error: string | undefined; text: string; failed: number }> {
  let seen: { status: number; error: string | undefined; text: string } | undefined
  const result = await runResult({
    baseUrl: server.url,
    http,
    scenarios: once(async (s) => {
      const r = await s.get('/hello')
      seen = { status: r.status, error: r.error, text: r.text() }
    }),
  })
  // A certificate error is data, like any failure of the target: no exception reaches the scenario.
  expect(result.errors).toEqual([])
  return { ...seen!, failed: total(result, 'http_req_failed', {}, 'passes') }
}

describe('TLS', () => {
  it('verifies certificates by default: a self-signed one fails the request with its code', async () => {
    const r = await fetchOnce(undefined)
    expect(r).toMatchObject({ status: 0, failed: 1, text: '' })
    expect(r.error).toMatch(/^(DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE)$/)
    expect(await fetchOnce({ insecure: false })).toMatchObject({ status: 0, failed: 1 })
  })

  it('skips verification with http.insecure', async () => {
    expect(await fetchOnce({ insecure: true })).toEqual({ status: 200, error: undefined, text: 'secure /hello', failed: 0 })
  })

  it('applies the same verification to wss:// WebSocket handshakes', async () => {
    const connect = async (insecure: boolean) => {
      let seen: { ok: boolean; error: string | undefined; message: unknown } | undefined
      const result = await runResult({
        baseUrl: server.url,
        http: { insecure },
        scenarios: once(async (s) => {
          const ws = await s.ws.connect('/')
          seen = { ok: ws.ok, error: ws.error?.code, message: await ws.recv({ timeout: '2s' }) }
          await ws.close()
        }),
      })
      return { ...seen!, failed: total(result, 'errors', { action: 'ws.connect' }) }
    }
    const strict = await connect(false)
    expect(strict).toMatchObject({ ok: false, message: undefined, failed: 1 })
    expect(strict.error).toMatch(/^(DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE)$/)
    expect(await connect(true)).toEqual({ ok: true, error: undefined, message: 'secure hello', failed: 0 })
  })
})
