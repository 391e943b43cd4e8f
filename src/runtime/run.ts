import { performance } from 'node:perf_hooks'
import { BUILTIN_METRICS } from '../core/builtin-metrics.ts'
import { type LoadTestResult, SCHEMA_VERSION, type ScenarioErrorResult } from '../core/result.ts'
import { evaluateThresholds } from '../core/thresholds.ts'
import { runFixedVus } from './executors/fixed-vus.ts'
import { HttpClient } from './http/client.ts'
import { MetricsRegistry, setGauge } from './metrics/registry.ts'
import type { ResolvedLoadTest } from './resolve-options.ts'

// Distinct error messages kept per load test; the rest are counted under one entry.
const MAX_ERROR_KINDS = 50

/** Runs a resolved load test to the end and returns its result, thresholds evaluated. */
export async function runLoadTest(name: string, lt: ResolvedLoadTest, location?: LoadTestResult['location']): Promise<LoadTestResult> {
  const registry = new MetricsRegistry()
  const client = new HttpClient({ baseUrl: lt.baseUrl, connections: lt.http.connections, headers: lt.http.headers })
  const vus = registry.gauge('vus', {})
  setGauge(registry.gauge('vus_max', {}), lt.scenarios.reduce((n, s) => n + s.vus, 0))
  let active = 0
  const errors = new Map<string, ScenarioErrorResult>()
  const deps = {
    client,
    registry,
    timeoutMs: lt.http.timeoutMs,
    onVuChange(delta: number) {
      active += delta
      setGauge(vus, active)
    },
    onError(scenario: string, error: unknown) {
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
  return {
    schemaVersion: SCHEMA_VERSION,
    name,
    ...(location === undefined ? {} : { location }),
    startedAt: startedAt.toISOString(),
    durationMs,
    status: thresholds.every((t) => t.ok) ? 'passed' : 'failed',
    scenarios: lt.scenarios.map((s) => ({ name: s.key, executor: s.executor, scenario: s.scenario.name })),
    metrics: registry.toResults(),
    thresholds,
    errors: [...errors.values()],
  }
}
