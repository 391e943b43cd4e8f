import { performance } from 'node:perf_hooks'
import { ChaperonError } from '../core/errors.ts'
import { type LoadTestResult, SCHEMA_VERSION } from '../core/result.ts'
import { evaluateThresholds } from '../core/thresholds.ts'
import { ThresholdAbort, watchAbortOnFail } from './abort-on-fail.ts'
import { runArrivalRate } from './executors/arrival-rate.ts'
import { runFixedVus, type ScenarioDeps } from './executors/fixed-vus.ts'
import { runRampingVus } from './executors/ramping-vus.ts'
import { HttpClient } from './http/client.ts'
import { ErrorLog } from './metrics/error-log.ts'
import { MetricsRegistry, normalizeTags, setGauge } from './metrics/registry.ts'
import { ScenarioMetrics } from './metrics/scenario-metrics.ts'
import { metricInfo } from './metrics/user-metrics.ts'
import type { ResolvedLoadTest } from './resolve-options.ts'

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
  const errorLog = new ErrorLog()
  const client = new HttpClient({ baseUrl: lt.baseUrl, connections: lt.http.connections, headers: lt.http.headers, timeoutMs: lt.http.timeoutMs, authorization: lt.http.authorization, insecure: lt.http.insecure })
  const vus = registry.gauge('vus', {})
  setGauge(registry.gauge('vus_max', {}), lt.vusMax)
  let active = 0
  let misuse: ChaperonError | undefined
  const abort = new AbortController()
  const deps: ScenarioDeps = {
    context(s, signal, inflight) {
      const nested = new Map<string, ScenarioMetrics>()
      return {
        name: s.key,
        client,
        metrics: new ScenarioMetrics(registry, s.tags, errorLog),
        config: s.config,
        signal,
        inflight,
        baseUrl: lt.baseUrl,
        wsHeaders: client.defaultHeaders,
        insecure: lt.http.insecure,
        logLevel: s.logLevel,
        interruptible: s.executor === 'ramping-vus',
        metricsFor(scenario) {
          let m = nested.get(scenario)
          if (m === undefined) nested.set(scenario, (m = new ScenarioMetrics(registry, normalizeTags({ ...s.tags, scenario }), errorLog)))
          return m
        },
        onMisuse(error) {
          misuse ??= error
        },
      }
    },
    onVuChange(delta: number) {
      active += delta
      setGauge(vus, active)
    },
    abort: abort.signal,
  }

  const startedAt = new Date()
  const t0 = performance.now()
  let abortedBy: LoadTestResult['abortedBy']
  const stopWatching = watchAbortOnFail(lt.thresholds, registry, t0, (hit) => {
    abortedBy = hit
    abort.abort(new ThresholdAbort(hit))
  })
  try {
    await Promise.all(
      lt.scenarios.map((s) => (s.arrival !== undefined ? runArrivalRate(s, s.arrival, deps) : s.ramp !== undefined ? runRampingVus(s, s.ramp, deps) : runFixedVus(s, deps))),
    )
  } finally {
    stopWatching()
    await client.close()
  }
  const durationMs = performance.now() - t0
  const thresholds = evaluateThresholds(lt.thresholds, registry.series(), durationMs / 1000, metricInfo)
  const result: LoadTestResult = {
    schemaVersion: SCHEMA_VERSION,
    name,
    ...(location === undefined ? {} : { location }),
    startedAt: startedAt.toISOString(),
    durationMs,
    status: misuse === undefined && abortedBy === undefined && thresholds.every((t) => t.ok) ? 'passed' : 'failed',
    scenarios: lt.scenarios.map((s) => ({ name: s.key, executor: s.executor, scenario: s.scenario.name })),
    metrics: registry.toResults(),
    thresholds,
    errors: errorLog.toResults(),
    ...(abortedBy === undefined ? {} : { abortedBy }),
  }
  return { result, misuse }
}
