import { describe, expect, it } from 'vitest'
import { ChaperonError } from '../../src/core/errors.ts'
import type { LoadTestOptions } from '../../src/runtime/options.ts'
import { resolveLoadTestOptions } from '../../src/runtime/resolve-options.ts'
import { scenario } from '../../src/runtime/scenario.ts'

const noop = scenario('noop', () => {})

function fails(options: unknown): ChaperonError {
  try {
    resolveLoadTestOptions('t', options as LoadTestOptions)
  } catch (error) {
    expect(error).toBeInstanceOf(ChaperonError)
    return error as ChaperonError
  }
  throw new Error('expected resolveLoadTestOptions to throw')
}

describe('resolveLoadTestOptions', () => {
  it('applies defaults and resolves each executor', () => {
    const lt = resolveLoadTestOptions('t', {
      baseUrl: 'http://127.0.0.1:1234/api/',
      config: { db: { host: 'a', port: 1 } },
      scenarios: {
        steady: { scenario: noop, executor: 'constant-vus', vus: 5, duration: '10s', config: { db: { port: 2 } }, tags: { team: 'x' } },
        fixed: { scenario: noop, executor: 'per-vu-iterations', vus: 2, iterations: 3 },
        pool: { scenario: noop, executor: 'shared-iterations', vus: 3, iterations: 50, maxDuration: '1m', startTime: '5s' },
        burst: { scenario: noop, concurrency: 4 },
      },
    })
    expect(lt.baseUrl?.href).toBe('http://127.0.0.1:1234/api/')
    expect(lt.scenarios.map((s) => [s.key, s.executor, s.vus, s.iterations, s.sharedIterations, s.durationMs, s.gracefulStopMs, s.startTimeMs])).toEqual([
      ['steady', 'constant-vus', 5, Number.POSITIVE_INFINITY, false, 10_000, 30_000, 0],
      ['fixed', 'per-vu-iterations', 2, 3, false, 600_000, 30_000, 0],
      ['pool', 'shared-iterations', 3, 50, true, 60_000, 30_000, 5_000],
      ['burst', 'concurrency', 4, 1, false, 600_000, 30_000, 0],
    ])
    expect(lt.scenarios[0]!.tags).toEqual({ scenario: 'steady', team: 'x' })
    expect(lt.scenarios[0]!.config).toEqual({ db: { host: 'a', port: 2 } })
    expect(Object.isFrozen(lt.scenarios[0]!.config)).toBe(true)
    expect(Object.isFrozen(lt.scenarios[0]!.config.db)).toBe(true)
    // Connections default to the most VUs that can run at once.
    expect(lt.http).toEqual({ headers: {}, connections: 14, timeoutMs: 60_000, authorization: undefined, insecure: false, version: 1 })
  })

  it.each([
    ['an unknown top-level key, with a suggestion', { scenarios: {}, treshold: {} }, 'CHAPERON_UNKNOWN_OPTION', 'Did you mean "thresholds"?'],
    ['an unknown executor key, with a suggestion', { scenarios: { a: { scenario: noop, executor: 'constant-vus', vus: 1, duration: '1s', durration: '2s' } } }, 'CHAPERON_UNKNOWN_OPTION', 'Did you mean "duration"?'],
    ['no scenarios', { scenarios: {} }, 'CHAPERON_INVALID_OPTION', 'at least one scenario'],
    ['scenarios missing', {}, 'CHAPERON_INVALID_OPTION', 'scenarios must be an object'],
    ['a plain function as scenario', { scenarios: { a: { scenario: () => {}, concurrency: 1 } } }, 'CHAPERON_INVALID_OPTION', "scenario('name'"],
    ['an unknown executor', { scenarios: { a: { scenario: noop, executor: 'constant-vu', vus: 1 } } }, 'CHAPERON_INVALID_OPTION', "'constant-vus'"],
    ['no executor and no concurrency', { scenarios: { a: { scenario: noop, vus: 3 } } }, 'CHAPERON_INVALID_OPTION', 'needs an executor'],
    ['zero VUs', { scenarios: { a: { scenario: noop, executor: 'constant-vus', vus: 0, duration: '1s' } } }, 'CHAPERON_INVALID_OPTION', 'vus must be an integer of at least 1'],
    ['fractional iterations', { scenarios: { a: { scenario: noop, executor: 'per-vu-iterations', iterations: 1.5 } } }, 'CHAPERON_INVALID_OPTION', 'iterations must be an integer'],
    ['constant-vus without duration', { scenarios: { a: { scenario: noop, executor: 'constant-vus', vus: 1 } } }, 'CHAPERON_INVALID_OPTION', "duration such as '30s'"],
    ['a bad duration', { scenarios: { a: { scenario: noop, executor: 'constant-vus', duration: '10 seconds' } } }, 'CHAPERON_INVALID_DURATION', 'scenarios.a.duration'],
    ['a bad gracefulStop', { scenarios: { a: { scenario: noop, concurrency: 1, gracefulStop: 'soon' } } }, 'CHAPERON_INVALID_DURATION', 'gracefulStop'],
    ['arrival rate without preAllocatedVUs', { scenarios: { a: { scenario: noop, executor: 'constant-arrival-rate', rate: 10, duration: '1s' } } }, 'CHAPERON_INVALID_OPTION', 'preAllocatedVUs must be an integer'],
    ['maxVUs below preAllocatedVUs', { scenarios: { a: { scenario: noop, executor: 'constant-arrival-rate', rate: 10, duration: '1s', preAllocatedVUs: 5, maxVUs: 2 } } }, 'CHAPERON_INVALID_OPTION', 'at least preAllocatedVUs (5)'],
    ['a zero constant rate', { scenarios: { a: { scenario: noop, executor: 'constant-arrival-rate', rate: 0, duration: '1s', preAllocatedVUs: 1 } } }, 'CHAPERON_INVALID_OPTION', 'more than 0 iterations'],
    ['ramping-arrival-rate without stages', { scenarios: { a: { scenario: noop, executor: 'ramping-arrival-rate', preAllocatedVUs: 1 } } }, 'CHAPERON_INVALID_OPTION', "[{ duration: '30s', target: 100 }"],
    ['a stage with a negative target', { scenarios: { a: { scenario: noop, executor: 'ramping-arrival-rate', preAllocatedVUs: 1, stages: [{ duration: '1s', target: -1 }] } } }, 'CHAPERON_INVALID_OPTION', 'stages[0].target'],
    ['a stage with an unknown key', { scenarios: { a: { scenario: noop, executor: 'ramping-arrival-rate', preAllocatedVUs: 1, stages: [{ duration: '1s', targt: 1 }] } } }, 'CHAPERON_UNKNOWN_OPTION', 'Did you mean "target"?'],
    ['ramping-vus without stages', { scenarios: { a: { scenario: noop, executor: 'ramping-vus' } } }, 'CHAPERON_INVALID_OPTION', "[{ duration: '30s', target: 20 }"],
    ['ramping-vus with a fractional target', { scenarios: { a: { scenario: noop, executor: 'ramping-vus', stages: [{ duration: '1s', target: 2.5 }] } } }, 'CHAPERON_INVALID_OPTION', 'stages[0].target must be an integer of at least 0'],
    ['a bad startTime', { scenarios: { a: { scenario: noop, concurrency: 1, startTime: 'later' } } }, 'CHAPERON_INVALID_DURATION', 'scenarios.a.startTime'],
    ['duration on shared-iterations, naming constant-vus', { scenarios: { a: { scenario: noop, executor: 'shared-iterations', duration: '1s' } } }, 'CHAPERON_UNKNOWN_OPTION', "executor: 'constant-vus'"],
    ['a non-http baseUrl', { baseUrl: 'ftp://x', scenarios: { a: { scenario: noop, concurrency: 1 } } }, 'CHAPERON_INVALID_URL', "'http://127.0.0.1:3000'"],
    ['an unparseable baseUrl', { baseUrl: 'localhost:3000', scenarios: { a: { scenario: noop, concurrency: 1 } } }, 'CHAPERON_INVALID_URL', 'http(s) URL'],
    ['non-string tags', { scenarios: { a: { scenario: noop, concurrency: 1, tags: { n: 1 } } } }, 'CHAPERON_INVALID_OPTION', 'tags.n must be a string'],
    ['a function in config', { config: { f: () => 1 }, scenarios: { a: { scenario: noop, concurrency: 1 } } }, 'CHAPERON_INVALID_OPTION', 'plain data'],
    ['an unknown http option', { http: { timout: '1s' }, scenarios: { a: { scenario: noop, concurrency: 1 } } }, 'CHAPERON_UNKNOWN_OPTION', 'Did you mean "timeout"?'],
    ['zero connections', { http: { connections: 0 }, scenarios: { a: { scenario: noop, concurrency: 1 } } }, 'CHAPERON_INVALID_OPTION', 'connections'],
    ['a bad threshold', { scenarios: { a: { scenario: noop, concurrency: 1 } }, thresholds: { http_req_duration: ['p(95) < fast'] } }, 'CHAPERON_THRESHOLD_SYNTAX', 'p(95) < fast'],
    ['a delayAbortEval that is not a duration', { scenarios: { a: { scenario: noop, concurrency: 1 } }, thresholds: { http_req_failed: [{ threshold: 'rate<0.1', abortOnFail: true, delayAbortEval: 'soon' }] } }, 'CHAPERON_INVALID_DURATION', 'delayAbortEval'],
    ['an option of another executor, naming where it belongs', { scenarios: { a: { scenario: noop, executor: 'constant-vus', duration: '1s', concurrency: 3 } } }, 'CHAPERON_UNKNOWN_OPTION', "Chaperon's form { scenario, concurrency: N }"],
    ['iterations on constant-vus, naming per-vu-iterations', { scenarios: { a: { scenario: noop, executor: 'constant-vus', duration: '1s', iterations: 3 } } }, 'CHAPERON_UNKNOWN_OPTION', "executor: 'per-vu-iterations'"],
    ['a threshold on an unknown metric', { scenarios: { a: { scenario: noop, concurrency: 1 } }, thresholds: { http_req_durations: ['p(95)<1'] } }, 'CHAPERON_THRESHOLD_UNKNOWN_METRIC', 'http_req_duration'],
  ])('rejects %s', (_, options, code, hint) => {
    const error = fails(options)
    expect(error.code).toBe(code)
    expect(error.message).toContain(hint)
    expect(error.message).toContain('loadTest("t")')
  })
})
