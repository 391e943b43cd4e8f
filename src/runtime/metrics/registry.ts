import { createHistogram, summarize } from '../../core/histogram.ts'
import type { MetricType, SeriesResult, Tags } from '../../core/result.ts'
import type { Series } from '../../core/series.ts'

type TrendSeries = Extract<Series, { type: 'trend' }>
type CounterSeries = Extract<Series, { type: 'counter' }>
type RateSeries = Extract<Series, { type: 'rate' }>
type GaugeSeries = Extract<Series, { type: 'gauge' }>

/**
 * Holds one series per metric and tag set for one load test. Callers keep the
 * series objects they record into, so the hot path is a field update, not a lookup.
 */
export class MetricsRegistry {
  readonly #series = new Map<string, Series>()

  /** The trend series for `metric` and `tags`, created on first use. Values are microseconds. */
  trend(metric: string, tags: Tags): TrendSeries {
    return this.#get(metric, 'trend', tags, () => ({ metric, type: 'trend', tags, histogram: createHistogram() }))
  }

  counter(metric: string, tags: Tags): CounterSeries {
    return this.#get(metric, 'counter', tags, () => ({ metric, type: 'counter', tags, value: 0 }))
  }

  rate(metric: string, tags: Tags): RateSeries {
    return this.#get(metric, 'rate', tags, () => ({ metric, type: 'rate', tags, passes: 0, total: 0 }))
  }

  gauge(metric: string, tags: Tags): GaugeSeries {
    return this.#get(metric, 'gauge', tags, () => ({
      metric,
      type: 'gauge',
      tags,
      value: 0,
      min: Number.POSITIVE_INFINITY,
      max: Number.NEGATIVE_INFINITY,
    }))
  }

  /** Every series recorded so far. */
  series(): IterableIterator<Series> {
    return this.#series.values()
  }

  /** The series as plain, JSON-ready results, sorted by metric and tags. */
  toResults(): SeriesResult[] {
    const out: SeriesResult[] = []
    for (const [, s] of [...this.#series].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      switch (s.type) {
        case 'trend':
          out.push({ metric: s.metric, type: 'trend', tags: s.tags, trend: summarize(s.histogram) })
          break
        case 'counter':
          out.push({ metric: s.metric, type: 'counter', tags: s.tags, value: s.value })
          break
        case 'rate':
          out.push({ metric: s.metric, type: 'rate', tags: s.tags, passes: s.passes, total: s.total })
          break
        case 'gauge':
          if (s.min <= s.max) out.push({ metric: s.metric, type: 'gauge', tags: s.tags, value: s.value, min: s.min, max: s.max })
          break
      }
    }
    return out
  }

  #get<T extends Series>(metric: string, type: MetricType, tags: Tags, create: () => T): T {
    const key = seriesKey(metric, tags)
    let s = this.#series.get(key)
    if (s === undefined) {
      s = create()
      this.#series.set(key, s)
    } else if (s.type !== type) {
      throw new TypeError(`metric ${metric} is a ${s.type}, not a ${type}`)
    }
    return s as T
  }
}

/** `metric{a:1,b:2}` with tags sorted, the identity of a series. */
function seriesKey(metric: string, tags: Tags): string {
  const keys = Object.keys(tags).sort()
  return keys.length === 0 ? metric : `${metric}{${keys.map((k) => `${k}:${tags[k]}`).join(',')}}`
}

/** Tags with keys sorted and undefined values dropped, so equal tag sets serialise equally. */
export function normalizeTags(tags: Record<string, string | undefined>): Tags {
  const out: Record<string, string> = {}
  for (const k of Object.keys(tags).sort()) {
    const v = tags[k]
    if (v !== undefined) out[k] = v
  }
  return Object.freeze(out)
}

export function setGauge(series: GaugeSeries, value: number): void {
  series.value = value
  if (value < series.min) series.min = value
  if (value > series.max) series.max = value
}
