import { describe, expect, it } from 'vitest'
import { dryRunPlan } from '../../src/runtime/dry-run.ts'
import { resolveLoadTestOptions } from '../../src/runtime/resolve-options.ts'
import { scenario } from '../../src/runtime/scenario.ts'

const browse = scenario('browse', async () => {})
const mock = [{ info: {}, run: () => null }]

function resolve(env: NodeJS.ProcessEnv = {}) {
  return resolveLoadTestOptions(
    't',
    {
      baseUrl: 'http://api.invalid',
      mock,
      workers: 4,
      config: { region: 'eu' },
      scenarios: {
        steady: { scenario: browse, executor: 'constant-vus', vus: 20, duration: '5s', tags: { team: 'shop' } },
        arrivals: { scenario: browse, executor: 'ramping-arrival-rate', stages: [{ duration: '10s', target: 100 }], preAllocatedVUs: 10, maxVUs: 200, startTime: '1m', gracefulStop: '2s' },
        crowd: { scenario: browse, concurrency: 50 },
      },
      thresholds: { http_req_failed: ['rate==0'] },
    },
    env,
  )
}

describe('dryRunPlan', () => {
  it('gives every scenario one VU for one iteration, at once, keeping its limits, tags, config and the thresholds', () => {
    const lt = resolve()
    const plan = dryRunPlan(lt)
    expect(plan.scenarios.map((s) => [s.key, s.executor, s.vus, s.iterations, s.sharedIterations, s.startTimeMs, s.arrival, s.ramp])).toEqual([
      ['steady', 'per-vu-iterations', 1, 1, false, 0, undefined, undefined],
      ['arrivals', 'per-vu-iterations', 1, 1, false, 0, undefined, undefined],
      ['crowd', 'per-vu-iterations', 1, 1, false, 0, undefined, undefined],
    ])
    expect(plan.scenarios.map((s) => [s.durationMs, s.gracefulStopMs])).toEqual(lt.scenarios.map((s) => [s.durationMs, s.gracefulStopMs]))
    expect(plan.scenarios[0]).toMatchObject({ tags: { team: 'shop', scenario: 'steady' }, config: { region: 'eu' } })
    expect(plan).toMatchObject({ vusMax: 3, workers: 1, thresholds: lt.thresholds, mock })
    // The load test as written is left alone.
    expect(lt.scenarios[0]).toMatchObject({ executor: 'constant-vus', vus: 20 })
  })

  it('runs the whole plan at once, whatever segment or start time the environment asks for', () => {
    const plan = dryRunPlan(resolve({ CHAPERON_SEGMENT: '2/4', CHAPERON_START_AT: String(Date.now() + 60_000) }))
    expect(plan.segment).toBeUndefined()
    expect(plan.startAt).toBeUndefined()
  })

  it('takes another size, and returns a plan it made as it is', () => {
    const plan = dryRunPlan(resolve(), { vus: 3, iterations: 2 })
    expect(plan.scenarios.map((s) => [s.vus, s.iterations])).toEqual([
      [3, 2],
      [3, 2],
      [3, 2],
    ])
    expect(plan.vusMax).toBe(9)
    expect(dryRunPlan(plan)).toBe(plan)
  })
})
