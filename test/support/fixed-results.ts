// Fixed, deterministic `LoadTestResult`s for reporter tests and their golden files.
// Nothing here reads the clock or Math.random: every call returns the same result.
// Other tests use these read-only; keep the exported names stable.
import { createHistogram, type Histogram, recordMicros, summarize } from '../../src/core/histogram.ts'
import { type LoadTestResult, SCHEMA_VERSION, type SeriesResult, type Tags } from '../../src/core/result.ts'
import { type SeriesTimeline, seriesKey, trendPoint } from '../../src/core/timeline.ts'

/** Deterministic, spread-out latencies in ms: `n` values from `baseMs` over `spreadMs`. */
function latencies(n: number, baseMs: number, spreadMs: number): number[] {
  return Array.from({ length: n }, (_, i) => baseMs + ((i * 7919) % n) * (spreadMs / n))
}

/** One trend series and its samples; in the time series, sample i falls in second i mod the run's seconds. */
interface TrendSpec {
  metric: string
  tags: Tags
  samplesMs: number[]
}

function histogramOf(samplesMs: readonly number[]): Histogram {
  const h = createHistogram()
  for (const ms of samplesMs) recordMicros(h, ms * 1000)
  return h
}

function trendSeries({ metric, tags, samplesMs }: TrendSpec): SeriesResult {
  return { metric, type: 'trend', tags, trend: summarize(histogramOf(samplesMs)) }
}

function trendTimeline({ metric, tags, samplesMs }: TrendSpec, seconds: number): SeriesTimeline {
  const points = []
  for (let t = 0; t < seconds; t++) {
    const inSecond = samplesMs.filter((_, i) => i % seconds === t)
    if (inSecond.length > 0) points.push(trendPoint(t, histogramOf(inSecond)))
  }
  return { metric, type: 'trend', tags, points }
}

/** Splits `total` over `seconds` seconds as evenly as integers allow (earlier seconds get the remainder). */
function spread(total: number, seconds: number): number[] {
  const base = Math.floor(total / seconds)
  return Array.from({ length: seconds }, (_, t) => base + (t < total % seconds ? 1 : 0))
}

function bySeriesKey<T extends { metric: string; tags: Tags }>(a: T, b: T): number {
  const ka = seriesKey(a.metric, a.tags)
  const kb = seriesKey(b.metric, b.tags)
  return ka < kb ? -1 : ka > kb ? 1 : 0
}

/** Sorts the keys of a tag set, as results store them. */
function tags(t: Record<string, string>): Tags {
  return Object.fromEntries(Object.entries(t).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
}

/**
 * A realistic failed run of 4 seconds: two scenarios, HTTP trends with encoded
 * histograms, counters, rates, a gauge, a custom trend, per-second time series
 * for every series, thresholds (one failed, one without samples), scenario
 * errors and an `abortOnFail` stop. One check name holds a comma and quotes, so
 * file reporters meet characters they must escape.
 */
export function fixedResult(): LoadTestResult {
  const seconds = 4
  const get = { scenario: 'browse', name: 'GET /products', method: 'GET' }
  const trends: TrendSpec[] = [
    { metric: 'http_req_duration', tags: tags({ ...get, expected_response: 'true', status: '200' }), samplesMs: latencies(360, 8, 24) },
    { metric: 'http_req_duration', tags: tags({ ...get, expected_response: 'false', status: '503' }), samplesMs: latencies(40, 300, 500) },
    { metric: 'http_req_duration', tags: tags({ scenario: 'checkout', name: 'POST /pay', method: 'POST', expected_response: 'true', status: '201' }), samplesMs: latencies(80, 120, 900) },
    { metric: 'iteration_duration', tags: tags({ scenario: 'browse' }), samplesMs: latencies(200, 40, 60) },
    { metric: 'iteration_duration', tags: tags({ scenario: 'checkout' }), samplesMs: latencies(80, 150, 950) },
    { metric: 'cart_size', tags: tags({ scenario: 'checkout' }), samplesMs: latencies(80, 1, 10).map(Math.round) },
  ]
  const counters: Array<{ metric: string; tags: Tags; value: number }> = [
    { metric: 'http_reqs', tags: tags({ ...get, status: '200' }), value: 360 },
    { metric: 'http_reqs', tags: tags({ ...get, status: '503' }), value: 40 },
    { metric: 'http_reqs', tags: tags({ scenario: 'checkout', name: 'POST /pay', method: 'POST', status: '201' }), value: 80 },
    { metric: 'iterations', tags: tags({ scenario: 'browse' }), value: 200 },
    { metric: 'iterations', tags: tags({ scenario: 'checkout' }), value: 80 },
    { metric: 'data_sent', tags: tags({ scenario: 'browse' }), value: 52_400 },
    { metric: 'data_sent', tags: tags({ scenario: 'checkout' }), value: 31_120 },
    { metric: 'data_received', tags: tags({ scenario: 'browse' }), value: 4_812_345 },
    { metric: 'data_received', tags: tags({ scenario: 'checkout' }), value: 96_880 },
    { metric: 'errors', tags: tags({ scenario: 'checkout', action: 'iteration', error_code: 'TypeError' }), value: 3 },
    { metric: 'errors', tags: tags({ scenario: 'checkout', action: 'await', error_code: 'timeout' }), value: 2 },
  ]
  const rates: Array<{ metric: string; tags: Tags; passes: number; total: number }> = [
    { metric: 'http_req_failed', tags: tags({ ...get, status: '200' }), passes: 0, total: 360 },
    { metric: 'http_req_failed', tags: tags({ ...get, status: '503' }), passes: 40, total: 40 },
    { metric: 'http_req_failed', tags: tags({ scenario: 'checkout', name: 'POST /pay', method: 'POST', status: '201' }), passes: 0, total: 80 },
    { metric: 'checks', tags: tags({ scenario: 'browse', check: 'status is 200' }), passes: 360, total: 400 },
    { metric: 'checks', tags: tags({ scenario: 'checkout', check: 'receipt has "id", "total"' }), passes: 77, total: 80 },
  ]
  const gauges: Array<{ metric: string; tags: Tags; values: number[] }> = [
    { metric: 'vus', tags: {}, values: [10, 25, 25, 0] },
    { metric: 'vus_max', tags: {}, values: [25, 25, 25, 25] },
  ]

  const metrics: SeriesResult[] = [
    ...trends.map(trendSeries),
    ...counters.map((c): SeriesResult => ({ metric: c.metric, type: 'counter', tags: c.tags, value: c.value })),
    ...rates.map((r): SeriesResult => ({ metric: r.metric, type: 'rate', tags: r.tags, passes: r.passes, total: r.total })),
    ...gauges.map((g): SeriesResult => ({ metric: g.metric, type: 'gauge', tags: g.tags, value: g.values.at(-1)!, min: Math.min(...g.values), max: Math.max(...g.values) })),
  ].sort(bySeriesKey)

  const series: SeriesTimeline[] = [
    ...trends.map((s) => trendTimeline(s, seconds)),
    ...counters.map((c): SeriesTimeline => ({ metric: c.metric, type: 'counter', tags: c.tags, points: spread(c.value, seconds).map((value, t) => ({ t, value })).filter((p) => p.value > 0) })),
    ...rates.map((r): SeriesTimeline => {
      const passes = spread(r.passes, seconds)
      return { metric: r.metric, type: 'rate', tags: r.tags, points: spread(r.total, seconds).map((total, t) => ({ t, passes: passes[t]!, total })).filter((p) => p.total > 0) }
    }),
    ...gauges.map((g): SeriesTimeline => ({
      metric: g.metric,
      type: 'gauge',
      tags: g.tags,
      points: g.values.map((value, t) => ({ t, value, min: t === 0 ? value : Math.min(value, g.values[t - 1]!), max: t === 0 ? value : Math.max(value, g.values[t - 1]!) })),
    })),
  ].sort(bySeriesKey)

  return {
    schemaVersion: SCHEMA_VERSION,
    name: 'shop under load',
    location: { file: 'test/load/shop.load.ts', line: 12, column: 3 },
    startedAt: '2025-01-02T03:04:05.678Z',
    durationMs: 4_000,
    status: 'failed',
    scenarios: [
      { name: 'browse', executor: 'constant-vus', scenario: 'browse' },
      { name: 'checkout', executor: 'constant-arrival-rate', scenario: 'pay' },
    ],
    metrics,
    timeSeries: { intervalMs: 1000, series },
    thresholds: [
      { key: 'http_req_duration{scenario:checkout}', expression: 'p(95)<500', ok: false, actual: 964.095, display: 'p(95)=964.1ms' },
      { key: 'http_req_failed', expression: 'rate<0.1', ok: true, actual: 0.08333333333333333, display: 'rate=8.33%' },
      { key: 'checks', expression: 'rate>0.9', ok: true, actual: 0.9104166666666667, display: 'rate=91.04%' },
      { key: 'ws_connecting', expression: 'p(99)<100', ok: true, actual: null, display: 'no samples' },
    ],
    errors: [
      {
        scenario: 'checkout',
        action: 'iteration',
        code: 'TypeError',
        message: "TypeError: Cannot read properties of undefined (reading 'id')",
        stack: "TypeError: Cannot read properties of undefined (reading 'id')\n    at pay (test/load/shop.load.ts:31:22)",
        count: 3,
      },
      { scenario: 'checkout', action: 'await', code: 'timeout', message: 'await timed out after 2s', count: 2 },
    ],
    abortedBy: { key: 'http_req_duration{scenario:checkout}', expression: 'p(95)<500', display: 'p(95)=964.1ms', atMs: 3_000 },
  }
}

/**
 * Two results of one run, as a run-level reporter (CSV, JUnit) sees them: the
 * failed `fixedResult()` and a small passing test with a unicode name, no
 * location, no errors and no abort.
 */
export function fixedResults(): LoadTestResult[] {
  const ping: TrendSpec = { metric: 'http_req_duration', tags: tags({ scenario: 'smoke', name: 'GET /ping', method: 'GET', expected_response: 'true', status: '200' }), samplesMs: latencies(20, 1, 3) }
  const smoke: LoadTestResult = {
    schemaVersion: SCHEMA_VERSION,
    name: 'smoke — ping ✓',
    startedAt: '2025-01-02T03:05:00.000Z',
    durationMs: 2_000,
    status: 'passed',
    scenarios: [{ name: 'smoke', executor: 'per-vu-iterations', scenario: 'ping' }],
    metrics: [
      trendSeries(ping),
      { metric: 'http_reqs', type: 'counter', tags: tags({ scenario: 'smoke', name: 'GET /ping', method: 'GET', status: '200' }), value: 20 },
      { metric: 'vus', type: 'gauge', tags: {}, value: 0, min: 0, max: 2 },
    ].sort(bySeriesKey) as SeriesResult[],
    timeSeries: {
      intervalMs: 1000,
      series: [
        trendTimeline(ping, 2),
        { metric: 'http_reqs', type: 'counter', tags: tags({ scenario: 'smoke', name: 'GET /ping', method: 'GET', status: '200' }), points: [{ t: 0, value: 10 }, { t: 1, value: 10 }] },
        { metric: 'vus', type: 'gauge', tags: {}, points: [{ t: 0, value: 2, min: 0, max: 2 }, { t: 1, value: 0, min: 0, max: 2 }] },
      ].sort(bySeriesKey) as SeriesTimeline[],
    },
    thresholds: [{ key: 'http_req_duration', expression: 'p(99)<50', ok: true, actual: 3.85, display: 'p(99)=3.85ms' }],
    errors: [],
  }
  return [fixedResult(), smoke]
}
