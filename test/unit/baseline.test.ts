import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { applyBaseline, compareResults, findBaseline, resultIdentity, resultMetrics } from '../../src/core/baseline.ts'
import { BUILTIN_METRICS } from '../../src/core/builtin-metrics.ts'
import { ChaperonError } from '../../src/core/errors.ts'
import { createHistogram, recordMicros, summarize } from '../../src/core/histogram.ts'
import { type LoadTestResult, SCHEMA_VERSION } from '../../src/core/result.ts'
import { readBaselines, readResults } from '../../src/core/result-files.ts'
import { seriesFromResult } from '../../src/core/series.ts'
import { evaluateThresholds, formatChange, judgeBudget, parseThresholds, percentChange, type Thresholds } from '../../src/core/thresholds.ts'

const lookup = (name: string) => BUILTIN_METRICS[name]

function one(key: string, expression: string) {
  const [t] = parseThresholds({ [key]: expression }, lookup)
  return t!
}

function thrown(fn: () => unknown): ChaperonError {
  try {
    fn()
  } catch (e) {
    expect(e).toBeInstanceOf(ChaperonError)
    return e as ChaperonError
  }
  throw new Error('expected a ChaperonError, but nothing was thrown')
}

/**
 * A run of `requests` requests of `latencyMs` each (the last `slow` of them
 * taking 2 ms), `failed` of them failed, over 10 s, with `thresholds`
 * evaluated as the runtime does: budgets come back not compared. Times up to
 * 2 ms are exact in the histogram.
 */
function run(opts: { name?: string; file?: string; latencyMs: number; requests: number; failed?: number; slow?: number; thresholds?: Thresholds; startedAt?: string }): LoadTestResult {
  const h = createHistogram()
  for (let i = 0; i < opts.requests; i++) recordMicros(h, (i >= opts.requests - (opts.slow ?? 0) ? 2 : opts.latencyMs) * 1000)
  const tags = { name: 'GET /', scenario: 'main' }
  const base: LoadTestResult = {
    schemaVersion: SCHEMA_VERSION,
    name: opts.name ?? 'api',
    location: { file: `/repo/${opts.file ?? 'api.load.ts'}`, line: 5, column: 1 },
    startedAt: opts.startedAt ?? '2025-01-01T00:00:00.000Z',
    durationMs: 10_000,
    status: 'passed',
    scenarios: [{ name: 'main', executor: 'constant-vus', scenario: 'main' }],
    metrics: [
      { metric: 'http_req_duration', type: 'trend', tags, trend: summarize(h) },
      { metric: 'http_req_failed', type: 'rate', tags, passes: opts.failed ?? 0, total: opts.requests },
      { metric: 'http_reqs', type: 'counter', tags, value: opts.requests },
    ],
    timeSeries: { intervalMs: 1000, series: [] },
    thresholds: [],
    errors: [],
  }
  const thresholds = evaluateThresholds(parseThresholds(opts.thresholds ?? {}, lookup), seriesFromResult(base), 10, lookup)
  return { ...base, thresholds, status: thresholds.every((t) => t.ok) ? 'passed' : 'failed' }
}

describe('parsing baseline budgets', () => {
  it.each([
    ['http_req_duration', 'p(95)<+10% baseline', { relative: true, amount: 10 }, '<'],
    ['http_req_duration', 'p(95) <= -5 % baseline', { relative: true, amount: -5 }, '<='],
    ['http_req_duration', 'avg<+20ms baseline', { relative: false, amount: 20 }, '<'],
    ['http_req_duration', 'p99<=+1.5s baseline', { relative: false, amount: 1500 }, '<='],
    ['http_req_duration', 'max<+500us baseline', { relative: false, amount: 0.5 }, '<'],
    ['http_req_duration', 'p(95)<=baseline', { relative: true, amount: 0 }, '<='],
    ['http_req_failed', 'rate<=+0.01 baseline', { relative: false, amount: 0.01 }, '<='],
    ['http_reqs', 'rate>-10% baseline', { relative: true, amount: -10 }, '>'],
    ['http_reqs', 'count>=+0% baseline', { relative: true, amount: 0 }, '>='],
  ] as const)('on %s, reads %j', (metric, expression, budget, op) => {
    const t = one(metric, expression)
    expect(t).toMatchObject({ budget, op, expression: expression.trim() })
    expect(t.target).toBeNaN()
    expect(t.windowSec).toBeUndefined()
  })

  it('leaves plain expressions without a budget', () => {
    expect(one('http_req_duration', 'p(95)<200').budget).toBeUndefined()
  })

  it.each([
    ['http_req_duration', 'p(95)<10% baseline', '"10%" has no sign'],
    ['http_req_duration', 'p(95)<twice baseline', '"twice baseline" is not a baseline budget'],
    ['http_req_duration', 'p(95)==+10% baseline', 'compares with one of < <= > >=, not =='],
    ['http_req_duration', 'p(95)!=baseline', 'not !='],
    ['http_req_duration', 'p(95)<+10% baseline over 10s', 'takes no window'],
    ['http_req_duration', 'p(95)<+10x baseline', '"x" is not a unit'],
    ['http_req_failed', 'rate<+1s baseline', 'units apply only to times'],
    ['http_reqs', 'count<+5ms baseline', 'units apply only to times'],
    ['http_req_failed', 'rate<1%', 'write 0.01 for 1% (or "+10% baseline"'],
  ])('on %s, rejects %j', (metric, expression, why) => {
    const e = thrown(() => one(metric, expression))
    expect(e.code).toBe('CHAPERON_THRESHOLD_SYNTAX')
    expect(e.message).toContain(why)
  })

  it('refuses abortOnFail on a budget, which is judged after the run', () => {
    const e = thrown(() => parseThresholds({ http_req_duration: [{ threshold: 'p(95)<+10% baseline', abortOnFail: true }] }, lookup))
    expect(e.code).toBe('CHAPERON_INVALID_OPTION')
    expect(e.message).toContain('thresholds["http_req_duration"][0] cannot abort on fail')
    expect(e.message).toContain("abort on a fixed limit such as 'p(95)<500'")
  })
})

describe('judging budgets', () => {
  const info = BUILTIN_METRICS['http_req_duration']!

  it('is not compared without a baseline, and says so', () => {
    const r = run({ latencyMs: 1, requests: 100, thresholds: { http_req_duration: 'p(95)<+10% baseline' } })
    expect(r.thresholds[0]).toEqual({ key: 'http_req_duration', expression: 'p(95)<+10% baseline', ok: true, actual: 1, display: 'p(95)=1ms, not compared: no baseline', baseline: null, change: null })
  })

  it('fails without samples now, baseline or not', () => {
    const r = run({ latencyMs: 10, requests: 100, thresholds: { 'http_req_duration{name:typo}': 'p(95)<+10% baseline' } })
    expect(r.thresholds[0]).toMatchObject({ ok: false, actual: null, display: 'p(95)=no samples, not compared: no baseline' })
  })

  it.each([
    ['p(95)<+10% baseline', 109, 100, true],
    ['p(95)<+10% baseline', 110.5, 100, false],
    ['p(95)<=+10% baseline', 110, 100, true],
    ['p(95)<-5% baseline', 94, 100, true],
    ['p(95)<-5% baseline', 96, 100, false],
    ['p(95)<+20ms baseline', 119, 100, true],
    ['p(95)<+20ms baseline', 121, 100, false],
    ['p(95)<=baseline', 100, 100, true],
    ['p(95)<baseline', 100, 100, false],
  ] as const)('%s with %d now and %d before: ok %s', (expression, actual, baseline, ok) => {
    const r = judgeBudget(one('http_req_duration', expression), actual, baseline, info)
    expect(r.ok).toBe(ok)
    expect(r.baseline).toBe(baseline)
    expect(r.change).toBeCloseTo(actual - baseline)
  })

  it('shows the baseline and the change', () => {
    expect(judgeBudget(one('http_req_duration', 'p(95)<+10% baseline'), 112.5, 100, info).display).toBe('p(95)=112.5ms, baseline 100ms (+12.5%)')
    const rate = judgeBudget(one('http_req_failed', 'rate<=+0.01 baseline'), 0.02, 0.005, BUILTIN_METRICS['http_req_failed']!)
    expect(rate).toMatchObject({ ok: false, display: 'rate=2%, baseline 0.5% (+300%)' })
    expect(judgeBudget(one('http_reqs', 'rate>-10% baseline'), 46, 50, BUILTIN_METRICS['http_reqs']!)).toMatchObject({ ok: true, display: 'rate=46/s, baseline 50/s (-8%)' })
    expect(judgeBudget(one('http_reqs', 'rate>-10% baseline'), 45, 50, BUILTIN_METRICS['http_reqs']!).ok).toBe(false)
  })

  it('does not compare with a baseline that has no samples', () => {
    expect(judgeBudget(one('http_req_duration', 'p(95)<+10% baseline'), 12, null, info)).toMatchObject({ ok: true, baseline: null, change: null, display: 'p(95)=12ms, not compared: the baseline has no samples' })
  })

  it('allows only zero over a zero baseline in percent; an absolute budget allows more', () => {
    const failed = BUILTIN_METRICS['http_req_failed']!
    expect(judgeBudget(one('http_req_failed', 'rate<=+50% baseline'), 0, 0, failed)).toMatchObject({ ok: true, change: 0 })
    expect(judgeBudget(one('http_req_failed', 'rate<=+50% baseline'), 0.001, 0, failed)).toMatchObject({ ok: false, change: null, display: 'rate=0.1%, baseline 0% (n/a)' })
    expect(judgeBudget(one('http_req_failed', 'rate<=+0.01 baseline'), 0.001, 0, failed).ok).toBe(true)
  })

  it('computes and formats changes', () => {
    expect(percentChange(110, 100)).toBeCloseTo(10)
    expect(percentChange(90, -100)).toBeCloseTo(190)
    expect(percentChange(null, 100)).toBeNull()
    expect(percentChange(1, 0)).toBeNull()
    expect(percentChange(0, 0)).toBe(0)
    expect([12.54, -3, 0, 0.00013, -0.04, null].map(formatChange)).toEqual(['+12.5%', '-3%', '+0%', '+0%', '+0%', 'n/a'])
  })
})

describe('applyBaseline', () => {
  const thresholds: Thresholds = { http_req_duration: ['p(95)<+10% baseline', 'p(95)<1s'], http_reqs: 'count>=-10% baseline' }

  it('judges the budgets of a result against the baseline and updates its status', () => {
    const before = run({ latencyMs: 1, requests: 100 })
    const now = run({ latencyMs: 1.2, requests: 95, thresholds })
    expect(now.status).toBe('passed')
    const judged = applyBaseline(now, before)
    expect(judged.status).toBe('failed')
    expect(judged.thresholds).toEqual([
      { key: 'http_req_duration', expression: 'p(95)<+10% baseline', ok: false, actual: 1.2, display: 'p(95)=1.2ms, baseline 1ms (+20%)', baseline: 1, change: expect.closeTo(20) },
      now.thresholds[1],
      { key: 'http_reqs', expression: 'count>=-10% baseline', ok: true, actual: 95, display: 'count=95, baseline 100 (-5%)', baseline: 100, change: -5 },
    ])
    // Judged again against a slower baseline, the same run passes.
    expect(applyBaseline(judged, run({ latencyMs: 1.15, requests: 100 })).status).toBe('passed')
  })

  it('leaves a result without budgets as it is', () => {
    const now = run({ latencyMs: 1.2, requests: 95, thresholds: { http_req_duration: 'p(95)<1s' } })
    expect(applyBaseline(now, run({ latencyMs: 1, requests: 1 }))).toBe(now)
  })

  it('keeps a failure that no threshold explains (scenario code misused chaperon)', () => {
    const now = { ...run({ latencyMs: 1.2, requests: 100, thresholds }), status: 'failed' as const }
    expect(applyBaseline(now, run({ latencyMs: 1.2, requests: 100 })).status).toBe('failed')
  })

  it('without a baseline, leaves the budgets not compared', () => {
    const judged = applyBaseline(run({ latencyMs: 1.2, requests: 95, thresholds }), undefined)
    expect(judged.thresholds.map((t) => [t.ok, t.baseline])).toEqual([[true, null], [true, undefined], [true, null]])
  })
})

describe('compareResults', () => {
  it('lists the headline metrics and the thresholds of both runs with their change', () => {
    const before = run({ latencyMs: 1, requests: 100, failed: 1 })
    const now = run({ latencyMs: 1, requests: 120, failed: 3, slow: 10, thresholds: { http_req_duration: ['p(99)<+10% baseline', 'p(50)<50'] } })
    const c = compareResults(before, now)
    expect(c).toMatchObject({ name: 'api', baselineStartedAt: '2025-01-01T00:00:00.000Z', budgetsOk: false, status: 'failed' })
    const rows = Object.fromEntries(c.metrics.map((m) => [`${m.key} ${m.aggregation}`, [m.currentDisplay, m.baselineDisplay, m.change === null ? null : Math.round(m.change)]]))
    expect(rows).toEqual({
      'http_req_duration p(50)': ['1ms', '1ms', 0],
      'http_req_duration p(95)': ['2ms', '1ms', 100],
      'http_req_duration p(99)': ['2ms', '1ms', 100],
      'http_reqs rate': ['12/s', '10/s', 20],
      'http_req_failed rate': ['2.5%', '1%', 150],
    })
    expect(c.thresholds.map((t) => [t.key, t.threshold.expression, t.budget, t.threshold.ok, t.currentDisplay, t.baselineDisplay])).toEqual([
      ['http_req_duration', 'p(99)<+10% baseline', true, false, '2ms', '1ms'],
      ['http_req_duration', 'p(50)<50', false, true, '1ms', '1ms'],
    ])
  })

  it('without a baseline, shows the current values only', () => {
    const c = compareResults(undefined, run({ latencyMs: 1, requests: 100, thresholds: { http_req_duration: 'p(95)<+10% baseline' } }))
    expect(c).toMatchObject({ baselineStartedAt: null, budgetsOk: true, status: 'passed' })
    expect(c.metrics.every((m) => m.baseline === null && m.change === null && m.baselineDisplay === 'no baseline')).toBe(true)
    expect(c.thresholds[0]!.threshold.display).toBe('p(95)=1ms, not compared: no baseline')
  })

  it('adds p(95) per request name when there are several names', () => {
    const r = run({ latencyMs: 1, requests: 10 })
    const other = { ...r.metrics[0]!, tags: { name: 'POST /', scenario: 'main' } }
    const c = compareResults(undefined, { ...r, metrics: [...r.metrics, other] })
    expect(c.metrics.map((m) => `${m.key} ${m.aggregation}`).slice(0, 5)).toEqual([
      'http_req_duration p(50)',
      'http_req_duration p(95)',
      'http_req_duration p(99)',
      'http_req_duration{name:GET /} p(95)',
      'http_req_duration{name:POST /} p(95)',
    ])
  })
})

describe('finding a baseline', () => {
  const baselines = (...results: LoadTestResult[]) => ({ source: 'b', results, problems: [] })

  it('pairs by test file name and test name, whatever the directory', () => {
    const now = run({ name: 'api', file: 'load/api.load.ts', latencyMs: 1, requests: 1 })
    const same = run({ name: 'api', file: 'elsewhere/api.load.ts', latencyMs: 2, requests: 1 })
    const otherFile = run({ name: 'api', file: 'load/other.load.ts', latencyMs: 3, requests: 1 })
    expect(resultIdentity(now)).toBe(resultIdentity(same))
    expect(findBaseline(baselines(otherFile, same), now)).toBe(same)
    // A renamed file still pairs by the test name when only one test has it.
    expect(findBaseline(baselines(otherFile), now)).toBe(otherFile)
    expect(findBaseline(baselines(otherFile, run({ name: 'api', file: 'x.load.ts', latencyMs: 1, requests: 1 })), now)).toBeUndefined()
    expect(findBaseline(undefined, now)).toBeUndefined()
  })

  it('takes the latest of several runs of the test', () => {
    const older = run({ latencyMs: 1, requests: 1, startedAt: '2025-01-01T00:00:00.000Z' })
    const newer = run({ latencyMs: 2, requests: 1, startedAt: '2025-02-01T00:00:00.000Z' })
    expect(findBaseline(baselines(newer, older), older)).toBe(newer)
  })

  it('types the custom metrics of a saved result from its series and threshold displays', () => {
    const r = run({ latencyMs: 1, requests: 1 })
    const custom: LoadTestResult = {
      ...r,
      metrics: [...r.metrics, { ...r.metrics[0]!, metric: 'login_time' } as LoadTestResult['metrics'][number], { metric: 'cart_adds', type: 'counter', tags: {}, value: 3 }],
      thresholds: [{ key: 'login_time{scenario:main}', expression: 'p(95)<2s', ok: true, actual: 1, display: 'p(95)=1ms' }],
    }
    const metrics = resultMetrics(custom)
    expect(metrics('login_time')).toMatchObject({ type: 'trend', unit: 'time' })
    expect(metrics('cart_adds')).toMatchObject({ type: 'counter', unit: 'count' })
    expect(metrics('http_reqs')).toBe(BUILTIN_METRICS['http_reqs'])
    expect(metrics('nothing')).toBeUndefined()
  })
})

describe('reading result files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'chaperon-baseline-'))
  const write = (name: string, value: unknown) => {
    const path = join(dir, name)
    mkdirSync(join(path, '..'), { recursive: true })
    writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value))
    return path
  }
  const a = run({ name: 'a', latencyMs: 1, requests: 1 })
  const b = run({ name: 'b', latencyMs: 1, requests: 1 })

  it('reads a result, an array of them, and a Vitest JSON report', async () => {
    expect((await readResults(write('one.json', a), 'CHAPERON_RESULT_FILE')).results).toEqual([a])
    expect((await readResults(write('two.json', [a, b]), 'CHAPERON_RESULT_FILE')).results).toEqual([a, b])
    const report = { testResults: [{ assertionResults: [{ title: 'unit', meta: {} }, { title: 'a', meta: { chaperon: a } }] }] }
    expect(await readResults(write('report.json', report), 'CHAPERON_RESULT_FILE')).toEqual({ results: [a], problems: [] })
  })

  it('reads every *.json file under a directory', async () => {
    write('dir/x.json', a)
    write('dir/nested/y.json', b)
    write('dir/notes.md', '# not a result')
    const baselines = await readBaselines(join(dir, 'dir'))
    expect(baselines.problems).toEqual([])
    expect(baselines.results.map((r) => r.name).sort()).toEqual(['a', 'b'])
  })

  it('turns each unusable file into a one-line coded problem', async () => {
    const cases: Array<[string, unknown, string]> = [
      ['bad.json', '{ "schemaVersion": ', 'is not valid JSON'],
      ['v2.json', { ...a, schemaVersion: 2 }, `has schemaVersion 2, but chaperon`],
      ['plain.json', { hello: 'world' }, 'is not a chaperon result: it has no schemaVersion'],
      ['shape.json', { ...a, metrics: [{ metric: 'x', type: 'histogram', tags: {} }] }, 'metrics must be an array of series'],
      ['empty-report.json', { testResults: [] }, 'a Vitest JSON report without load test results'],
    ]
    for (const [name, value, why] of cases) {
      const { results, problems } = await readResults(write(`bad/${name}`, value), 'CHAPERON_BASELINE')
      expect(results).toEqual([])
      expect(problems).toHaveLength(1)
      expect(problems[0]!.code).toBe('CHAPERON_BASELINE')
      expect(problems[0]!.message).toContain(why)
      expect(problems[0]!.message).not.toContain('\n')
    }
  })

  it('says so when the path is missing or the directory empty', async () => {
    const missing = await readBaselines(join(dir, 'nope'))
    expect(missing.problems).toEqual([expect.stringMatching(/^ChaperonError \[CHAPERON_BASELINE\]: The baseline .*nope does not exist\. Give a result file/)])
    mkdirSync(join(dir, 'empty'))
    expect((await readResults(join(dir, 'empty'), 'CHAPERON_RESULT_FILE')).problems[0]!.message).toMatch(/^The result directory .*empty holds no \*\.json files/)
  })
})
