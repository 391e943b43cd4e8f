// Soak: does a chaperon client's memory stay flat over a long, steady run?
// One load test of DURATION seconds at a steady RATE requests/s
// (`constant-arrival-rate`, VUS VUs pre-allocated and no more, one GET per
// iteration) against the bundled target server (bench/target.ts) in its own
// process, so the target's memory does not count. The client process
// (bench/soak-client.ts) reports its memory at the start and every SAMPLE_S
// seconds, each sample taken after a forced full GC.
//
//   npm run bench:soak [-- --json]      (--json: the report on stderr, only the JSON line on stdout)
//   DURATION=600 RATE=2000 VUS=200 SAMPLE_S=30 REQUEST_PATH=/products   (defaults)
//   CLIENT_FLAGS='--max-semi-space-size=64'   more Node flags for the client
//   SNAPSHOT_DIR=/tmp/soak   heap snapshots of the client at the start, at 60 s and at the end
//   FLUSH_STARTUP_CODE=0     leave the start-up code's bytecode to V8 (bench/soak-client.ts says why)
//
// The bar (issue #6): the process's memory, RSS, must not grow more than 10 %
// from the sample at 60 s to the last one: growth = (last − at 60 s) / at 60 s.
// heapUsed is reported beside it, with how much of its growth is the run's
// per-second time series, which a result keeps by design (bench/README.md).
// The report also fits a line through every sample from 60 s on, which one
// noisy sample cannot move. The achieved rate and the p99 of each window show the
// load was steady. The last line is one JSON document; the exit code is 1
// when the bar fails.
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { LOAD_WORKER_EXEC_ARGV } from '../dist/plugin/load-project.js'
import type { MemorySample, SoakEnd } from './soak-client.ts'
import { benchDir, envInt, fixed, fmt, GRACE_MS, loadAverage, machine, say, startServerProcess } from './common.ts'

const DURATION = envInt('DURATION', 600, 3600)
const RATE = envInt('RATE', 2000, 100_000)
const VUS = envInt('VUS', 200, 10_000)
const SAMPLE_S = envInt('SAMPLE_S', 30, 600)
const REQUEST_PATH = process.env.REQUEST_PATH || '/products'
/** Extra Node flags for the client, after the load project's own (LOAD_WORKER_EXEC_ARGV). */
const CLIENT_FLAGS = (process.env.CLIENT_FLAGS ?? '').split(/\s+/).filter((f) => f !== '')
const BASELINE_S = 60
const MAX_GROWTH = 0.1
if (DURATION <= BASELINE_S + SAMPLE_S) throw new Error(`DURATION must be more than ${BASELINE_S + SAMPLE_S} s: growth is measured from the sample at ${BASELINE_S} s`)
if (BASELINE_S % SAMPLE_S !== 0) throw new Error(`SAMPLE_S must divide ${BASELINE_S}, so there is a sample at ${BASELINE_S} s`)

/** A row of a Markdown table, cells right-aligned to the header's widths, so the report can be pasted as it is. */
const WIDTHS = [5, 6, 11, 22, 11, 15, 5, 7, 5, 6, 9, 4]
const table = (cells: string[]): string => `| ${cells.map((c, i) => c.padStart(WIDTHS[i] ?? 0)).join(' | ')} |`
const MB = 1024 * 1024
const mb = (bytes: number): string => (bytes / MB).toFixed(1)
const pct = (ratio: number | undefined): string => (ratio === undefined ? '–' : `${ratio >= 0 ? '+' : ''}${(ratio * 100).toFixed(1)} %`)

/** Runs the client, handing each sample to `onSample` as it arrives; resolves with its end line. */
function runClient(url: string, onSample: (s: MemorySample) => void): Promise<SoakEnd> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', ...LOAD_WORKER_EXEC_ARGV, ...CLIENT_FLAGS, join(benchDir, 'soak-client.ts')], {
      env: { ...process.env, URL: url, DURATION: `${DURATION}`, RATE: `${RATE}`, VUS: `${VUS}`, SAMPLE_S: `${SAMPLE_S}`, REQUEST_PATH },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let end: SoakEnd | undefined
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk))
    createInterface({ input: child.stdout }).on('line', (line) => {
      let message: MemorySample | SoakEnd
      try {
        message = JSON.parse(line) as MemorySample | SoakEnd
      } catch {
        say(`  client: ${line}`)
        return
      }
      if (message.type === 'sample') onSample(message)
      else end = message
    })
    const killer = setTimeout(() => child.kill('SIGKILL'), DURATION * 1000 + GRACE_MS)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(killer)
      if (code === 0 && end !== undefined) resolve(end)
      else reject(new Error(`bench/soak-client.ts exited with ${signal ?? code}${end === undefined ? ' before its end line' : ''}\n${stderr.trim()}`))
    })
  })
}

const loadBefore = loadAverage()
const target = await startServerProcess('target.ts', 'http')
const samples: MemorySample[] = []
const loads: string[] = []
let end: SoakEnd | undefined
let failure: string | undefined
try {
  say(`soak: constant-arrival-rate ${fmt(RATE)}/s × ${DURATION} s, ${VUS} VUs, GET ${REQUEST_PATH}, target at ${target.url}${CLIENT_FLAGS.length === 0 ? '' : `, client flags ${CLIENT_FLAGS.join(' ')}`}`)
  say(`memory of the client after a forced full GC, every ${SAMPLE_S} s; load average before: ${loadBefore}`)
  say()
  const header = ['t (s)', 'RSS MB', 'heapUsed MB', 'heapTotal MB (new+old)', 'external MB', 'arrayBuffers MB', 'GC ms', 'sockets', 'req/s', 'p99 ms', 'series KB', 'load']
  say(table(header))
  say(table(header.map((h) => '-'.repeat(h.length - 1) + ':')))
  end = await runClient(target.url, (s) => {
    samples.push(s)
    const load = loadAverage().split(', ')[0]!
    loads.push(load)
    say(
      table([
        `${s.t}`,
        mb(s.rss),
        mb(s.heapUsed),
        `${mb(s.heapTotal)} (${(s.spaces.new / MB).toFixed(0)}+${(s.spaces.old / MB).toFixed(0)})`,
        mb(s.external),
        mb(s.arrayBuffers),
        fixed(s.gcMs),
        s.sockets === null ? '–' : `${s.sockets}`,
        s.reqPerSec === null ? '–' : fmt(s.reqPerSec),
        fixed(s.p99Ms ?? undefined, 2),
        fmt(s.timeline.histogramChars / 1024),
        load,
      ]),
    )
  })
} catch (error) {
  failure = error instanceof Error ? error.message : String(error)
  say(`failed: ${failure}`)
} finally {
  target.stop()
}

const baseline = samples.find((s) => s.t === BASELINE_S)
const last = samples.at(-1)
const growth = (pick: (s: MemorySample) => number): number | undefined =>
  baseline === undefined || last === undefined || last === baseline ? undefined : (pick(last) - pick(baseline)) / pick(baseline)
const rssGrowth = growth((s) => s.rss)
const heapGrowth = growth((s) => s.heapUsed)
const minutes = baseline !== undefined && last !== undefined ? (last.t - baseline.t) / 60 : undefined
const perMinute = (pick: (s: MemorySample) => number): number | undefined =>
  minutes === undefined || minutes === 0 ? undefined : (pick(last!) - pick(baseline!)) / minutes
/** The least-squares slope of `pick` over the samples from BASELINE_S on, per minute: a trend one noisy sample cannot make. */
function slopePerMinute(pick: (s: MemorySample) => number): number | undefined {
  const xs = samples.filter((s) => s.t >= BASELINE_S)
  if (xs.length < 3) return undefined
  const mx = xs.reduce((a, s) => a + s.t, 0) / xs.length
  const my = xs.reduce((a, s) => a + pick(s), 0) / xs.length
  let num = 0
  let den = 0
  for (const s of xs) {
    num += (s.t - mx) * (pick(s) - my)
    den += (s.t - mx) ** 2
  }
  return (num / den) * 60
}
const steady = samples.filter((s) => s.t > BASELINE_S && s.reqPerSec !== null)
const achieved = end === undefined ? undefined : end.requests / (end.durationMs / 1000)
const verdict = {
  rss: rssGrowth !== undefined && rssGrowth <= MAX_GROWTH,
  ran: failure === undefined && end !== undefined,
}
const passed = verdict.rss && verdict.ran

say()
if (baseline !== undefined && last !== undefined) {
  say(`growth from ${BASELINE_S} s to ${last.t} s (bar: ≤ ${MAX_GROWTH * 100} %):`)
  say(`  RSS        ${mb(baseline.rss)} → ${mb(last.rss)} MB  ${pct(rssGrowth)}  (${fixed((perMinute((s) => s.rss) ?? NaN) / 1024, 0)} KB/min)  ${verdict.rss ? '✓' : '✗'}`)
  say(`  heapUsed   ${mb(baseline.heapUsed)} → ${mb(last.heapUsed)} MB  ${pct(heapGrowth)}  (${fixed((perMinute((s) => s.heapUsed) ?? NaN) / 1024, 0)} KB/min; not judged: it holds the growing result)`)
  const trend = (pick: (s: MemorySample) => number): string => {
    const slope = slopePerMinute(pick)
    return slope === undefined ? '–' : `${fixed(slope / 1024, 0)} KB/min, ${pct((slope * minutes!) / pick(baseline))} over the same span`
  }
  say(`  fitted over every sample from ${BASELINE_S} s: RSS ${trend((s) => s.rss)}; heapUsed ${trend((s) => s.heapUsed)}`)
  const seriesPerMinute = perMinute((s) => s.timeline.histogramChars)
  say(`  the time series' encoded histograms alone: ${fixed((seriesPerMinute ?? NaN) / 1024, 0)} KB/min (${fmt(last.timeline.trendPoints)} trend points, ${fmt(last.timeline.points)} points in all)`)
}
if (end !== undefined) {
  const windows = steady.map((s) => s.reqPerSec!)
  say(
    `load: ${fmt(end.requests)} requests in ${fixed(end.durationMs / 1000)} s = ${fmt(achieved ?? 0)} req/s` +
      `${windows.length === 0 ? '' : ` (windows after ${BASELINE_S} s: ${fmt(Math.min(...windows))}–${fmt(Math.max(...windows))} req/s)`}, ` +
      `failed ${fmt(end.failed)}, dropped ${fmt(end.dropped)}; client CPU ${Math.round((end.cpuMs / end.durationMs) * 100)} % of one core`,
  )
  say(
    `http_req_duration: p50 ${fixed(end.p50Ms, 2)} ms, p99 ${fixed(end.p99Ms, 2)} ms, max ${fixed(end.maxMs, 1)} ms` +
      `${steady.length === 0 ? '' : `; window p99 after ${BASELINE_S} s ${fixed(Math.min(...steady.map((s) => s.p99Ms ?? NaN)), 2)}–${fixed(Math.max(...steady.map((s) => s.p99Ms ?? NaN)), 2)} ms`}`,
  )
  say(`after the run, result built: RSS ${mb(end.after.rss)} MB, heapUsed ${mb(end.after.heapUsed)} MB; time series ${fmt(end.timeSeriesPoints)} points, ${fmt(end.timeSeriesJsonBytes / 1024)} KB as JSON`)
}
say(`verdict: ${passed ? 'PASS' : 'FAIL'}`)
say(`machine: ${machine.cpu}, ${machine.cores} cores, node ${machine.node}, ${machine.platform}; load average before ${loadBefore}, at the end ${loadAverage()}`)

const json = {
  bench: 'soak',
  machine,
  settings: { durationSeconds: DURATION, rate: RATE, vus: VUS, sampleSeconds: SAMPLE_S, requestPath: REQUEST_PATH, clientFlags: CLIENT_FLAGS, baselineSeconds: BASELINE_S, maxGrowth: MAX_GROWTH },
  loadAverage: { before: loadBefore, atSamples: loads, end: loadAverage() },
  samples,
  end: end ?? null,
  growth: { rss: rssGrowth ?? null, heapUsed: heapGrowth ?? null },
  slopeBytesPerMinute: { rss: slopePerMinute((s) => s.rss) ?? null, heapUsed: slopePerMinute((s) => s.heapUsed) ?? null },
  achievedReqPerSec: achieved ?? null,
  verdict: { ...verdict, passed },
  ...(failure === undefined ? {} : { error: failure }),
}
// One JSON line at the end, as the other benches print; with --json, stdout carries only it.
process.stdout.write(`${JSON.stringify(json)}\n`)
process.exitCode = passed ? 0 : 1
