import type { LoadTestResult } from '../core/result.ts'
import { evaluateThresholds, type ParsedThreshold } from '../core/thresholds.ts'
import type { SeriesTimeline } from '../core/timeline.ts'
import type { MetricsRegistry } from './metrics/registry.ts'
import { metricInfo } from './metrics/user-metrics.ts'

/** The reason a load test stopped early; scenarios cut off by it record nothing more. */
export class ThresholdAbort extends Error {
  constructor(hit: NonNullable<LoadTestResult['abortedBy']>) {
    super(`threshold ${hit.key} '${hit.expression}' failed after ${(hit.atMs / 1000).toFixed(1)}s (${hit.display}), and it aborts on fail`)
    this.name = 'ThresholdAbort'
  }
}

/**
 * Checks the `abortOnFail` thresholds whose `delayAbortEval` has passed, as
 * each second of the run closes (second `lastT`, `atMs` into the run), on the
 * data so far: whole-run thresholds on the totals, windowed ones on their
 * latest window of `timeline` (built only when one is due). Returns the first that fails. A threshold whose metric has
 * no samples yet does not fail here: the end of the test judges it.
 */
export function checkAbortOnFail(
  thresholds: readonly ParsedThreshold[],
  registry: MetricsRegistry,
  timeline: () => readonly SeriesTimeline[],
  lastT: number,
  atMs: number,
): NonNullable<LoadTestResult['abortedBy']> | undefined {
  const due = thresholds.filter((t) => t.abortOnFail && atMs >= t.delayAbortEvalMs)
  if (due.length === 0) return undefined
  const series = [...registry.series()]
  for (const t of due) {
    // A windowed threshold looks at its latest window, which ends with second lastT.
    const [r] = t.windowSec === undefined ? evaluateThresholds([t], series, atMs / 1000, metricInfo) : evaluateThresholds([t], series, lastT + 1, metricInfo, timeline(), lastT + 1 - t.windowSec)
    if (r !== undefined && !r.ok && r.actual !== null) return { key: r.key, expression: r.expression, display: r.display, atMs }
  }
  return undefined
}
