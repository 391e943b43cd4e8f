import { createHistogram, decodeHistogram, type Histogram, summarize } from './histogram.ts'
import type { LoadTestResult, MetricType, SeriesResult, Tags } from './result.ts'

/**
 * A metric series held in memory: one metric with one tag set. The runtime's
 * registry records into these; `seriesFromResult` rebuilds them from a result,
 * so thresholds and merges run on the same shape either way.
 */
export type Series =
  | { metric: string; type: 'trend'; tags: Tags; histogram: Histogram }
  | { metric: string; type: 'counter'; tags: Tags; value: number }
  | { metric: string; type: 'rate'; tags: Tags; passes: number; total: number }
  | { metric: string; type: 'gauge'; tags: Tags; value: number; min: number; max: number }

/** Several series of one metric folded into one value set. Trends are in microseconds. */
export type Aggregate =
  | { type: 'trend'; histogram: Histogram }
  | { type: 'counter'; value: number }
  | { type: 'rate'; passes: number; total: number }
  | { type: 'gauge'; value: number; min: number; max: number }

/** True when every tag in `filter` is present in `tags` with the same value. */
export function matchesTags(tags: Tags, filter: Tags): boolean {
  for (const key in filter) if (tags[key] !== filter[key]) return false
  return true
}

/**
 * Folds every series of `metric` whose tags match `filter`: histograms are merged
 * (never percentiles averaged), counters and rates summed, gauges keep the last
 * series' value and the overall min and max. Undefined when nothing matches.
 */
export function aggregate(series: Iterable<Series>, metric: string, filter: Tags = {}): Aggregate | undefined {
  let out: Aggregate | undefined
  for (const s of series) {
    if (s.metric !== metric || !matchesTags(s.tags, filter)) continue
    switch (s.type) {
      case 'trend': {
        if (out === undefined) out = { type: 'trend', histogram: createHistogram() }
        if (out.type === 'trend') out.histogram.add(s.histogram)
        break
      }
      case 'counter':
        if (out === undefined) out = { type: 'counter', value: 0 }
        if (out.type === 'counter') out.value += s.value
        break
      case 'rate':
        if (out === undefined) out = { type: 'rate', passes: 0, total: 0 }
        if (out.type === 'rate') {
          out.passes += s.passes
          out.total += s.total
        }
        break
      case 'gauge':
        if (out === undefined) out = { type: 'gauge', value: s.value, min: s.min, max: s.max }
        else if (out.type === 'gauge') {
          out.value = s.value
          out.min = Math.min(out.min, s.min)
          out.max = Math.max(out.max, s.max)
        }
        break
    }
  }
  return out
}

/** The series of a result, with trend histograms decoded (their exact maximum restored). */
export function seriesFromResult(result: Pick<LoadTestResult, 'metrics'>): Series[] {
  return result.metrics.map((m): Series => {
    switch (m.type) {
      case 'trend': {
        return { metric: m.metric, type: 'trend', tags: m.tags, histogram: decodeHistogram(m.trend.histogram, m.trend.max) }
      }
      case 'counter':
        return { metric: m.metric, type: 'counter', tags: m.tags, value: m.value }
      case 'rate':
        return { metric: m.metric, type: 'rate', tags: m.tags, passes: m.passes, total: m.total }
      case 'gauge':
        return { metric: m.metric, type: 'gauge', tags: m.tags, value: m.value, min: m.min, max: m.max }
    }
  })
}

/** A series as a result holds it: a trend summarized, with its histogram encoded. */
export function toSeriesResult(s: Series): SeriesResult {
  switch (s.type) {
    case 'trend':
      return { metric: s.metric, type: 'trend', tags: s.tags, trend: summarize(s.histogram) }
    case 'counter':
      return { metric: s.metric, type: 'counter', tags: s.tags, value: s.value }
    case 'rate':
      return { metric: s.metric, type: 'rate', tags: s.tags, passes: s.passes, total: s.total }
    case 'gauge':
      return { metric: s.metric, type: 'gauge', tags: s.tags, value: s.value, min: s.min, max: s.max }
  }
}

/** What chaperon knows about a metric name before any sample exists. */
export interface MetricInfo {
  type: MetricType
  /** Trends hold thousandths of their values: `time` trends microseconds, shown and compared in milliseconds. */
  unit: 'time' | 'bytes' | 'count'
  description: string
}
