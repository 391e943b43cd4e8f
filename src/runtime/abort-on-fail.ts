import { performance } from 'node:perf_hooks'
import { clearInterval, setInterval } from 'node:timers'
import type { LoadTestResult } from '../core/result.ts'
import { evaluateThresholds, type ParsedThreshold } from '../core/thresholds.ts'
import type { MetricsRegistry } from './metrics/registry.ts'
import { metricInfo } from './metrics/user-metrics.ts'

/** How often `abortOnFail` thresholds are checked while a test runs, as in k6. */
const CHECK_EVERY_MS = 1000

/** The reason a load test stopped early; scenarios cut off by it record nothing more. */
export class ThresholdAbort extends Error {
  constructor(hit: NonNullable<LoadTestResult['abortedBy']>) {
    super(`threshold ${hit.key} '${hit.expression}' failed after ${(hit.atMs / 1000).toFixed(1)}s (${hit.display}), and it aborts on fail`)
    this.name = 'ThresholdAbort'
  }
}

/**
 * Checks the `abortOnFail` thresholds every second, each once its
 * `delayAbortEval` has passed, on the data recorded so far, and calls `onFail`
 * with the first that fails. A threshold whose metric has no samples yet does
 * not fail here: the end of the test judges it. Returns the stop function.
 */
export function watchAbortOnFail(
  thresholds: readonly ParsedThreshold[],
  registry: MetricsRegistry,
  startedAt: number,
  onFail: (hit: NonNullable<LoadTestResult['abortedBy']>) => void,
): () => void {
  const live = thresholds.filter((t) => t.abortOnFail)
  if (live.length === 0) return () => {}
  const timer = setInterval(() => {
    const atMs = performance.now() - startedAt
    const due = live.filter((t) => atMs >= t.delayAbortEvalMs)
    if (due.length === 0) return
    const failed = evaluateThresholds(due, registry.series(), atMs / 1000, metricInfo).find((r) => !r.ok && r.actual !== null)
    if (failed === undefined) return
    clearInterval(timer)
    onFail({ key: failed.key, expression: failed.expression, display: failed.display, atMs })
  }, CHECK_EVERY_MS)
  return () => clearInterval(timer)
}
