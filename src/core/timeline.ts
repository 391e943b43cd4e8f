import { createHistogram, decodeHistogram, encodeHistogram, type Histogram, quickSummary, toMillis } from './histogram.ts'
import type { Tags } from './result.ts'

/** The length of one time-series interval. */
export const INTERVAL_MS = 1000

/**
 * One second of a trend. Times in milliseconds (thousandths of the value for
 * a custom trend), with the interval's own HDR histogram for exact merging.
 */
export interface TrendPoint {
  /** The interval: second `t` covers [t, t+1) s after the load test started. */
  t: number
  count: number
  min: number
  mean: number
  p50: number
  p90: number
  p95: number
  p99: number
  max: number
  /** The interval's histogram, compressed base64 like `TrendSummary.histogram`. */
  histogram: string
}

/** One second of a counter: what was added in it. */
export interface CounterPoint {
  t: number
  value: number
}

/** One second of a rate: the passes and samples in it. */
export interface RatePoint {
  t: number
  passes: number
  total: number
}

/** One second of a gauge: its value at the end of the second, and its range within it. */
export interface GaugePoint {
  t: number
  value: number
  min: number
  max: number
}

/** One metric with one tag set, second by second. Only seconds with samples have a point; gauges have one every second once set. */
export type SeriesTimeline =
  | { metric: string; type: 'trend'; tags: Tags; points: TrendPoint[] }
  | { metric: string; type: 'counter'; tags: Tags; points: CounterPoint[] }
  | { metric: string; type: 'rate'; tags: Tags; points: RatePoint[] }
  | { metric: string; type: 'gauge'; tags: Tags; points: GaugePoint[] }

/** Every metric per second, for charts and windowed thresholds. */
export interface TimeSeries {
  /** The length of one interval in ms (1000). */
  intervalMs: number
  /** Sorted by metric and tags, like `LoadTestResult.metrics`. */
  series: SeriesTimeline[]
}

/** One series' point for one interval, as a registry emits it at each tick and a worker sends it. */
export type IntervalSample =
  | { metric: string; type: 'trend'; tags: Tags; point: TrendPoint }
  | { metric: string; type: 'counter'; tags: Tags; point: CounterPoint }
  | { metric: string; type: 'rate'; tags: Tags; point: RatePoint }
  | { metric: string; type: 'gauge'; tags: Tags; point: GaugePoint }

/** `metric{a:1,b:2}` with tags sorted: the identity of a series. */
export function seriesKey(metric: string, tags: Tags): string {
  const keys = Object.keys(tags).sort()
  return keys.length === 0 ? metric : `${metric}{${keys.map((k) => `${k}:${tags[k]}`).join(',')}}`
}

/** The point of second `t` for an interval histogram with samples. */
export function trendPoint(t: number, h: Histogram): TrendPoint {
  const { count, min, mean, max, at } = quickSummary(h, [50, 90, 95, 99])
  const [p50, p90, p95, p99] = at.map(toMillis) as [number, number, number, number]
  return { t, count, min: toMillis(min), mean: toMillis(mean), p50, p90, p95, p99, max: toMillis(max), histogram: encodeHistogram(h) }
}

/** Gauges that count something per process, so the values of worker threads (and of the segments of a split run) add up. */
export const ADDITIVE_GAUGES: ReadonlySet<string> = new Set(['vus', 'vus_max'])

/**
 * Builds the time series of a run from the samples of one or more sources
 * (the runtime itself, or each worker thread). A second is final once every
 * source has reported it; its samples of the same series are then merged
 * exactly: histograms added, counts summed, `vus` gauges summed and other
 * gauges keeping the last source's value and the overall range.
 */
export class TimelineBuilder {
  readonly #series = new Map<string, SeriesTimeline>()
  readonly #pending = new Map<number, IntervalSample[][]>()
  /** The last second each source has reported; -1 before its first. */
  readonly #reported: number[]

  constructor(sources: number) {
    this.#reported = new Array<number>(sources).fill(-1)
  }

  /**
   * Adds what `source` recorded in second `t` (sources report their seconds in
   * order) and returns the seconds that became final, each with its merged samples.
   */
  add(source: number, t: number, samples: IntervalSample[]): Array<{ t: number; samples: IntervalSample[] }> {
    let parts = this.#pending.get(t)
    if (parts === undefined) this.#pending.set(t, (parts = []))
    parts.push(samples)
    this.#reported[source] = t
    return this.#finalize(Math.min(...this.#reported))
  }

  /** Marks a source as done; returns the seconds that became final. */
  end(source: number): Array<{ t: number; samples: IntervalSample[] }> {
    this.#reported[source] = Number.POSITIVE_INFINITY
    return this.#finalize(Math.min(...this.#reported))
  }

  /** The time series of every final second. */
  toTimeSeries(): TimeSeries {
    const series = [...this.#series].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, s]) => s)
    return { intervalMs: INTERVAL_MS, series }
  }

  #finalize(upTo: number): Array<{ t: number; samples: IntervalSample[] }> {
    const out: Array<{ t: number; samples: IntervalSample[] }> = []
    for (const t of [...this.#pending.keys()].sort((a, b) => a - b)) {
      if (t > upTo) break
      const parts = this.#pending.get(t)!
      this.#pending.delete(t)
      const samples = parts.length === 1 ? parts[0]! : mergeSamples(parts.flat())
      for (const sample of samples) this.#append(sample)
      out.push({ t, samples })
    }
    return out
  }

  #append(sample: IntervalSample): void {
    const key = seriesKey(sample.metric, sample.tags)
    let s = this.#series.get(key)
    if (s === undefined) this.#series.set(key, (s = { metric: sample.metric, type: sample.type, tags: sample.tags, points: [] } as SeriesTimeline))
    ;(s.points as IntervalSample['point'][]).push(sample.point)
  }
}

/** Merges the samples of one second from several sources, series by series. */
function mergeSamples(samples: IntervalSample[]): IntervalSample[] {
  const groups = new Map<string, IntervalSample[]>()
  for (const s of samples) {
    const key = seriesKey(s.metric, s.tags)
    const g = groups.get(key)
    if (g === undefined) groups.set(key, [s])
    else g.push(s)
  }
  return [...groups.values()].map((group) => (group.length === 1 ? group[0]! : mergeGroup(group)))
}

function mergeGroup(group: IntervalSample[]): IntervalSample {
  const first = group[0]!
  switch (first.type) {
    case 'trend': {
      const h = createHistogram()
      for (const s of group) {
        const point = s.point as TrendPoint
        h.add(decodeHistogram(point.histogram, point.max))
      }
      return { ...first, point: trendPoint(first.point.t, h) }
    }
    case 'counter':
      return { ...first, point: { t: first.point.t, value: sum(group, (p) => (p as CounterPoint).value) } }
    case 'rate':
      return { ...first, point: { t: first.point.t, passes: sum(group, (p) => (p as RatePoint).passes), total: sum(group, (p) => (p as RatePoint).total) } }
    case 'gauge': {
      const points = group.map((s) => s.point as GaugePoint)
      if (ADDITIVE_GAUGES.has(first.metric)) {
        return { ...first, point: { t: first.point.t, value: sum(group, (p) => (p as GaugePoint).value), min: sum(group, (p) => (p as GaugePoint).min), max: sum(group, (p) => (p as GaugePoint).max) } }
      }
      return { ...first, point: { t: first.point.t, value: points.at(-1)!.value, min: Math.min(...points.map((p) => p.min)), max: Math.max(...points.map((p) => p.max)) } }
    }
  }
}

function sum(group: IntervalSample[], of: (p: IntervalSample['point']) => number): number {
  let n = 0
  for (const s of group) n += of(s.point)
  return n
}
