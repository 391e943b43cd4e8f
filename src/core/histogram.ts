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

/** Reads a histogram written by `encodeHistogram`. */
export function decodeHistogram(encoded: string): Histogram {
  return hdr.decodeFromCompressedBase64(encoded, 32, false)
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

/** The smallest recorded value, counting zero (hdr's `minNonZeroValue` skips it). */
export function minValue(histogram: Histogram): number {
  return histogram.getValueAtPercentile(0)
}
