// Dry runs (issue #8): real msw handlers answer the scenario's requests through
// chaperon's HTTP client, with no server and no socket.
import { execFile } from 'node:child_process'
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { promisify } from 'node:util'
import { delay, http, HttpResponse, ws } from 'msw'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { ChaperonError } from '../../src/core/errors.ts'
import { createPalette } from '../../src/reporters/colors.ts'
import { renderSummary } from '../../src/reporters/summary-render.ts'
import { dryRun } from '../../src/runtime/dry-run.ts'
import type { Response } from '../../src/runtime/http/response.ts'
import { resolveLoadTestOptions } from '../../src/runtime/resolve-options.ts'
import { runLoadTest } from '../../src/runtime/run.ts'
import { scenario } from '../../src/runtime/scenario.ts'
import { runResult, series, total } from '../support/results.ts'

const products = [
  { id: 1, name: 'oat meal' },
  { id: 2, name: 'rye bread' },
]
const catalogue = [http.get('/products', () => HttpResponse.json(products)), http.post('/cart', () => HttpResponse.json({ ok: true }, { status: 201 }))]

// Every TCP client socket this thread creates, whatever creates it: a dry run must create none.
const sockets: unknown[] = []
const onSocket = (message: unknown): void => void sockets.push(message)
beforeAll(() => subscribe('net.client.socket', onSocket))
afterAll(() => unsubscribe('net.client.socket', onSocket))
afterEach(() => {
  expect(sockets).toEqual([])
  sockets.length = 0
})

describe('dryRun()', () => {
  it('runs one VU for one iteration, the scenario parsing the mocked JSON', async () => {
    const seen: Array<{ vu: number; iteration: number; first: string }> = []
    const browse = scenario('browse', async (s) => {
      const list = await s.get('/products', { check: { 'lists products': (r) => r.json<unknown[]>().length === 2 } })
      seen.push({ vu: s.vu, iteration: s.iteration, first: list.json<typeof products>()[0]!.name })
      await s.post('/cart', { json: { id: 1 }, expect: 201 })
    })
    const result = await dryRun(browse, { handlers: catalogue })
    expect(seen).toEqual([{ vu: 1, iteration: 0, first: 'oat meal' }])
    expect(result).toMatchObject({ name: 'browse', status: 'passed', errors: [], scenarios: [{ name: 'browse', executor: 'per-vu-iterations', scenario: 'browse' }] })
    expect(total(result, 'iterations')).toBe(1)
    expect(total(result, 'http_reqs')).toBe(2)
    expect(total(result, 'http_req_failed', {}, 'passes')).toBe(0)
    expect(total(result, 'checks', { check: 'lists products' }, 'passes')).toBe(1)
  })

  it('runs the VUs and iterations it is given', async () => {
    const runs: string[] = []
    const result = await dryRun(
      scenario('count', async (s) => {
        runs.push(`${s.vu}.${s.iteration}`)
        await s.get('/products')
      }),
      { handlers: catalogue, vus: 2, iterations: 3 },
    )
    expect(runs.sort()).toEqual(['1.0', '1.1', '1.2', '2.0', '2.1', '2.2'])
    expect(total(result, 'iterations')).toBe(6)
    expect(total(result, 'http_reqs')).toBe(6)
  })

  it('hands the handler the method, URL, query, headers, cookies and body the scenario sent', async () => {
    const received: Array<{ method: string; url: string; headers: Record<string, string>; body: string }> = []
    const record = async ({ request }: { request: Request }) => {
      received.push({ method: request.method, url: request.url, headers: Object.fromEntries(request.headers), body: await request.text() })
      return HttpResponse.json({ ok: true }, { headers: { 'Set-Cookie': 'session=abc; Path=/', 'X-Trace': 't-1' } })
    }
    let echoed: Response | undefined
    const result = await dryRun(
      scenario('send', async (s) => {
        echoed = await s.post('/cart', { json: { id: 2 }, query: { coupon: 'SPRING' }, headers: { 'X-Request-Id': 'r-1' } })
        await s.put('/cart/2', { form: { size: [40, 41] } })
      }),
      {
        // Handlers match the whole path, baseUrl's included, as msw matches URLs.
        handlers: [http.post('/api/cart', record), http.put('/api/cart/:id', record)],
        baseUrl: 'https://shop.invalid/api',
        http: { headers: { authorization: 'Bearer t0k3n' } },
      },
    )
    expect(result.errors).toEqual([])
    expect(received[0]).toEqual({
      method: 'POST',
      url: 'https://shop.invalid/api/cart?coupon=SPRING',
      headers: expect.objectContaining({ 'content-type': 'application/json', 'x-request-id': 'r-1', authorization: 'Bearer t0k3n', 'user-agent': expect.stringMatching(/^chaperon\//) }),
      body: '{"id":2}',
    })
    // The response's cookie went into the session's jar and back out with the next request.
    expect(received[1]).toMatchObject({ method: 'PUT', body: 'size=40&size=41', headers: { cookie: 'session=abc', 'content-type': 'application/x-www-form-urlencoded' } })
    expect(echoed).toMatchObject({ status: 200, headers: { 'x-trace': 't-1', 'set-cookie': ['session=abc; Path=/'], 'content-type': 'application/json' } })
  })

  it('hands a string body without a content-type of its own, takes a lower-case method, and leaves WebSocket handlers out', async () => {
    let seen: { type: string | null; method: string; body: string } | undefined
    const chat = ws.link('ws://dry-run.invalid/chat')
    const result = await dryRun(
      scenario('raw', async (s) => {
        await s.request('post', '/notes', { body: 'plain words' })
      }),
      {
        handlers: [
          chat.addEventListener('connection', () => {}),
          http.post('/notes', async ({ request }) => {
            seen = { type: request.headers.get('content-type'), method: request.method, body: await request.text() }
            return new HttpResponse(null, { status: 204 })
          }),
        ],
      },
    )
    expect(seen).toEqual({ type: null, method: 'POST', body: 'plain words' })
    expect(result.errors).toEqual([])
  })

  it('sends raw bytes, and counts request and response bytes', async () => {
    let body = ''
    const result = await dryRun(
      scenario('bytes', async (s) => {
        await s.patch('/cart/2', { body: new Uint8Array([104, 105]) })
      }),
      {
        handlers: [
          http.patch('/cart/:id', async ({ request }) => {
            body = await request.text()
            return HttpResponse.text('0123456789')
          }),
        ],
      },
    )
    expect(body).toBe('hi')
    expect(total(result, 'data_received')).toBeGreaterThan(10)
    expect(total(result, 'data_sent')).toBeGreaterThan(2)
  })

  it('judges checks and thresholds, and a failing threshold sets the status without throwing', async () => {
    const result = await dryRun(
      scenario('judged', async (s) => {
        await s.get('/products', { check: { 'is 200': (r) => r.status === 200 } })
        await s.get('/broken', { check: { 'is 200': (r) => r.status === 200 } })
      }),
      {
        handlers: [...catalogue, http.get('/broken', () => HttpResponse.json({ error: 'down' }, { status: 503 }))],
        thresholds: { http_req_failed: ['rate==0'], checks: ['rate>0.4'], http_req_duration: ['p(95)<1000'] },
      },
    )
    expect(result.status).toBe('failed')
    expect(result.thresholds.map((t) => [t.key, t.expression, t.ok])).toEqual([
      ['http_req_failed', 'rate==0', false],
      ['checks', 'rate>0.4', true],
      ['http_req_duration', 'p(95)<1000', true],
    ])
    expect(total(result, 'checks', {}, 'passes')).toBe(1)
    expect(total(result, 'checks', {}, 'total')).toBe(2)
    expect(total(result, 'http_req_failed', { error_code: 'HTTP_503' }, 'passes')).toBe(1)
  })

  it('records a request no handler answers as failed with MOCK_UNHANDLED, names it in the errors, and goes on', async () => {
    const outcomes: Array<[number, string | undefined]> = []
    const result = await dryRun(
      scenario('lost', async (s) => {
        for (const path of ['/missing?page=2', '/products']) {
          const res = await s.get(path)
          outcomes.push([res.status, res.error])
        }
        const deleted = await s.delete('/cart/1')
        outcomes.push([deleted.status, deleted.error])
      }),
      { handlers: catalogue, baseUrl: 'http://api.invalid' },
    )
    expect(outcomes).toEqual([
      [0, 'MOCK_UNHANDLED'],
      [200, undefined],
      [0, 'MOCK_UNHANDLED'],
    ])
    expect(total(result, 'http_req_failed', { name: 'GET /missing', error_code: 'MOCK_UNHANDLED', status: '0' }, 'passes')).toBe(1)
    expect(total(result, 'iterations')).toBe(1)
    expect(result.errors).toEqual([
      {
        scenario: 'lost',
        action: 'mock',
        code: 'MOCK_UNHANDLED',
        message: "No msw handler answered GET http://api.invalid/missing?page=2. Add one to the handlers, such as http.get('/missing', () => HttpResponse.json(…)).",
        count: 1,
      },
      {
        scenario: 'lost',
        action: 'mock',
        code: 'MOCK_UNHANDLED',
        message: "No msw handler answered DELETE http://api.invalid/cart/1. Add one to the handlers, such as http.delete('/cart/1', () => HttpResponse.json(…)).",
        count: 1,
      },
    ])
    // Where a user sees it: the summary's failed requests, then its errors, each naming the missing handler.
    const summary = renderSummary(result, createPalette(false))
    expect(summary).toMatch(/failed requests by error_code\n +2× +MOCK_UNHANDLED +66\.67% +DELETE \/cart\/1, GET \/missing\n/)
    expect(summary).toContain("1× No msw handler answered GET http://api.invalid/missing?page=2. Add one to the handlers, such as http.get('/missing', () => HttpResponse.json(…)). (lost, mock, MOCK_UNHANDLED)")
  })

  it('fails a request whose handler answers HttpResponse.error() or throws, listing the throw with its stack', async () => {
    const codes: Array<string | undefined> = []
    const result = await dryRun(
      scenario('faults', async (s) => {
        codes.push((await s.get('/down')).error, (await s.get('/buggy')).error, (await s.get('/products')).error)
      }),
      {
        handlers: [
          ...catalogue,
          http.get('/down', () => HttpResponse.error()),
          http.get('/buggy', () => {
            throw new RangeError('no such shelf')
          }),
        ],
      },
    )
    expect(codes).toEqual(['MOCK_NETWORK_ERROR', 'MOCK_HANDLER_ERROR', undefined])
    expect(total(result, 'http_req_failed', { error_code: 'MOCK_NETWORK_ERROR' }, 'passes')).toBe(1)
    expect(result.errors).toHaveLength(1)
    expect(result.errors[0]).toMatchObject({
      action: 'mock',
      code: 'MOCK_HANDLER_ERROR',
      message: 'The msw handlers failed on GET http://dry-run.invalid/buggy: RangeError: no such shelf. Fix the handler; to simulate a network error, return HttpResponse.error().',
      stack: expect.stringContaining('dry-run.test.ts'),
    })
  })

  it("times a slow handler out with the request's timeout, and aborts the request it was given", async () => {
    let signal: AbortSignal | undefined
    const res = await new Promise<Response>((resolve, reject) => {
      dryRun(
        scenario('slow', async (s) => resolve(await s.get('/slow', { timeout: '50ms' }))),
        {
          handlers: [
            http.get('/slow', async ({ request }) => {
              signal = request.signal
              await delay('infinite')
              return HttpResponse.json({})
            }),
          ],
        },
      ).catch(reject)
    })
    expect(res).toMatchObject({ status: 0, error: 'UND_ERR_HEADERS_TIMEOUT' })
    expect(res.timings.duration).toBeGreaterThanOrEqual(45)
    expect(signal?.aborted).toBe(true)
  })

  it('times out a body that stops, and streams one that keeps coming', async () => {
    const stream = (gapMs: number, stall: boolean) =>
      new ReadableStream<Uint8Array>({
        async start(controller) {
          for (const part of ['a', 'b', 'c']) {
            controller.enqueue(new TextEncoder().encode(part))
            await new Promise((r) => setTimeout(r, gapMs))
          }
          if (!stall) controller.close()
        },
      })
    const got: Array<[string | undefined, string]> = []
    await dryRun(
      scenario('bodies', async (s) => {
        for (const path of ['/trickle', '/stall']) {
          const res = await s.get(path, { timeout: '200ms' })
          got.push([res.error, res.text()])
        }
      }),
      { handlers: [http.get('/trickle', () => new HttpResponse(stream(20, false))), http.get('/stall', () => new HttpResponse(stream(5, true)))] },
    )
    expect(got).toEqual([
      [undefined, 'abc'],
      // What arrived before the body stopped is kept, as from a real connection.
      ['UND_ERR_BODY_TIMEOUT', 'abc'],
    ])
  })

  it('answers Server-Sent Events streams too, with the handlers', async () => {
    const encoder = new TextEncoder()
    const events = http.get('/prices', ({ request }) => {
      const from = Number(request.headers.get('last-event-id') ?? 0)
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let n = from + 1; n <= from + 3; n++) controller.enqueue(encoder.encode(`id: ${n}\ndata: {"n":${n}}\n\n`))
          controller.close()
        },
      })
      return new HttpResponse(body, { headers: { 'content-type': 'text/event-stream' } })
    })
    const seen: string[] = []
    const watch = scenario('watch', async (s) => {
      // Three events a connection: the fifth comes after a reconnect that resumes from the last id.
      for await (const event of s.sse('/prices', { maxEvents: 5, retry: '10ms' })) seen.push(event.data)
    })
    const result = await dryRun(watch, { handlers: [events] })
    expect(seen).toEqual([1, 2, 3, 4, 5].map((n) => `{"n":${n}}`))
    expect(total(result, 'sse_events')).toBe(5)
    expect(total(result, 'sse_reconnects')).toBe(1)
    expect(result.errors).toEqual([])
  })

  it('throws a misuse of chaperon in the scenario, after the run', async () => {
    const misuse = dryRun(
      scenario('misuse', async (s) => {
        await s.get('/products', { json: {}, form: {} })
      }),
      { handlers: catalogue },
    )
    await expect(misuse).rejects.toThrow(ChaperonError)
    await expect(misuse).rejects.toMatchObject({ code: 'CHAPERON_INVALID_OPTION' })
  })

  it('says what to write instead of bad options', async () => {
    const browse = scenario('browse', async () => {})
    await expect(dryRun(browse, {} as never)).rejects.toMatchObject({ code: 'CHAPERON_INVALID_OPTION', message: expect.stringContaining('dryRun() handlers must be an array of msw request handlers') })
    await expect(dryRun(browse, { handler: catalogue } as never)).rejects.toMatchObject({ code: 'CHAPERON_UNKNOWN_OPTION', message: expect.stringContaining('Did you mean "handlers"?') })
    await expect(dryRun(browse, { handlers: catalogue, vus: 0 })).rejects.toMatchObject({ message: expect.stringContaining('dryRun() vus must be an integer of at least 1') })
    await expect(dryRun(browse, { handlers: catalogue, thresholds: { http_req_duration: ['p95<<1'] } })).rejects.toMatchObject({ code: 'CHAPERON_THRESHOLD_SYNTAX' })
    await expect(dryRun(browse, { handlers: catalogue, http: { timeout: 'soon' } })).rejects.toMatchObject({ message: expect.stringMatching(/^dryRun\(\) http\.timeout/) })
    await expect(dryRun(browse, { handlers: [() => {}] as never })).rejects.toMatchObject({ message: expect.stringContaining('dryRun() handlers[0] must be an msw request handler') })
    await expect(dryRun({ name: 'browse' } as never, { handlers: catalogue })).rejects.toMatchObject({ message: expect.stringContaining('dryRun() scenario must be a scenario made with scenario(') })
  })
})

describe('loadTest({ mock })', () => {
  it('runs every scenario one VU for one iteration, at once, whatever its executor and start time', async () => {
    const browse = scenario('browse', async (s) => void (await s.get('/products')))
    const result = await runResult({
      baseUrl: 'http://api.invalid',
      mock: catalogue,
      scenarios: {
        steady: { scenario: browse, executor: 'constant-vus', vus: 20, duration: '5s' },
        ramp: { scenario: browse, executor: 'ramping-vus', stages: [{ duration: '10s', target: 50 }] },
        arrivals: { scenario: browse, executor: 'constant-arrival-rate', rate: 100, timeUnit: '1s', duration: '5s', preAllocatedVUs: 10, maxVUs: 100, startTime: '30s' },
        shared: { scenario: browse, executor: 'shared-iterations', vus: 5, iterations: 100 },
        crowd: { scenario: browse, concurrency: 50 },
      },
      thresholds: { http_reqs: ['count==5'], 'iterations{scenario:arrivals}': ['count==1'] },
      // A dry run runs in this thread, where its handlers are.
      workers: 2,
    })
    expect(result.status).toBe('passed')
    for (const key of ['steady', 'ramp', 'arrivals', 'shared', 'crowd']) expect(total(result, 'iterations', { scenario: key })).toBe(1)
    expect(series(result, 'vus_max')).toMatchObject([{ type: 'gauge', value: 5 }])
    // Nothing waited for the 30 s start time, or ran for the 5 and 10 s durations.
    expect(result.durationMs).toBeLessThan(5000)
  })

  it('answers with the handlers and opens no socket, even with a server listening at baseUrl', async () => {
    let connections = 0
    const server = createServer((_req, res) => res.end('real')).on('connection', () => connections++)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const bodies: string[] = []
      const result = await runResult({
        baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        mock: [http.get('/products', () => HttpResponse.text('mocked'))],
        scenarios: {
          main: { scenario: scenario('get', async (s) => void bodies.push((await s.get('/products')).text())), executor: 'constant-arrival-rate', rate: 10, timeUnit: '1s', duration: '1s', preAllocatedVUs: 5, maxVUs: 5 },
        },
      })
      expect(bodies).toEqual(['mocked'])
      expect(total(result, 'http_req_failed', {}, 'passes')).toBe(0)
      expect(connections).toBe(0)
    } finally {
      server.close()
    }
  })

  it('ends a request in flight when the run is interrupted, aborting the handler', async () => {
    let signal: AbortSignal | undefined
    const interrupt = new AbortController()
    const { result } = await runLoadTest(
      'stuck',
      resolveLoadTestOptions('stuck', {
        baseUrl: 'http://api.invalid',
        mock: [
          http.get('/hang', async ({ request }) => {
            signal = request.signal
            setTimeout(() => interrupt.abort('SIGINT'), 20)
            await delay('infinite')
            return HttpResponse.json({})
          }),
        ],
        scenarios: { main: { scenario: scenario('hang', async (s) => void (await s.get('/hang'))), executor: 'per-vu-iterations' } },
      }),
      undefined,
      { interrupt: interrupt.signal },
    )
    expect(result.interrupted).toMatchObject({ by: 'SIGINT' })
    expect(signal?.aborted).toBe(true)
  })
})

describe('without msw', () => {
  it('fails with CHAPERON_DRY_RUN, saying how to install it', async () => {
    // A child process in which msw cannot be resolved, as in a project that never installed it.
    const script = `
      import { registerHooks } from 'node:module'
      registerHooks({ resolve(specifier, context, next) {
        if (specifier !== 'msw') return next(specifier, context)
        throw Object.assign(new Error("Cannot find package 'msw'"), { code: 'ERR_MODULE_NOT_FOUND' })
      } })
      const { mockDispatcher } = await import('./src/runtime/dry-run.ts')
      await mockDispatcher([]).catch((error) => console.log(JSON.stringify({ code: error.code, message: error.message })))`
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { cwd: new URL('../..', import.meta.url) })
    expect(JSON.parse(stdout)).toEqual({ code: 'CHAPERON_DRY_RUN', message: expect.stringContaining('npm install --save-dev msw') })
  })
})
