// One chaperon client process for bench/rate-accuracy.ts and
// bench/coordinated-omission.ts: a scenario doing one GET per iteration against
// URL, run through the real runtime with every built-in metric recorded.
// Prints one JSON line (ClientReport) as its last line of output.
//
//   EXECUTOR=constant-arrival-rate  RATE (iterations/s), DURATION (s), PRE_VUS, MAX_VUS,
//                                   PACING (timer or spin, the scenario's `pacing`; default timer)
//   EXECUTOR=constant-vus           VUS, DURATION (s), THINK_MS (a delay after each request)
//   URL                             the target's base URL; REQUEST_PATH the path (default /),
//                                   or `none` for iterations that send nothing
//
// Start lateness (actual start − planned start of each arrival-rate iteration)
// is read where the runtime computes it: VirtualUser.iterate() hands it to the
// session through the LAG setter before the scenario runs, and the HTTP client
// adds it to each request's duration for http_req_latency_corrected. Wrapping
// that setter records exactly the value the corrected latencies are built from,
// once per iteration; an iteration started early (the executor starts slots
// due within 1 ms) counts as 0, as it does there.
import { constants, monitorEventLoopDelay, performance, type PerformanceEntry, PerformanceObserver } from 'node:perf_hooks'
import { createHistogram, recordMicros, summarize } from '../dist/core/histogram.js'
import type { TrendSummary } from '../dist/core/result.js'
import { aggregate, seriesFromResult } from '../dist/core/series.js'
import { resolveLoadTestOptions } from '../dist/runtime/resolve-options.js'
import { runLoadTest } from '../dist/runtime/run.js'
import { scenario } from '../dist/runtime/scenario.js'
import { LAG, Session } from '../dist/runtime/session.js'
import { warmUpOnce } from '../dist/runtime/warm-up.js'
import type { LoadTestOptions } from '../dist/runtime/options.js'

/** A trend in milliseconds, as the summary reporter shows it. */
export interface TrendReport {
  count: number
  mean: number
  p50: number
  p90: number
  p99: number
  p99_9: number
  max: number
}

export interface ClientReport {
  executor: string
  /** When the run began, in ms since this process started (its start-up time). */
  startedAfterMs: number
  /** The run's wall time as the runtime measured it, ms. */
  durationMs: number
  iterations: number
  dropped: number
  /** The most VUs the executor had allocated at once (the `vus` gauge's max). */
  peakVUs: number | undefined
  requests: number
  failed: number
  httpReqDuration: TrendReport | undefined
  httpReqLatencyCorrected: TrendReport | undefined
  iterationDuration: TrendReport | undefined
  iterationLatencyCorrected: TrendReport | undefined
  /** Start lateness of the arrival-rate iterations, from the runtime's own value. */
  lateness: TrendReport | undefined
  /** The same, leaving out the iterations of the first WARMUP_S seconds (default 5): the steady state. */
  latenessAfterWarmup: TrendReport | undefined
  /** Iterations started, from the first start to the last: (n − 1) / (last − first), per second. */
  startRate: number | undefined
  /** The fewest and most iterations started in any whole second of the run. */
  startsPerSecond: { min: number; max: number } | undefined
  /** Per second of the run, from the first start: iterations started, how many of them 2 ms or more late, and the latest, ms. */
  seconds: Array<{ starts: number; late2ms: number; maxLateMs: number }>
  /** Where lateness comes from: the client's event-loop delay (sampled every 1 ms) and its GC pauses, ms. */
  loop: { p50: number; p99: number; max: number }
  gc: { count: number; totalMs: number; maxMs: number; majorCount: number }
  /** CPU time the client process used during the run (user + system), ms, and as a share of one core. */
  cpuMs: number
  cpuShare: number
}

const url = process.env.URL
if (url === undefined) throw new Error('set URL to the target, e.g. URL=http://127.0.0.1:3000/')
const executor = process.env.EXECUTOR ?? 'constant-arrival-rate'
const num = (name: string, fallback: number): number => {
  const n = Number(process.env[name] ?? fallback)
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a number ≥ 0, got '${process.env[name]}'`)
  return n
}
const seconds = num('DURATION', 10)
// REQUEST_PATH=none runs an empty iteration: the executor's own timing, without HTTP.
const path = process.env.REQUEST_PATH ?? '/'
const thinkMs = num('THINK_MS', 0)

// The lateness observer: the runtime's own LAG setter, wrapped. It sees the
// sessions of this thread only, so the load test runs without `workers`.
const lateness = createHistogram()
const starts: number[] = []
const lags: number[] = []
const lagSetter = Object.getOwnPropertyDescriptor(Session.prototype, LAG)?.set
if (lagSetter === undefined) throw new Error('Session has no LAG setter any more: update bench/chaperon-rate-client.ts')
Object.defineProperty(Session.prototype, LAG, {
  configurable: true,
  set(this: Session, lagUs: number | undefined) {
    // Only the measured scenario: the runtime's warm-up (src/runtime/warm-up.ts) runs sessions too.
    if (lagUs !== undefined && this.scenario === 'load') {
      recordMicros(lateness, lagUs)
      starts.push(performance.now())
      lags.push(lagUs)
    }
    lagSetter.call(this, lagUs)
  },
})

const get = scenario('get', async (s) => {
  if (path !== 'none') await s.get(path)
  if (thinkMs > 0) await s.delay(thinkMs)
})

function pacing(): 'timer' | 'spin' {
  const value = process.env.PACING ?? 'timer'
  if (value !== 'timer' && value !== 'spin') throw new Error(`PACING must be timer or spin, got '${value}'`)
  return value
}

let entry: NonNullable<LoadTestOptions['scenarios']>[string]
if (executor === 'constant-arrival-rate') {
  const maxVUs = num('MAX_VUS', 400)
  entry = {
    scenario: get,
    executor,
    rate: num('RATE', 200),
    timeUnit: '1s',
    duration: `${seconds}s`,
    preAllocatedVUs: Math.min(num('PRE_VUS', 20), maxVUs),
    maxVUs,
    pacing: pacing(),
  }
} else if (executor === 'constant-vus') {
  entry = { scenario: get, executor, vus: num('VUS', 10), duration: `${seconds}s` }
} else {
  throw new Error(`EXECUTOR must be constant-arrival-rate or constant-vus, got '${executor}'`)
}

// HTTP_CONNECTIONS caps the connection pool (chaperon's default: one per VU, up to maxVUs).
const connections = process.env.HTTP_CONNECTIONS === undefined ? undefined : num('HTTP_CONNECTIONS', 0)
const options = resolveLoadTestOptions('rate', { baseUrl: url, scenarios: { load: entry }, ...(connections === undefined ? {} : { http: { connections } }) })
const loopDelay = monitorEventLoopDelay({ resolution: 1 })
const gc = { count: 0, totalMs: 0, maxMs: 0, majorCount: 0 }
const gcObserver = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gc.count++
    gc.totalMs += entry.duration
    gc.maxMs = Math.max(gc.maxMs, entry.duration)
    if ((entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) gc.majorCount++
  }
})
gcObserver.observe({ entryTypes: ['gc'] })
// The runtime warms its request path once before the first arrival-rate run (src/runtime/warm-up.ts);
// done here first, so that the CPU, event-loop and GC figures below are the run's alone.
await warmUpOnce()
loopDelay.enable()
const startedAfterMs = performance.now()
const cpuBefore = process.cpuUsage()
const { result } = await runLoadTest('rate', options)
const cpu = process.cpuUsage(cpuBefore)
loopDelay.disable()
gcObserver.disconnect()

const series = seriesFromResult(result)
const counter = (metric: string): number => {
  const agg = aggregate(series, metric)
  return agg?.type === 'counter' ? agg.value : 0
}
const report = (summary: TrendSummary): TrendReport => ({
  count: summary.count,
  mean: summary.mean,
  p50: summary.percentiles.p50 ?? 0,
  p90: summary.percentiles.p90 ?? 0,
  p99: summary.percentiles.p99 ?? 0,
  p99_9: summary.percentiles['p99.9'] ?? 0,
  max: summary.max,
})
const trend = (metric: string): TrendReport | undefined => {
  const agg = aggregate(series, metric)
  return agg?.type === 'trend' ? report(summarize(agg.histogram)) : undefined
}
const failedAgg = aggregate(series, 'http_req_failed')
const vusAgg = aggregate(series, 'vus')

let startRate: number | undefined
let startsPerSecond: ClientReport['startsPerSecond']
const warmupMs = num('WARMUP_S', 5) * 1000
const steady = createHistogram()
const bins = Array.from({ length: Math.ceil(seconds) + 1 }, () => ({ starts: 0, late2ms: 0, maxLateMs: 0 }))
if (starts.length > 1) {
  const first = starts[0]!
  startRate = ((starts.length - 1) * 1000) / (starts.at(-1)! - first)
  for (let i = 0; i < starts.length; i++) {
    const bin = bins[Math.min(bins.length - 1, Math.floor((starts[i]! - first) / 1000))]!
    const lateMs = lags[i]! / 1000
    if (starts[i]! - first >= warmupMs) recordMicros(steady, lags[i]!)
    bin.starts++
    if (lateMs >= 2) bin.late2ms++
    if (lateMs > bin.maxLateMs) bin.maxLateMs = Math.round(lateMs * 10) / 10
  }
  // Only whole seconds: the last one may hold the tail of the plan.
  const whole = bins.slice(0, Math.floor(seconds)).map((b) => b.starts)
  startsPerSecond = { min: Math.min(...whole), max: Math.max(...whole) }
}

const cpuMs = (cpu.user + cpu.system) / 1000
const out: ClientReport = {
  executor,
  startedAfterMs: Math.round(startedAfterMs),
  durationMs: result.durationMs,
  iterations: counter('iterations'),
  dropped: counter('dropped_iterations'),
  peakVUs: vusAgg?.type === 'gauge' ? vusAgg.max : undefined,
  requests: counter('http_reqs'),
  failed: failedAgg?.type === 'rate' ? failedAgg.passes : 0,
  httpReqDuration: trend('http_req_duration'),
  httpReqLatencyCorrected: trend('http_req_latency_corrected'),
  iterationDuration: trend('iteration_duration'),
  iterationLatencyCorrected: trend('iteration_latency_corrected'),
  lateness: lateness.totalCount === 0 ? undefined : report(summarize(lateness)),
  latenessAfterWarmup: steady.totalCount === 0 ? undefined : report(summarize(steady)),
  startRate,
  startsPerSecond,
  seconds: bins,
  loop: { p50: loopDelay.percentile(50) / 1e6, p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 },
  gc: { ...gc, totalMs: Math.round(gc.totalMs), maxMs: Math.round(gc.maxMs * 10) / 10 },
  cpuMs,
  cpuShare: cpuMs / result.durationMs,
}
console.log(JSON.stringify(out))
