// The chaperon client of bench/soak.ts: one load test, run through the real
// runtime for DURATION seconds at a steady RATE iterations/s
// (`constant-arrival-rate`, VUS pre-allocated VUs and no more), one GET per
// iteration with a check, every built-in metric recorded. It reports its own
// memory while it runs.
//
//   URL            the target's base URL (required)
//   DURATION=600   seconds of load          RATE=2000   iterations (= requests) per second
//   VUS=200        preAllocatedVUs = maxVUs  REQUEST_PATH=/products
//   SAMPLE_S=30    seconds between memory samples
//   SNAPSHOT_DIR   when set, writes V8 heap snapshots there at the start, at 60 s and at the last sample
//   FLUSH_STARTUP_CODE=0   keep the start-up code's bytecode (see below)
//
// Output, one JSON document per line on stdout:
//   {"type":"sample", …}   at the start and after every SAMPLE_S seconds of the run (the
//                          last one a second before its end, while the load still runs)
//   {"type":"end", …}      once the run has ended, as the last line
//
// Each sample is taken right after a full, forced garbage collection (the
// process runs with --expose-gc), so `heapUsed` is what is alive, not what
// the young generation happens to hold; `heapUsedBeforeGc` is the raw value.
// It is taken inside the run's own once-a-second hook, which the load test
// runner calls as each second of the time series closes.
import { mkdirSync, readdirSync, readlinkSync } from 'node:fs'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { getHeapSpaceStatistics, setFlagsFromString, writeHeapSnapshot } from 'node:v8'
import { createHistogram, decodeHistogram, percentile, summarize, toMillis } from '../dist/core/histogram.js'
import type { IntervalSample } from '../dist/core/timeline.js'
import { resolveLoadTestOptions } from '../dist/runtime/resolve-options.js'
import { runLoadTest } from '../dist/runtime/run.js'
import { scenario } from '../dist/runtime/scenario.js'

/** process.memoryUsage() in bytes, after a forced full GC, at `t` seconds into the run. */
export interface MemorySample {
  type: 'sample'
  t: number
  rss: number
  heapUsed: number
  heapTotal: number
  external: number
  arrayBuffers: number
  heapUsedBeforeGc: number
  /** How long the forced GC took, ms (it stalls the run's event loop once per sample). */
  gcMs: number
  /** Committed size of V8's heap spaces, bytes: where heapTotal is (new, old, code, large objects, the rest). */
  spaces: { new: number; old: number; code: number; large: number; other: number }
  /** Open sockets of the client (its connections to the target: undici keeps idle ones unref'd), from /proc/self/fd; null off Linux. */
  sockets: number | null
  /** Requests completed since the previous sample, per second of that window. */
  reqPerSec: number | null
  /** p99 of http_req_duration over the window since the previous sample, ms. */
  p99Ms: number | null
  /** What the run's per-second time series holds so far: its points, and the characters of their encoded histograms. */
  timeline: { seconds: number; points: number; trendPoints: number; histogramChars: number }
}

export interface SoakEnd {
  type: 'end'
  durationMs: number
  requests: number
  failed: number
  dropped: number
  /** http_req_duration over the whole run, ms. */
  p50Ms: number
  p99Ms: number
  maxMs: number
  /** CPU time of the client over the run (user + system, every thread), ms. */
  cpuMs: number
  /** The result's time series: how many points, and its size as JSON. */
  timeSeriesPoints: number
  timeSeriesJsonBytes: number
  /** Memory once the run has ended and its result is built (not part of the verdict). */
  after: Omit<MemorySample, 'type' | 't' | 'reqPerSec' | 'p99Ms' | 'timeline'>
}

const url = process.env.URL
if (url === undefined) throw new Error('set URL to the target, e.g. URL=http://127.0.0.1:3000/')
const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) throw new Error('run with --expose-gc: samples are taken after a forced full GC')
const int = (name: string, fallback: number): number => {
  const n = Number(process.env[name] ?? fallback)
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be an integer ≥ 1, got '${process.env[name]}'`)
  return n
}
const seconds = int('DURATION', 600)
const rate = int('RATE', 2000)
const vus = int('VUS', 200)
const sampleS = int('SAMPLE_S', 30)
const path = process.env.REQUEST_PATH || '/products'
const snapshotDir = process.env.SNAPSHOT_DIR

const get = scenario('soak', async (s) => {
  await s.get(path, { check: { 'is 200': (r) => r.status === 200 } })
})

const options = resolveLoadTestOptions('soak', {
  baseUrl: url,
  scenarios: {
    soak: { scenario: get, executor: 'constant-arrival-rate', rate, timeUnit: '1s', duration: `${seconds}s`, preAllocatedVUs: vus, maxVUs: vus },
  },
  thresholds: { http_req_failed: ['rate<0.01'], checks: ['rate>0.99'] },
})

function openSockets(): number | null {
  try {
    let n = 0
    for (const fd of readdirSync('/proc/self/fd')) {
      try {
        if (readlinkSync(`/proc/self/fd/${fd}`).startsWith('socket:')) n++
      } catch {
        // closed meanwhile
      }
    }
    return n
  } catch {
    return null
  }
}

const emit = (line: object): void => void process.stdout.write(`${JSON.stringify(line)}\n`)
function memory(): Omit<MemorySample, 'type' | 't' | 'reqPerSec' | 'p99Ms' | 'timeline'> {
  const heapUsedBeforeGc = process.memoryUsage().heapUsed
  const before = performance.now()
  gc!()
  const gcMs = Math.round((performance.now() - before) * 10) / 10
  const { rss, heapUsed, heapTotal, external, arrayBuffers } = process.memoryUsage()
  const sockets = openSockets()
  const spaces = { new: 0, old: 0, code: 0, large: 0, other: 0 }
  for (const { space_name: name, space_size: size } of getHeapSpaceStatistics()) {
    if (name === 'new_space') spaces.new += size
    else if (name === 'old_space') spaces.old += size
    else if (name === 'code_space') spaces.code += size
    else if (name === 'large_object_space' || name === 'new_large_object_space') spaces.large += size
    else spaces.other += size
  }
  return { rss, heapUsed, heapTotal, external, arrayBuffers, heapUsedBeforeGc, gcMs, spaces, sockets }
}

// What the time series holds, counted from the seconds as the runner hands them over.
const timeline = { seconds: 0, points: 0, trendPoints: 0, histogramChars: 0 }
// The window since the last sample: requests, and the merged histogram of http_req_duration.
let windowRequests = 0
let windowSeconds = 0
const windowDurations = createHistogram()
const snapshot = (label: string): void => {
  if (snapshotDir === undefined) return
  mkdirSync(snapshotDir, { recursive: true })
  const file = writeHeapSnapshot(join(snapshotDir, `soak-${label}.heapsnapshot`))
  process.stderr.write(`heap snapshot: ${file}\n`)
}

function onSecond(t: number, samples: IntervalSample[]): void {
  timeline.seconds++
  for (const s of samples) {
    timeline.points++
    if (s.type === 'trend') {
      timeline.trendPoints++
      timeline.histogramChars += s.point.histogram.length
      if (s.metric === 'http_req_duration') windowDurations.add(decodeHistogram(s.point.histogram))
    } else if (s.type === 'counter' && s.metric === 'http_reqs') {
      windowRequests += s.point.value
    }
  }
  windowSeconds++
  const elapsed = t + 1
  // Every SAMPLE_S seconds, and a second before the end: the ticks of the last second race the run's end.
  if (!((elapsed % sampleS === 0 && elapsed < seconds) || elapsed === seconds - 1)) return
  const sample: MemorySample = {
    type: 'sample',
    t: elapsed,
    ...memory(),
    reqPerSec: windowRequests / windowSeconds,
    p99Ms: windowDurations.totalCount === 0 ? null : toMillis(percentile(windowDurations, 99)),
    timeline: { ...timeline },
  }
  emit(sample)
  // At the sample growth is measured from (60 s, bench/soak.ts), and at the last.
  if (elapsed === 60 || elapsed === seconds - 1) snapshot(`${elapsed}s`)
  windowRequests = 0
  windowSeconds = 0
  windowDurations.reset()
}

// Code that ran only at start-up keeps its bytecode, and what it holds, until V8
// finds it unused over several full GCs, two to four minutes into a busy run:
// chiefly Node's TypeScript stripper (amaro, loaded because this file is .ts), about
// 5 MB with one 3.6 MB large object. That one-off release would hide minutes of
// growth in heapUsed, so it is done now, before the first sample: V8 flushes all
// bytecode it can on the next GCs, and recompiles what runs again when it runs.
if (process.env.FLUSH_STARTUP_CODE !== '0') {
  setFlagsFromString('--stress-flush-code')
  gc()
  gc()
  setFlagsFromString('--no-stress-flush-code')
}
emit({ type: 'sample', t: 0, ...memory(), reqPerSec: null, p99Ms: null, timeline: { ...timeline } } satisfies MemorySample)
snapshot('0s')
const cpuBefore = process.cpuUsage()
const { result } = await runLoadTest('soak', options, undefined, { progress: () => {}, second: onSecond })
const cpu = process.cpuUsage(cpuBefore)

let requests = 0
let failed = 0
let dropped = 0
const durations = createHistogram()
for (const m of result.metrics) {
  if (m.metric === 'http_reqs' && m.type === 'counter') requests += m.value
  else if (m.metric === 'http_req_failed' && m.type === 'rate') failed += m.passes
  else if (m.metric === 'dropped_iterations' && m.type === 'counter') dropped += m.value
  else if (m.metric === 'http_req_duration' && m.type === 'trend' && m.trend.histogram !== undefined) durations.add(decodeHistogram(m.trend.histogram))
}
const total = summarize(durations)
let timeSeriesPoints = 0
for (const s of result.timeSeries?.series ?? []) timeSeriesPoints += s.points.length
const end: SoakEnd = {
  type: 'end',
  durationMs: result.durationMs,
  requests,
  failed,
  dropped,
  p50Ms: total.percentiles.p50 ?? 0,
  p99Ms: total.percentiles.p99 ?? 0,
  maxMs: total.max,
  cpuMs: Math.round((cpu.user + cpu.system) / 1000),
  timeSeriesPoints,
  timeSeriesJsonBytes: JSON.stringify(result.timeSeries).length,
  after: memory(),
}
emit(end)
