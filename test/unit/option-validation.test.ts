// Every public option object, checked the same way: a misspelt key is named with
// the key meant, and every known key (as the error lists them) has a wrong value
// that fails with a coded error naming it. A new option without a row here fails
// the "covers every known option" test, so the table stays complete.
import { describe, expect, it } from 'vitest'
import { ChaperonError, type ChaperonErrorCode } from '../../src/core/errors.ts'
import { parseThresholds } from '../../src/core/thresholds.ts'
import { chaperon, loadProject } from '../../src/plugin/index.ts'
import { resolveCsvReporterOptions } from '../../src/reporters/csv-reporter.ts'
import { resolveGithubReporterOptions } from '../../src/reporters/github-reporter.ts'
import { resolveHtmlReporterOptions } from '../../src/reporters/html-reporter.ts'
import { resolveInfluxDbReporterOptions } from '../../src/reporters/influxdb-reporter.ts'
import { resolveJsonReporterOptions } from '../../src/reporters/json-reporter.ts'
import { resolveSummaryReporterOptions } from '../../src/reporters/summary-reporter.ts'
import { resolveRequest } from '../../src/runtime/http/request-options.ts'
import { knownMetricNames, metricInfo } from '../../src/runtime/metrics/user-metrics.ts'
import type { LoadTestOptions } from '../../src/runtime/options.ts'
import { resolveLoadTestOptions } from '../../src/runtime/resolve-options.ts'
import { runLoadTest } from '../../src/runtime/run.ts'
import { type ScenarioFn, scenario } from '../../src/runtime/scenario.ts'
import { checkConnectOptions } from '../../src/runtime/ws/ws-client.ts'
import { waitOptions } from '../../src/runtime/ws/ws-wait.ts'

type Options = Record<string, unknown>
type Wrong = readonly [value: unknown, code: ChaperonErrorCode, alongside?: Options]

interface OptionObject {
  /** The object, as a user knows it. */
  name: string
  /** Checks an object of this kind, the way chaperon does when it is given one. */
  check: (options: Options) => unknown
  /** A valid object; each case changes one key of it. */
  valid: Options
  /** A misspelt key, the key meant, and a valid value for it. */
  typo: readonly [given: string, meant: string, value: unknown]
  /** A wrong value for every known key, the code it throws, and other keys it needs to get that far. */
  wrong: Readonly<Record<string, Wrong>>
}

const browse = scenario('browse', () => {})
const constantVus = { scenario: browse, executor: 'constant-vus', vus: 1, duration: '1s' }
const loadTestWith = (o: Options) => resolveLoadTestOptions('checkout', o as unknown as LoadTestOptions)
const entry = (o: Options) => loadTestWith({ scenarios: { main: o } })
const request = (o: Options) => resolveRequest('GET', '/a', o, 60_000)
const COMMON: Readonly<Record<string, Wrong>> = {
  scenario: [() => {}, 'CHAPERON_INVALID_OPTION'],
  executor: ['constant-vu', 'CHAPERON_INVALID_OPTION'],
  gracefulStop: ['10 s', 'CHAPERON_INVALID_DURATION'],
  tags: [{ team: 1 }, 'CHAPERON_INVALID_OPTION'],
  config: [[1], 'CHAPERON_INVALID_OPTION'],
  startTime: ['-1s', 'CHAPERON_INVALID_DURATION'],
  iterationTimeout: ['0s', 'CHAPERON_INVALID_OPTION'],
}
const executor = (name: string, valid: Options, typo: OptionObject['typo'], wrong: Record<string, Wrong>): OptionObject => ({
  name: `loadTest() scenarios entry, ${name}`,
  check: entry,
  valid: { scenario: browse, ...valid },
  typo,
  wrong: { ...COMMON, ...wrong },
})

const OBJECTS: readonly OptionObject[] = [
  {
    name: 'loadTest() options',
    check: loadTestWith,
    valid: { scenarios: { main: constantVus } },
    typo: ['thresold', 'thresholds', {}],
    wrong: {
      baseUrl: ['localhost:3000', 'CHAPERON_INVALID_URL'],
      scenarios: [{}, 'CHAPERON_INVALID_OPTION'],
      thresholds: [{ http_req_duration: 'p95<<200' }, 'CHAPERON_THRESHOLD_SYNTAX'],
      config: ['db=1', 'CHAPERON_INVALID_OPTION'],
      http: [true, 'CHAPERON_INVALID_OPTION'],
      workers: [0, 'CHAPERON_INVALID_OPTION'],
      redact: ['x-api-key', 'CHAPERON_INVALID_OPTION'],
      mock: [[{ method: 'GET', path: '/' }], 'CHAPERON_INVALID_OPTION'],
    },
  },
  {
    name: 'loadTest() http',
    check: (http) => loadTestWith({ scenarios: { main: constantVus }, http }),
    valid: {},
    typo: ['timout', 'timeout', '10s'],
    wrong: {
      headers: [{ 'x-build': 1 }, 'CHAPERON_INVALID_OPTION'],
      connections: [1.5, 'CHAPERON_INVALID_OPTION'],
      timeout: ['1 m', 'CHAPERON_INVALID_DURATION'],
      auth: ['alice:secret', 'CHAPERON_INVALID_OPTION'],
      insecure: ['yes', 'CHAPERON_INVALID_OPTION'],
      version: ['2', 'CHAPERON_INVALID_OPTION'],
    },
  },
  {
    name: 'loadTest() http.auth',
    check: (auth) => loadTestWith({ scenarios: { main: constantVus }, http: { auth } }),
    valid: { username: 'alice', password: 'secret' },
    typo: ['usename', 'username', 'alice'],
    wrong: { username: ['a:b', 'CHAPERON_INVALID_OPTION'], password: [5, 'CHAPERON_INVALID_OPTION'] },
  },
  executor('constant-vus', { executor: 'constant-vus', vus: 1, duration: '1s' }, ['duraton', 'duration', '1s'], {
    vus: ['10', 'CHAPERON_INVALID_OPTION'],
    duration: ['1 m', 'CHAPERON_INVALID_DURATION'],
  }),
  executor('ramping-vus', { executor: 'ramping-vus', startVUs: 0, stages: [{ duration: '1s', target: 1 }] }, ['stagse', 'stages', []], {
    startVUs: [-1, 'CHAPERON_INVALID_OPTION'],
    stages: [[], 'CHAPERON_INVALID_OPTION'],
    gracefulRampDown: ['5', 'CHAPERON_INVALID_DURATION'],
  }),
  executor('per-vu-iterations', { executor: 'per-vu-iterations' }, ['iteratons', 'iterations', 1], {
    vus: [0, 'CHAPERON_INVALID_OPTION'],
    iterations: [1.5, 'CHAPERON_INVALID_OPTION'],
    maxDuration: [Number.NaN, 'CHAPERON_INVALID_DURATION'],
  }),
  executor('shared-iterations', { executor: 'shared-iterations' }, ['maxDuraton', 'maxDuration', '1m'], {
    vus: [Number.POSITIVE_INFINITY, 'CHAPERON_INVALID_OPTION'],
    iterations: [-1, 'CHAPERON_INVALID_OPTION'],
    maxDuration: ['1e3ms', 'CHAPERON_INVALID_DURATION'],
  }),
  executor('constant-arrival-rate', { executor: 'constant-arrival-rate', rate: 10, duration: '1s', preAllocatedVUs: 1 }, ['preallocatedVus', 'preAllocatedVUs', 1], {
    rate: [Number.POSITIVE_INFINITY, 'CHAPERON_INVALID_OPTION'],
    timeUnit: ['0s', 'CHAPERON_INVALID_OPTION'],
    duration: [' 1s', 'CHAPERON_INVALID_DURATION'],
    preAllocatedVUs: [0, 'CHAPERON_INVALID_OPTION'],
    maxVUs: [0.5, 'CHAPERON_INVALID_OPTION'],
    pacing: ['busy', 'CHAPERON_INVALID_OPTION'],
  }),
  executor('ramping-arrival-rate', { executor: 'ramping-arrival-rate', stages: [{ duration: '1s', target: 10 }], preAllocatedVUs: 1 }, ['startrate', 'startRate', 0], {
    startRate: [-1, 'CHAPERON_INVALID_OPTION'],
    timeUnit: ['1 s', 'CHAPERON_INVALID_DURATION'],
    stages: [[{ duration: '1s', target: Number.NaN }], 'CHAPERON_INVALID_OPTION'],
    preAllocatedVUs: ['1', 'CHAPERON_INVALID_OPTION'],
    maxVUs: [Number.NaN, 'CHAPERON_INVALID_OPTION'],
    pacing: [true, 'CHAPERON_INVALID_OPTION'],
  }),
  executor("Chaperon's concurrency form", { concurrency: 2 }, ['concurency', 'concurrency', 2], {
    executor: ['concurrency', 'CHAPERON_INVALID_OPTION'],
    concurrency: [1.5, 'CHAPERON_INVALID_OPTION'],
    maxDuration: ['10 minutes', 'CHAPERON_INVALID_DURATION'],
  }),
  {
    name: 'a ramping stage',
    check: (stage) => entry({ scenario: browse, executor: 'ramping-vus', stages: [stage] }),
    valid: { duration: '1s', target: 1 },
    typo: ['traget', 'target', 1],
    wrong: { duration: ['1 s', 'CHAPERON_INVALID_DURATION'], target: [1.5, 'CHAPERON_INVALID_OPTION'] },
  },
  {
    name: 'a threshold object',
    check: (o) => parseThresholds({ http_req_duration: o }, metricInfo, knownMetricNames()),
    valid: { threshold: 'p(95)<200' },
    typo: ['abortOnFial', 'abortOnFail', true],
    wrong: {
      threshold: [200, 'CHAPERON_INVALID_OPTION'],
      abortOnFail: ['yes', 'CHAPERON_INVALID_OPTION'],
      delayAbortEval: ['10 s', 'CHAPERON_INVALID_DURATION'],
    },
  },
  {
    name: 'request options',
    check: request,
    valid: {},
    typo: ['jsn', 'json', {}],
    wrong: {
      headers: [{ accept: 1 }, 'CHAPERON_INVALID_OPTION'],
      query: [{ page: {} }, 'CHAPERON_INVALID_OPTION'],
      json: [10n, 'CHAPERON_INVALID_OPTION'],
      form: ['q=1', 'CHAPERON_INVALID_OPTION'],
      body: [5, 'CHAPERON_INVALID_OPTION'],
      gzip: ['yes', 'CHAPERON_INVALID_OPTION', { body: 'x' }],
      auth: ['alice:secret', 'CHAPERON_INVALID_OPTION'],
      name: ['', 'CHAPERON_INVALID_OPTION'],
      tags: [{ kind: null }, 'CHAPERON_INVALID_OPTION'],
      timeout: ['30 s', 'CHAPERON_INVALID_DURATION'],
      expect: [[], 'CHAPERON_INVALID_OPTION'],
      check: [{ 'is 200': true }, 'CHAPERON_INVALID_OPTION'],
      discardBody: ['yes', 'CHAPERON_INVALID_OPTION'],
    },
  },
  {
    name: 'request auth',
    check: (auth) => request({ auth }),
    valid: { username: 'alice', password: 'secret' },
    typo: ['pasword', 'password', 'secret'],
    wrong: { username: [null, 'CHAPERON_INVALID_OPTION'], password: [['x'], 'CHAPERON_INVALID_OPTION'] },
  },
  {
    name: 'request expect range',
    check: (range) => request({ expect: range }),
    valid: { min: 200, max: 299 },
    typo: ['mx', 'max', 299],
    wrong: { min: [99, 'CHAPERON_INVALID_OPTION'], max: ['299', 'CHAPERON_INVALID_OPTION'] },
  },
  {
    name: 's.ws.connect() options',
    check: (o) => checkConnectOptions('/chat', o),
    valid: {},
    typo: ['protocol', 'protocols', ['v2']],
    wrong: {
      name: ['', 'CHAPERON_INVALID_OPTION'],
      headers: [{ authorization: 1 }, 'CHAPERON_INVALID_OPTION'],
      protocols: [[1], 'CHAPERON_INVALID_OPTION'],
      timeout: ['10 s', 'CHAPERON_INVALID_DURATION'],
      perMessageDeflate: ['yes', 'CHAPERON_INVALID_OPTION'],
    },
  },
  {
    name: 'ws.recv() options',
    check: (o) => waitOptions(o, 'ws.recv'),
    valid: {},
    typo: ['timout', 'timeout', '1s'],
    wrong: { timeout: [0, 'CHAPERON_INVALID_OPTION'], json: ['yes', 'CHAPERON_INVALID_OPTION'] },
  },
  {
    name: 'scenario() definition',
    check: (o) => scenario(o as never),
    valid: { name: 'shop', run: () => {} },
    typo: ['teardwon', 'teardown', () => {}],
    wrong: {
      name: ['', 'CHAPERON_INVALID_OPTION'],
      init: [5, 'CHAPERON_INVALID_OPTION'],
      run: ['go', 'CHAPERON_INVALID_OPTION'],
      teardown: [{}, 'CHAPERON_INVALID_OPTION'],
      config: [[1], 'CHAPERON_INVALID_OPTION'],
    },
  },
  {
    name: 'loadProject() options',
    check: (o) => loadProject(o as never),
    valid: {},
    typo: ['includes', 'include', ['load/**/*.load.ts']],
    wrong: {
      include: ['load/*.ts', 'CHAPERON_INVALID_OPTION'],
      exclude: [[1], 'CHAPERON_INVALID_OPTION'],
      target: ['yes', 'CHAPERON_INVALID_OPTION'],
      testTimeout: [1.5, 'CHAPERON_INVALID_OPTION'],
    },
  },
  {
    name: 'chaperon() options',
    check: (o) => chaperon(o as never),
    valid: {},
    typo: ['reporter', 'reporters', ['summary']],
    wrong: { reporters: ['summary', 'CHAPERON_INVALID_OPTION'] },
  },
  {
    name: "the 'summary' reporter's options",
    check: resolveSummaryReporterOptions,
    valid: {},
    typo: ['progres', 'progress', false],
    wrong: { progress: ['no', 'CHAPERON_INVALID_OPTION'] },
  },
  {
    name: "the 'json' reporter's options",
    check: resolveJsonReporterOptions,
    valid: {},
    typo: ['outputdir', 'outputDir', 'out'],
    wrong: { outputDir: ['', 'CHAPERON_INVALID_OPTION'] },
  },
  {
    name: "the 'csv' reporter's options",
    check: resolveCsvReporterOptions,
    valid: {},
    typo: ['outputFle', 'outputFile', 'out.csv'],
    wrong: { outputFile: [5, 'CHAPERON_INVALID_OPTION'] },
  },
  {
    name: "the 'html' reporter's options",
    check: resolveHtmlReporterOptions,
    valid: {},
    typo: ['titel', 'title', 'Load'],
    wrong: { outputFile: ['', 'CHAPERON_INVALID_OPTION'], title: ['  ', 'CHAPERON_INVALID_OPTION'] },
  },
  {
    name: "the 'github' reporter's options",
    check: resolveGithubReporterOptions,
    valid: {},
    typo: ['prCommnet', 'prComment', false],
    wrong: {
      prComment: [true, 'CHAPERON_INVALID_OPTION'],
      baseline: [5, 'CHAPERON_INVALID_OPTION'],
      nearlyFailingMargin: [1, 'CHAPERON_INVALID_OPTION'],
    },
  },
  {
    name: "the 'influxdb' reporter's options",
    check: (o) => resolveInfluxDbReporterOptions(o, {}),
    valid: { url: 'http://localhost:8086' },
    typo: ['flushIntreval', 'flushInterval', '5s'],
    wrong: {
      url: ['localhost:8086', 'CHAPERON_INVALID_URL'],
      version: ['2', 'CHAPERON_INVALID_OPTION'],
      database: ['', 'CHAPERON_INVALID_OPTION'],
      username: [5, 'CHAPERON_INVALID_OPTION'],
      password: [5, 'CHAPERON_INVALID_OPTION'],
      org: [5, 'CHAPERON_INVALID_OPTION', { version: 2, bucket: 'load', token: 't' }],
      bucket: ['', 'CHAPERON_INVALID_OPTION', { version: 2, token: 't' }],
      token: [5, 'CHAPERON_INVALID_OPTION', { version: 2, bucket: 'load' }],
      tags: [{ test: 'x' }, 'CHAPERON_INVALID_OPTION'],
      run: ['', 'CHAPERON_INVALID_OPTION'],
      stream: ['yes', 'CHAPERON_INVALID_OPTION'],
      flushInterval: ['5 s', 'CHAPERON_INVALID_DURATION'],
      batchSize: [0.5, 'CHAPERON_INVALID_OPTION'],
      timeout: [0, 'CHAPERON_INVALID_OPTION'],
      retries: [-1, 'CHAPERON_INVALID_OPTION'],
    },
  },
]

function thrown(fn: () => unknown): ChaperonError {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(ChaperonError)
    return error as ChaperonError
  }
  throw new Error('expected a ChaperonError, but nothing was thrown')
}

describe.each(OBJECTS)('$name', ({ check, valid, typo: [given, meant, value], wrong }) => {
  it('accepts the valid object', () => {
    expect(() => check(valid)).not.toThrow()
  })

  it(`names the misspelt key and the key meant`, () => {
    const e = thrown(() => check({ ...valid, [given]: value }))
    expect(e.code).toBe('CHAPERON_UNKNOWN_OPTION')
    expect(e.message).toContain(`unknown option "${given}". Did you mean "${meant}"?`)
  })

  it('covers every known option with a wrong value', () => {
    const listed = /Known options: (.*)\.$/.exec(thrown(() => check({ ...valid, zzzzzzzz: 1 })).message)?.[1]?.split(', ')
    expect(listed, 'the error lists the known options').toBeDefined()
    expect(Object.keys(wrong).sort(), 'a wrong-value case for each known option').toEqual([...listed!].sort())
  })

  it.each(Object.entries(wrong))('rejects a wrong %s', (key, [bad, code, alongside]) => {
    const e = thrown(() => check({ ...valid, ...alongside, [key]: bad }))
    expect(e.code).toBe(code)
    expect(e.message).toContain(key)
  })
})

describe('where the path of the option is named', () => {
  it.each([
    [() => entry({ ...constantVus, vus: 1.5 }), 'loadTest("checkout") scenarios.main.vus must be an integer of at least 1, such as 10; got 1.5.'],
    [() => entry({ ...constantVus, duration: '10 s' }), "loadTest(\"checkout\") scenarios.main.duration must be a duration such as '250ms', '10s', '1m30s' or a number of milliseconds; got \"10 s\". Write '10s'."],
    [() => entry({ ...constantVus, duraton: '1s' }), 'loadTest("checkout") scenarios.main has an unknown option "duraton". Did you mean "duration"?'],
    [() => request({ timeout: '1e3ms' }), "GET /a options.timeout must be a duration such as '250ms', '10s', '1m30s' or a number of milliseconds; got \"1e3ms\". Write '1000ms'."],
    [() => request({ expect: { min: 200, mx: 299 } }), 'GET /a options.expect has an unknown option "mx". Did you mean "max"?'],
    [() => resolveInfluxDbReporterOptions({ url: 'http://h', bukcet: 'b' }, {}), `the 'influxdb' reporter has an unknown option "bukcet". Did you mean "bucket"?`],
  ])('%#', (fn, message) => {
    expect(thrown(fn).message).toContain(message)
  })

  it.each([
    ['timeout', '10s', "It belongs in http: { timeout: … }."],
    ['vus', 10, "It belongs in a scenario: scenarios: { main: { scenario, executor: 'constant-vus', vus: … } }."],
    ['rate', 50, "It belongs in a scenario: scenarios: { main: { scenario, executor: 'constant-arrival-rate', rate: … } }."],
    ['tags', {}, 'It belongs in a scenario entry: scenarios: { main: { tags: … } }.'],
  ])('says where %s written at the top of the options belongs', (key, value, hint) => {
    const e = thrown(() => loadTestWith({ scenarios: { main: constantVus }, [key]: value }))
    expect(e.code).toBe('CHAPERON_UNKNOWN_OPTION')
    expect(e.message).toContain(hint)
  })

  it('refuses an empty scenario key', () => {
    expect(thrown(() => loadTestWith({ scenarios: { ' ': constantVus } })).message).toContain('loadTest("checkout") scenarios must be keys that name each scenario')
  })

  it('says where an option of another executor belongs, instead of a did-you-mean', () => {
    const e = thrown(() => entry({ ...constantVus, iterations: 5 }))
    expect(e.code).toBe('CHAPERON_UNKNOWN_OPTION')
    expect(e.message).toContain("It belongs to executor: 'per-vu-iterations'.")
  })

  it('suggests a metric for a misspelt threshold key', () => {
    const e = thrown(() => parseThresholds({ http_req_duraton: 'p(95)<200' }, metricInfo, knownMetricNames()))
    expect(e.code).toBe('CHAPERON_THRESHOLD_UNKNOWN_METRIC')
    expect(e.message).toContain('Did you mean "http_req_duration"?')
  })
})

/** A number option, a way to set it, and values it must refuse and take. */
type NumericCase = readonly [option: string, set: (value: unknown) => unknown, rejects: readonly unknown[], accepts: readonly unknown[]]

const INTEGERS = [Number.NaN, Number.POSITIVE_INFINITY, -1, 1.5, 2 ** 53, '10']
const DURATIONS = [Number.NaN, Number.POSITIVE_INFINITY, -1, '1e3ms', '0x10ms', ' 5s', '5 s', '10', '1d', '-1s', '+5s']
const arrival = { scenario: browse, executor: 'constant-arrival-rate', rate: 10, duration: '1s', preAllocatedVUs: 1 }
const rampingArrival = { scenario: browse, executor: 'ramping-arrival-rate', stages: [{ duration: '1s', target: 10 }], preAllocatedVUs: 1 }

const NUMERIC: readonly NumericCase[] = [
  ['vus', (v) => entry({ ...constantVus, vus: v }), [...INTEGERS, 0], [1, 500]],
  ['iterations', (v) => entry({ scenario: browse, executor: 'per-vu-iterations', iterations: v }), [...INTEGERS, 0], [1, 100]],
  ['startVUs', (v) => entry({ scenario: browse, executor: 'ramping-vus', startVUs: v, stages: [{ duration: '1s', target: 1 }] }), INTEGERS, [0, 5]],
  ['a ramping-vus stage target', (v) => entry({ scenario: browse, executor: 'ramping-vus', stages: [{ duration: '1s', target: v }] }), INTEGERS, [0, 5]],
  ['concurrency', (v) => entry({ scenario: browse, concurrency: v }), [...INTEGERS, 0], [1, 50]],
  ['preAllocatedVUs', (v) => entry({ ...arrival, preAllocatedVUs: v, maxVUs: 2 ** 40 }), [...INTEGERS, 0], [1, 10]],
  ['maxVUs', (v) => entry({ ...arrival, maxVUs: v }), [...INTEGERS, 0], [1, 10]],
  ['http.connections', (v) => loadTestWith({ scenarios: { main: constantVus }, http: { connections: v } }), [...INTEGERS, 0], [1, 64]],
  ['workers', (v) => loadTestWith({ scenarios: { main: constantVus }, workers: v }), [...INTEGERS, 0, 'all'], [1, 'auto']],
  ['rate', (v) => entry({ ...arrival, rate: v }), [Number.NaN, Number.POSITIVE_INFINITY, -1, 0, '50'], [0.5, 100]],
  ['startRate', (v) => entry({ ...rampingArrival, startRate: v }), [Number.NaN, Number.POSITIVE_INFINITY, -1, '5'], [0, 0.5]],
  ['an arrival stage target', (v) => entry({ ...rampingArrival, stages: [{ duration: '1s', target: v }] }), [Number.NaN, Number.NEGATIVE_INFINITY, -1, '5'], [0, 2.5]],
  ['duration', (v) => entry({ ...constantVus, duration: v }), DURATIONS, [1500, '1.5s', '1m30s', '250us']],
  ['gracefulStop', (v) => entry({ ...constantVus, gracefulStop: v }), DURATIONS, [0, '0s', '10s']],
  ['timeUnit', (v) => entry({ ...arrival, timeUnit: v }), [...DURATIONS, 0, '0s'], ['1s', '1m', 250]],
  ['http.timeout', (v) => loadTestWith({ scenarios: { main: constantVus }, http: { timeout: v } }), [...DURATIONS, 0, '0s'], ['10s', 5000]],
  ['a request timeout', (v) => request({ timeout: v }), [...DURATIONS, 0, '0ms'], ['30s', 100]],
  ['a WebSocket connect timeout', (v) => checkConnectOptions('/chat', { timeout: v }), [...DURATIONS, 0], ['2s', 100]],
  ['a WebSocket receive timeout', (v) => waitOptions({ timeout: v } as never, 'ws.recv'), [...DURATIONS, 0], ['2s', 100]],
  ['delayAbortEval', (v) => parseThresholds({ checks: { threshold: 'rate>0.9', delayAbortEval: v } }, metricInfo), DURATIONS, [0, '10s']],
  ['a status in expect', (v) => request({ expect: v }), [99, 600, 200.5, Number.NaN, '200', { min: 300, max: 200 }], [200, [200, 404], { min: 200, max: 299 }]],
  ['loadProject() testTimeout', (v) => loadProject({ testTimeout: v as number }), [...INTEGERS, 0], [1, 60_000]],
  ['influxdb batchSize', (v) => resolveInfluxDbReporterOptions({ url: 'http://h', batchSize: v }, {}), [...INTEGERS, 0], [1, 5000]],
  ['influxdb retries', (v) => resolveInfluxDbReporterOptions({ url: 'http://h', retries: v }, {}), INTEGERS, [0, 3]],
  ['influxdb flushInterval', (v) => resolveInfluxDbReporterOptions({ url: 'http://h', flushInterval: v }, {}), [...DURATIONS, 0], ['5s', 500]],
  ['github nearlyFailingMargin', (v) => resolveGithubReporterOptions({ nearlyFailingMargin: v }), [Number.NaN, Number.POSITIVE_INFINITY, -0.1, 1, '0.1'], [0, 0.1, 0.99]],
]

describe.each(NUMERIC)('%s', (_, set, rejects, accepts) => {
  it.each(rejects.map((v) => [v]))('rejects %o', (value) => {
    expect(thrown(() => set(value)).code).toMatch(/^CHAPERON_INVALID_(OPTION|DURATION)$/)
  })
  it.each(accepts.map((v) => [v]))('accepts %o', (value) => {
    expect(() => set(value)).not.toThrow()
  })
})

describe('options given inside a scenario', () => {
  /** The misuse a scenario that calls `fn` fails its load test with. */
  const misuseOf = async (fn: ScenarioFn) => (await runLoadTest('t', resolveLoadTestOptions('t', { scenarios: { main: { scenario: scenario('s', fn), executor: 'per-vu-iterations' } } }))).misuse

  it.each<[string, ScenarioFn, string]>([
    ['s.repeat()', (s) => s.repeat(1, () => {}, { tracd: 'poll' } as never), 'repeat() options has an unknown option "tracd". Did you mean "traced"?'],
    ['s.retryOnError()', (s) => s.retryOnError(() => 1, { retires: 1 } as never).then(() => {}), 'retryOnError() options has an unknown option "retires". Did you mean "retries"?'],
    ['s.spread()', (s) => void s.spread('w', { count: 1, over: '1ms', cuont: 1 } as never, () => {}), `spread('w') options has an unknown option "cuont". Did you mean "count"?`],
    ['s.await()', (s) => s.async('t', () => {}).await('t', { timout: '1s' } as never).then(() => {}), 'has an unknown option "timout". Did you mean "timeout"?'],
    ['s.awaitSignal()', (s) => s.awaitSignal(undefined, { timout: '1s' } as never).then(() => {}), 'has an unknown option "timout". Did you mean "timeout"?'],
    ['s.delay({ min, max })', (s) => s.delay({ min: 1, mx: 2 } as never), 'delay() has an unknown option "mx". Did you mean "max"?'],
  ])('%s rejects an unknown key with a did-you-mean', async (_, fn, message) => {
    const misuse = await misuseOf(fn)
    expect(misuse?.code).toBe('CHAPERON_UNKNOWN_OPTION')
    expect(misuse?.message).toContain(message)
  })
})

describe('chaperon() reporters', () => {
  it.each<[unknown, string]>([
    [[], "chaperon() options must be an object such as { reporters: ['summary'] }; got an array."],
    [{ reporters: 10n }, "chaperon() reporters must be an array such as ['summary', ['json', { outputDir: 'results' }]]; got 10n."],
    [{ reporters: [['json', {}, 'extra']] }, 'chaperon() reporters[0] must be a reporter name, or [name, options]'],
    [{ reporters: [[]] }, 'chaperon() reporters[0] must be a reporter name, or [name, options]'],
    [{ reporters: [Symbol('json')] }, 'chaperon() reporters[0] names an unknown reporter Symbol(json). Known reporters: summary, json, csv, html, influxdb, github.'],
    [{ reporters: ['jsno'] }, 'chaperon() reporters[0] names an unknown reporter "jsno". Did you mean "json"?'],
  ])('rejects %o', (options, message) => {
    const e = thrown(() => chaperon(options as never))
    expect(e.code).toBe('CHAPERON_INVALID_OPTION')
    expect(e.message).toContain(message)
  })
})
