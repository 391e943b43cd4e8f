import { createHistogram, decodeHistogram, type Histogram, recordableMicros } from '../../core/histogram.ts'
import type { MetricType, SeriesResult, Tags } from '../../core/result.ts'
import { type Series, toSeriesResult } from '../../core/series.ts'
import { type IntervalSample, seriesKey, trendPoint } from '../../core/timeline.ts'

/**
 * A trend being recorded: its total histogram, the one of the current second,
 * and, while it records every second, a spare that takes over from that one
 * when the second closes (about 95 KB each).
 */
export type TrendSeries = Extract<Series, { type: 'trend' }> & { interval: Histogram; spare: Histogram | undefined }
type CounterSeries = Extract<Series, { type: 'counter' }>
type RateSeries = Extract<Series, { type: 'rate' }>
/** A gauge being recorded, with its range within the current second. */
export type GaugeSeries = Extract<Series, { type: 'gauge' }> & { intervalMin: number; intervalMax: number }

/** Part of a closed second: a sample, or a trend's sample still to compute (see `MetricsRegistry.close`). */
export type SecondPart = IntervalSample | (() => IntervalSample)

/**
 * Holds one series per metric and tag set for one load test. Callers keep the
 * series objects they record into, so the hot path is a field update, not a lookup.
 *
 * Every second, `close()` turns what was recorded since the last close into
 * the points of the time series: the interval histogram of each trend, the
 * growth of each counter and rate, the value and range of each gauge.
 */
export class MetricsRegistry {
  readonly #series = new Map<string, Series>()
  /** Counter values and rate counts at the last close, so a close emits only the growth. */
  readonly #lastClose = new Map<Series, [number, number]>()

  /** The trend series for `metric` and `tags`, created on first use. Values are microseconds. */
  trend(metric: string, tags: Tags): TrendSeries {
    return this.#get(metric, 'trend', tags, () => ({ metric, type: 'trend', tags, histogram: createHistogram(), interval: createHistogram(), spare: undefined }))
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
      intervalMin: Number.POSITIVE_INFINITY,
      intervalMax: Number.NEGATIVE_INFINITY,
    }))
  }

  /**
   * Closes second `t` and starts the next: one part per series that changed in
   * it (every gauge once set). Counters, rates and gauges are samples already;
   * a trend is a function that summarises and encodes the second's histogram
   * (a few tenths of a millisecond each), so the caller can spread that work
   * over turns of the event loop. Recording goes on into fresh histograms
   * meanwhile.
   */
  close(t: number): SecondPart[] {
    const out: SecondPart[] = []
    for (const s of this.#series.values()) {
      const { metric, tags } = s
      switch (s.type) {
        case 'trend': {
          const trend = s as TrendSeries
          const closed = trend.interval
          if (closed.totalCount === 0) {
            // A trend idle for a second gives its spare back: only busy trends keep a third histogram.
            trend.spare = undefined
            break
          }
          trend.interval = trend.spare ?? createHistogram()
          trend.spare = undefined
          out.push(() => {
            const point = trendPoint(t, closed)
            closed.reset()
            trend.spare = closed
            return { metric, type: 'trend', tags, point }
          })
          break
        }
        case 'counter': {
          const last = this.#lastClose.get(s) ?? [0, 0]
          if (s.value === last[0]) break
          out.push({ metric, type: 'counter', tags, point: { t, value: s.value - last[0] } })
          this.#lastClose.set(s, [s.value, 0])
          break
        }
        case 'rate': {
          const last = this.#lastClose.get(s) ?? [0, 0]
          if (s.total === last[1]) break
          out.push({ metric, type: 'rate', tags, point: { t, passes: s.passes - last[0], total: s.total - last[1] } })
          this.#lastClose.set(s, [s.passes, s.total])
          break
        }
        case 'gauge': {
          const g = s as GaugeSeries
          if (g.min > g.max) break
          // A second without changes still has the gauge's value.
          const min = g.intervalMin <= g.intervalMax ? g.intervalMin : g.value
          const max = g.intervalMin <= g.intervalMax ? g.intervalMax : g.value
          out.push({ metric, type: 'gauge', tags, point: { t, value: g.value, min, max } })
          g.intervalMin = Number.POSITIVE_INFINITY
          g.intervalMax = Number.NEGATIVE_INFINITY
          break
        }
      }
    }
    return out
  }

  /** Adds samples recorded elsewhere (a worker thread's, merged per second) to the totals. */
  absorb(samples: readonly IntervalSample[]): void {
    for (const sample of samples) {
      switch (sample.type) {
        case 'trend':
          this.trend(sample.metric, sample.tags).histogram.add(decodeHistogram(sample.point.histogram, sample.point.max))
          break
        case 'counter':
          this.counter(sample.metric, sample.tags).value += sample.point.value
          break
        case 'rate': {
          const s = this.rate(sample.metric, sample.tags)
          s.passes += sample.point.passes
          s.total += sample.point.total
          break
        }
        case 'gauge': {
          const s = this.gauge(sample.metric, sample.tags)
          s.value = sample.point.value
          s.min = Math.min(s.min, sample.point.min)
          s.max = Math.max(s.max, sample.point.max)
          break
        }
      }
    }
  }

  /** Every series recorded so far. */
  series(): IterableIterator<Series> {
    return this.#series.values()
  }

  /** The series as plain, JSON-ready results, sorted by metric and tags. */
  toResults(): SeriesResult[] {
    const out: SeriesResult[] = []
    for (const [, s] of [...this.#series].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      // A gauge never set has no value to report.
      if (s.type !== 'gauge' || s.min <= s.max) out.push(toSeriesResult(s))
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
  if (value < series.intervalMin) series.intervalMin = value
  if (value > series.intervalMax) series.intervalMax = value
}

/** Records a sample in microseconds, rounded and clamped to the trackable range, in the total and in the current second. */
export function recordTrend(series: TrendSeries, micros: number): void {
  const v = recordableMicros(micros)
  series.histogram.recordValue(v)
  series.interval.recordValue(v)
}
