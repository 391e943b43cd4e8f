import { describe, expect, it } from 'vitest'
import { BUILTIN_METRICS } from '../../src/core/builtin-metrics.ts'
import { ChaperonError } from '../../src/core/errors.ts'
import { createHistogram, recordMicros, type Histogram } from '../../src/core/histogram.ts'
import type { Tags } from '../../src/core/result.ts'
import type { Aggregate, MetricInfo, Series } from '../../src/core/series.ts'
import {
  evaluateThreshold,
  evaluateThresholds,
  formatThresholdLine,
  parseThresholds,
  type ParsedThreshold,
} from '../../src/core/thresholds.ts'

const CUSTOM: Record<string, MetricInfo> = {
  payload_size: { type: 'trend', unit: 'bytes', description: 'bytes per payload' },
  queue_wait: { type: 'gauge', unit: 'time', description: 'ms a job waited' },
}
const lookup = (name: string): MetricInfo | undefined => BUILTIN_METRICS[name] ?? CUSTOM[name]
const info = (name: string): MetricInfo => lookup(name)!

function one(key: string, expression: string): ParsedThreshold {
  const parsed = parseThresholds({ [key]: expression }, lookup)
  expect(parsed).toHaveLength(1)
  return parsed[0]!
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

function histogramOfMillis(...ms: number[]): Histogram {
  const h = createHistogram()
  for (const v of ms) recordMicros(h, v * 1000)
  return h
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)

describe('parseThresholds: accepted forms', () => {
  it('reads a string, keeping key and trimmed expression as written', () => {
    expect(one('http_req_duration', '  p(95)<200 ')).toEqual({
      key: 'http_req_duration',
      metric: 'http_req_duration',
      tags: {},
      expression: 'p(95)<200',
      aggregation: 'p',
      percentile: 95,
      op: '<',
      target: 200,
      abortOnFail: false,
      delayAbortEvalMs: 0,
    })
  })

  it('reads arrays, objects and a mix of both, in order', () => {
    const parsed = parseThresholds(
      {
        http_req_duration: ['p(95)<200', { threshold: 'max<1s', abortOnFail: true, delayAbortEval: '10s' }],
        http_req_failed: { threshold: 'rate<0.01' },
      },
      lookup,
    )
    expect(parsed.map((t) => [t.key, t.expression, t.abortOnFail, t.delayAbortEvalMs])).toEqual([
      ['http_req_duration', 'p(95)<200', false, 0],
      ['http_req_duration', 'max<1s', true, 10_000],
      ['http_req_failed', 'rate<0.01', false, 0],
    ])
  })

  it('accepts no thresholds, and an empty array that only declares a sub-metric', () => {
    expect(parseThresholds(undefined, lookup)).toEqual([])
    expect(parseThresholds({ 'http_req_duration{name:GET /}': [] }, lookup)).toEqual([])
  })

  it('reads tag filters whose values hold spaces and colons, split on commas', () => {
    const t = one('http_req_duration{name:GET /products, method:GET,url:http://localhost:3000/p}', 'p95<200')
    expect(t.metric).toBe('http_req_duration')
    expect(t.tags).toEqual({ name: 'GET /products', method: 'GET', url: 'http://localhost:3000/p' })
    expect(t.key).toBe('http_req_duration{name:GET /products, method:GET,url:http://localhost:3000/p}')
  })

  it.each([
    ['p(95)<200', 95],
    ['p95<200', 95],
    ['p( 95 ) < 200', 95],
    ['p99.9<200', 99.9],
    ['p(99.9)<200', 99.9],
    ['p100<200', 100],
    ['p(0.1)<200', 0.1],
  ])('reads the percentile of %s', (expression, percentile) => {
    expect(one('http_req_duration', expression)).toMatchObject({ aggregation: 'p', percentile, op: '<', target: 200 })
  })

  it.each(['<', '<=', '>', '>=', '==', '!='])('reads the operator %s, with or without spaces', (op) => {
    expect(one('http_req_duration', `avg${op}5`).op).toBe(op)
    expect(one('http_req_duration', `avg ${op} 5`).op).toBe(op)
  })

  it.each([
    ['p95<200', 200],
    ['p95<200ms', 200],
    ['p95<500us', 0.5],
    ['p95<500µs', 0.5],
    ['p99.9 <= 1.5s', 1500],
    ['p95 < 2 s', 2000],
    ['avg<1e3', 1000],
  ])('converts the time in %s to %d ms', (expression, target) => {
    expect(one('http_req_duration', expression).target).toBe(target)
  })

  it('leaves non-time values as written', () => {
    expect(one('http_req_failed', 'rate<0.01')).toMatchObject({ aggregation: 'rate', target: 0.01 })
    expect(one('http_reqs', 'count>=100')).toMatchObject({ aggregation: 'count', op: '>=', target: 100 })
    expect(one('http_reqs', 'rate>10.5')).toMatchObject({ aggregation: 'rate', target: 10.5 })
    expect(one('http_req_duration', 'count>1000')).toMatchObject({ aggregation: 'count', target: 1000 })
    expect(one('vus', 'value>-1')).toMatchObject({ aggregation: 'value', target: -1 })
    expect(one('payload_size', 'max<2048')).toMatchObject({ aggregation: 'max', target: 2048 })
  })

  it('treats a time gauge like a time trend', () => {
    expect(one('queue_wait', 'max<2s').target).toBe(2000)
  })
})

describe('parseThresholds: errors', () => {
  const KEY_FORM = '"<metric>{<tag>:<value>,...}"'
  const EXPR_FORM = 'Write it as "<aggregation> <operator> <value>"'

  it.each([
    ['http_req_duration{name:x', 'braces'],
    ['http_req_duration}', 'braces'],
    ['http_req_duration{a:1}{b:2}', 'braces'],
    ['{name:x}', 'names no metric'],
    ['http_req_duration{}', 'tag filter is empty'],
    ['http_req_duration{name}', '"name" is not a <tag>:<value> pair'],
    ['http_req_duration{:x}', '":x" is not'],
    ['http_req_duration{name:}', '"name:" is not'],
    ['http_req_duration{name:a,}', 'is not a <tag>:<value> pair'],
    ['http_req_duration{name:a,name:b}', 'tag "name" is given twice'],
    ['http req duration', '"http req duration" is not a metric name'],
  ])('rejects the key %s', (key, why) => {
    const e = thrown(() => parseThresholds({ [key]: 'p95<200' }, lookup))
    expect(e.code).toBe('CHAPERON_THRESHOLD_SYNTAX')
    expect(e.message).toContain(`"${key}"`)
    expect(e.message).toContain(why)
    expect(e.message).toContain(KEY_FORM)
  })

  it.each([
    ['http_req_duration', '', 'it is empty'],
    ['http_req_duration', '   ', 'it is empty'],
    ['http_req_duration', 'avg 200', 'no operator'],
    ['http_req_duration', '<200', 'no aggregation'],
    ['http_req_duration', 'avgg<200', '"avgg" is not an aggregation. Did you mean "avg"?'],
    ['http_req_duration', 'mean<200', 'Did you mean "avg"?'],
    ['http_req_duration', 'median<200', 'Did you mean "med"?'],
    ['http_req_duration', 'AVG<200', 'Did you mean "avg"?'],
    ['http_req_duration', 'pp95<200', '"pp95" is not an aggregation'],
    ['http_req_duration', 'p95<<200', '"<<" is not an operator (one of < <= > >= == !=)'],
    ['http_req_duration', 'avg=200', '"=" is not an operator'],
    ['http_req_duration', 'avg=<200', '"=<" is not an operator'],
    ['http_req_duration', 'avg!200', '"!" is not an operator'],
    ['http_req_duration', 'p95<abc', '"abc" is not a number'],
    ['http_req_duration', 'p95<', 'no value after the operator'],
    ['http_req_duration', 'p95<1,5s', '",5s" is not a unit'],
    ['http_req_duration', 'p95<2m', '"m" is not a unit (one of us ms s)'],
    ['http_req_duration', 'p(0)<200', 'the percentile in "p(0)"'],
    ['http_req_duration', 'p0<200', 'the percentile in "p0"'],
    ['http_req_duration', 'p(101)<200', 'at most 100'],
    ['http_req_duration', 'p100.1<200', 'at most 100'],
    ['http_req_duration', 'p()<200', 'the percentile in "p()"'],
    ['http_req_duration', 'p(-5)<200', 'the percentile in "p(-5)"'],
    ['http_req_duration', 'p(abc)<200', 'the percentile in "p(abc)"'],
    ['http_req_duration', 'p9.9.9<200', 'the percentile in "p9.9.9"'],
    ['http_req_duration', 'count<5ms', 'units apply only to times'],
    ['http_req_failed', 'rate<1s', 'units apply only to times'],
    ['http_reqs', 'rate>10s', 'units apply only to times'],
    ['http_req_failed', 'rate<1%', 'write 0.01 for 1%'],
    ['payload_size', 'max<2ms', 'units apply only to times'],
    ['http_req_duration', 'p95<1e309', '"1e309" is beyond what a number can hold'],
    ['http_req_duration', 'p95<1e308s', '"1e308s" is beyond what a number can hold'],
    ['http_req_duration', 'p95<+1e309% baseline', 'beyond what a number can hold'],
    ['http_req_duration', 'p95<200constructor', '"constructor" is not a unit'],
    ['http_req_duration', 'p95<200 __proto__', '"__proto__" is not a unit'],
    ['http_req_duration', 'constructor<200', '"constructor" is not an aggregation. A trend has'],
    ['http_req_duration', 'p95<200 over 10 s', 'is not a window'],
  ])('on %s, rejects %j', (metric, expression, why) => {
    const e = thrown(() => parseThresholds({ [metric]: expression }, lookup))
    expect(e.code).toBe('CHAPERON_THRESHOLD_SYNTAX')
    expect(e.message).toContain(`Threshold "${expression.trim()}" on ${metric} is not valid`)
    expect(e.message).toContain(why)
    expect(e.message).toContain(EXPR_FORM)
  })

  it('shows examples that suit the metric type', () => {
    expect(thrown(() => one('http_req_duration', 'p95<<200')).message).toContain('e.g. "p(95)<200"')
    expect(thrown(() => one('http_req_failed', 'rate<<1')).message).toContain('e.g. "rate<0.01"')
    expect(thrown(() => one('http_reqs', 'count<<1')).message).toContain('e.g. "count>=100" or "rate>10"')
    expect(thrown(() => one('vus', 'value<<1')).message).toContain('e.g. "value<100"')
  })

  it('rejects an unknown metric with a did-you-mean, even with no expressions', () => {
    for (const value of ['p95<200', []]) {
      const e = thrown(() => parseThresholds({ 'http_req_duraton{name:x}': value }, lookup))
      expect(e.code).toBe('CHAPERON_THRESHOLD_UNKNOWN_METRIC')
      expect(e.message).toContain('"http_req_duraton{name:x}"')
      expect(e.message).toContain('unknown metric "http_req_duraton". Did you mean "http_req_duration"?')
      expect(e.message).toContain('docs/metrics.md')
    }
  })

  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty{name:x}'])('rejects %s, which a lookup in a plain object finds on its prototype', (key) => {
    const builtinsOnly = (name: string) => BUILTIN_METRICS[name]
    const e = thrown(() => parseThresholds(JSON.parse(JSON.stringify({ [key]: 'p95<200' })), builtinsOnly))
    expect(e.code).toBe('CHAPERON_THRESHOLD_UNKNOWN_METRIC')
  })

  it('suggests from the names given, and stays quiet when nothing is close', () => {
    const e = thrown(() => parseThresholds({ paylod_size: 'max<1' }, lookup, ['payload_size', ...Object.keys(BUILTIN_METRICS)]))
    expect(e.message).toContain('Did you mean "payload_size"?')
    expect(thrown(() => parseThresholds({ zzzzzzzz: 'max<1' }, lookup)).message).not.toContain('Did you mean')
  })

  it.each([
    ['http_req_failed', 'avg<1', 'a rate metric does not have', 'Use one of rate,'],
    ['http_reqs', 'p(95)<1', '"p(95)", which a counter', 'Use one of count, rate,'],
    ['http_req_duration', 'rate<1', 'a trend metric', 'Use one of avg, min, max, med, p(N), count,'],
    ['http_req_duration', 'value<1', 'a trend metric', 'p(N)'],
    ['vus', 'avg<10', 'a gauge metric', 'Use one of value, min, max,'],
    ['checks', 'count>1', 'a rate metric', 'Use one of rate,'],
  ])('on %s, rejects the aggregation of %s', (metric, expression, why, valid) => {
    const e = thrown(() => parseThresholds({ [metric]: expression }, lookup))
    expect(e.code).toBe('CHAPERON_THRESHOLD_AGGREGATION')
    expect(e.message).toContain(`Threshold "${expression}" on ${metric}`)
    expect(e.message).toContain(why)
    expect(e.message).toContain(valid)
  })

  it.each([
    [[], 'thresholds must be an object'],
    ['p95<200', 'thresholds must be an object'],
    [null, 'thresholds must be an object'],
    [new Map(), 'thresholds must be an object'],
    [{ http_req_duration: 200 }, 'thresholds["http_req_duration"] must be an expression'],
    [{ http_req_duration: null }, 'thresholds["http_req_duration"] must be an expression'],
    [{ http_req_duration: ['p95<1', true] }, 'thresholds["http_req_duration"][1] must be an expression'],
    [{ http_req_duration: { abortOnFail: true } }, 'thresholds["http_req_duration"].threshold must be a string'],
    [{ http_req_duration: [{ threshold: 200 }] }, 'thresholds["http_req_duration"][0].threshold must be a string'],
    [{ http_req_duration: { threshold: 'p95<1', abortOnFail: 'yes' } }, '.abortOnFail must be true or false'],
  ])('rejects the shape %j', (input, message) => {
    const e = thrown(() => parseThresholds(input, lookup))
    expect(e.code).toBe('CHAPERON_INVALID_OPTION')
    expect(e.message).toContain(message)
    expect(e.message).toMatch(/p\(95\)<200/)
  })

  it('names an unknown object key and the one meant', () => {
    const e = thrown(() => parseThresholds({ http_req_duration: [{ threshold: 'p95<1', abortOnFial: true }] }, lookup))
    expect(e.code).toBe('CHAPERON_UNKNOWN_OPTION')
    expect(e.message).toContain('thresholds["http_req_duration"][0] has an unknown option "abortOnFial". Did you mean "abortOnFail"?')
    expect(e.message).toContain('threshold, abortOnFail, delayAbortEval')
  })

  it('rejects a bad delayAbortEval through parseDuration, naming where', () => {
    const e = thrown(() => parseThresholds({ http_req_duration: { threshold: 'p95<1', delayAbortEval: 'soon' } }, lookup))
    expect(e.code).toBe('CHAPERON_INVALID_DURATION')
    expect(e.message).toContain('thresholds["http_req_duration"].delayAbortEval')
  })
})

describe('evaluateThreshold', () => {
  const trend = (h: Histogram): Aggregate => ({ type: 'trend', histogram: h })
  const evaluate = (key: string, expression: string, agg: Aggregate | undefined, durationSec = 10) =>
    evaluateThreshold(one(key, expression), agg, durationSec, info(key.replace(/\{.*$/, '')))

  describe('on 1..1000 ms', () => {
    const h = histogramOfMillis(...range(1, 1000))

    it('reads percentiles, median and mean within HDR precision', () => {
      expect(evaluate('http_req_duration', 'p(95)<200', trend(h)).actual).toBeCloseTo(950, 0)
      expect(evaluate('http_req_duration', 'p99.9<200', trend(h)).actual).toBeCloseTo(999, 0)
      expect(evaluate('http_req_duration', 'med<200', trend(h)).actual).toBeCloseTo(500, 0)
      expect(evaluate('http_req_duration', 'avg<200', trend(h)).actual).toBeCloseTo(500.5, 0)
    })

    it('reads min, max and count exactly', () => {
      expect(evaluate('http_req_duration', 'min<200', trend(h)).actual).toBe(1)
      expect(evaluate('http_req_duration', 'max<200', trend(h)).actual).toBe(1000)
      expect(evaluate('http_req_duration', 'count<200', trend(h)).actual).toBe(1000)
    })

    it('compares in ms whatever unit the expression used', () => {
      expect(evaluate('http_req_duration', 'p(95)<1s', trend(h)).ok).toBe(true)
      expect(evaluate('http_req_duration', 'p(95)<900000us', trend(h)).ok).toBe(false)
      expect(evaluate('http_req_duration', 'p(95)<951', trend(h)).ok).toBe(true)
      expect(evaluate('http_req_duration', 'p(95)<949', trend(h)).ok).toBe(false)
    })

    it('displays k6-style with two decimals', () => {
      const r = evaluate('http_req_duration', 'p(95)<200', trend(h))
      expect(r).toMatchObject({ key: 'http_req_duration', expression: 'p(95)<200', ok: false })
      expect(r.display).toMatch(/^p\(95\)=95\d\.\d{1,2}ms$/)
      expect(formatThresholdLine(r)).toBe(`'p(95)<200' ${r.display}`)
      expect(evaluate('http_req_duration', 'p95<200', trend(h)).display).toBe(r.display)
      expect(evaluate('http_req_duration', 'count>1', trend(h)).display).toBe('count=1000')
    })
  })

  it.each([
    ['<', [false, false, true]],
    ['<=', [false, true, true]],
    ['>', [true, false, false]],
    ['>=', [true, true, false]],
    ['==', [false, true, false]],
    ['!=', [true, false, true]],
  ] as const)('applies %s at, below and above the target', (op, expected) => {
    // max is exact; 1.5 ms sits in HDR's exact range (below 2048 µs).
    const agg = trend(histogramOfMillis(0.5, 1.5))
    const verdicts = ['1', '1.5', '2'].map((target) => evaluate('http_req_duration', `max${op}${target}`, agg).ok)
    expect(verdicts).toEqual(expected)
  })

  it('reads a custom trend in its own unit, kept in thousandths as times are in microseconds', () => {
    const h = createHistogram()
    recordMicros(h, 1_500_000)
    const r = evaluate('payload_size', 'max<2048', trend(h))
    expect(r).toMatchObject({ ok: true, actual: 1500, display: 'max=1500' })
  })

  it('reads counters as a count and a rate per second of the run', () => {
    const agg: Aggregate = { type: 'counter', value: 1280 }
    expect(evaluate('http_reqs', 'count>=1280', agg)).toMatchObject({ ok: true, actual: 1280, display: 'count=1280' })
    expect(evaluate('http_reqs', 'rate>=85', agg, 15)).toMatchObject({ ok: true, display: 'rate=85.33/s' })
    expect(evaluate('http_reqs', 'rate>128', agg, 10)).toMatchObject({ ok: false, actual: 128 })
    expect(evaluate('http_reqs', 'rate>=128', agg, 10).ok).toBe(true)
  })

  it('reads rates as passes over total, shown as a percentage', () => {
    const agg: Aggregate = { type: 'rate', passes: 52, total: 10_000 }
    expect(evaluate('http_req_failed', 'rate<0.01', agg)).toMatchObject({ ok: true, actual: 0.0052, display: 'rate=0.52%' })
    expect(evaluate('http_req_failed', 'rate<0.0052', agg).ok).toBe(false)
  })

  it('never shows a tiny non-zero rate as 0%', () => {
    const r = evaluate('http_req_failed', 'rate==0', { type: 'rate', passes: 1, total: 100_000 })
    expect(r).toMatchObject({ ok: false, display: 'rate=0.001%' })
  })

  it('reads gauges as value, min and max', () => {
    const agg: Aggregate = { type: 'gauge', value: 40, min: 2, max: 50 }
    expect(evaluate('vus', 'value==40', agg)).toMatchObject({ ok: true, display: 'value=40' })
    expect(evaluate('vus', 'min>=2', agg)).toMatchObject({ ok: true, actual: 2 })
    expect(evaluate('vus', 'max<50', agg)).toMatchObject({ ok: false, actual: 50, display: 'max=50' })
    expect(evaluate('queue_wait', 'max<2s', { type: 'gauge', value: 1, min: 1, max: 2500 })).toMatchObject({ ok: false, display: 'max=2500ms' })
  })

  it('fails with no samples rather than passing on nothing', () => {
    const none = { ok: false, actual: null }
    expect(evaluate('http_req_duration', 'p(95)<200', undefined)).toMatchObject({ ...none, display: 'p(95)=no samples' })
    expect(evaluate('http_req_duration', 'avg<200', trend(createHistogram()))).toMatchObject({ ...none, display: 'avg=no samples' })
    expect(evaluate('http_req_failed', 'rate<0.01', { type: 'rate', passes: 0, total: 0 })).toMatchObject({ ...none, display: 'rate=no samples' })
    expect(evaluate('http_req_failed', 'rate<0.01', undefined)).toMatchObject(none)
    expect(evaluate('vus', 'max<10', undefined)).toMatchObject({ ...none, display: 'max=no samples' })
  })

  it('counts nothing as zero', () => {
    expect(evaluate('http_reqs', 'count<1', undefined)).toMatchObject({ ok: true, actual: 0, display: 'count=0' })
    expect(evaluate('http_reqs', 'rate<1', undefined)).toMatchObject({ ok: true, actual: 0, display: 'rate=0/s' })
    expect(evaluate('http_req_duration', 'count<1', undefined)).toMatchObject({ ok: true, actual: 0 })
    expect(evaluate('http_req_duration', 'count<1', trend(createHistogram()))).toMatchObject({ ok: true, actual: 0 })
  })

  it('has no per-second rate for a run of no length', () => {
    expect(evaluate('http_reqs', 'rate<1', { type: 'counter', value: 5 }, 0)).toMatchObject({ ok: false, actual: null })
  })

  it('refuses data recorded as another metric type', () => {
    const e = thrown(() => evaluate('http_req_duration', 'count<1', { type: 'counter', value: 1 }))
    expect(e.code).toBe('CHAPERON_THRESHOLD_AGGREGATION')
    expect(e.message).toContain('recorded as a counter')
  })
})

describe('evaluateThresholds', () => {
  const trendSeries = (tags: Tags, ...ms: number[]): Series => ({
    metric: 'http_req_duration',
    type: 'trend',
    tags,
    histogram: histogramOfMillis(...ms),
  })
  const series: Series[] = [
    trendSeries({ name: 'GET /products', method: 'GET', status: '200' }, ...Array(95).fill(10)),
    trendSeries({ name: 'GET /products', method: 'GET', status: '500' }, ...Array(5).fill(20)),
    trendSeries({ name: 'POST /orders', method: 'POST', status: '200' }, ...Array(100).fill(500)),
    { metric: 'http_reqs', type: 'counter', tags: { name: 'GET /products' }, value: 100 },
    { metric: 'http_reqs', type: 'counter', tags: { name: 'POST /orders' }, value: 100 },
    { metric: 'http_req_failed', type: 'rate', tags: { name: 'GET /products' }, passes: 5, total: 100 },
    { metric: 'http_req_failed', type: 'rate', tags: { name: 'POST /orders' }, passes: 0, total: 100 },
  ]
  const thresholds = {
    http_req_duration: ['p(95)<100', 'count==200'],
    'http_req_duration{name:GET /products}': ['p(95)<100', 'count==100', 'max<=20.1'],
    'http_req_duration{ method : GET , name:GET /products}': 'count==100',
    'http_req_duration{name:DELETE /x}': 'p(95)<100',
    http_reqs: 'rate==20',
    http_req_failed: 'rate==0.025',
    'http_req_failed{name:POST /orders}': 'rate==0',
  }

  it('merges every series matching each key, in the order given', () => {
    const results = evaluateThresholds(parseThresholds(thresholds, lookup), series, 10, lookup)
    expect(results.map((r) => [r.key, r.expression, r.ok])).toEqual([
      ['http_req_duration', 'p(95)<100', false],
      ['http_req_duration', 'count==200', true],
      ['http_req_duration{name:GET /products}', 'p(95)<100', true],
      ['http_req_duration{name:GET /products}', 'count==100', true],
      ['http_req_duration{name:GET /products}', 'max<=20.1', true],
      ['http_req_duration{ method : GET , name:GET /products}', 'count==100', true],
      ['http_req_duration{name:DELETE /x}', 'p(95)<100', false],
      ['http_reqs', 'rate==20', true],
      ['http_req_failed', 'rate==0.025', true],
      ['http_req_failed{name:POST /orders}', 'rate==0', true],
    ])
    expect(results[0]!.actual).toBeCloseTo(500, 0)
    expect(results[6]!.display).toBe('p(95)=no samples')
  })

  it('reads a generator once for all keys', () => {
    function* gen() {
      yield* series
    }
    const results = evaluateThresholds(parseThresholds(thresholds, lookup), gen(), 10, lookup)
    expect(results.filter((r) => r.ok)).toHaveLength(8)
  })

  it('rejects a metric the lookup no longer knows', () => {
    const parsed = parseThresholds({ payload_size: 'max<1' }, lookup)
    const e = thrown(() => evaluateThresholds(parsed, [], 10, (name) => BUILTIN_METRICS[name]))
    expect(e.code).toBe('CHAPERON_THRESHOLD_UNKNOWN_METRIC')
  })
})
