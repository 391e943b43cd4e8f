// A split run built by hand, for the merge tests: 3,000 deterministic requests
// over 5 seconds, dealt out to segments by their stripes as the runtime deals
// out arrival slots. `runResult()` builds the result of any share of the slots
// (one segment, or all of them for the single-machine run to compare with) the
// way the runtime would: real histograms, a per-second time series, errors and
// thresholds judged on that share.
import { BUILTIN_METRICS } from '../../src/core/builtin-metrics.ts'
import { createHistogram, type Histogram, recordMicros, summarize } from '../../src/core/histogram.ts'
import { type LoadTestResult, SCHEMA_VERSION, type ScenarioErrorResult, type SeriesResult } from '../../src/core/result.ts'
import { scale, type Segment } from '../../src/core/segment.ts'
import { seriesFromResult } from '../../src/core/series.ts'
import { evaluateThresholds, parseThresholds, type Thresholds } from '../../src/core/thresholds.ts'
import { type SeriesTimeline, seriesKey, trendPoint } from '../../src/core/timeline.ts'

/** How many requests the whole run makes. */
export const REQUESTS = 3000
/** How long it runs, in seconds. */
export const SECONDS = 5
/** Its VUs, shared out like any count. */
export const VUS = 10
/** The plan digest every instance of the run carries. */
export const PLAN = '5eed5eed5eed5eed'

/**
 * The run's thresholds: a count only the whole reaches, a throughput in every
 * 2 s window only the whole reaches, latency limits, a failure rate, and a
 * baseline budget.
 */
export const THRESHOLDS: Thresholds = {
  http_reqs: [`count==${REQUESTS}`, 'rate>=500 over 2s'],
  http_req_duration: ['p(95)<250', 'max<300', 'p(95)<+10% baseline'],
  http_req_failed: ['rate<0.06'],
}

const TAGS = { name: 'GET /', scenario: 'main' }
const lookup = (name: string) => BUILTIN_METRICS[name]

/** Request i's latency in ms: spread from 2 to 204 ms in a fixed scrambled order, every third request 60 ms slower. */
export function latencyMs(i: number): number {
  return 2 + ((i * 7919) % 1009) * 0.2 + (i % 3 === 2 ? 60 : 0)
}

/** The second request i was sent in. */
function secondOf(i: number): number {
  return Math.floor((i * SECONDS) / REQUESTS)
}

/** Every 20th request failed. */
function failed(i: number): boolean {
  return i % 20 === 0
}

/** The request slots `segment` owns, or every slot. */
export function slotsOf(segment?: Segment): number[] {
  const all = Array.from({ length: REQUESTS }, (_, i) => i)
  if (segment === undefined) return all
  const { cycle, positions } = segment.stripe
  return all.filter((i) => positions.includes(i % cycle))
}

function histogramOf(slots: readonly number[]): Histogram {
  const h = createHistogram()
  for (const i of slots) recordMicros(h, latencyMs(i) * 1000)
  return h
}

/**
 * The result of the requests in `slots`, as the instance running `segment`
 * (or a single machine, without one) writes it: thresholds judged on its
 * share, and, for a segment, a status that ignores them.
 */
export function runResult(options: { segment?: Segment; name?: string; startedAt?: string; plan?: string } = {}): LoadTestResult {
  const { segment } = options
  const slots = slotsOf(segment)
  const vus = segment === undefined ? VUS : scale(segment.stripe, VUS)
  const fails = slots.filter(failed)
  const recorded = histogramOf(slots)
  const metrics: SeriesResult[] = [
    { metric: 'http_req_duration', type: 'trend', tags: TAGS, trend: summarize(recorded) },
    { metric: 'http_req_failed', type: 'rate', tags: TAGS, passes: fails.length, total: slots.length },
    { metric: 'http_reqs', type: 'counter', tags: TAGS, value: slots.length },
    { metric: 'vus', type: 'gauge', tags: {}, value: vus, min: vus, max: vus },
  ]
  const seconds = Array.from({ length: SECONDS }, (_, t) => slots.filter((i) => secondOf(i) === t))
  const busy = seconds.flatMap((s, t) => (s.length === 0 ? [] : [{ t, s }]))
  const series: SeriesTimeline[] = [
    { metric: 'http_req_duration', type: 'trend', tags: TAGS, points: busy.map(({ t, s }) => trendPoint(t, histogramOf(s))) },
    { metric: 'http_req_failed', type: 'rate', tags: TAGS, points: busy.map(({ t, s }) => ({ t, passes: s.filter(failed).length, total: s.length })) },
    { metric: 'http_reqs', type: 'counter', tags: TAGS, points: busy.map(({ t, s }) => ({ t, value: s.length })) },
    { metric: 'vus', type: 'gauge', tags: {}, points: seconds.map((_, t) => ({ t, value: vus, min: vus, max: vus })) },
  ]
  series.sort((a, b) => (seriesKey(a.metric, a.tags) < seriesKey(b.metric, b.tags) ? -1 : 1))
  const boom = slots.filter((i) => i % 50 === 7).length
  const timeouts = slots.filter((i) => i % 997 === 0).length
  const errors: ScenarioErrorResult[] = [
    ...(boom === 0 ? [] : [{ scenario: 'main', action: 'iteration', code: 'TypeError', message: 'TypeError: boom', stack: 'TypeError: boom\n    at main (shop.load.ts:9:3)', count: boom }]),
    ...(timeouts === 0 ? [] : [{ scenario: 'main', action: 'await', code: 'timeout', message: 'await timed out after 2s', count: timeouts }]),
  ]
  const base: LoadTestResult = {
    schemaVersion: SCHEMA_VERSION,
    name: options.name ?? 'shop holds up',
    location: { file: `/ci/instance-${segment?.index ?? 'all'}/load/shop.load.ts`, line: 7, column: 1 },
    startedAt: options.startedAt ?? '2025-03-04T05:06:07.000Z',
    durationMs: SECONDS * 1000,
    status: 'passed',
    scenarios: [{ name: 'main', executor: 'constant-arrival-rate', scenario: 'shop' }],
    metrics,
    timeSeries: { intervalMs: 1000, series },
    thresholds: [],
    errors,
    ...(segment === undefined ? {} : { segment: { segment: segment.label, sequence: segment.sequence, plan: options.plan ?? PLAN } }),
  }
  // Judged as the runtime judges them: on the histogram as recorded, not on a decoded copy.
  const live = seriesFromResult(base).map((s) => (s.type === 'trend' ? { ...s, histogram: recorded } : s))
  const thresholds = evaluateThresholds(parseThresholds(THRESHOLDS, lookup), live, SECONDS, lookup, series)
  return { ...base, thresholds, status: segment !== undefined || thresholds.every((t) => t.ok) ? 'passed' : 'failed' }
}
