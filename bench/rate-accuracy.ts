// Rate accuracy of chaperon's arrival-rate executor: `constant-arrival-rate`
// at RATE iterations/s for DURATION seconds, one GET / per iteration, against
// the bundled target server (bench/target.ts) in its own process, warmed with
// 20,000 requests before the first round. Per round, a
// fresh chaperon client process (bench/chaperon-rate-client.ts) reports how
// many iterations it started and how late each one started against its plan.
//
//   npm run bench:rate [-- --json]
//   RATE=5000 DURATION=30 ROUNDS=3 PRE_VUS=100 MAX_VUS=1000   (defaults)
//   HTTP_CONNECTIONS=N   cap chaperon's connection pool (default: one per VU, up to MAX_VUS)
//   REQUEST_PATH=none    iterations that send nothing: the executor's own timing
//   PACING=spin          the scenario's `pacing` (default timer); the floor then spins too
//
// The bar (issue #4): the achieved rate within 1 % of RATE, and the p99 of
// start lateness under 2 ms. Each round also runs bench/timer-floor.ts, the
// executor's timer loop with no work in it, in a process of its own (the two
// take turns, the order rotating): the lateness the machine itself adds.
import { join } from 'node:path'
import { LOAD_WORKER_EXEC_ARGV } from '../dist/plugin/load-project.js'
import type { ClientReport } from './chaperon-rate-client.ts'
import { asJson, benchDir, envInt, fixed, fmt, GRACE_MS, lastJsonLine, loadAverage, machine, median, row, runCommand, say, startServerProcess, warmServer } from './common.ts'

const RATE = envInt('RATE', 5000, 100_000)
const DURATION = envInt('DURATION', 30, 600)
const ROUNDS = envInt('ROUNDS', 3, 50)
const PRE_VUS = envInt('PRE_VUS', 100, 10_000)
const MAX_VUS = envInt('MAX_VUS', 1000, 10_000)
const HTTP_CONNECTIONS = process.env.HTTP_CONNECTIONS ? envInt('HTTP_CONNECTIONS', 100, 100) : undefined
const REQUEST_PATH = process.env.REQUEST_PATH || '/'
const PACING = process.env.PACING || 'timer'
if (PACING !== 'timer' && PACING !== 'spin') throw new Error(`PACING must be timer or spin, got '${PACING}'`)
const MAX_DEVIATION = 0.01
const MAX_LATENESS_P99_MS = 2

interface Floor {
  count: number
  p50: number
  p99: number
  p99_9: number
  max: number
}

interface Round {
  round: number
  loadBefore: string
  /** The bare timer loop's lateness in the same round, ms. */
  floor: Floor | undefined
  /** Iterations started ÷ DURATION, as a share of RATE. */
  achievedRatio: number
  /** Iterations started ÷ the time from the first start to the last, as a share of RATE. */
  windowRatio: number
  client: ClientReport
}

const withMs = (n: number | undefined, digits: number): string => (n === undefined ? '–' : `${fixed(n, digits)} ms`)
const client = join(benchDir, 'chaperon-rate-client.ts')
const floorScript = join(benchDir, 'timer-floor.ts')
async function measureFloor(): Promise<Floor | undefined> {
  try {
    const out = await runCommand(process.execPath, [floorScript], { env: { RATE: `${RATE}`, DURATION: `${DURATION}`, PACING }, timeoutMs: DURATION * 1000 + GRACE_MS })
    return lastJsonLine<Floor>(out, 'bench/timer-floor.ts')
  } catch (error) {
    say(`  timer floor failed: ${error instanceof Error ? error.message : String(error)}`)
    return undefined
  }
}
const target = await startServerProcess('target.ts', 'http')
const rounds: Array<Round | { round: number; error: string }> = []
try {
  // So that round 1 meets a target as warm as the later rounds do.
  await warmServer(target.url)
  const pool = HTTP_CONNECTIONS === undefined ? `${MAX_VUS} connections at most` : `${HTTP_CONNECTIONS} connections`
  say(`constant-arrival-rate ${fmt(RATE)}/s × ${DURATION} s, ${ROUNDS} rounds, VUs ${PRE_VUS}…${MAX_VUS}, ${pool}, ${REQUEST_PATH === 'none' ? 'no request' : `GET ${REQUEST_PATH}`}, ${PACING} pacing, target at ${target.url}`)
  say(`load average before: ${loadAverage()}`)
  say()
  say(row('round', 'achieved', 'window', 'dropped', 'late p50', 'late p99', 'late max', 'p99 after 5 s', 'req p99', 'corr p99', 'client CPU', 'loop p99', 'GC max', 'floor p99/max'))
  for (let round = 1; round <= ROUNDS; round++) {
    const loadBefore = loadAverage()
    // Odd rounds measure the floor first, even rounds after chaperon.
    let floor = round % 2 === 1 ? await measureFloor() : undefined
    try {
      // With the flags the load project gives its workers, as a load test runs.
      const out = await runCommand(process.execPath, [...LOAD_WORKER_EXEC_ARGV, client], {
        env: {
          URL: target.url,
          EXECUTOR: 'constant-arrival-rate',
          RATE: `${RATE}`,
          DURATION: `${DURATION}`,
          PRE_VUS: `${PRE_VUS}`,
          MAX_VUS: `${MAX_VUS}`,
          REQUEST_PATH,
          PACING,
          ...(HTTP_CONNECTIONS === undefined ? {} : { HTTP_CONNECTIONS: `${HTTP_CONNECTIONS}` }),
        },
        timeoutMs: DURATION * 1000 + GRACE_MS,
      })
      const report = lastJsonLine<ClientReport>(out, 'bench/chaperon-rate-client.ts')
      if (round % 2 === 0) floor = await measureFloor()
      const started = report.lateness?.count ?? 0
      const r: Round = {
        round,
        loadBefore,
        floor,
        achievedRatio: started / DURATION / RATE,
        windowRatio: (report.startRate ?? 0) / RATE,
        client: report,
      }
      rounds.push(r)
      say(
        row(
          `${round}`,
          r.achievedRatio.toFixed(4),
          r.windowRatio.toFixed(4),
          fmt(report.dropped),
          withMs(report.lateness?.p50, 3),
          withMs(report.lateness?.p99, 3),
          withMs(report.lateness?.max, 1),
          withMs(report.latenessAfterWarmup?.p99, 3),
          withMs(report.httpReqDuration?.p99, 2),
          withMs(report.httpReqLatencyCorrected?.p99, 2),
          `${Math.round(report.cpuShare * 100)} %`,
          withMs(report.loop.p99, 1),
          withMs(report.gc.maxMs, 1),
          floor === undefined ? '–' : `${fixed(floor.p99, 3)} / ${fixed(floor.max, 1)} ms`,
        ),
      )
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      rounds.push({ round, error: message })
      say(row(`${round}`, `failed: ${message}`))
    }
  }
} finally {
  target.stop()
}

const ok = rounds.filter((r): r is Round => 'client' in r)
const med = (pick: (r: Round) => number | undefined): number | undefined => {
  const values = ok.flatMap((r) => {
    const v = pick(r)
    return v === undefined ? [] : [v]
  })
  return values.length === 0 ? undefined : median(values)
}
const medians = {
  achievedRatio: med((r) => r.achievedRatio),
  windowRatio: med((r) => r.windowRatio),
  dropped: med((r) => r.client.dropped),
  peakVUs: med((r) => r.client.peakVUs),
  latenessP50Ms: med((r) => r.client.lateness?.p50),
  latenessP99Ms: med((r) => r.client.lateness?.p99),
  latenessMaxMs: med((r) => r.client.lateness?.max),
  latenessAfterWarmupP99Ms: med((r) => r.client.latenessAfterWarmup?.p99),
  eventLoopDelayP99Ms: med((r) => r.client.loop.p99),
  gcMaxMs: med((r) => r.client.gc.maxMs),
  httpReqDurationP99Ms: med((r) => r.client.httpReqDuration?.p99),
  httpReqLatencyCorrectedP99Ms: med((r) => r.client.httpReqLatencyCorrected?.p99),
  clientCpuShare: med((r) => r.client.cpuShare),
  floorP99Ms: med((r) => r.floor?.p99),
  floorMaxMs: med((r) => r.floor?.max),
}
const within = (ratio: number | undefined): boolean => ratio !== undefined && Math.abs(ratio - 1) <= MAX_DEVIATION
const verdict = {
  rate: within(medians.achievedRatio) && within(medians.windowRatio),
  lateness: medians.latenessP99Ms !== undefined && medians.latenessP99Ms < MAX_LATENESS_P99_MS,
  roundsMeetingBoth: ok.filter((r) => within(r.achievedRatio) && within(r.windowRatio) && (r.client.lateness?.p99 ?? Infinity) < MAX_LATENESS_P99_MS).length,
}

say()
say(`medians of ${ok.length} rounds:`)
say(`  achieved rate       ${fixed(medians.achievedRatio, 4)} × target (started ÷ ${DURATION} s)   ${verdict.rate ? '✓' : '✗'} within ±${MAX_DEVIATION * 100} %`)
say(`  start-window rate   ${fixed(medians.windowRatio, 4)} × target (first to last start)`)
say(`  dropped_iterations  ${fixed(medians.dropped, 0)}, peak VUs ${fixed(medians.peakVUs, 0)}`)
say(`  start lateness      p50 ${fixed(medians.latenessP50Ms, 3)} ms, p99 ${fixed(medians.latenessP99Ms, 3)} ms ${verdict.lateness ? '✓' : '✗'} < ${MAX_LATENESS_P99_MS} ms, max ${fixed(medians.latenessMaxMs, 1)} ms`)
say(`  … after the first 5 s p99 ${fixed(medians.latenessAfterWarmupP99Ms, 3)} ms (the steady state, for diagnosis only)`)
say(`  timer floor         p99 ${fixed(medians.floorP99Ms, 3)} ms, max ${fixed(medians.floorMaxMs, 1)} ms (bench/timer-floor.ts: the same timer loop doing nothing)`)
say(`  client CPU          ${Math.round((medians.clientCpuShare ?? 0) * 100)} % of one core; its event-loop delay p99 ${fixed(medians.eventLoopDelayP99Ms, 1)} ms, longest GC pause ${fixed(medians.gcMaxMs, 1)} ms`)
say(`  rounds meeting both bars: ${verdict.roundsMeetingBoth} of ${ROUNDS}`)
say()
say(`machine: ${machine.cpu}, ${machine.cores} cores, node ${machine.node}, ${machine.platform}; load average at the end ${loadAverage()}`)

if (asJson) {
  const settings = { rate: RATE, durationSeconds: DURATION, rounds: ROUNDS, preAllocatedVUs: PRE_VUS, maxVUs: MAX_VUS, httpConnections: HTTP_CONNECTIONS ?? null, requestPath: REQUEST_PATH, pacing: PACING }
  process.stdout.write(`${JSON.stringify({ machine, settings, rounds, medians, verdict }, null, 2)}\n`)
}
