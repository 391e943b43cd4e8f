// s.sse through the real runtime: load tests run in-process against the bundled target's /sse routes,
// and against a small stream server of the test's own that counts the streams still open.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { performance } from 'node:perf_hooks'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { VERSION } from '../../src/core/version.ts'
import { resolveLoadTestOptions } from '../../src/runtime/resolve-options.ts'
import { runLoadTest } from '../../src/runtime/run.ts'
import { scenario } from '../../src/runtime/scenario.ts'
import { checkSseOptions } from '../../src/runtime/sse/sse-options.ts'
import type { SseEvent, SseStream } from '../../src/runtime/sse/sse-stream.ts'
import { MIXED_EVENTS } from '../../src/target/sse-routes.ts'
import { closedPort, once, series, total, useTarget } from '../support/results.ts'

const target = useTarget()

/**
 * A server of streams that stay open until the client goes; `open` counts those not yet closed.
 * `/endless` sends an event every 10 ms (`?burst=N` sends the first N at once), `/huge` 17 MB of one data line.
 */
const endless = { server: undefined as Server | undefined, open: 0, url: '' }
beforeAll(async () => {
  endless.server = createServer((req, res) => {
    endless.open++
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.on('close', () => endless.open--)
    const url = new URL(req.url ?? '/', 'http://x')
    if (url.pathname === '/huge') return void res.write(`data: ${'x'.repeat(17 * 1024 * 1024)}`)
    let n = Number(url.searchParams.get('burst') ?? 0)
    res.write(Array.from({ length: n }, (_, i) => `id: ${i + 1}\ndata: ${i + 1}\n\n`).join(''))
    const timer = setInterval(() => res.write(`id: ${++n}\ndata: ${n}\n\n`), 10)
    res.on('close', () => clearInterval(timer))
  })
  await new Promise<void>((resolve) => endless.server!.listen(0, '127.0.0.1', resolve))
  endless.url = `http://127.0.0.1:${(endless.server.address() as AddressInfo).port}/endless`
})
afterAll(async () => {
  endless.server?.closeAllConnections()
  await new Promise((resolve) => endless.server?.close(resolve))
})

/** Every event of `stream`, and its state once the loop ended. */
async function drain(stream: SseStream): Promise<{ events: SseEvent[]; status: number; error: SseStream['error']; reconnects: number; lastEventId: string }> {
  const events: SseEvent[] = []
  for await (const event of stream) events.push(event)
  return { events, status: stream.status, error: stream.error, reconnects: stream.reconnects, lastEventId: stream.lastEventId }
}

describe('s.sse in a load test', () => {
  it('closes the streams a session left open when it ends', async () => {
    const result = await target.run({
      scenarios: once(async (s) => {
        const stream = s.sse(endless.url)
        await stream.next()
      }, 3),
    })
    expect(total(result, 'sse_events')).toBeGreaterThanOrEqual(3)
    // Closing is asked for as each session ends; the server sees the sockets go soon after.
    await expect.poll(() => endless.open, { timeout: 2000 }).toBe(0)
  })

  it('does not pass on default headers that would spoil the stream: accept-encoding, last-event-id', async () => {
    let headers: Record<string, string> = {}
    await target.run({
      http: { headers: { 'accept-encoding': 'gzip', 'last-event-id': '7', 'x-suite': 'load' } },
      scenarios: once(async (s) => {
        for await (const event of s.sse('/sse/whoami', { maxEvents: 1 })) headers = (JSON.parse(event.data) as { headers: Record<string, string> }).headers
      }),
    })
    expect(headers['x-suite']).toBe('load')
    expect(headers).not.toHaveProperty('accept-encoding')
    expect(headers).not.toHaveProperty('last-event-id')
  })

  it('clamps a server retry too long for a timer, and does not send an id a header cannot carry', async () => {
    const seen: Array<string | undefined> = []
    let first = ''
    const server = createServer((req, res) => {
      seen.push(req.headers['last-event-id'] as string | undefined)
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.end(seen.length === 1 ? first : 'data: 2\n\n')
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
    const follow = async (options: { maxEvents?: number; duration?: string }) => {
      seen.length = 0
      let reconnects = -1
      const result = await target.run({
        scenarios: once(async (s) => {
          const stream = s.sse(url, options)
          for await (const _ of stream) void _
          reconnects = stream.reconnects
        }),
      })
      expect(result.errors).toEqual([])
      return reconnects
    }
    try {
      // A retry of about 35 days: the client waits (here until its duration ends), not 1 ms.
      first = 'retry: 3000000000\ndata: 1\n\n'
      expect(await follow({ duration: '500ms' })).toBe(0)
      expect(seen).toHaveLength(1)
      // An id with a control character, which the standard allows and HTTP does not: the reconnection goes without it.
      first = 'retry: 10\nid: a\u0001b\ndata: 1\n\n'
      expect(await follow({ maxEvents: 2 })).toBe(1)
      expect(seen).toEqual([undefined, undefined])
    } finally {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  })

  it('yields the events in order with their ids, and counts them exactly', async () => {
    const got: SseEvent[][] = []
    const result = await target.run({
      scenarios: once(
        async (s) => {
          const events: SseEvent[] = []
          for await (const event of s.sse('/sse/ticks?count=5&interval=10', { name: 'ticks', maxEvents: 5 })) events.push(event)
          got.push(events)
        },
        2,
        2,
      ),
      thresholds: { 'sse_events{name:ticks}': ['count==20'], sse_event_duration: ['count==20', 'p(95)<5000'], sse_connecting: ['count==4'] },
    })
    expect(got).toHaveLength(4)
    for (const events of got) {
      expect(events.map((e) => [e.type, e.data, e.id, e.reconnects])).toEqual([1, 2, 3, 4, 5].map((n) => ['message', `{"n":${n}}`, String(n), 0]))
      expect(events.map((e) => e.elapsed)).toEqual(events.map((e) => e.elapsed).sort((a, b) => a - b))
    }
    const tags = { scenario: 'main', name: 'ticks' }
    expect(total(result, 'sse_events', tags)).toBe(20)
    expect(total(result, 'sse_event_duration', tags)).toBe(20)
    expect(total(result, 'sse_connecting', tags)).toBe(4)
    // maxEvents ended each stream before the server did: no reconnection.
    expect(series(result, 'sse_reconnects')).toEqual([])
    expect(result.errors).toEqual([])
    expect(result.thresholds.every((t) => t.ok)).toBe(true)
  })

  it('parses what the HTML standard asks of a stream, then takes a 204 on reconnecting as the end', async () => {
    let out: Awaited<ReturnType<typeof drain>> | undefined
    const result = await target.run({ scenarios: once(async (s) => void (out = await drain(s.sse('/sse/mixed', { retry: 10 })))) })
    expect(out!.events.map(({ type, data, id }) => ({ type, data, id }))).toEqual(MIXED_EVENTS)
    // The stream ended, so it reconnected with Last-Event-ID: 3, and the route answered 204.
    expect(out).toMatchObject({ status: 204, error: undefined, reconnects: 1, lastEventId: '3' })
    expect(total(result, 'sse_events')).toBe(MIXED_EVENTS.length)
    expect(total(result, 'sse_reconnects')).toBe(1)
    expect(total(result, 'sse_connecting')).toBe(1)
    expect(result.errors).toEqual([])
  })

  it('reconnects after a drop, resuming with Last-Event-ID after the retry time the server set', async () => {
    let out: Awaited<ReturnType<typeof drain>> | undefined
    const at: number[] = []
    const result = await target.run({
      scenarios: once(async (s) => {
        // The server's retry (300 ms) replaces this one, which would outlast the test.
        const stream = s.sse('/sse/ticks?count=6&interval=10&drop=2&retry=300', { name: 'drops', retry: '1m' })
        const events: SseEvent[] = []
        for await (const event of stream) {
          at.push(performance.now())
          events.push(event)
        }
        out = { events, status: stream.status, error: stream.error, reconnects: stream.reconnects, lastEventId: stream.lastEventId }
      }),
    })
    expect(out!.events.map((e) => [e.id, e.reconnects])).toEqual([
      ['1', 0],
      ['2', 0],
      ['3', 1],
      ['4', 1],
      ['5', 2],
      ['6', 2],
    ])
    expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(250)
    expect(at[4]! - at[3]!).toBeGreaterThanOrEqual(250)
    // Two drops, then the clean end after event 6, whose reconnection the route answered 204.
    expect(out).toMatchObject({ status: 204, error: undefined, reconnects: 3, lastEventId: '6' })
    const tags = { scenario: 'main', name: 'drops' }
    expect(total(result, 'sse_reconnects', tags)).toBe(3)
    expect(total(result, 'sse_connecting', tags)).toBe(3)
    expect(total(result, 'sse_events', tags)).toBe(6)
    expect(total(result, 'errors', { action: 'sse.stream', error_code: 'INCOMPLETE_RESPONSE' })).toBe(2)
    expect(total(result, 'errors')).toBe(2)
  })

  it('sends the defaults, its own headers, the session’s cookies and a seeded Last-Event-ID', async () => {
    let headers: Record<string, string> | undefined
    await target.run({
      http: { headers: { 'X-Run': 'r1' } },
      scenarios: once(async (s) => {
        await s.get('/set-cookie?name=session&value=abc')
        for await (const event of s.sse('/sse/whoami', { maxEvents: 1, headers: { 'X-User': '7', 'Last-Event-ID': 'é1' } })) {
          headers = (JSON.parse(event.data) as { headers: Record<string, string> }).headers
        }
      }),
    })
    expect(headers).toMatchObject({
      accept: 'text/event-stream',
      'cache-control': 'no-cache',
      'user-agent': `chaperon/${VERSION}`,
      'x-run': 'r1',
      'x-user': '7',
      cookie: 'session=abc',
    })
    // Sent as UTF-8 bytes, which Node reads back as Latin-1.
    expect(Buffer.from(headers!['last-event-id']!, 'latin1').toString('utf8')).toBe('é1')
  })

  it('stops at a 204 without reconnecting, and records nothing', async () => {
    let out: Awaited<ReturnType<typeof drain>> | undefined
    const result = await target.run({ scenarios: once(async (s) => void (out = await drain(s.sse('/status/204')))) })
    expect(out).toEqual({ events: [], status: 204, error: undefined, reconnects: 0, lastEventId: '' })
    expect(result.metrics.filter((m) => m.metric.startsWith('sse_') || m.metric === 'errors')).toEqual([])
  })

  it('fails without reconnecting on another status or content type, with a code', async () => {
    const out: Awaited<ReturnType<typeof drain>>[] = []
    const result = await target.run({
      scenarios: once(async (s) => {
        for (const path of ['/status/503', '/sse/wrong-type', '/products']) out.push(await drain(s.sse(path, { retry: 10 })))
      }),
    })
    expect(out.map((o) => [o.events.length, o.status, o.reconnects, o.error?.code, o.error?.status])).toEqual([
      [0, 503, 0, 'HTTP_503', 503],
      [0, 200, 0, 'SSE_UNEXPECTED_CONTENT_TYPE', undefined],
      [0, 200, 0, 'SSE_UNEXPECTED_CONTENT_TYPE', undefined],
    ])
    expect(out[1]!.error!.message).toContain("content-type 'text/plain'")
    expect(total(result, 'errors', { action: 'sse.connect', error_code: 'HTTP_503' })).toBe(1)
    expect(total(result, 'errors', { action: 'sse.connect', error_code: 'SSE_UNEXPECTED_CONTENT_TYPE' })).toBe(2)
    expect(series(result, 'sse_connecting')).toEqual([])
    expect(series(result, 'sse_reconnects')).toEqual([])
    expect(total(result, 'iterations')).toBe(1)
  })

  it('reconnects after a refused connect until maxReconnects, then ends with the error', async () => {
    const port = await closedPort()
    let out: Awaited<ReturnType<typeof drain>> | undefined
    const result = await target.run({ scenarios: once(async (s) => void (out = await drain(s.sse(`http://127.0.0.1:${port}/events`, { retry: 10, maxReconnects: 2 })))) })
    expect(out).toMatchObject({ events: [], status: 0, reconnects: 2, error: { code: 'ECONNREFUSED' } })
    expect(total(result, 'errors', { action: 'sse.connect', error_code: 'ECONNREFUSED' })).toBe(3)
    expect(total(result, 'sse_reconnects', { name: `http://127.0.0.1:${port}/events` })).toBe(2)
  })

  it('pauses reading while the loop falls behind, and loses nothing', async () => {
    const ids: string[] = []
    let after = 0
    const result = await target.run({
      scenarios: once(async (s) => {
        // 3000 events at once put the loop behind by far more than the 1024 held before reading pauses;
        // the ones after them arrive only once it has resumed.
        for await (const event of s.sse(`${endless.url}?burst=3000`)) {
          if (ids.push(event.id) === 1) await s.delay(200)
          if (event.id === '3001') after = event.elapsed
          if (event.id === '3010') break
        }
      }),
    })
    expect(ids).toEqual(Array.from({ length: 3010 }, (_, i) => String(i + 1)))
    // Sent about 10 ms after the burst, but read only after the loop's 200 ms pause had emptied the queue.
    expect(after).toBeGreaterThanOrEqual(190)
    // Counted as they arrive: a few may have come after the last one taken.
    expect(total(result, 'sse_events')).toBeGreaterThanOrEqual(3010)
  })

  it('fails a stream whose event outgrows 16 Mi characters, without reconnecting', async () => {
    let out: Awaited<ReturnType<typeof drain>> | undefined
    const result = await target.run({ scenarios: once(async (s) => void (out = await drain(s.sse(endless.url.replace('/endless', '/huge'))))) })
    expect(out).toMatchObject({ events: [], status: 200, reconnects: 0, error: { code: 'SSE_EVENT_TOO_LARGE' } })
    expect(total(result, 'errors', { action: 'sse.stream', error_code: 'SSE_EVENT_TOO_LARGE' })).toBe(1)
  })

  it('gives up a connect without response headers after its timeout', async () => {
    let out: Awaited<ReturnType<typeof drain>> | undefined
    const result = await target.run({ scenarios: once(async (s) => void (out = await drain(s.sse('/hang', { timeout: 100, maxReconnects: 0 })))) })
    expect(out).toMatchObject({ events: [], status: 0, reconnects: 0, error: { code: 'SSE_CONNECT_TIMEOUT' } })
    expect(total(result, 'errors', { action: 'sse.connect', error_code: 'SSE_CONNECT_TIMEOUT' })).toBe(1)
  })
})

describe('what ends an SSE loop', () => {
  it('a break, which closes the connection', async () => {
    const result = await target.run({
      scenarios: once(async (s) => {
        let n = 0
        for await (const _ of s.sse(endless.url, { name: 'endless' })) if (++n === 3) break
      }),
    })
    expect(total(result, 'sse_events')).toBeGreaterThanOrEqual(3)
    await expect.poll(() => endless.open).toBe(0)
  })

  it('its duration, reconnections included', async () => {
    let out: Awaited<ReturnType<typeof drain>> | undefined
    const started = performance.now()
    const result = await target.run({ scenarios: once(async (s) => void (out = await drain(s.sse(endless.url, { duration: 300 })))) })
    expect(performance.now() - started).toBeLessThan(5_000)
    expect(out!.events.length).toBeGreaterThan(0)
    expect(out!.error).toBeUndefined()
    expect(total(result, 'sse_events')).toBe(out!.events.length)
    await expect.poll(() => endless.open).toBe(0)
  })

  it('the hard stop after the graceful stop, silently', async () => {
    let looping = 0
    const result = await target.run({
      scenarios: {
        main: {
          scenario: scenario('listener', async (s) => {
            looping++
            for await (const _ of s.sse(endless.url, { name: 'endless' })) {
              // Never breaks: only the scenario's cut-off ends this loop.
            }
          }),
          executor: 'constant-vus',
          vus: 2,
          duration: '300ms',
          gracefulStop: 0,
        },
      },
    })
    expect(looping).toBe(2)
    expect(total(result, 'sse_events')).toBeGreaterThan(0)
    expect(total(result, 'errors')).toBe(0)
    expect(total(result, 'iterations')).toBe(0)
    await expect.poll(() => endless.open).toBe(0)
  })

  it('an iteration timeout, counted once; the VU goes on', async () => {
    const result = await target.run({
      scenarios: {
        main: {
          scenario: scenario('stuck', async (s) => {
            if (s.iteration === 0) for await (const _ of s.sse(endless.url)) await s.delay(1)
          }),
          executor: 'per-vu-iterations',
          vus: 1,
          iterations: 2,
          iterationTimeout: '200ms',
        },
      },
    })
    expect(total(result, 'errors', { action: 'iteration', error_code: 'ITERATION_TIMEOUT' })).toBe(1)
    expect(total(result, 'errors')).toBe(1)
    expect(total(result, 'iterations')).toBe(1)
    await expect.poll(() => endless.open).toBe(0)
  })

  it('a ramp-down past its gracefulRampDown', async () => {
    const result = await target.run({
      scenarios: {
        main: {
          scenario: scenario('listener', async (s) => {
            for await (const _ of s.sse(endless.url)) {
              // Ends when the VU is ramped down.
            }
          }),
          executor: 'ramping-vus',
          startVUs: 2,
          // The last stage holds 0 VUs, so both are ramped down before the executor ends (not stopped at its end).
          stages: [{ duration: '200ms', target: 2 }, { duration: '100ms', target: 0 }, { duration: '200ms', target: 0 }],
          gracefulRampDown: 0,
        },
      },
    })
    expect(total(result, 'sse_events')).toBeGreaterThan(0)
    expect(total(result, 'errors')).toBe(0)
    await expect.poll(() => endless.open).toBe(0)
  })

  it('s.abort() inside the loop', async () => {
    const result = await target.run({
      scenarios: once(async (s) => {
        for await (const event of s.sse(endless.url)) if (event.id === '2') s.abort('seen enough')
      }),
    })
    expect(total(result, 'session_aborts')).toBe(1)
    expect(total(result, 'sse_events')).toBeGreaterThanOrEqual(2)
    await expect.poll(() => endless.open).toBe(0)
  })

  it('a child task’s stream is its own: cancelling one leaves the others and the parent going', async () => {
    const children: string[][] = []
    const result = await target.run({
      scenarios: once(async (s) => {
        s.async('stuck', async (c) => {
          for await (const _ of c.sse(endless.url, { name: 'endless' })) {
            // Ends when its await times out and cancels the task.
          }
        })
        for (let i = 0; i < 2; i++) {
          s.async('ticks', async (c) => {
            const ids: string[] = []
            for await (const event of c.sse('/sse/ticks?count=3&interval=10', { name: 'ticks', maxEvents: 3 })) ids.push(event.id)
            children.push(ids)
          })
        }
        for await (const _ of s.sse(endless.url, { name: 'endless' })) break
        await s.await('stuck', { timeout: 200 })
        await s.awaitAll('ticks')
        expect((await s.get('/products')).ok).toBe(true)
      }),
    })
    expect(children).toEqual([
      ['1', '2', '3'],
      ['1', '2', '3'],
    ])
    expect(total(result, 'sse_events', { name: 'ticks' })).toBe(6)
    expect(total(result, 'errors', { action: 'await', error_code: 'TASK_TIMEOUT' })).toBe(1)
    expect(total(result, 'errors')).toBe(1)
    expect(total(result, 'iterations')).toBe(1)
    await expect.poll(() => endless.open).toBe(0)
  })
})

describe('s.sse misuse', () => {
  it('fails the test with a code that says what to write', async () => {
    const options = resolveLoadTestOptions('t', {
      baseUrl: target.url,
      scenarios: { main: { scenario: scenario('misuse', (s) => void s.sse('/sse/ticks', { maxEvent: 5 } as never)), executor: 'per-vu-iterations', vus: 1, iterations: 1 } },
    })
    const { misuse } = await runLoadTest('t', options)
    expect(misuse).toMatchObject({ code: 'CHAPERON_UNKNOWN_OPTION', message: expect.stringContaining('Did you mean "maxEvents"') })
  })

  it.each([
    ['', {}, 'CHAPERON_INVALID_OPTION'],
    ['/e', { maxEvents: 0 }, 'CHAPERON_INVALID_OPTION'],
    ['/e', { maxReconnects: -1 }, 'CHAPERON_INVALID_OPTION'],
    ['/e', { duration: 0 }, 'CHAPERON_INVALID_OPTION'],
    ['/e', { timeout: 'soon' }, 'CHAPERON_INVALID_DURATION'],
    ['/e', { headers: { 'x-n': 1 } }, 'CHAPERON_INVALID_OPTION'],
    ['/e', { name: '' }, 'CHAPERON_INVALID_OPTION'],
    ['ws://127.0.0.1:1/e', {}, 'CHAPERON_INVALID_URL'],
  ])('s.sse(%j, %j) throws %s', (path, options, code) => {
    expect(() => checkSseOptions(path, options, new URL('http://127.0.0.1:1'))).toThrow(expect.objectContaining({ code }))
  })

  it('needs a baseUrl for a relative path, and joins it keeping the base path', () => {
    expect(() => checkSseOptions('/events', undefined, undefined)).toThrow(expect.objectContaining({ code: 'CHAPERON_NO_TARGET', message: expect.stringContaining("'http://host:port/events'") }))
    expect(checkSseOptions('events?x=1', undefined, new URL('http://127.0.0.1:1/api/')).url.href).toBe('http://127.0.0.1:1/api/events?x=1')
    expect(checkSseOptions('/events?x=1', undefined, new URL('http://127.0.0.1:1')).name).toBe('/events')
  })
})
