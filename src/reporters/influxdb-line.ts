/**
 * InfluxDB line protocol for a load test's metrics: pure functions of a
 * `LoadTestResult` (or of the closed seconds a running test streams), shared
 * by the `influxdb` reporter and the CLI. The points are described in
 * `docs/influxdb.md`.
 *
 * - Time series: one measurement per metric (`http_req_duration`, `http_reqs`,
 *   …), one point per series per second at `start + t·1000` ms. A counter's
 *   `value` is what the second added, so `sum("value")` over a test is its total.
 * - Summary: one point per series in the single measurement `chaperon_summary`
 *   (tag `metric`) at the test's end, so no query over a metric's own
 *   measurement ever counts the run twice.
 * - Thresholds: one point per threshold in `chaperon_threshold` at the end.
 *
 * Timestamps are integer milliseconds: write them with `precision=ms`.
 */

import type { LoadTestResult, SeriesResult, Tags, ThresholdResult } from '../core/result.ts'
import type { IntervalSample, TimeSeries } from '../core/timeline.ts'

/** The timestamp precision of every line this module writes; pass it as `precision=ms`. */
export const LINE_PRECISION = 'ms'

/** The measurement holding one summary point per series of each test. */
export const SUMMARY_MEASUREMENT = 'chaperon_summary'

/** The measurement holding one point per threshold of each test. */
export const THRESHOLD_MEASUREMENT = 'chaperon_threshold'

/**
 * Tags chaperon sets itself: `test` (the load test's name) on every point,
 * `metric` on summary points. They win over a series tag of the same name.
 */
export const RESERVED_TAGS: readonly string[] = ['test', 'metric']

/** A field value: a number is written as a float, `{ int }` as an integer (`12i`), booleans and strings as such. */
export type FieldValue = number | { readonly int: number } | boolean | string

/** One closed second of a load test: the merged samples of every series that had any. */
export interface SecondSamples {
  t: number
  samples: readonly IntervalSample[]
}

/**
 * Escapes a measurement name: commas and spaces. Newlines (which would end
 * the line) become spaces.
 */
export function escapeMeasurement(name: string): string {
  return clean(name).replace(/[, ]/g, (c) => `\\${c}`)
}

/**
 * Escapes a tag key, tag value or field key: commas, equals signs and spaces.
 * Newlines become spaces. Backslashes are kept as they are, as InfluxDB reads
 * them; a backslash at the very end cannot be written (it would escape the
 * separator after it, and InfluxDB 1.x rejects the line), so trailing
 * backslashes are dropped.
 */
export function escapeKey(text: string): string {
  return clean(text).replace(/[,= ]/g, (c) => `\\${c}`)
}

/** A string field value in double quotes, with double quotes and backslashes escaped. */
export function quoteString(text: string): string {
  return `"${text.replace(/["\\]/g, (c) => `\\${c}`)}"`
}

function clean(text: string): string {
  return text.replace(/\r\n|[\r\n]/g, ' ').replace(/\\+$/, '')
}

/**
 * One line: `measurement,tag=v,… field=v,… timestamp`. Tags are sorted by key
 * (what InfluxDB recommends) and tags with an empty key or value are left out,
 * since line protocol cannot hold them; a tag named `time`, which InfluxDB
 * refuses, is written as `time_`. Fields that are not finite numbers are left
 * out. Returns undefined when no field is left, as a line needs one.
 */
export function formatLine(measurement: string, tags: Tags, fields: Readonly<Record<string, FieldValue>>, timestampMs: number): string | undefined {
  const fieldText = Object.entries(fields)
    .map(([key, value]) => formatField(key, value))
    .filter((f) => f !== undefined)
  if (fieldText.length === 0) return undefined
  const tagText = Object.keys(tags)
    .sort()
    .map((key) => [escapeKey(key === 'time' ? 'time_' : key), escapeKey(tags[key]!)])
    .filter(([k, v]) => k !== '' && v !== '')
    .map(([k, v]) => `,${k}=${v}`)
    .join('')
  return `${escapeMeasurement(measurement)}${tagText} ${fieldText.join(',')} ${Math.round(timestampMs)}`
}

function formatField(key: string, value: FieldValue): string | undefined {
  const k = escapeKey(key)
  if (k === '') return undefined
  switch (typeof value) {
    case 'number':
      return Number.isFinite(value) ? `${k}=${value}` : undefined
    case 'boolean':
      return `${k}=${value}`
    case 'string':
      return `${k}=${quoteString(value)}`
    default:
      return Number.isFinite(value.int) ? `${k}=${Math.round(value.int)}i` : undefined
  }
}

/**
 * The tags of a point: `extra` (the reporter's `tags` and `run`), then the
 * series' own tags, then `test`, each winning over the ones before it.
 */
function pointTags(testName: string, seriesTags: Tags, extra: Tags): Tags {
  return { ...extra, ...seriesTags, test: testName }
}

/** The fields of one per-second point. */
function sampleFields(sample: IntervalSample): Record<string, FieldValue> {
  switch (sample.type) {
    case 'trend': {
      const p = sample.point
      return { count: { int: p.count }, min: p.min, mean: p.mean, max: p.max, p50: p.p50, p90: p.p90, p95: p.p95, p99: p.p99 }
    }
    case 'counter':
      return { value: sample.point.value }
    case 'rate': {
      const p = sample.point
      return { passes: { int: p.passes }, total: { int: p.total }, rate: p.total === 0 ? Number.NaN : p.passes / p.total }
    }
    case 'gauge':
      return { value: sample.point.value, min: sample.point.min, max: sample.point.max }
  }
}

/**
 * The time series of a load test as lines: one point per series per second,
 * in the measurement named after the metric, at `startedAtMs + t·1000`. This
 * is what the reporter streams while the test runs.
 *
 * @param testName The load test's name, written as the `test` tag.
 * @param startedAtMs When the test started, in ms since the epoch.
 * @param seconds Closed seconds, each with its merged samples.
 * @param tags Tags to add to every point (the reporter's `tags` and `run`).
 */
export function linesFromSeconds(testName: string, startedAtMs: number, seconds: readonly SecondSamples[], tags: Tags = {}): string[] {
  const lines: string[] = []
  for (const { t, samples } of seconds) {
    for (const sample of samples) {
      const line = formatLine(sample.metric, pointTags(testName, sample.tags, tags), sampleFields(sample), startedAtMs + t * 1000)
      if (line !== undefined) lines.push(line)
    }
  }
  return lines
}

/**
 * A time series turned back into closed seconds, in time order and, within a
 * second, in the series' order: the shape `linesFromSeconds` takes.
 */
export function secondsFromTimeSeries(timeSeries: TimeSeries): SecondSamples[] {
  const bySecond = new Map<number, IntervalSample[]>()
  for (const s of timeSeries.series) {
    for (const point of s.points) {
      let samples = bySecond.get(point.t)
      if (samples === undefined) bySecond.set(point.t, (samples = []))
      samples.push({ metric: s.metric, type: s.type, tags: s.tags, point } as IntervalSample)
    }
  }
  return [...bySecond].sort(([a], [b]) => a - b).map(([t, samples]) => ({ t, samples }))
}

/** The fields of one summary point. */
function summaryFields(series: SeriesResult): Record<string, FieldValue> {
  switch (series.type) {
    case 'trend': {
      const { count, min, mean, max, stdev, percentiles } = series.trend
      return { count: { int: count }, min, mean, max, stdev, ...percentiles }
    }
    case 'counter':
      return { value: series.value }
    case 'rate':
      return { passes: { int: series.passes }, total: { int: series.total }, rate: series.total === 0 ? Number.NaN : series.passes / series.total }
    case 'gauge':
      return { value: series.value, min: series.min, max: series.max }
  }
}

function thresholdFields(threshold: ThresholdResult): Record<string, FieldValue> {
  return { ok: threshold.ok, ...(threshold.actual === null ? {} : { actual: threshold.actual }), display: threshold.display }
}

/**
 * The end-of-test points of a result: one `chaperon_summary` point per series
 * (tag `metric`, fields as in the result's summary, percentiles as `p50`,
 * `p99.9`, …) and one `chaperon_threshold` point per threshold (tags `key`
 * and `expression`; fields `ok`, `actual` when there were samples, `display`),
 * all at `startedAtMs + durationMs`.
 *
 * @param startedAtMs When the test started, in ms since the epoch; the
 *   result's own `startedAt` when not given.
 */
export function summaryLines(result: LoadTestResult, tags: Tags = {}, startedAtMs: number = Date.parse(result.startedAt)): string[] {
  const endMs = startedAtMs + result.durationMs
  const lines: string[] = []
  for (const series of result.metrics) {
    const line = formatLine(SUMMARY_MEASUREMENT, { ...pointTags(result.name, series.tags, tags), metric: series.metric }, summaryFields(series), endMs)
    if (line !== undefined) lines.push(line)
  }
  for (const threshold of result.thresholds) {
    const line = formatLine(THRESHOLD_MEASUREMENT, { ...tags, test: result.name, key: threshold.key, expression: threshold.expression }, thresholdFields(threshold), endMs)
    if (line !== undefined) lines.push(line)
  }
  return lines
}

/**
 * Every point of a finished load test: its whole time series
 * (`linesFromSeconds`) followed by its summary and thresholds
 * (`summaryLines`). Timestamps count from the result's `startedAt`.
 */
export function linesFromResult(result: LoadTestResult, tags: Tags = {}): string[] {
  const startedAtMs = Date.parse(result.startedAt)
  return [...linesFromSeconds(result.name, startedAtMs, secondsFromTimeSeries(result.timeSeries), tags), ...summaryLines(result, tags, startedAtMs)]
}
