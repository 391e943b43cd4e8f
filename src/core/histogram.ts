import * as hdr from 'hdr-histogram-js'
import type { TrendSummary } from './result.ts'

/** An HDR histogram of integer microseconds (hdr-histogram-js, plain JS build). */
export type Histogram = hdr.Histogram

/** The highest value a histogram tracks: one hour in microseconds. Larger samples are clamped. */
export const HIGHEST_TRACKABLE_US = 3_600_000_000

/** Chaperon's percentile columns, kept in every trend summary. */
export const PERCENTILES = [10, 20, 30, 40, 50, 60, 75, 80, 85, 90, 95, 99, 99.9, 99.99, 99.999] as const

/**
 * A new empty histogram with chaperon's fixed layout: 1 µs to 1 h, 3 significant
 * digits, 32-bit counts. Every histogram has the same layout, so merging with
 * `add()` is exact.
 */
export function createHistogram(): Histogram {
  return hdr.build({
    bitBucketSize: 32,
    autoResize: false,
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_TRACKABLE_US,
    numberOfSignificantValueDigits: 3,
    useWebAssembly: false,
  })
}

/** Records a duration in microseconds, rounded to an integer and clamped to the trackable range. */
export function recordMicros(histogram: Histogram, micros: number): void {
  histogram.recordValue(recordableMicros(micros))
}

/** Microseconds as a histogram records them: rounded to an integer and clamped to the trackable range. */
export function recordableMicros(micros: number): number {
  const v = Math.round(micros)
  return v < 0 ? 0 : v > HIGHEST_TRACKABLE_US ? HIGHEST_TRACKABLE_US : v
}

/** The histogram as compressed base64, the form it takes in a `LoadTestResult`. */
export function encodeHistogram(histogram: Histogram): string {
  return hdr.encodeIntoCompressedBase64(histogram)
}

/**
 * Reads a histogram written by `encodeHistogram`; with `maxMillis`, the exact
 * maximum the summary or point that carried it holds (`restoreExactMax`).
 * Adding such histograms keeps the largest exact maximum.
 */
export function decodeHistogram(encoded: string, maxMillis?: number): Histogram {
  const histogram = hdr.decodeFromCompressedBase64(encoded, 32, false)
  if (maxMillis !== undefined) restoreExactMax(histogram, maxMillis)
  return histogram
}

/**
 * Gives a histogram rebuilt from encoded ones (decoded, maybe added up) its
 * exact maximum back. The encoding keeps only counts per bucket, so a decoded
 * histogram's `maxValue`, and the percentiles capped by it, read the top of
 * the maximum's bucket instead; `maxMillis` is the exact maximum, as the
 * summary or time-series point that carried the histogram holds it.
 */
function restoreExactMax(histogram: Histogram, maxMillis: number): void {
  const h = histogram as hdr.JsHistogram
  const max = Math.round(maxMillis * 1000)
  // Only a maximum within the top bucket is believed: one below it (a rounded or edited file) would drop samples.
  if (h.totalCount > 0 && Number.isFinite(max) && max >= h.lowestEquivalentValue(h.maxValue) && max <= h.maxValue) h.maxValue = max
}

/** The key a percentile has in `TrendSummary.percentiles`: 95 → `p95`, 99.9 → `p99.9`. */
function percentileKey(p: number): string {
  return `p${p}`
}

/** Milliseconds from integer microseconds. */
export function toMillis(micros: number): number {
  return micros / 1000
}

/** A summary of the histogram in milliseconds, with the encoded histogram. */
export function summarize(histogram: Histogram): TrendSummary {
  const count = histogram.totalCount
  const percentiles: Record<string, number> = {}
  for (const p of PERCENTILES) percentiles[percentileKey(p)] = count === 0 ? 0 : toMillis(percentile(histogram, p))
  return {
    count,
    min: count === 0 ? 0 : toMillis(minValue(histogram)),
    max: toMillis(histogram.maxValue),
    mean: count === 0 ? 0 : toMillis(histogram.mean),
    stdev: count === 0 ? 0 : toMillis(histogram.stdDeviation),
    percentiles,
    histogram: encodeHistogram(histogram),
  }
}

/**
 * The value at percentile `p` (0–100), in microseconds. HDR reports the top of
 * the value's bucket, which can exceed the exact maximum; it is capped there so
 * a p99 is never shown above the max.
 */
export function percentile(histogram: Histogram, p: number, exactMax: number = histogram.maxValue): number {
  return Math.min(histogram.getValueAtPercentile(p), exactMax)
}

/** What a time-series point keeps of an interval's histogram, in microseconds. */
export interface QuickSummary {
  count: number
  min: number
  mean: number
  max: number
  /** The values at the requested percentiles, in their order. */
  at: number[]
}

/**
 * Count, min, mean, max and `percentiles` (ascending) in one pass over the
 * counts, with the same values as `percentile()`, `minValue()` and `mean`.
 * hdr-histogram-js walks the counts once per percentile and its `mean` uses a
 * slow iterator: for the per-second points of a busy run that cost several
 * milliseconds of the event loop per series, which made iterations start late.
 */
export function quickSummary(histogram: Histogram, percentiles: readonly number[]): QuickSummary {
  const h = histogram as hdr.JsHistogram
  const count = h.totalCount
  const at = percentiles.map(() => 0)
  if (count === 0) return { count, min: 0, mean: 0, max: 0, at }
  const targets = percentiles.map((p) => countAtPercentile(p, count))
  let next = 0
  let seen = 0
  let sum = 0
  let min = -1
  for (let i = 0; i < h.countsArrayLength && seen < count; i++) {
    const n = h.getCountAtIndex(i)
    if (n === 0) continue
    const value = h.valueFromIndex(i)
    if (min < 0) min = h.lowestEquivalentValue(value)
    seen += n
    sum += h.medianEquivalentValue(value) * n
    while (next < targets.length && seen >= targets[next]!) at[next++] = Math.min(h.highestEquivalentValue(value), h.maxValue)
  }
  return { count, min, mean: sum / count, max: h.maxValue, at }
}

/** The rank of percentile `p` among `count` values, rounded up as hdr-histogram-js does it. */
function countAtPercentile(p: number, count: number): number {
  const fp = (Math.min(p, 100) / 100) * count
  // One ulp below, so a product that came out one ulp high does not skip a value.
  const ulp = fp === 0 ? 0 : 2 ** (Math.floor(Math.log2(fp)) - 52)
  return Math.max(Math.ceil(fp - ulp), 1)
}

/** The smallest recorded value, counting zero (hdr's `minNonZeroValue` skips it). */
export function minValue(histogram: Histogram): number {
  return histogram.getValueAtPercentile(0)
}
