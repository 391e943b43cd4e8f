import { performance } from 'node:perf_hooks'
import type { ChaperonError } from '../core/errors.ts'
import { decodeHistogram, percentile, toMillis } from '../core/histogram.ts'
import type { ProgressSnapshot } from '../core/progress.ts'
import { type Interruption, type LoadTestResult, SCHEMA_VERSION } from '../core/result.ts'
import { aggregate } from '../core/series.ts'
import { redactResult, redactTags, Redactor } from '../core/redact.ts'
import { slotAt } from '../core/segment.ts'
import { evaluateThresholds, type ParsedThreshold } from '../core/thresholds.ts'
import { type IntervalSample, TimelineBuilder } from '../core/timeline.ts'
import { checkAbortOnFail, ThresholdAbort } from './abort-on-fail.ts'
import { runArrivalRate } from './executors/arrival-rate.ts'
import { runFixedVus, type ScenarioDeps } from './executors/fixed-vus.ts'
import { runRampingVus } from './executors/ramping-vus.ts'
import { HttpClient } from './http/client.ts'
import { ErrorLog } from './metrics/error-log.ts'
import { MetricsRegistry, normalizeTags, setGauge } from './metrics/registry.ts'
import { ScenarioMetrics } from './metrics/scenario-metrics.ts'
import { metricInfo } from './metrics/user-metrics.ts'
import type { ResolvedLoadTest } from './resolve-options.ts'
import { secondCloser, startTicker } from './ticker.ts'
import { warmUpOnce } from './warm-up.ts'
import { dryRunPlan, mockDispatcher } from './dry-run.ts'
import { realClock } from './executors/clock.ts'
import { planDigest, segmentOf } from './segments.ts'
import { runOnWorkers } from './workers.ts'
import { startFeeders } from './feeder/registry.ts'

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

/** What `runLoadTest` may report while it runs. */
export interface RunHooks {
  /** Called once a second with the state of the run. */
  progress?: (snapshot: ProgressSnapshot) => void
  /** Called with each closed second of the metrics, merged over the workers. */
  second?: (t: number, samples: IntervalSample[]) => void
  /**
   * Stops the run at once when aborted, with what stopped it (`Interruption['by']`)
   * as the reason: the result keeps what was measured and is marked `interrupted`.
   */
  interrupt?: AbortSignal
}

/** The reason a run is cut off with when it is interrupted from outside. */
class Interrupted extends Error {
  constructor(by: Interruption['by'], atMs: number) {
    super(`the load test was interrupted (${by}) after ${(atMs / 1000).toFixed(1)}s`)
    this.name = 'Interrupted'
  }
}

/**
 * Runs a resolved load test to the end and returns its result, thresholds
 * evaluated: in this thread, or split over `lt.workers` worker threads whose
 * metrics are merged second by second. Either way, every second of the run
 * becomes a point of the time series, feeds the progress hook and checks the
 * `abortOnFail` thresholds.
 */
export async function runLoadTest(name: string, planned: ResolvedLoadTest, location?: LoadTestResult['location'], hooks: RunHooks = {}): Promise<LoadTestRun> {
  const lt = planned.mock === undefined ? planned : dryRunPlan(planned)
  const registry = new MetricsRegistry()
  const errorLog = new ErrorLog()
  const timeline = new TimelineBuilder(lt.workers)
  const redactor = new Redactor(lt.redact)
  const abort = new AbortController()
  const totalMs = Math.max(...lt.scenarios.map((s) => s.startTimeMs + s.durationMs))
  let abortedBy: LoadTestResult['abortedBy']
  let interrupted: Interruption | undefined
  let t0 = performance.now()
  const onInterrupt = (): void => {
    if (abort.signal.aborted) return
    // Before the start (waiting for CHAPERON_START_AT), nothing has run yet.
    interrupted = { by: hooks.interrupt!.reason as Interruption['by'], atMs: Math.max(0, performance.now() - t0) }
    abort.abort(new Interrupted(interrupted.by, interrupted.atMs))
  }
  if (hooks.interrupt?.aborted === true) onInterrupt()
  else hooks.interrupt?.addEventListener('abort', onInterrupt, { once: true })

  // A segment's counts are a share of the whole, so only thresholds that do not depend on its size may abort it.
  const abortable = lt.segment === undefined ? lt.thresholds : lt.thresholds.filter(sizeFree)
  const onSeconds = (seconds: Array<{ t: number; samples: IntervalSample[] }>): void => {
    for (const { t, samples } of seconds) {
      if (lt.workers > 1) registry.absorb(samples)
      hooks.second?.(t, samples.map((s) => ({ ...s, tags: redactTags(s.tags, redactor) })))
      hooks.progress?.(snapshot(samples, registry, performance.now() - t0, totalMs))
    }
    if (seconds.length === 0 || abort.signal.aborted) return
    // A second is handed over a few turns after its cut (secondCloser), so the totals judged
    // here may already hold samples recorded since: the check is only more current for it.
    const atMs = performance.now() - t0
    const hit = checkAbortOnFail(abortable, registry, () => timeline.toTimeSeries().series, seconds.at(-1)!.t, atMs)
    if (hit === undefined) return
    abortedBy = hit
    abort.abort(new ThresholdAbort(hit))
  }

  // Each load test takes its feeders' rows from the first; worker threads share the ones loaded here.
  const feeders = startFeeders(lt.segment)
  let misuse: ChaperonError | undefined
  if (lt.workers === 1) {
    const part = lt.segment === undefined ? lt : segmentOf(lt, lt.segment.stripe)
    const client = await openClient(part)
    if (lt.startAt !== undefined) {
      // The start is the agreed moment: an interrupt while waiting for it comes before the start.
      t0 = performance.now() + Math.max(0, lt.startAt - Date.now())
      await realClock.sleep(t0 - performance.now(), abort.signal)
    }
    if (!abort.signal.aborted) t0 = performance.now()
    misuse = await runHere(part, client, registry, errorLog, abort.signal, t0, (t, samples) => onSeconds(timeline.add(0, t, samples)))
    onSeconds(timeline.end(0))
  } else {
    const run = await runOnWorkers(lt, location?.file, feeders, abort.signal, {
      onStart(start) {
        t0 = start
      },
      onSecond: (worker, t, samples) => onSeconds(timeline.add(worker, t, samples)),
      onEnd: (worker) => onSeconds(timeline.end(worker)),
    })
    errorLog.absorb(run.errors)
    misuse = run.misuse
  }
  hooks.interrupt?.removeEventListener('abort', onInterrupt)

  const durationMs = Math.max(0, performance.now() - t0)
  const timeSeries = timeline.toTimeSeries()
  const thresholds = evaluateThresholds(lt.thresholds, registry.series(), durationMs / 1000, metricInfo, timeSeries.series)
  if (misuse !== undefined) {
    misuse.message = redactor.text(misuse.message)
    if (misuse.stack !== undefined) misuse.stack = redactor.text(misuse.stack)
  }
  const result: LoadTestResult = {
    schemaVersion: SCHEMA_VERSION,
    name,
    ...(location === undefined ? {} : { location }),
    startedAt: new Date(performance.timeOrigin + t0).toISOString(),
    durationMs,
    // A segment judges only its share; `chaperon merge` judges the thresholds on the whole.
    status: misuse === undefined && abortedBy === undefined && interrupted === undefined && (lt.segment !== undefined || thresholds.every((t) => t.ok)) ? 'passed' : 'failed',
    scenarios: lt.scenarios.map((s) => ({ name: s.key, executor: s.executor, scenario: s.scenario.name })),
    metrics: registry.toResults(),
    timeSeries,
    thresholds,
    errors: errorLog.toResults(),
    ...(abortedBy === undefined ? {} : { abortedBy }),
    ...(interrupted === undefined ? {} : { interrupted }),
    ...(lt.segment === undefined ? {} : { segment: { segment: lt.segment.label, sequence: lt.segment.sequence, plan: planDigest(lt) } }),
  }
  return { result: redactResult(result, redactor), misuse }
}

/**
 * The HTTP client of a run. Arrival-rate scenarios start many iterations in
 * their first second, so the thread's request path is warmed first (once,
 * against a sink of its own: `warmUpOnce`), and up to their
 * `preAllocatedVUs` connections to `baseUrl` are opened before the run starts.
 */
export async function openClient(lt: ResolvedLoadTest): Promise<HttpClient> {
  const { connections, headers, timeoutMs, authorization, insecure, version } = lt.http
  const dispatcher = lt.mock === undefined ? undefined : await mockDispatcher(lt.mock)
  if (dispatcher === undefined && lt.scenarios.some((s) => s.arrival !== undefined)) await warmUpOnce()
  const client = new HttpClient({ baseUrl: lt.baseUrl, connections, headers, timeoutMs, authorization, insecure, version, dispatcher })
  const preAllocated = lt.scenarios.reduce((n, s) => n + (s.arrival?.preAllocatedVUs ?? 0), 0)
  if (lt.baseUrl !== undefined && preAllocated > 0 && dispatcher === undefined) await client.warm(lt.baseUrl.origin, Math.min(preAllocated, lt.http.connections))
  return client
}

/**
 * Runs every scenario of `lt` in this thread from `t0` (a `performance.now()`
 * time) until all have ended, sending through `client` (closed at the end),
 * recording into `registry` and closing each second with `onSecond`, the last
 * one partial. Returns the first misuse.
 */
export async function runHere(
  lt: ResolvedLoadTest,
  client: HttpClient,
  registry: MetricsRegistry,
  errorLog: ErrorLog,
  abort: AbortSignal,
  t0: number,
  onSecond: (t: number, samples: IntervalSample[]) => void,
): Promise<ChaperonError | undefined> {
  const redactor = new Redactor(lt.redact)
  const vus = registry.gauge('vus', {})
  setGauge(registry.gauge('vus_max', {}), lt.vusMax)
  let active = 0
  let misuse: ChaperonError | undefined
  const deps: ScenarioDeps = {
    context(s, signal, inflight) {
      const nested = new Map<string, ScenarioMetrics>()
      let started = 0
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
        redactor,
        vuSlots: s.stripe,
        nextIterationInTest: () => slotAt(s.stripe, started++),
        interruptible: s.executor === 'ramping-vus' || s.iterationTimeoutMs !== undefined,
        iterationTimeoutMs: s.iterationTimeoutMs,
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
    abort,
  }

  const seconds = secondCloser(registry, onSecond)
  const ticker = startTicker(t0, seconds.close)
  try {
    await Promise.all(
      lt.scenarios.map((s) => (s.arrival !== undefined ? runArrivalRate(s, s.arrival, deps) : s.ramp !== undefined ? runRampingVus(s, s.ramp, deps) : runFixedVus(s, deps))),
    )
  } finally {
    const last = ticker.stop()
    await client.close()
    seconds.close(last)
    await seconds.drained()
  }
  return misuse
}

/** The progress line's numbers after one more second. */
function snapshot(samples: readonly IntervalSample[], registry: MetricsRegistry, elapsedMs: number, totalMs: number): ProgressSnapshot {
  let requests = 0
  const durations: string[] = []
  for (const s of samples) {
    if (s.metric === 'http_reqs' && s.type === 'counter') requests += s.point.value
    else if (s.metric === 'http_req_duration' && s.type === 'trend') durations.push(s.point.histogram)
  }
  let p95Ms: number | null = null
  if (durations.length > 0) {
    const [first, ...rest] = durations.map(decodeHistogram)
    for (const h of rest) first!.add(h)
    p95Ms = toMillis(percentile(first!, 95))
  }
  const all = [...registry.series()]
  const count = (metric: string): number => {
    const a = aggregate(all, metric)
    return a?.type === 'counter' ? a.value : a?.type === 'rate' ? a.passes : a?.type === 'gauge' ? a.value : 0
  }
  return { elapsedMs, totalMs, vus: count('vus'), rps: requests, p95Ms, errors: count('http_req_failed') + count('errors'), dropped: count('dropped_iterations') }
}

/**
 * True for a threshold whose value does not depend on how much of the run was
 * measured: a trend's statistics and a rate metric's share of passes, but not
 * counts, a counter's rate per second or a gauge.
 */
function sizeFree(t: ParsedThreshold): boolean {
  const type = metricInfo(t.metric)?.type
  return type === 'trend' ? t.aggregation !== 'count' : type === 'rate' && t.aggregation === 'rate'
}
