import { performance } from 'node:perf_hooks'
import { BUILTIN_METRICS } from '../core/builtin-metrics.ts'
import { ChaperonError } from '../core/errors.ts'
import { type LoadTestResult, SCHEMA_VERSION, type ScenarioErrorResult } from '../core/result.ts'
import { evaluateThresholds } from '../core/thresholds.ts'
import { runFixedVus } from './executors/fixed-vus.ts'
import { HttpClient } from './http/client.ts'
import { MetricsRegistry, setGauge } from './metrics/registry.ts'
import type { ResolvedLoadTest } from './resolve-options.ts'

// Distinct error messages kept per load test; the rest are counted under one entry.
const MAX_ERROR_KINDS = 50

/** What a run produced: its result, and the first misuse of chaperon's API seen in scenario code. */
export interface LoadTestRun {
  result: LoadTestResult
  /**
   * A ChaperonError thrown inside a scenario (a bad request option, a missing
   * baseUrl): a bug in the test rather than a fault of the target, so it fails
   * the test even when every threshold holds.
   */
  misuse: ChaperonError | undefined
}

/** Runs a resolved load test to the end and returns its result, thresholds evaluated. */
export async function runLoadTest(name: string, lt: ResolvedLoadTest, location?: LoadTestResult['location']): Promise<LoadTestRun> {
  const registry = new MetricsRegistry()
  const client = new HttpClient({ baseUrl: lt.baseUrl, connections: lt.http.connections, headers: lt.http.headers, timeoutMs: lt.http.timeoutMs })
  const vus = registry.gauge('vus', {})
  setGauge(registry.gauge('vus_max', {}), lt.vusMax)
  let active = 0
  const errors = new Map<string, ScenarioErrorResult>()
  let misuse: ChaperonError | undefined
  const deps = {
    client,
    registry,
    onVuChange(delta: number) {
      active += delta
      setGauge(vus, active)
    },
    onError(scenario: string, error: unknown) {
      if (error instanceof ChaperonError) misuse ??= error
      const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
      const message = errors.size < MAX_ERROR_KINDS || errors.has(`${scenario}\0${text}`) ? text : 'other errors'
      const key = `${scenario}\0${message}`
      const entry = errors.get(key)
      if (entry === undefined) errors.set(key, { scenario, message, count: 1 })
      else entry.count++
    },
  }

  const startedAt = new Date()
  const t0 = performance.now()
  try {
    await Promise.all(lt.scenarios.map((s) => runFixedVus(s, deps)))
  } finally {
    await client.close()
  }
  const durationMs = performance.now() - t0
  const thresholds = evaluateThresholds(lt.thresholds, registry.series(), durationMs / 1000, (metric) => BUILTIN_METRICS[metric])
  const result: LoadTestResult = {
    schemaVersion: SCHEMA_VERSION,
    name,
    ...(location === undefined ? {} : { location }),
    startedAt: startedAt.toISOString(),
    durationMs,
    status: misuse === undefined && thresholds.every((t) => t.ok) ? 'passed' : 'failed',
    scenarios: lt.scenarios.map((s) => ({ name: s.key, executor: s.executor, scenario: s.scenario.name })),
    metrics: registry.toResults(),
    thresholds,
    errors: [...errors.values()],
  }
  return { result, misuse }
}
