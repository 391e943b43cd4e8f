import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, expect, it } from 'vitest'
import { VERSION } from '../../src/core/version.ts'
import { resolveLoadTestOptions } from '../../src/runtime/resolve-options.ts'
import { runLoadTest } from '../../src/runtime/run.ts'
import { scenario } from '../../src/runtime/scenario.ts'
import { once, series, total, useTarget } from '../support/results.ts'

const target = useTarget()
const run = target.run.bind(target)

describe('runtime against the fixture server', () => {
  it('counts requests, iterations and checks exactly', async () => {
    const result = await run({
      scenarios: once(
        async (s) => {
          await s.get('/products', { check: { 'is 200': (r) => r.status === 200, 'is 404': (r) => r.status === 404 } })
          await s.post('/cart', { json: { id: 1 }, expect: 201 })
        },
        5,
        20,
      ),
    })
    expect(total(result, 'http_reqs')).toBe(200)
    expect(total(result, 'http_reqs', { name: 'GET /products', method: 'GET', status: '200' })).toBe(100)
    expect(total(result, 'http_reqs', { name: 'POST /cart', method: 'POST', status: '201' })).toBe(100)
    expect(total(result, 'http_req_duration')).toBe(200)
    expect(total(result, 'iterations', { scenario: 'main' })).toBe(100)
    expect(total(result, 'iteration_duration')).toBe(100)
    expect(total(result, 'http_req_failed', {}, 'passes')).toBe(0)
    expect(total(result, 'checks', { check: 'is 200' }, 'passes')).toBe(100)
    expect(total(result, 'checks', { check: 'is 404' }, 'passes')).toBe(0)
    expect(total(result, 'checks', {}, 'total')).toBe(200)
    expect(total(result, 'data_sent')).toBeGreaterThan(200 * 50)
    expect(total(result, 'data_received')).toBeGreaterThan(100 * 200)
    expect(series(result, 'vus_max')[0]).toMatchObject({ value: 5 })
    expect(series(result, 'vus')[0]).toMatchObject({ max: 5 })
  })

  it('records unexpected statuses as failed requests, honouring expect', async () => {
    const result = await run({
      scenarios: once(async (s) => {
        await s.get('/status/500')
        await s.get('/status/404', { expect: 404 })
        await s.get('/status/302')
      }, 2, 3),
    })
    expect(total(result, 'http_req_failed', { status: '500', expected_response: 'false' }, 'passes')).toBe(6)
    expect(total(result, 'http_req_failed', { status: '404', expected_response: 'true' }, 'passes')).toBe(0)
    expect(total(result, 'http_req_failed', { status: '302' }, 'passes')).toBe(0)
    expect(total(result, 'http_req_failed', {}, 'total')).toBe(18)
  })

  it('turns refused connections, resets and timeouts into failed requests with error codes', async () => {
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const deadPort = (closed.address() as AddressInfo).port
    await new Promise((resolve) => closed.close(resolve))

    const seen: Array<[number, string | undefined]> = []
    const result = await run({
      scenarios: once(async (s) => {
        for (const r of [
          await s.get(`http://127.0.0.1:${deadPort}/`, { name: 'refused' }),
          await s.get('/reset'),
          await s.get('/hang', { timeout: '200ms' }),
        ]) seen.push([r.status, r.error])
      }, 1, 2),
    })
    expect(seen.slice(0, 3)).toEqual([
      [0, 'ECONNREFUSED'],
      [0, 'ECONNRESET'],
      [0, 'UND_ERR_HEADERS_TIMEOUT'],
    ])
    expect(total(result, 'http_reqs')).toBe(6)
    expect(total(result, 'http_req_failed', {}, 'passes')).toBe(6)
    expect(total(result, 'http_reqs', { name: 'refused', error_code: 'ECONNREFUSED', status: '0' })).toBe(2)
    expect(total(result, 'http_reqs', { name: 'GET /hang', error_code: 'UND_ERR_HEADERS_TIMEOUT' })).toBe(2)
    // Nothing went over the wire to the refused port; the hung requests were sent.
    expect(total(result, 'data_sent', { name: 'refused' })).toBe(0)
    expect(total(result, 'data_sent', { name: 'GET /hang' })).toBeGreaterThan(0)
    expect(total(result, 'iterations')).toBe(2)
  })

  it('counts any truthy check result as a pass and a throwing check as a failure', async () => {
    const result = await run({
      scenarios: once(async (s) => {
        await s.get('/products', {
          check: {
            truthy: (r) => r.json<unknown[]>().length as unknown as boolean,
            throws: () => {
              throw new Error('bad check')
            },
          },
        })
      }, 1, 4),
    })
    expect(total(result, 'checks', { check: 'truthy' }, 'passes')).toBe(4)
    expect(total(result, 'checks', { check: 'throws' }, 'passes')).toBe(0)
    expect(total(result, 'checks', { check: 'throws' }, 'total')).toBe(4)
    expect(result.errors).toEqual([])
  })

  it('keeps a VU session, and its assigns, across its iterations', async () => {
    const seen: Array<[string, number, unknown]> = []
    await run({
      scenarios: once(async (s) => {
        seen.push([s.id, s.iteration, s.assigns.previous])
        s.assign({ previous: s.iteration })
      }, 2, 2),
    })
    expect(seen.sort()).toEqual([
      ['main#1', 0, undefined],
      ['main#1', 1, 0],
      ['main#2', 0, undefined],
      ['main#2', 1, 0],
    ])
  })

  it('tags requests by name without the query string, plus request and scenario tags', async () => {
    const result = await run({
      scenarios: {
        tagged: {
          scenario: scenario('s', async (s) => {
            await s.get('/delay?ms=1', { tags: { kind: 'slow' } })
          }),
          executor: 'per-vu-iterations',
          tags: { team: 'checkout' },
        },
      },
    })
    const [duration] = series(result, 'http_req_duration')
    expect(duration?.tags).toEqual({ expected_response: 'true', kind: 'slow', method: 'GET', name: 'GET /delay', proto: 'HTTP/1.1', scenario: 'tagged', status: '200', team: 'checkout' })
  })

  it('sends the default user agent and headers, with per-request headers winning', async () => {
    let echoed: { headers: Record<string, string> } | undefined
    await run({
      http: { headers: { 'X-Suite': 'load', 'X-Over': 'suite' } },
      scenarios: once(async (s) => {
        echoed = (await s.get('/echo', { headers: { 'x-over': 'request' } })).json()
      }),
    })
    expect(echoed?.headers).toMatchObject({ 'user-agent': `chaperon/${VERSION}`, 'x-suite': 'load', 'x-over': 'request' })
  })

  it('runs constant-vus for its duration and Chaperon concurrency once per session', async () => {
    const result = await run({
      scenarios: {
        steady: { scenario: scenario('s', (s) => s.get('/delay?ms=20').then(() => {})), executor: 'constant-vus', vus: 3, duration: '1s' },
        burst: { scenario: scenario('b', (s) => s.get('/').then(() => {})), concurrency: 7 },
      },
    })
    expect(result.durationMs).toBeGreaterThanOrEqual(950)
    expect(result.durationMs).toBeLessThan(10_000)
    // 3 VUs doing ~20 ms requests for a second: far more than a handful, far fewer than unbounded.
    expect(total(result, 'iterations', { scenario: 'steady' })).toBeGreaterThan(20)
    expect(total(result, 'iterations', { scenario: 'steady' })).toBeLessThan(200)
    expect(total(result, 'iterations', { scenario: 'burst' })).toBe(7)
  })

  it('shares iterations between the VUs of shared-iterations, exactly', async () => {
    const byVu = new Map<number, number>()
    const result = await run({
      scenarios: {
        pool: {
          scenario: scenario('s', async (s) => {
            byVu.set(s.vu, (byVu.get(s.vu) ?? 0) + 1)
            await s.get('/delay?ms=5')
          }),
          executor: 'shared-iterations',
          vus: 4,
          iterations: 30,
        },
      },
    })
    expect(total(result, 'iterations', { scenario: 'pool' })).toBe(30)
    expect(total(result, 'http_reqs')).toBe(30)
    expect([...byVu.values()].reduce((a, b) => a + b, 0)).toBe(30)
    // Each VU takes the next free iteration, so all four got some.
    expect(byVu.size).toBe(4)
  })

  it('starts constant-arrival-rate iterations on the plan, each VU reused, latency also from the planned start', async () => {
    const t0 = performance.now()
    const starts: number[] = []
    const result = await run({
      scenarios: {
        arrivals: {
          scenario: scenario('s', async (s) => {
            starts.push(performance.now() - t0)
            await s.get('/delay?ms=5')
          }),
          executor: 'constant-arrival-rate',
          rate: 40,
          duration: '1s',
          preAllocatedVUs: 4,
        },
      },
    })
    // 40 per second for one second: exactly 40 planned slots, every 25 ms, none dropped.
    expect(total(result, 'iterations', { scenario: 'arrivals' })).toBe(40)
    expect(total(result, 'dropped_iterations')).toBe(0)
    expect(starts).toHaveLength(40)
    expect(starts.at(-1)).toBeGreaterThanOrEqual(975 - 1)
    expect(starts.at(-1)).toBeLessThan(2500)
    expect(total(result, 'iteration_latency_corrected')).toBe(40)
    expect(total(result, 'http_req_latency_corrected')).toBe(total(result, 'http_reqs'))
    expect(series(result, 'vus_max')[0]).toMatchObject({ value: 4 })
  })

  it("keeps the plan with pacing: 'spin', its requests answered while it spins", async () => {
    const t0 = performance.now()
    const starts: number[] = []
    const result = await run({
      scenarios: {
        spun: {
          scenario: scenario('s', async (s) => {
            starts.push(performance.now() - t0)
            await s.get('/delay?ms=5')
          }),
          executor: 'constant-arrival-rate',
          rate: 200,
          duration: '1s',
          preAllocatedVUs: 4,
          maxVUs: 50,
          pacing: 'spin',
        },
      },
    })
    // 200 slots, every 5 ms, all started and answered; the last one is due 995 ms after the executor's start.
    expect(total(result, 'iterations', { scenario: 'spun' })).toBe(200)
    expect(total(result, 'dropped_iterations')).toBe(0)
    expect(total(result, 'http_reqs', { scenario: 'spun', status: '200' })).toBe(200)
    expect(starts.at(-1)).toBeGreaterThanOrEqual(995)
    expect(starts.at(-1)).toBeLessThan(2500)
  })

  it('drops arrival-rate iterations when every one of maxVUs is busy, counting each', async () => {
    const result = await run({
      scenarios: {
        ramp: {
          scenario: scenario('s', async (s) => {
            await s.get('/delay?ms=200')
          }),
          executor: 'ramping-arrival-rate',
          startRate: 0,
          stages: [
            { duration: '500ms', target: 100 },
            { duration: '500ms', target: 100 },
          ],
          preAllocatedVUs: 1,
          maxVUs: 3,
        },
      },
    })
    // The plan has 25 + 50 slots; three VUs busy 200 ms each can take only a few of them.
    const done = total(result, 'iterations', { scenario: 'ramp' })
    const dropped = total(result, 'dropped_iterations', { scenario: 'ramp' })
    expect(done + dropped).toBe(75)
    expect(done).toBeGreaterThanOrEqual(3)
    expect(done).toBeLessThanOrEqual(20)
    expect(series(result, 'vus')[0]).toMatchObject({ max: 3 })
  })

  it('moves ramping-vus through its stages, cutting off a VU still busy after gracefulRampDown', async () => {
    const t0 = performance.now()
    const firstStart = new Map<number, number>()
    const result = await run({
      scenarios: {
        ramp: {
          scenario: scenario('s', async (s) => {
            if (!firstStart.has(s.vu)) firstStart.set(s.vu, performance.now() - t0)
            // VU 3 hangs once it is taken away; the others are quick.
            await s.get(s.vu === 3 && performance.now() - t0 > 700 ? '/hang' : '/delay?ms=20')
          }),
          executor: 'ramping-vus',
          startVUs: 1,
          stages: [
            { duration: '300ms', target: 3 },
            { duration: '400ms', target: 3 },
            { duration: '300ms', target: 1 },
          ],
          gracefulRampDown: '100ms',
          gracefulStop: '5s',
        },
      },
    })
    // VU 2 joins at 150 ms and VU 3 at 300 ms, each within generous bounds.
    expect(firstStart.get(1)).toBeLessThan(150)
    expect(firstStart.get(2)).toBeGreaterThanOrEqual(149)
    expect(firstStart.get(3)).toBeGreaterThanOrEqual(299)
    expect(firstStart.get(3)).toBeLessThan(1500)
    expect(series(result, 'vus')[0]).toMatchObject({ max: 3 })
    // VU 3's /hang was cut off 100 ms after it left, well before the 5 s graceful stop.
    expect(result.durationMs).toBeLessThan(4000)
    expect(total(result, 'http_reqs', { name: 'GET /hang' })).toBe(0)
    expect(total(result, 'errors')).toBe(0)
  })

  it('stops the whole test early when an abortOnFail threshold fails, after delayAbortEval, keeping the partial result', async () => {
    const t0 = performance.now()
    const { result } = await runLoadTest(
      't',
      resolveLoadTestOptions('t', {
        baseUrl: target.url,
        scenarios: {
          failing: { scenario: scenario('s', (s) => s.get('/status/500').then(() => {})), executor: 'constant-vus', vus: 2, duration: '30s' },
          arrivals: { scenario: scenario('a', (s) => s.get('/delay?ms=5').then(() => {})), executor: 'constant-arrival-rate', rate: 20, duration: '30s', preAllocatedVUs: 2 },
        },
        thresholds: {
          http_req_failed: [{ threshold: 'rate<0.5', abortOnFail: true, delayAbortEval: '1500ms' }],
          // No samples yet must not abort: only the end of the test judges it.
          'http_req_duration{name:never}': [{ threshold: 'p(95)<1', abortOnFail: true }],
        },
      }),
    )
    const elapsed = performance.now() - t0
    expect(result.abortedBy).toMatchObject({ key: 'http_req_failed', expression: 'rate<0.5' })
    expect(result.abortedBy!.atMs).toBeGreaterThanOrEqual(1500)
    expect(result.abortedBy!.atMs).toBeLessThan(10_000)
    expect(elapsed).toBeLessThan(15_000)
    expect(result.status).toBe('failed')
    // What ran before the abort is all there.
    expect(total(result, 'http_reqs', { scenario: 'failing', status: '500' })).toBeGreaterThan(10)
    expect(total(result, 'iterations', { scenario: 'arrivals' })).toBeGreaterThan(10)
  })

  it('starts a scenario startTime after the load test', async () => {
    const started: Record<string, number> = {}
    const t0 = performance.now()
    const mark = (name: string) => scenario(name, (s) => {
      started[s.scenario] ??= performance.now() - t0
    })
    await run({
      scenarios: {
        now: { scenario: mark('now'), executor: 'per-vu-iterations' },
        later: { scenario: mark('later'), executor: 'per-vu-iterations', startTime: '300ms' },
      },
    })
    expect(started.now).toBeLessThan(250)
    expect(started.later).toBeGreaterThanOrEqual(299)
    expect(started.later).toBeLessThan(5000)
  })

  it('cuts off iterations after the graceful stop without counting them', async () => {
    const started = performance.now()
    const result = await run({
      scenarios: {
        slow: {
          scenario: scenario('s', async (s) => {
            await s.get('/')
            await s.get('/hang')
          }),
          executor: 'constant-vus',
          vus: 2,
          duration: '200ms',
          gracefulStop: '100ms',
        },
      },
    })
    expect(performance.now() - started).toBeLessThan(5000)
    expect(total(result, 'iterations')).toBe(0)
    // The first request of each VU completed; the cut-off /hang requests are not counted as failures of the target.
    expect(total(result, 'http_reqs', { name: 'GET /' })).toBe(2)
    expect(total(result, 'http_reqs', { name: 'GET /hang' })).toBe(0)
  })

  it('fails the run on a misuse of the API inside a scenario, keeping the result', async () => {
    const { result, misuse } = await runLoadTest(
      't',
      resolveLoadTestOptions('t', {
        baseUrl: target.url,
        scenarios: once(async (s) => {
          await s.get('/')
          await s.get('/', { jsn: {} } as never)
        }, 1, 3),
      }),
    )
    expect(misuse).toMatchObject({ code: 'CHAPERON_UNKNOWN_OPTION' })
    expect(misuse?.message).toContain('Did you mean "json"?')
    expect(result.status).toBe('failed')
    expect(result.errors).toEqual([expect.objectContaining({ scenario: 'main', action: 'iteration', code: 'CHAPERON_UNKNOWN_OPTION', count: 3 })])
    expect(total(result, 'http_reqs')).toBe(3)
  })

  it('caps connections per origin', async () => {
    const sockets = new Set<unknown>()
    const server = createServer((_req, res) => setTimeout(() => res.end('ok'), 5))
    server.on('connection', (socket) => sockets.add(socket))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const result = await run({
        baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        http: { connections: 2 },
        scenarios: once(async (s) => {
          await s.get('/')
        }, 10, 5),
      })
      expect(total(result, 'http_reqs', { status: '200' })).toBe(50)
      expect(sockets.size).toBe(2)
    } finally {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  })
})
