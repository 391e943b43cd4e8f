import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { decodeHistogram } from '../../src/core/histogram.ts'
import type { LoadTestResult } from '../../src/core/result.ts'
import type { LoadTestOptions } from '../../src/runtime/options.ts'
import { resolveLoadTestOptions } from '../../src/runtime/resolve-options.ts'
import { runLoadTest } from '../../src/runtime/run.ts'
import { type Scenario, scenario } from '../../src/runtime/scenario.ts'
import * as fixtures from '../../fixtures/scenarios/workers.ts'
import { series, total, useTarget } from '../support/results.ts'

// The fixture module imports chaperon by its package name (its compiled types); these tests run the source.
const { crash, lookup, misuse, ping, slow } = fixtures as unknown as Record<'crash' | 'lookup' | 'misuse' | 'ping' | 'slow', Scenario>
const hidden = fixtures.hidden as unknown as Scenario[]
const target = useTarget()
const TEST_FILE = fileURLToPath(import.meta.url)

/** Runs a load test as a test file at TEST_FILE would, returning the misuse too. */
async function runWith(options: Omit<LoadTestOptions, 'baseUrl'>) {
  return runLoadTest('t', resolveLoadTestOptions('t', { baseUrl: target.url, ...options }), { file: TEST_FILE, line: 1, column: 1 })
}

async function passed(options: Omit<LoadTestOptions, 'baseUrl'>): Promise<LoadTestResult> {
  const { result, misuse } = await runWith(options)
  expect(misuse).toBeUndefined()
  return result
}

describe('workers', () => {
  it('splits VUs and iterations over worker threads and merges the counts exactly', async () => {
    const result = await passed({
      workers: 2,
      scenarios: {
        each: { scenario: lookup, executor: 'per-vu-iterations', vus: 5, iterations: 8 },
        shared: { scenario: ping, executor: 'shared-iterations', vus: 3, iterations: 31 },
      },
    })
    expect(total(result, 'iterations', { scenario: 'each' })).toBe(40)
    expect(total(result, 'iterations', { scenario: 'shared' })).toBe(31)
    expect(total(result, 'http_reqs')).toBe(71)
    expect(total(result, 'http_req_duration')).toBe(71)
    // Every VU number from 1 to 5 ran its 8 iterations: numbered apart across the two workers.
    for (let vu = 1; vu <= 5; vu++) expect(total(result, 'http_reqs', { scenario: 'each', vu: String(vu) })).toBe(8)
    // A custom metric recorded in the workers comes back too.
    const seen = series(result, 'worker_vu_seen')[0]
    expect(seen?.type === 'trend' && seen.trend.count).toBe(40)
    expect(seen?.type === 'trend' && seen.trend.min).toBe(1)
    expect(seen?.type === 'trend' && seen.trend.max).toBeCloseTo(5, 2)
    // The merged histogram holds every sample.
    const duration = series(result, 'http_req_duration', { scenario: 'each' })
    expect(duration.reduce((n, m) => n + (m.type === 'trend' ? decodeHistogram(m.trend.histogram).totalCount : 0), 0)).toBe(40)
    expect(series(result, 'vus')[0]).toMatchObject({ max: 8, value: 0 })
  })

  it('stripes arrival slots over the workers: together they start exactly the plan of one', async () => {
    const result = await passed({
      workers: 3,
      scenarios: { open: { scenario: ping, executor: 'constant-arrival-rate', rate: 100, duration: '2s', preAllocatedVUs: 6, maxVUs: 60 } },
    })
    // Every slot of the plan was started or, on a machine too busy to keep up, dropped: none lost, none twice.
    expect(total(result, 'iterations') + total(result, 'dropped_iterations')).toBe(200)
    expect(total(result, 'iterations')).toBeGreaterThan(150)
    expect(total(result, 'iteration_latency_corrected')).toBe(total(result, 'iterations'))
    // One point per second of the run, the seconds adding up to the totals.
    const reqs = result.timeSeries.series.filter((s) => s.metric === 'http_reqs')
    const perSecond = new Map<number, number>()
    for (const s of reqs) for (const p of s.points) perSecond.set(p.t, (perSecond.get(p.t) ?? 0) + (p as { value: number }).value)
    expect([...perSecond.values()].reduce((a, b) => a + b, 0)).toBe(total(result, 'http_reqs'))
    expect(perSecond.get(0)).toBeGreaterThan(80)
    expect(perSecond.get(1)).toBeGreaterThan(80)
  })

  it('stops every worker when an abortOnFail threshold fails, keeping what they recorded', async () => {
    const { result, misuse } = await runWith({
      workers: 2,
      config: { delayMs: 50 },
      scenarios: { main: { scenario: slow, executor: 'constant-vus', vus: 4, duration: '20s' } },
      thresholds: { http_req_duration: [{ threshold: 'p(95)<10', abortOnFail: true }] },
    })
    expect(misuse).toBeUndefined()
    expect(result.abortedBy).toMatchObject({ key: 'http_req_duration', expression: 'p(95)<10' })
    expect(result.durationMs).toBeLessThan(10_000)
    expect(total(result, 'http_reqs')).toBeGreaterThan(10)
  })

  it('passes a misuse in a worker on to the test', async () => {
    const { result, misuse: error } = await runWith({ workers: 2, scenarios: { main: { scenario: misuse, executor: 'per-vu-iterations', vus: 2 } } })
    expect(error?.code).toBe('CHAPERON_UNKNOWN_OPTION')
    expect(result.status).toBe('failed')
  })

  it('reports a worker that crashes and keeps what the others recorded', async () => {
    const { result, misuse: error } = await runWith({ workers: 2, scenarios: { main: { scenario: crash, executor: 'per-vu-iterations', vus: 2, iterations: 5 } } })
    expect(error?.code).toBe('CHAPERON_WORKER_FAILED')
    expect(error?.message).toMatch(/worker 1 of 2 failed: its thread exited with code 3/)
    // VU 2 ran in the second worker, which finished its part.
    expect(total(result, 'iterations')).toBe(5)
    expect(result.status).toBe('failed')
  })

  it('refuses a scenario made in the test file, saying where to move it', async () => {
    const local = scenario('local', async () => {})
    await expect(runWith({ workers: 2, scenarios: { main: { scenario: local, executor: 'per-vu-iterations' } } })).rejects.toMatchObject({
      code: 'CHAPERON_WORKER_SCENARIO',
      message: expect.stringMatching(/made in the test file itself.*export const local = scenario/),
    })
  })

  it('reports a scenario its module does not export, and runs nothing', async () => {
    const { result, misuse: error } = await runWith({ workers: 2, scenarios: { main: { scenario: hidden[0]!, executor: 'per-vu-iterations' } } })
    expect(error?.code).toBe('CHAPERON_WORKER_SCENARIO')
    expect(error?.message).toMatch(/does not export scenario 'hidden'/)
    expect(total(result, 'iterations')).toBe(0)
  })
})

describe('time series', () => {
  it('keeps every metric per second, adding up to the totals', async () => {
    const result = await target.run({
      scenarios: { main: { scenario: ping, executor: 'constant-arrival-rate', rate: 50, duration: '2500ms', preAllocatedVUs: 5 } },
      thresholds: { http_req_duration: ['p(95)<1000 over 1s'], http_reqs: ['rate>=40 over 2s'] },
    })
    expect(result.timeSeries.intervalMs).toBe(1000)
    const duration = result.timeSeries.series.filter((s) => s.metric === 'http_req_duration')
    const points = duration.flatMap((s) => s.points as Array<{ t: number; count: number; histogram: string }>)
    expect(points.reduce((n, p) => n + p.count, 0)).toBe(total(result, 'http_req_duration'))
    expect(new Set(points.map((p) => p.t))).toEqual(new Set([0, 1, 2]))
    for (const p of points) expect(decodeHistogram(p.histogram).totalCount).toBe(p.count)
    const vus = result.timeSeries.series.find((s) => s.metric === 'vus')
    expect(vus?.points.length).toBeGreaterThanOrEqual(3)
    expect(result.thresholds.map((t) => [t.expression, t.ok])).toEqual([
      ['p(95)<1000 over 1s', true],
      ['rate>=40 over 2s', true],
    ])
  })
})
