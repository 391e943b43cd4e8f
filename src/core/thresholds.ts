import { BUILTIN_METRICS } from './builtin-metrics.ts'
import { parseDuration, type Duration } from './duration.ts'
import { ChaperonError, didYouMean } from './errors.ts'
import { createHistogram, decodeHistogram, type Histogram, minValue, percentile, toMillis } from './histogram.ts'
import type { MetricType, ThresholdResult } from './result.ts'
import { aggregate, type Aggregate, matchesTags, type MetricInfo, type Series } from './series.ts'
import type { SeriesTimeline } from './timeline.ts'
import { describeValue, expectKnownKeys, isPlainObject } from './validate.ts'

/** One threshold expression with options. */
export interface ThresholdObject {
  /** The expression, `<aggregation> <operator> <value>`, e.g. `p(95)<200` or `rate<0.01`. */
  threshold: string
  /**
   * Stop the test as soon as this threshold fails while it runs: it is checked
   * every second on the data so far, and the partial result is still reported.
   * @default false
   */
  abortOnFail?: boolean
  /** How long the test runs before `abortOnFail` is first checked, so early noise cannot stop it. @default 0 */
  delayAbortEval?: Duration
}

/**
 * The `thresholds` option, as in k6. Keys are a metric name, or a metric with a
 * tag filter (`http_req_duration{name:GET /products,method:GET}`) to hold only
 * the matching series to the expression. Values are one expression, a
 * `ThresholdObject`, or an array mixing both; an empty array sets no threshold
 * (its key is still checked). Expressions are `<aggregation> <operator> <value>`:
 * aggregations `avg min max med count rate value p(N)` (also `p95`, `p99.9`),
 * operators `< <= > >= == !=`, times in ms unless a unit (`us ms s`) follows.
 * An expression ending in `over <window>` (`'p(95)<200 over 10s'`) must hold
 * in every window of that many whole seconds, sliding by one second, rather
 * than over the whole run. A value ending in `baseline` is a regression budget
 * (`'p(95)<+10% baseline'`, `'rate<=+0.01 baseline'`): the target is the
 * same aggregation in a baseline run, changed by that much (see `docs/thresholds.md`).
 *
 * @example
 * thresholds: {
 *   http_req_duration: ['p(95)<200', 'p99.9 <= 1.5s'],
 *   http_req_failed: { threshold: 'rate<0.01' },
 * }
 */
export type Thresholds = Record<string, string | ThresholdObject | ReadonlyArray<string | ThresholdObject>>

/** What an expression measures; `p` is a percentile, given in `ParsedThreshold.percentile`. */
export type ThresholdAggregation = 'avg' | 'min' | 'max' | 'med' | 'count' | 'rate' | 'value' | 'p'

/** How an expression compares the observed value with its target. */
export type ThresholdOperator = '<' | '<=' | '>' | '>=' | '==' | '!='

/** A threshold expression checked against its metric, ready to evaluate. */
export interface ParsedThreshold {
  /** The key as written, e.g. `http_req_duration{name:GET /}`. */
  readonly key: string
  readonly metric: string
  /** The tag filter of the key; empty for a whole metric. */
  readonly tags: Readonly<Record<string, string>>
  /** The expression as written, trimmed. */
  readonly expression: string
  readonly aggregation: ThresholdAggregation
  /** The N of `p(N)`, in (0, 100]; set only when `aggregation` is `p`. */
  readonly percentile?: number
  readonly op: ThresholdOperator
  /** The value compared against; milliseconds when the aggregation measures a time. */
  readonly target: number
  readonly abortOnFail: boolean
  readonly delayAbortEvalMs: number
  /** The window of `over <window>`, in whole seconds; unset when the whole run counts. */
  readonly windowSec?: number
  /**
   * Set for a baseline budget (`p(95)<+10% baseline`), whose target is the
   * baseline run's value changed by this much; `target` is then NaN.
   */
  readonly budget?: BaselineBudget
}

/**
 * The change a baseline budget allows: `+10%` is `{ relative: true, amount: 10 }`,
 * `+20ms` is `{ relative: false, amount: 20 }`, `-0.5` is `{ relative: false, amount: -0.5 }`.
 */
export interface BaselineBudget {
  /** True for a percentage of the baseline value, false for an amount added to it. */
  readonly relative: boolean
  /** Percent when `relative`, else in the comparison's unit (ms for times). */
  readonly amount: number
}

const NAMED = ['avg', 'min', 'max', 'med', 'count', 'rate', 'value'] as const
const OPERATORS: readonly string[] = ['<', '<=', '>', '>=', '==', '!=']
// Maps, not objects: a unit or alias such as "constructor" must not find Object.prototype.
const UNIT_MS: ReadonlyMap<string, number> = new Map([['us', 0.001], ['µs', 0.001], ['ms', 1], ['s', 1000]])
const OBJECT_KEYS = ['threshold', 'abortOnFail', 'delayAbortEval']
/** Spelled as users write them, so error messages can list them as is. */
const VALID: Readonly<Record<MetricType, readonly string[]>> = {
  trend: ['avg', 'min', 'max', 'med', 'p(N)', 'count'],
  counter: ['count', 'rate'],
  rate: ['rate'],
  gauge: ['value', 'min', 'max'],
}
/** Examples that are valid for the metric at hand, so copying one from an error never leads to a second error. */
const EXAMPLES: Readonly<Record<MetricType, string>> = {
  trend: '"p(95)<200" or "avg<1.5s"',
  counter: '"count>=100" or "rate>10"',
  rate: '"rate<0.01"',
  gauge: '"value<100" or "max<=50"',
}
/** Names from other tools that edit distance would map to the wrong aggregation. */
const ALIASES: ReadonlyMap<string, string> = new Map([['mean', 'avg'], ['average', 'avg'], ['median', 'med']])
const KEY_FORM = 'Write it as "<metric>" or "<metric>{<tag>:<value>,...}", e.g. "http_req_duration{name:GET /products}".'

/**
 * Parses and checks the `thresholds` option, so a typo fails at collection
 * rather than after the load has run. `metrics` is the source of truth for
 * which metrics exist; `knownMetricNames` only feeds did-you-mean hints.
 */
export function parseThresholds(
  input: unknown,
  metrics: (name: string) => MetricInfo | undefined,
  knownMetricNames: Iterable<string> = Object.keys(BUILTIN_METRICS),
): ParsedThreshold[] {
  if (input === undefined) return []
  if (!isPlainObject(input)) {
    throw new ChaperonError(
      'CHAPERON_INVALID_OPTION',
      `thresholds must be an object of metric → expressions, e.g. { http_req_duration: ['p(95)<200'] }; got ${describeValue(input)}.`,
    )
  }
  const out: ParsedThreshold[] = []
  for (const [key, value] of Object.entries(input)) {
    const { metric, tags } = parseKey(key)
    const info = metrics(metric)
    // A lookup in a plain object finds "constructor" and "__proto__" on its prototype: no metric has those.
    if (info === undefined || !Object.hasOwn(VALID, info.type)) throw unknownMetric(key, metric, knownMetricNames)
    const entries: unknown[] = Array.isArray(value) ? value : [value]
    entries.forEach((entry, i) => {
      const where = Array.isArray(value) ? `thresholds[${JSON.stringify(key)}][${i}]` : `thresholds[${JSON.stringify(key)}]`
      const { expression, abortOnFail, delayAbortEvalMs } = readEntry(entry, where)
      const parsed = parseExpression(expression, metric, info)
      if (abortOnFail && parsed.budget !== undefined) {
        throw new ChaperonError(
          'CHAPERON_INVALID_OPTION',
          `${where} cannot abort on fail: "${expression}" is a baseline budget, judged once the run has ended. Drop abortOnFail, or abort on a fixed limit such as 'p(95)<500'.`,
        )
      }
      out.push({ key, metric, tags, expression, ...parsed, abortOnFail, delayAbortEvalMs })
    })
  }
  return out
}

function parseKey(key: string): { metric: string; tags: Record<string, string> } {
  const fail = (why: string) =>
    new ChaperonError('CHAPERON_THRESHOLD_SYNTAX', `Threshold key "${key}" is not valid: ${why}. ${KEY_FORM}`)
  // Cut by index rather than by one regex, whose backtracking over long runs of spaces is quadratic.
  const text = key.trim()
  const open = text.indexOf('{')
  const close = text.indexOf('}')
  const paired = open < 0 ? close < 0 : close === text.length - 1 && text.indexOf('{', open + 1) < 0
  if (!paired) throw fail('its braces do not pair up')
  const metric = open < 0 ? text : text.slice(0, open).trimEnd()
  if (!/^[^\s{}:,]+$/.test(metric)) throw fail(metric === '' ? 'it names no metric' : `"${metric}" is not a metric name`)
  const tags: Record<string, string> = {}
  if (open < 0) return { metric, tags }
  const filter = text.slice(open + 1, -1)
  if (filter.trim() === '') throw fail('the tag filter is empty')
  for (const pair of filter.split(',')) {
    const colon = pair.indexOf(':')
    const name = (colon < 0 ? pair : pair.slice(0, colon)).trim()
    const value = colon < 0 ? '' : pair.slice(colon + 1).trim()
    if (name === '' || value === '') throw fail(`"${pair.trim()}" is not a <tag>:<value> pair`)
    if (name in tags) throw fail(`tag "${name}" is given twice`)
    tags[name] = value
  }
  return { metric, tags }
}

function unknownMetric(key: string, metric: string, known: Iterable<string>): ChaperonError {
  return new ChaperonError(
    'CHAPERON_THRESHOLD_UNKNOWN_METRIC',
    `Threshold key "${key}" names an unknown metric "${metric}".${didYouMean(metric, known)} ` +
      'Use a built-in metric such as "http_req_duration" (docs/metrics.md lists them all), or declare your own at the top of the test file, before loadTest(): new Trend(\'' + metric + '\') (or Counter, Rate, Gauge).',
  )
}

function readEntry(entry: unknown, where: string): { expression: string; abortOnFail: boolean; delayAbortEvalMs: number } {
  if (typeof entry === 'string') return { expression: entry.trim(), abortOnFail: false, delayAbortEvalMs: 0 }
  const form = "an expression such as 'p(95)<200' or { threshold: 'p(95)<200' }"
  if (!isPlainObject(entry)) throw new ChaperonError('CHAPERON_INVALID_OPTION', `${where} must be ${form}; got ${describeValue(entry)}.`)
  expectKnownKeys(entry, OBJECT_KEYS, where)
  if (typeof entry.threshold !== 'string') {
    throw new ChaperonError('CHAPERON_INVALID_OPTION', `${where}.threshold must be a string; write ${form}.`)
  }
  if (entry.abortOnFail !== undefined && typeof entry.abortOnFail !== 'boolean') {
    throw new ChaperonError('CHAPERON_INVALID_OPTION', `${where}.abortOnFail must be true or false, as in { threshold: 'p(95)<200', abortOnFail: false }; got ${describeValue(entry.abortOnFail)}.`)
  }
  const delayAbortEvalMs = entry.delayAbortEval === undefined ? 0 : parseDuration(entry.delayAbortEval, `${where}.delayAbortEval`)
  return { expression: entry.threshold.trim(), abortOnFail: entry.abortOnFail === true, delayAbortEvalMs }
}

type ParsedExpression = Pick<ParsedThreshold, 'aggregation' | 'percentile' | 'op' | 'target' | 'windowSec' | 'budget'>

function parseExpression(expression: string, metric: string, info: MetricInfo): ParsedExpression {
  const fail = (why: string) =>
    new ChaperonError(
      'CHAPERON_THRESHOLD_SYNTAX',
      `Threshold "${expression}" on ${metric} is not valid: ${why}. ` +
        `Write it as "<aggregation> <operator> <value>", e.g. ${EXAMPLES[info.type]}, optionally followed by a window such as "over 10s".`,
    )
  if (expression === '') throw fail('it is empty')
  // Every match below is by index or by a regex that cannot backtrack far, so a long expression is still read in linear time.
  const over = /\sover\s/.exec(expression)
  const windowSec = over === null ? undefined : parseWindow(expression.slice(over.index + 6), fail)
  // The aggregation runs up to the first operator character, so `p( 95 )` may hold spaces.
  const parts = /^([^<>=!]*)([<>=!]*)(.*)$/s.exec(over === null ? expression : expression.slice(0, over.index))!
  const aggText = parts[1]!.trim()
  const opText = parts[2]!
  const valueText = parts[3]!.trim()
  if (opText === '') throw fail(`it has no operator (one of ${OPERATORS.join(' ')})`)
  if (aggText === '') throw fail('it has no aggregation before the operator')

  let aggregation: ThresholdAggregation
  let percentile: number | undefined
  const n = aggText.startsWith('p(') && aggText.endsWith(')') ? aggText.slice(2, -1).trim() : /^p\d[\d.]*$/.test(aggText) ? aggText.slice(1) : undefined
  if (n !== undefined && !/[()]/.test(n)) {
    percentile = Number(n)
    if (!/^\d+(\.\d+)?$/.test(n) || !(percentile > 0 && percentile <= 100)) {
      throw fail(`the percentile in "${aggText}" must be a number above 0 and at most 100, as in "p(95)" or "p99.9"`)
    }
    aggregation = 'p'
  } else if ((NAMED as readonly string[]).includes(aggText)) {
    aggregation = aggText as ThresholdAggregation
  } else {
    const hint = ALIASES.get(aggText.toLowerCase())
    const mean = hint === undefined ? didYouMean(aggText, [...NAMED, 'p(95)']) : ` Did you mean "${hint}"?`
    throw fail(`"${aggText}" is not an aggregation.${mean} A ${info.type} has ${VALID[info.type].join(', ')}`)
  }
  if (!OPERATORS.includes(opText)) throw fail(`"${opText}" is not an operator (one of ${OPERATORS.join(' ')})`)
  const op = opText as ThresholdOperator

  const budgetText = /(?:^|\W)baseline$/.test(valueText) ? valueText.slice(0, -'baseline'.length).trimEnd() : undefined
  if (budgetText !== undefined) {
    if (windowSec !== undefined) throw fail('a baseline budget compares whole runs, so it takes no window; drop "over …"')
    if (op === '==' || op === '!=') throw fail(`a baseline budget compares with one of < <= > >=, not ${op}`)
  }
  const v = budgetText === undefined ? /^([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?)\s*(.*)$/is.exec(valueText) : parseBudgetValue(budgetText, fail)
  if (v === null) throw fail(valueText === '' ? 'it has no value after the operator' : `"${valueText}" is not a number`)
  const unit = v[2]!
  const relative = budgetText !== undefined && unit === '%'
  if (unit !== '' && !relative && !UNIT_MS.has(unit)) {
    throw fail(unit === '%' ? 'rates are fractions: write 0.01 for 1% (or "+10% baseline" for a change against a baseline run)' : `"${unit}" is not a unit (one of us ms s)`)
  }

  const name = aggregation === 'p' ? 'p(N)' : aggregation
  if (!VALID[info.type].includes(name)) {
    throw new ChaperonError(
      'CHAPERON_THRESHOLD_AGGREGATION',
      `Threshold "${expression}" on ${metric} uses "${aggText}", which a ${info.type} metric does not have. ` +
        `Use one of ${VALID[info.type].join(', ')}, e.g. ${EXAMPLES[info.type]}.`,
    )
  }
  const timed = isTime(info, aggregation)
  if (unit !== '' && !relative && !timed) throw fail(`units apply only to times, and ${aggText} of ${metric} is not a time; drop "${unit}"`)
  const value = Number(v[1]) * (timed && !relative ? UNIT_MS.get(unit || 'ms')! : 1)
  if (!Number.isFinite(value)) throw fail(`"${v[1]}${unit}" is beyond what a number can hold; write a finite value such as ${timed ? '"200" or "1.5s"' : '"0.01" or "100"'}`)
  const budget = budgetText === undefined ? undefined : { relative, amount: value }
  return {
    aggregation,
    ...(percentile === undefined ? {} : { percentile }),
    op,
    target: budget === undefined ? value : NaN,
    ...(windowSec === undefined ? {} : { windowSec }),
    ...(budget === undefined ? {} : { budget }),
  }
}

/**
 * The change before `baseline`, as [text, number, unit] like the plain value's
 * match: `+10%`, `-5 %`, `+20ms`, `+0.01`; nothing at all means no change.
 * The sign is required, so a budget never reads as a fixed limit.
 */
function parseBudgetValue(text: string, fail: (why: string) => ChaperonError): RegExpExecArray | [string, string, string] {
  if (text === '') return ['', '0', '%']
  const m = /^([-+](?:\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?)\s*(.*)$/is.exec(text)
  if (m !== null) return m
  const form = 'write the change with its sign before "baseline", as in "+10% baseline", "-5% baseline" or "+20ms baseline"'
  throw fail(/^[\d.]/.test(text) ? `"${text}" has no sign; ${form}` : `"${text} baseline" is not a baseline budget; ${form}`)
}

/** The seconds of `over <window>`: a duration of whole seconds, at least one, as the time series has one point per second. */
function parseWindow(text: string, fail: (why: string) => ChaperonError): number {
  let ms: number
  try {
    ms = parseDuration(text.trim(), 'the window')
  } catch {
    throw fail(`"over ${text.trim()}" is not a window; write a duration such as "over 10s" or "over 1m"`)
  }
  if (ms < 1000 || ms % 1000 !== 0) throw fail(`the window "${text.trim()}" must be whole seconds, at least 1s, as in "over 10s"`)
  return ms / 1000
}

/** Whether the aggregation yields a time, shown and compared in milliseconds; counts and rates of a time metric are not. */
function isTime(info: MetricInfo, aggregation: ThresholdAggregation): boolean {
  return info.unit === 'time' && aggregation !== 'count' && aggregation !== 'rate'
}

/**
 * Evaluates one threshold on its metric's merged data. Trend times are read
 * from the microsecond histogram and compared in milliseconds; a counter's
 * `rate` is per second of `durationSec`. A metric with no samples fails with a
 * null `actual`, except counts, for which zero is the true answer. A baseline
 * budget has no baseline here, so it comes back not compared (see {@link judgeBudget}).
 */
export function evaluateThreshold(t: ParsedThreshold, agg: Aggregate | undefined, durationSec: number, info: MetricInfo): ThresholdResult {
  if (agg !== undefined && agg.type !== info.type) {
    throw new ChaperonError(
      'CHAPERON_THRESHOLD_AGGREGATION',
      `Threshold "${t.expression}" on ${t.key} expects a ${info.type} metric, but ${t.metric} was recorded as a ${agg.type}.`,
    )
  }
  const actual = observe(t, agg, durationSec, info)
  if (t.budget !== undefined) return judgeBudget(t, actual, undefined, info)
  return { key: t.key, expression: t.expression, ok: actual !== null && compare(actual, t.op, t.target), actual, display: display(t, actual, info) }
}

/**
 * The verdict of a baseline budget, given the current value and the
 * baseline's value of the same aggregation and key: it holds when the current
 * value compares with the baseline changed by the budget (`+10%`: 1.1 times
 * the baseline). Without a baseline (`undefined`), or when the baseline had
 * no samples (`null`), it is not compared: `ok` stays true, `baseline` is
 * null, and the display says so, so nobody mistakes it for a pass. A current
 * value without samples fails, as every threshold does.
 */
export function judgeBudget(t: ParsedThreshold, actual: number | null, baseline: number | null | undefined, info: MetricInfo): ThresholdResult {
  const base = { key: t.key, expression: t.expression, actual }
  const shown = display(t, actual, info)
  if (baseline === undefined || baseline === null) {
    const why = baseline === null ? 'not compared: the baseline has no samples' : 'not compared: no baseline'
    return { ...base, ok: actual !== null, display: `${shown}, ${why}`, baseline: null, change: null }
  }
  const change = percentChange(actual, baseline)
  const ok = actual !== null && compare(actual, t.op, budgetLimit(t.budget!, baseline))
  return { ...base, ok, display: `${shown}, baseline ${formatThresholdValue(t, baseline, info)} (${formatChange(change)})`, baseline, change }
}

/** The limit a budget sets on the current value: the baseline changed by the budget. */
export function budgetLimit(budget: BaselineBudget, baseline: number): number {
  return budget.relative ? baseline * (1 + budget.amount / 100) : baseline + budget.amount
}

/** The change from `baseline` to `current` in percent of the baseline; null when it has no meaning (no value, or a change from zero). */
export function percentChange(current: number | null, baseline: number | null): number | null {
  if (current === null || baseline === null) return null
  if (baseline === 0) return current === 0 ? 0 : null
  return ((current - baseline) / Math.abs(baseline)) * 100
}

/** A change in percent for people, to a tenth: `+12.5%`, `-3%`, `+0%`, or `n/a` when there is none. */
export function formatChange(change: number | null): string {
  if (change === null) return 'n/a'
  const tenths = Math.round(change * 10) / 10
  return tenths === 0 ? '+0%' : `${tenths > 0 ? '+' : ''}${tenths}%`
}

function observe(t: ParsedThreshold, agg: Aggregate | undefined, durationSec: number, info: MetricInfo): number | null {
  const perSecond = (n: number) => (durationSec > 0 ? n / durationSec : null)
  if (agg === undefined) {
    if (t.aggregation === 'count') return 0
    return info.type === 'counter' ? perSecond(0) : null
  }
  switch (agg.type) {
    case 'counter':
      return t.aggregation === 'count' ? agg.value : perSecond(agg.value)
    case 'rate':
      return agg.total === 0 ? null : agg.passes / agg.total
    case 'gauge':
      return t.aggregation === 'min' ? agg.min : t.aggregation === 'max' ? agg.max : agg.value
    case 'trend': {
      const h = agg.histogram
      if (t.aggregation === 'count') return h.totalCount
      if (h.totalCount === 0) return null
      const us =
        t.aggregation === 'avg' ? h.mean
        : t.aggregation === 'min' ? minValue(h)
        : t.aggregation === 'max' ? h.maxValue
        : percentile(h, t.aggregation === 'med' ? 50 : t.percentile!)
      // Trends keep thousandths: microseconds of a time, thousandths of a custom value.
      return toMillis(us)
    }
  }
}

function compare(actual: number, op: ThresholdOperator, target: number): boolean {
  switch (op) {
    case '<': return actual < target
    case '<=': return actual <= target
    case '>': return actual > target
    case '>=': return actual >= target
    case '==': return actual === target
    case '!=': return actual !== target
  }
}

function display(t: ParsedThreshold, actual: number | null, info: MetricInfo): string {
  return `${aggregationName(t)}=${formatThresholdValue(t, actual, info)}`
}

/** How an expression names its aggregation: `p(95)`, `avg`, `rate`. */
export function aggregationName(t: Pick<ParsedThreshold, 'aggregation' | 'percentile'>): string {
  return t.aggregation === 'p' ? `p(${t.percentile})` : t.aggregation
}

/**
 * A value of `t`'s aggregation as thresholds show it: `148.21ms` for a time,
 * `0.5%` for the rate of a rate metric, `68.05/s` for a counter's rate, a plain
 * number otherwise, and `no samples` for null.
 */
export function formatThresholdValue(t: Pick<ParsedThreshold, 'aggregation'>, value: number | null, info: MetricInfo): string {
  if (value === null) return 'no samples'
  if (isTime(info, t.aggregation)) return `${round(value)}ms`
  if (t.aggregation === 'rate') return info.type === 'rate' ? `${round(value * 100)}%` : `${round(value)}/s`
  return round(value)
}

/** Two decimals, but small non-zero values keep two significant digits, so a failing `rate==0` never shows `0%`. */
function round(n: number): string {
  if (n !== 0 && Math.abs(n) < 0.01) return String(Number(n.toPrecision(2)))
  return String(Math.round(n * 100) / 100)
}

/**
 * Evaluates every threshold on `series`, merging the series of each key (all
 * series of the metric whose tags match the key's filter) once. Windowed
 * thresholds (`over 10s`) are evaluated on `timeline`, the per-second series,
 * in the windows that start at second `windowsFrom` or later.
 */
export function evaluateThresholds(
  parsed: readonly ParsedThreshold[],
  series: Iterable<Series>,
  durationSec: number,
  metrics: (name: string) => MetricInfo | undefined,
  timeline: readonly SeriesTimeline[] = [],
  windowsFrom = 0,
): ThresholdResult[] {
  // Materialised because a generator would be used up by the first key.
  const all = [...series]
  const merged = new Map<string, Aggregate | undefined>()
  return parsed.map((t) => {
    const info = metrics(t.metric)
    if (info === undefined) throw unknownMetric(t.key, t.metric, Object.keys(BUILTIN_METRICS))
    if (t.windowSec !== undefined) return evaluateWindowed(t, t.windowSec, timeline, durationSec, info, windowsFrom)
    const id = JSON.stringify([t.metric, Object.entries(t.tags).sort()])
    if (!merged.has(id)) merged.set(id, aggregate(all, t.metric, t.tags))
    return evaluateThreshold(t, merged.get(id), durationSec, info)
  })
}

/**
 * Evaluates a threshold in every window of `windowSec` seconds of the time
 * series, sliding by one second (one window over the whole run when it is
 * shorter). Windows without samples are skipped. The result shows the worst
 * window: the first that fails, else the one nearest to failing.
 */
function evaluateWindowed(t: ParsedThreshold, windowSec: number, timeline: readonly SeriesTimeline[], durationSec: number, info: MetricInfo, windowsFrom: number): ThresholdResult {
  const seconds = perSecond(timeline.filter((s) => s.metric === t.metric && matchesTags(s.tags, t.tags)))
  const last = Math.max(Math.ceil(durationSec) - 1, ...seconds.keys())
  const width = Math.min(windowSec, last + 1)
  const first = Math.max(0, Math.min(windowsFrom, last + 1 - width))
  let worst: { actual: number; from: number; ok: boolean } | undefined
  const window = new WindowSum(info.type)
  for (let end = first; end <= last; end++) {
    window.add(seconds.get(end))
    if (end >= first + width) window.remove(seconds.get(end - width))
    if (end < first + width - 1) continue
    // The last second may be partial: a rate per second counts only the time the window covers.
    const actual = observe(t, window.aggregate(), Math.min(end + 1, durationSec) - (end + 1 - width), info)
    if (actual === null) continue
    const ok = compare(actual, t.op, t.target)
    if (worst === undefined || (worst.ok && (!ok || further(actual, worst.actual, t.op)))) worst = { actual, from: end - width + 1, ok }
  }
  const shown = display(t, worst?.actual ?? null, info)
  const where = worst === undefined ? ` over ${windowSec}s` : ` over ${windowSec}s, worst ${worst.from}s–${worst.from + width}s`
  return { key: t.key, expression: t.expression, ok: worst?.ok ?? false, actual: worst?.actual ?? null, display: shown + where }
}

/** True when `a` is nearer than `b` to failing `op`. */
function further(a: number, b: number, op: ThresholdOperator): boolean {
  return op === '<' || op === '<=' ? a > b : op === '>' || op === '>=' ? a < b : false
}

/** The points of several series merged per second: one aggregate per second with samples. */
function perSecond(series: readonly SeriesTimeline[]): Map<number, Aggregate> {
  const out = new Map<number, Aggregate>()
  for (const s of series) {
    for (const p of s.points) {
      const prev = out.get(p.t)
      switch (s.type) {
        case 'trend': {
          const point = p as { histogram: string; max: number }
          const h = prev?.type === 'trend' ? prev.histogram : createHistogram()
          h.add(decodeHistogram(point.histogram, point.max))
          out.set(p.t, { type: 'trend', histogram: h })
          break
        }
        case 'counter': {
          const value = (p as { value: number }).value
          out.set(p.t, { type: 'counter', value: (prev?.type === 'counter' ? prev.value : 0) + value })
          break
        }
        case 'rate': {
          const { passes, total } = p as { passes: number; total: number }
          out.set(p.t, prev?.type === 'rate' ? { type: 'rate', passes: prev.passes + passes, total: prev.total + total } : { type: 'rate', passes, total })
          break
        }
        case 'gauge': {
          const { value, min, max } = p as { value: number; min: number; max: number }
          out.set(p.t, prev?.type === 'gauge' ? { type: 'gauge', value, min: Math.min(prev.min, min), max: Math.max(prev.max, max) } : { type: 'gauge', value, min, max })
          break
        }
      }
    }
  }
  return out
}

/** A sliding sum of per-second aggregates: histograms are added and subtracted, counts summed. */
class WindowSum {
  readonly #type: MetricType
  readonly #histogram: Histogram | undefined
  readonly #inWindow: Array<Aggregate | undefined> = []
  #count = 0
  #passes = 0
  #total = 0

  constructor(type: MetricType) {
    this.#type = type
    this.#histogram = type === 'trend' ? createHistogram() : undefined
  }

  add(a: Aggregate | undefined): void {
    this.#inWindow.push(a)
    this.#apply(a, 1)
  }

  remove(a: Aggregate | undefined): void {
    this.#inWindow.shift()
    this.#apply(a, -1)
  }

  /** The window's aggregate, or undefined when it holds no samples. */
  aggregate(): Aggregate | undefined {
    if (this.#count === 0) return undefined
    switch (this.#type) {
      case 'trend':
        return { type: 'trend', histogram: this.#histogram! }
      case 'counter':
        return { type: 'counter', value: this.#total }
      case 'rate':
        return { type: 'rate', passes: this.#passes, total: this.#total }
      case 'gauge': {
        const gauges = this.#inWindow.filter((a) => a?.type === 'gauge')
        return { type: 'gauge', value: gauges.at(-1)!.value, min: Math.min(...gauges.map((g) => g.min)), max: Math.max(...gauges.map((g) => g.max)) }
      }
    }
  }

  #apply(a: Aggregate | undefined, sign: 1 | -1): void {
    if (a === undefined) return
    this.#count += sign
    if (a.type === 'trend') {
      if (sign === 1) this.#histogram!.add(a.histogram)
      else this.#histogram!.subtract(a.histogram)
    } else if (a.type === 'counter') this.#total += sign * a.value
    else if (a.type === 'rate') {
      this.#passes += sign * a.passes
      this.#total += sign * a.total
    }
  }
}

/** The k6 end-of-test line for a threshold, without its ✓/✗ mark: `'p(95)<200' p(95)=148.21ms`. */
export function formatThresholdLine(r: ThresholdResult): string {
  return `'${r.expression}' ${r.display}`
}
