import { performance } from 'node:perf_hooks'
import { describe, expect, it } from 'vitest'
import * as fixtures from '../../fixtures/scenarios/workers.ts'
import type { LoadTestResult } from '../../src/core/result.ts'
import type { LoadTestOptions } from '../../src/runtime/options.ts'
import { resolveLoadTestOptions } from '../../src/runtime/resolve-options.ts'
import { runLoadTest } from '../../src/runtime/run.ts'
import { type Scenario, scenario } from '../../src/runtime/scenario.ts'
import { series, total, useTarget } from '../support/results.ts'

// The fixture module imports chaperon by its package name (its compiled types); these tests run the source.
const slow = fixtures.slow as unknown as Scenario

const target = useTarget()

/** Runs `options` against the target and interrupts it with `by` once its first second has closed. */
async function interrupted(options: Omit<LoadTestOptions, 'baseUrl'>, by: 'SIGINT' | 'timeout'): Promise<{ result: LoadTestResult; afterMs: number }> {
  const interrupt = new AbortController()
  let at = 0
  const second = (): void => {
    if (interrupt.signal.aborted) return
    at = performance.now()
    interrupt.abort(by)
  }
  const { result, misuse } = await runLoadTest('t', resolveLoadTestOptions('t', { baseUrl: target.url, ...options }), undefined, { interrupt: interrupt.signal, second })
  expect(misuse).toBeUndefined()
  return { result, afterMs: performance.now() - at }
}

/** The sum of a counter's points in the time series. */
function pointsTotal(result: LoadTestResult, metric: string): number {
  return result.timeSeries.series.filter((s) => s.metric === metric).reduce((n, s) => n + s.points.reduce((m, p) => m + ('value' in p ? p.value : 0), 0), 0)
}

describe('iterationTimeout', () => {
  it('bounds an iteration that never resolves: counted once as ITERATION_TIMEOUT, the VU goes on', async () => {
    const started = performance.now()
    const result = await target.run({
      scenarios: {
        main: {
          scenario: scenario('stuck', async (s) => {
            if (s.iteration === 0) {
              // Its child task ends with it, silently: the timeout is counted once.
              s.async('poll', () => new Promise(() => {}))
              await new Promise(() => {})
            }
            await s.get('/products')
          }),
          executor: 'per-vu-iterations',
          vus: 2,
          iterations: 3,
          iterationTimeout: '200ms',
        },
      },
    })
    expect(performance.now() - started).toBeLessThan(10_000)
    expect(total(result, 'errors', { action: 'iteration', error_code: 'ITERATION_TIMEOUT' })).toBe(2)
    expect(total(result, 'errors')).toBe(2)
    expect(total(result, 'iterations')).toBe(4)
    expect(total(result, 'http_reqs')).toBe(4)
    expect(result.errors).toEqual([expect.objectContaining({ scenario: 'main', action: 'iteration', code: 'ITERATION_TIMEOUT', count: 2 })])
  })

  it('cancels the requests in flight of a timed-out iteration, which are not recorded', async () => {
    const result = await target.run({
      scenarios: { main: { scenario: scenario('hang', (s) => s.get('/hang').then(() => undefined)), executor: 'per-vu-iterations', vus: 3, iterations: 2, iterationTimeout: '150ms' } },
    })
    expect(total(result, 'errors', { error_code: 'ITERATION_TIMEOUT' })).toBe(6)
    expect(total(result, 'http_reqs')).toBe(0)
    expect(total(result, 'iterations')).toBe(0)
  })

  it('is a duration above zero', () => {
    const options = (iterationTimeout: unknown) => ({ scenarios: { main: { scenario: scenario('s', () => {}), executor: 'per-vu-iterations', iterationTimeout } } }) as LoadTestOptions
    expect(() => resolveLoadTestOptions('t', options('0s'))).toThrow(expect.objectContaining({ code: 'CHAPERON_INVALID_OPTION', message: expect.stringContaining("iterationTimeout must be a duration above zero such as '30s'") }))
    expect(() => resolveLoadTestOptions('t', options('soon'))).toThrow(expect.objectContaining({ code: 'CHAPERON_INVALID_DURATION' }))
    expect(resolveLoadTestOptions('t', options('2s')).scenarios[0]!.iterationTimeoutMs).toBe(2000)
  })
})

describe('an interrupted run', () => {
  it('stops at once and keeps what was measured, marked interrupted, with consistent counts', async () => {
    const { result, afterMs } = await interrupted({ scenarios: { main: { scenario: scenario('browse', (s) => s.get('/delay?ms=20').then(() => undefined)), executor: 'constant-vus', vus: 4, duration: '30s' } } }, 'SIGINT')
    expect(afterMs).toBeLessThan(3_000)
    expect(result.interrupted).toEqual({ by: 'SIGINT', atMs: expect.any(Number) })
    expect(result.interrupted!.atMs).toBeGreaterThanOrEqual(900)
    expect(result.durationMs).toBeLessThan(5_000)
    expect(result.status).toBe('failed')
    const requests = total(result, 'http_reqs')
    expect(requests).toBeGreaterThan(20)
    // Requests cut off by the stop are not recorded anywhere, so every view of the run agrees.
    expect(total(result, 'http_req_duration')).toBe(requests)
    expect(pointsTotal(result, 'http_reqs')).toBe(requests)
    expect(total(result, 'http_req_failed', {}, 'passes')).toBe(0)
  })

  it('on worker threads, merges what every worker measured until the interrupt', async () => {
    const { result, afterMs } = await interrupted({ workers: 2, config: { delayMs: 20 }, scenarios: { main: { scenario: slow, executor: 'constant-vus', vus: 4, duration: '30s' } } }, 'timeout')
    expect(afterMs).toBeLessThan(3_000)
    expect(result.durationMs).toBeLessThan(5_000)
    expect(result.interrupted?.by).toBe('timeout')
    const requests = total(result, 'http_reqs')
    expect(requests).toBeGreaterThan(20)
    expect(total(result, 'http_req_duration')).toBe(requests)
    expect(series(result, 'vus_max')[0]).toMatchObject({ value: 4 })
  })
})
