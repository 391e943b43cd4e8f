/**
 * Baselines: comparing a run with an earlier one, and judging regression
 * budgets (`'p(95)<+10% baseline'`). Everything here is a pure function of
 * `LoadTestResult`s; `result-files.ts` reads them from disk.
 */

import { basename } from 'node:path'
import { BUILTIN_METRICS } from './builtin-metrics.ts'
import type { LoadTestResult, Tags, ThresholdResult } from './result.ts'
import { type MetricInfo, type Series, seriesFromResult } from './series.ts'
import {
  aggregationName,
  evaluateThresholds,
  formatThresholdValue,
  judgeBudget,
  type ParsedThreshold,
  parseThresholds,
  percentChange,
  type ThresholdAggregation,
} from './thresholds.ts'

/** The environment variable that names the baseline of a run: a result file, or a directory of them. */
export const BASELINE_ENV = 'CHAPERON_BASELINE'

/** Baseline results read for a run, and why some could not be read. */
export interface Baselines {
  /** Where they were read from, as given. */
  readonly source: string
  readonly results: readonly LoadTestResult[]
  /** One line for each file or path that could not be used, each a `CHAPERON_BASELINE` message. */
  readonly problems: readonly string[]
}

/** One value of a comparison: the same aggregation on the same key in both runs. */
export interface ValueComparison {
  /** The metric key, e.g. `http_req_duration` or `http_req_duration{name:GET /}`. */
  key: string
  /** The aggregation, as thresholds name it: `p(95)`, `rate`, `count`. */
  aggregation: string
  /** In the threshold unit: ms for times, a fraction for a rate metric, per second for a counter's rate. */
  current: number | null
  /** Null when there is no baseline, or it has no samples. */
  baseline: number | null
  /** From baseline to current, in percent; null when either is missing or the baseline is 0. */
  change: number | null
  /** `current` for people, e.g. `148.21ms`, `0.5%`, `68.05/s`. */
  currentDisplay: string
  /** `baseline` for people, or `no baseline`. */
  baselineDisplay: string
}

/** A threshold of the current run next to the baseline's value of its aggregation. */
export interface ThresholdComparison extends ValueComparison {
  /** The verdict; a budget is judged against the baseline given to the comparison. */
  threshold: ThresholdResult
  /** Whether it is a baseline budget (`… baseline`). */
  budget: boolean
}

/** One load test compared with its baseline. */
export interface Comparison {
  name: string
  location?: LoadTestResult['location']
  /** When the baseline run started; null without a baseline. */
  baselineStartedAt: string | null
  /** Every threshold of the current run, budgets judged against the baseline. */
  thresholds: ThresholdComparison[]
  /** The headline metrics: request latency p50/p95/p99 (also p95 per request name), request rate, failure rate, iterations, checks. */
  metrics: ValueComparison[]
  /** Whether every budget held; budgets not compared count as held (their display says so). */
  budgetsOk: boolean
  /** The current run's status once its budgets are judged against the baseline. */
  status: LoadTestResult['status']
}

/** The rows every comparison shows, when either run has the metric; p(95) per request name follows p(99). */
const HEADLINE: ReadonlyArray<readonly [string, ThresholdAggregation, number?]> = [
  ['http_req_duration', 'p', 50],
  ['http_req_duration', 'p', 95],
  ['http_req_duration', 'p', 99],
  ['http_reqs', 'rate'],
  ['http_req_failed', 'rate'],
  ['iterations', 'count'],
  ['iterations', 'rate'],
  ['checks', 'rate'],
]

/** A name for a result that is the same on every machine: its test file's base name and its test name. */
export function resultIdentity(result: Pick<LoadTestResult, 'name' | 'location'>): string {
  return `${result.location === undefined ? '' : basename(result.location.file)}\0${result.name}`
}

/**
 * The baseline of `result` among `baselines`: the one from the same test file
 * and test name, else the only one with the same test name. When several runs
 * of one test are there, the latest counts.
 */
export function findBaseline(baselines: Baselines | undefined, result: Pick<LoadTestResult, 'name' | 'location'>): LoadTestResult | undefined {
  if (baselines === undefined) return undefined
  const latest = (list: readonly LoadTestResult[]) => list.reduce<LoadTestResult | undefined>((a, b) => (a === undefined || b.startedAt > a.startedAt ? b : a), undefined)
  const id = resultIdentity(result)
  const same = latest(baselines.results.filter((b) => resultIdentity(b) === id))
  if (same !== undefined) return same
  const named = baselines.results.filter((b) => b.name === result.name)
  return new Set(named.map(resultIdentity)).size === 1 ? latest(named) : undefined
}

/**
 * What the metrics of saved results are: built-in ones as chaperon defines
 * them, custom ones typed by their series. A custom trend counts as a time
 * when a threshold on it was shown in ms, as the run that wrote it knew.
 */
export function resultMetrics(...results: ReadonlyArray<LoadTestResult | undefined>): (name: string) => MetricInfo | undefined {
  const custom = new Map<string, MetricInfo>()
  for (const r of results) {
    if (r === undefined) continue
    for (const m of [...r.metrics, ...(r.timeSeries?.series ?? [])]) {
      if (BUILTIN_METRICS[m.metric] !== undefined || custom.has(m.metric)) continue
      custom.set(m.metric, { type: m.type, unit: 'count', description: 'custom metric' })
    }
  }
  for (const r of results) {
    for (const t of r?.thresholds ?? []) {
      const metric = t.key.replace(/\s*\{.*$/s, '').trim()
      const info = custom.get(metric)
      if (info?.type === 'trend' && /=-?[\d.e+-]+ms\b/.test(t.display)) custom.set(metric, { ...info, unit: 'time' })
    }
  }
  return (name) => BUILTIN_METRICS[name] ?? custom.get(name)
}

/** A threshold of a saved result parsed again; undefined when it no longer parses (a metric the result does not know). */
export function parseResultThreshold(threshold: Pick<ThresholdResult, 'key' | 'expression'>, metrics: (name: string) => MetricInfo | undefined): { parsed: ParsedThreshold; info: MetricInfo } | undefined {
  try {
    const [parsed] = parseThresholds({ [threshold.key]: threshold.expression }, metrics)
    const info = parsed === undefined ? undefined : metrics(parsed.metric)
    return parsed === undefined || info === undefined ? undefined : { parsed, info }
  } catch {
    return undefined
  }
}

/** Whether an expression is a baseline budget, judged by its text alone. */
export function isBudgetExpression(expression: string): boolean {
  return /\bbaseline\s*$/.test(expression)
}

/**
 * `result` with its baseline budgets judged against `baseline` (not compared
 * when it is undefined), and its status updated to match. Other thresholds
 * are kept as they are. `metrics` says what the metrics are; by default it is
 * read from the results themselves.
 */
export function applyBaseline(result: LoadTestResult, baseline: LoadTestResult | undefined, metrics = resultMetrics(result, baseline)): LoadTestResult {
  const budgets = result.thresholds.flatMap((t, i) => {
    const p = isBudgetExpression(t.expression) ? parseResultThreshold(t, metrics) : undefined
    return p?.parsed.budget === undefined ? [] : [{ i, ...p }]
  })
  if (budgets.length === 0) return result
  const values = baseline === undefined ? undefined : valuesIn(baseline, budgets.map((b) => b.parsed), metrics)
  const thresholds = [...result.thresholds]
  budgets.forEach((b, j) => {
    thresholds[b.i] = judgeBudget(b.parsed, result.thresholds[b.i]!.actual, values?.[j], b.info)
  })
  return { ...result, thresholds, status: statusWith(result, thresholds) }
}

/**
 * Compares `current` with `baseline` (a run of the same load test, usually
 * from the main branch): each threshold's value in both, budgets judged, and
 * the headline metrics. Without a baseline every baseline value is null and
 * budgets are not compared.
 */
export function compareResults(baseline: LoadTestResult | undefined, current: LoadTestResult): Comparison {
  const metrics = resultMetrics(current, baseline)
  const judged = applyBaseline(current, baseline, metrics)
  const currentSeries = seriesFromResult(current)
  const baselineSeries = baseline === undefined ? undefined : seriesFromResult(baseline)

  const parsedThresholds = judged.thresholds.map((t) => parseResultThreshold(t, metrics))
  const known = parsedThresholds.flatMap((p) => (p === undefined ? [] : [p.parsed]))
  const thresholdBaselines = baseline === undefined ? undefined : valuesIn(baseline, known, metrics, baselineSeries)
  let k = 0
  const thresholds = judged.thresholds.map((threshold, i): ThresholdComparison => {
    const p = parsedThresholds[i]
    const budget = isBudgetExpression(threshold.expression)
    if (p === undefined) {
      return { key: threshold.key, aggregation: '', current: threshold.actual, baseline: null, change: null, currentDisplay: threshold.display, baselineDisplay: '—', threshold, budget }
    }
    const b = thresholdBaselines?.[k++] ?? null
    return { ...valueComparison(p.parsed, p.info, threshold.actual, baseline === undefined ? undefined : b), threshold, budget }
  })

  const rows = headlineRows(current, baseline, metrics)
  const now = valuesIn(current, rows.map((r) => r.parsed), metrics, currentSeries)
  const then = baseline === undefined ? undefined : valuesIn(baseline, rows.map((r) => r.parsed), metrics, baselineSeries)
  const headline = rows.map((r, i) => valueComparison(r.parsed, r.info, now[i] ?? null, then === undefined ? undefined : (then[i] ?? null)))

  return {
    name: current.name,
    ...(current.location === undefined ? {} : { location: current.location }),
    baselineStartedAt: baseline?.startedAt ?? null,
    thresholds,
    metrics: headline,
    budgetsOk: thresholds.every((t) => !t.budget || t.threshold.ok),
    status: judged.status,
  }
}

function valueComparison(t: ParsedThreshold, info: MetricInfo, current: number | null, baseline: number | null | undefined): ValueComparison {
  return {
    key: t.key,
    aggregation: aggregationName(t),
    current,
    baseline: baseline ?? null,
    change: baseline === undefined ? null : percentChange(current, baseline),
    currentDisplay: formatThresholdValue(t, current, info),
    baselineDisplay: baseline === undefined ? 'no baseline' : formatThresholdValue(t, baseline, info),
  }
}

/**
 * The observed value of each threshold's aggregation in `result`, whatever its
 * verdict: budgets are read as plain values, and a windowed threshold gives
 * its worst window for its own target.
 */
function valuesIn(result: LoadTestResult, parsed: readonly ParsedThreshold[], metrics: (name: string) => MetricInfo | undefined, series: readonly Series[] = seriesFromResult(result)): Array<number | null> {
  const plain = parsed.map((t): ParsedThreshold => (t.budget === undefined ? t : { ...t, budget: undefined, target: 0 }))
  return evaluateThresholds(plain, series, result.durationMs / 1000, metrics, result.timeSeries?.series ?? []).map((r) => r.actual)
}

/** The headline rows present in either run, with p95 per request name when there are several names. */
function headlineRows(current: LoadTestResult, baseline: LoadTestResult | undefined, metrics: (name: string) => MetricInfo | undefined): Array<{ parsed: ParsedThreshold; info: MetricInfo }> {
  const runs = baseline === undefined ? [current] : [current, baseline]
  const present = new Set(runs.flatMap((r) => r.metrics.map((m) => m.metric)))
  const rows: Array<{ parsed: ParsedThreshold; info: MetricInfo }> = []
  const add = (metric: string, tags: Tags, aggregation: ThresholdAggregation, percentile?: number) => {
    const info = metrics(metric)
    if (info === undefined || !present.has(metric)) return
    rows.push({ parsed: plainThreshold(metric, tags, aggregation, percentile), info })
  }
  for (const [metric, aggregation, percentile] of HEADLINE) {
    add(metric, {}, aggregation, percentile)
    if (metric === 'http_req_duration' && percentile === 99) {
      const names = [...new Set(runs.flatMap((r) => r.metrics.filter((m) => m.metric === metric && m.tags['name'] !== undefined).map((m) => m.tags['name']!)))].sort()
      if (names.length > 1) for (const name of names) add(metric, { name }, 'p', 95)
    }
  }
  return rows
}

function plainThreshold(metric: string, tags: Tags, aggregation: ThresholdAggregation, percentile?: number): ParsedThreshold {
  const filter = Object.entries(tags).map(([k, v]) => `${k}:${v}`).join(',')
  const key = filter === '' ? metric : `${metric}{${filter}}`
  const name = aggregation === 'p' ? `p(${percentile})` : aggregation
  return { key, metric, tags, expression: name, aggregation, ...(percentile === undefined ? {} : { percentile }), op: '<', target: 0, abortOnFail: false, delayAbortEvalMs: 0 }
}

/** Failed when a threshold fails, the test was aborted or interrupted, or it had failed with every threshold holding (scenario code misused chaperon). */
function statusWith(result: LoadTestResult, thresholds: readonly ThresholdResult[]): LoadTestResult['status'] {
  // A segment's status does not depend on its thresholds: chaperon merge judges them on the whole.
  if (result.segment !== undefined) return result.status
  const stopped = result.abortedBy !== undefined || result.interrupted !== undefined
  const misuse = result.status === 'failed' && !stopped && result.thresholds.every((t) => t.ok)
  return misuse || stopped || thresholds.some((t) => !t.ok) ? 'failed' : 'passed'
}
