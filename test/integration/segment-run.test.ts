import { describe, expect, it } from 'vitest'
import type { LoadTestOptions } from '../../src/runtime/options.ts'
import { resolveLoadTestOptions } from '../../src/runtime/resolve-options.ts'
import { runLoadTest } from '../../src/runtime/run.ts'
import { scenario } from '../../src/runtime/scenario.ts'
import { total } from '../support/results.ts'

// A split run's instance, run in this process: CHAPERON_SEGMENT and
// CHAPERON_START_AT come in through resolveLoadTestOptions' env.
const idle = scenario('idle', (s) => s.delay(20))

const options: LoadTestOptions = {
  scenarios: { main: { scenario: idle, executor: 'constant-vus', vus: 3, duration: '2s' } },
  thresholds: {
    // A count only the whole run reaches, which aborts a whole run after a second.
    iterations: [{ threshold: 'count>100000', abortOnFail: true, delayAbortEval: '1s' }],
    iteration_duration: ['p(95)<10s'],
  },
}

describe('a segment of a split run', () => {
  it('runs its share, judges its thresholds without failing on them, and is not aborted by a count', async () => {
    const { result } = await runLoadTest('t', resolveLoadTestOptions('t', options, { CHAPERON_SEGMENT: '2/3' }))
    expect(result.segment).toMatchObject({ segment: '1/3:2/3', sequence: '0,1/3,2/3,1' })
    expect(result.abortedBy).toBeUndefined()
    expect(result.thresholds.map((t) => t.ok)).toEqual([false, true])
    expect(result.status).toBe('passed')
    // One of the three VUs.
    expect(result.metrics.find((m) => m.metric === 'vus_max')).toMatchObject({ value: 1 })
    expect(total(result, 'iterations')).toBeGreaterThan(10)
  })

  it('is aborted by a threshold that does not depend on its size, as the whole run is by a count', async () => {
    const whole = await runLoadTest('t', resolveLoadTestOptions('t', options, {}))
    expect(whole.result.abortedBy).toMatchObject({ expression: 'count>100000' })
    const slow: LoadTestOptions = { ...options, thresholds: { iteration_duration: [{ threshold: 'p(95)<1', abortOnFail: true, delayAbortEval: '1s' }] } }
    const { result } = await runLoadTest('t', resolveLoadTestOptions('t', slow, { CHAPERON_SEGMENT: '1/3' }))
    expect(result.abortedBy).toMatchObject({ expression: 'p(95)<1' })
    expect(result.status).toBe('failed')
  })

  it('waits for CHAPERON_START_AT, and an interrupt during the wait leaves an empty result', async () => {
    const startAt = Date.now() + 1500
    const short: LoadTestOptions = { scenarios: { main: { scenario: idle, executor: 'per-vu-iterations', vus: 1, iterations: 1 } } }
    const { result } = await runLoadTest('t', resolveLoadTestOptions('t', short, { CHAPERON_START_AT: String(startAt) }))
    expect(Date.parse(result.startedAt)).toBeGreaterThanOrEqual(startAt - 5)

    const interrupt = new AbortController()
    setTimeout(() => interrupt.abort('SIGTERM'), 200)
    const stopped = await runLoadTest('t', resolveLoadTestOptions('t', short, { CHAPERON_START_AT: String(Date.now() + 60_000) }), undefined, { interrupt: interrupt.signal })
    expect(stopped.result.interrupted).toMatchObject({ by: 'SIGTERM', atMs: 0 })
    expect(stopped.result.durationMs).toBeGreaterThanOrEqual(0)
    expect(total(stopped.result, 'iterations')).toBe(0)
  })
})
