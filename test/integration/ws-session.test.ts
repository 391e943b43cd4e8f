// s.ws through the real runtime: load tests run in-process against the bundled target.
import { describe, expect, it } from 'vitest'
import { VERSION } from '../../src/core/version.ts'
import { scenario } from '../../src/runtime/scenario.ts'
import { once, runResult, series, total, useTarget } from '../support/results.ts'

const target = useTarget()

async function delivered(channel: string): Promise<number> {
  const res = await fetch(`${target.url}/broadcast/${channel}`, { method: 'POST', body: 'anyone?' })
  return ((await res.json()) as { delivered: number }).delivered
}

describe('s.ws in a load test', () => {
  it('keeps a VU’s connection across its iterations and closes it when the session ends', async () => {
    const result = await runResult({
      baseUrl: target.url,
      scenarios: once(
        async (s) => {
          const ws = s.ws.has('echo') ? s.ws.get('echo') : await s.ws.connect('/ws/echo', { name: 'echo' })
          ws.send(`${s.vu}:${s.iteration}:a`)
          ws.send({ json: { vu: s.vu } })
          expect(await ws.recv()).toBe(`${s.vu}:${s.iteration}:a`)
          expect(await ws.recv({ json: true })).toEqual({ vu: s.vu })
        },
        2,
        3,
      ),
      thresholds: { ws_msgs_sent: ['count==12'], 'ws_sessions{name:echo}': ['count==2'], ws_recv_duration: ['count==12'] },
    })
    expect(result.errors).toEqual([])
    const tags = { scenario: 'main', name: 'echo' }
    expect(total(result, 'ws_sessions', tags)).toBe(2)
    expect(total(result, 'ws_connecting', tags)).toBe(2)
    expect(total(result, 'ws_msgs_sent', tags)).toBe(12)
    expect(total(result, 'ws_msgs_received', tags)).toBe(12)
    expect(total(result, 'ws_recv_duration', tags)).toBe(12)
    // Closed by the session's end, not by the scenario.
    expect(total(result, 'ws_session_duration', tags)).toBe(2)
    expect(result.status).toBe('passed')
    expect(result.thresholds.every((t) => t.ok)).toBe(true)
  })

  it('sends the load test’s headers and user agent with the handshake', async () => {
    let seen: { headers: Record<string, string> } | undefined
    await runResult({
      baseUrl: target.url,
      http: { headers: { 'X-Run': 'r1' } },
      scenarios: once(async (s) => {
        const ws = await s.ws.connect('/ws/echo', { headers: { 'x-user': String(s.vu) } })
        ws.send('whoami')
        seen = (await ws.recv({ json: true })) as typeof seen
        await ws.close()
      }),
    })
    expect(seen?.headers['user-agent']).toBe(`chaperon/${VERSION}`)
    expect(seen?.headers['x-run']).toBe('r1')
    expect(seen?.headers['x-user']).toBe('1')
  })

  it('sends the session’s cookies and the load test’s http.auth with the handshake', async () => {
    let seen: { headers: Record<string, string> } | undefined
    await runResult({
      baseUrl: target.url,
      http: { auth: { username: 'ada', password: 'pw' } },
      scenarios: once(async (s) => {
        await s.get('/set-cookie?name=session&value=abc')
        const ws = await s.ws.connect('/ws/echo')
        ws.send('whoami')
        seen = (await ws.recv({ json: true })) as typeof seen
        await ws.close()
      }),
    })
    expect(seen?.headers.cookie).toBe('session=abc')
    expect(seen?.headers.authorization).toBe(`Basic ${Buffer.from('ada:pw').toString('base64')}`)
  })

  it('keeps cookies the server sets on the upgrade response in the session’s jar', async () => {
    let cookies: unknown
    await runResult({
      baseUrl: target.url,
      scenarios: once(async (s) => {
        const ws = await s.ws.connect('/ws/echo?cookie=room%3D42')
        await ws.close()
        cookies = (await s.get('/cookies')).json()
      }),
    })
    expect(cookies).toEqual({ cookies: { room: '42' } })
  })

  it('records failed connects and receive timeouts as errors and carries on', async () => {
    let after = false
    const result = await runResult({
      baseUrl: target.url,
      scenarios: once(async (s) => {
        const missing = await s.ws.connect('/ws/missing')
        expect(missing.ok).toBe(false)
        const echo = await s.ws.connect('/ws/echo')
        expect(await echo.recv({ timeout: 200 })).toBeUndefined()
        await echo.close()
        after = true
      }, 2),
    })
    expect(after).toBe(true)
    expect(total(result, 'errors', { action: 'ws.connect', error_code: 'WS_UNEXPECTED_RESPONSE' })).toBe(2)
    expect(total(result, 'errors', { action: 'ws.recv', error_code: 'WS_RECV_TIMEOUT' })).toBe(2)
    expect(result.errors).toContainEqual(expect.objectContaining({ scenario: 'main', action: 'ws.connect', code: 'WS_UNEXPECTED_RESPONSE', count: 2 }))
    expect(total(result, 'ws_sessions', { name: '/ws/missing' })).toBe(0)
    expect(total(result, 'ws_sessions', { name: '/ws/echo' })).toBe(2)
    expect(total(result, 'iterations')).toBe(2)
  })

  it('retries a failed connect with s.retryOnError, each attempt counted once', async () => {
    const result = await runResult({
      baseUrl: target.url,
      scenarios: once(async (s) => {
        await s.retryOnError(
          async () => {
            const ws = await s.ws.connect('/ws/nowhere')
            if (!ws.ok) throw new Error(ws.error!.code)
            return ws
          },
          { retries: 2 },
        )
      }),
    })
    expect(total(result, 'errors', { action: 'ws.connect', error_code: 'WS_UNEXPECTED_RESPONSE' })).toBe(3)
    expect(result.errors).toContainEqual(expect.objectContaining({ action: 'iteration', message: expect.stringContaining('WS_UNEXPECTED_RESPONSE') }))
  })

  it('fails the test on misuse: get() of an unknown connection', async () => {
    const { resolveLoadTestOptions } = await import('../../src/runtime/resolve-options.ts')
    const { runLoadTest } = await import('../../src/runtime/run.ts')
    const options = resolveLoadTestOptions('t', {
      baseUrl: target.url,
      scenarios: { main: { scenario: scenario('misuse', (s) => void s.ws.get('chat')), executor: 'per-vu-iterations', vus: 1, iterations: 1 } },
    })
    const { misuse } = await runLoadTest('t', options)
    expect(misuse).toMatchObject({ code: 'CHAPERON_WS_UNKNOWN_CONNECTION' })
  })

  it('closes the sockets of sessions cut off after the graceful stop', async () => {
    let opened = 0
    const result = await runResult({
      baseUrl: target.url,
      scenarios: {
        main: {
          scenario: scenario('listener', async (s) => {
            const ws = await s.ws.connect('/ws/broadcast?channel=cut-off')
            opened++
            await ws.recv({ timeout: '1h' })
          }),
          executor: 'constant-vus',
          vus: 3,
          // Long enough for every VU to connect on a slow machine; the receive outlasts it anyway.
          duration: '1s',
          gracefulStop: 0,
        },
      },
    })
    expect(opened).toBe(3)
    expect(total(result, 'ws_sessions')).toBe(3)
    expect(series(result, 'errors', { action: 'ws.recv' })).toEqual([])
    await expect.poll(() => delivered('cut-off')).toBe(0)
  })

  it('closes the sockets of a session ended by s.abort()', async () => {
    await runResult({
      baseUrl: target.url,
      scenarios: once(async (s) => {
        await s.ws.connect('/ws/broadcast?channel=aborted', { name: 'a' })
        await s.ws.connect('/ws/broadcast?channel=aborted', { name: 'b' })
        s.abort('done here')
      }),
    })
    await expect.poll(() => delivered('aborted')).toBe(0)
  })
})
