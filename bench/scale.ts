// How chaperon's throughput scales with worker threads: the same constant-vus
// GET loop (bench/chaperon-client.ts) with `workers: 1` and with
// `workers: 'auto'`, in turns, against the raw responder pinned to one core
// with taskset. Reports req/s and the client's CPU time per request for each.
//
//   npm run bench:scale [-- --json]
//   ROUNDS=3 DURATION=10 CONNECTIONS=100   (defaults)
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { LOAD_WORKER_EXEC_ARGV } from '../dist/plugin/load-project.js'
import { asJson, benchDir, envInt, fmt, GRACE_MS, lastJsonLine, loadAverage, machine, median, onPath, row, runCommand, say, startServerProcess } from './common.ts'

const ROUNDS = envInt('ROUNDS', 3, 50)
const DURATION = envInt('DURATION', 10, 600)
const CONNECTIONS = envInt('CONNECTIONS', 100, 10_000)
const CORES = availableParallelism()
// The responder gets the last core to itself as far as taskset can promise; the client may use every core.
const RESPONDER_CORE = CORES - 1

interface Run {
  round: number
  workers: number
  reqPerSec: number
  /** Client CPU (all threads) per request, in µs. */
  cpuUsPerRequest: number
  /** Client CPU over wall time: how many cores it kept busy. */
  cores: number
}

if (!onPath('taskset')) say('note: taskset is not on PATH, so the responder is not pinned to a core')
const responder = await startServerProcess('responder.ts', 'http', onPath('taskset') ? ['taskset', '-c', String(RESPONDER_CORE)] : [])
const runs: Run[] = []
const settings = [1, CORES]
try {
  say(`workers 1 vs ${CORES} × ${ROUNDS} rounds × ${DURATION} s, ${CONNECTIONS} VUs, responder on core ${RESPONDER_CORE} at ${responder.url}`)
  say(`load average before: ${loadAverage()}`)
  say()
  say(row('round', 'workers', 'req/s', 'CPU µs/req', 'client cores'))
  for (let round = 1; round <= ROUNDS; round++) {
    for (const workers of round % 2 === 1 ? settings : [...settings].reverse()) {
      const out = await runCommand(process.execPath, [...LOAD_WORKER_EXEC_ARGV, join(benchDir, 'chaperon-client.ts')], {
        env: { URL: responder.url, CONNECTIONS: `${CONNECTIONS}`, DURATION: `${DURATION}`, WORKERS: `${workers}` },
        timeoutMs: DURATION * 1000 + GRACE_MS,
      })
      const r = lastJsonLine<{ requests: number; durationMs: number; cpuMs: number }>(out, 'chaperon-client')
      const run: Run = {
        round,
        workers,
        reqPerSec: r.requests / (r.durationMs / 1000),
        cpuUsPerRequest: (r.cpuMs * 1000) / r.requests,
        cores: r.cpuMs / r.durationMs,
      }
      runs.push(run)
      say(row(`${round}`, `${workers}`, fmt(run.reqPerSec), run.cpuUsPerRequest.toFixed(1), run.cores.toFixed(2)))
    }
  }
} finally {
  responder.stop()
}

const of = (workers: number, field: 'reqPerSec' | 'cpuUsPerRequest' | 'cores') => median(runs.filter((r) => r.workers === workers).map((r) => r[field]))
const one = { reqPerSec: of(1, 'reqPerSec'), cpuUsPerRequest: of(1, 'cpuUsPerRequest'), cores: of(1, 'cores') }
const all = { reqPerSec: of(CORES, 'reqPerSec'), cpuUsPerRequest: of(CORES, 'cpuUsPerRequest'), cores: of(CORES, 'cores') }
const speedup = all.reqPerSec / one.reqPerSec
// Requests per CPU-second of the client: whether a worker thread does as much per core as one thread does.
const efficiency = one.cpuUsPerRequest / all.cpuUsPerRequest

say()
say(row('workers', 'median req/s', 'CPU µs/req', 'client cores'))
say(row('1', fmt(one.reqPerSec), one.cpuUsPerRequest.toFixed(1), one.cores.toFixed(2)))
say(row(`${CORES}`, fmt(all.reqPerSec), all.cpuUsPerRequest.toFixed(1), all.cores.toFixed(2)))
say()
say(`speed-up with ${CORES} workers: ${speedup.toFixed(2)}× (bar: ${(0.8 * CORES).toFixed(1)}× when the target is not the bottleneck)`)
say(`work per client CPU-second with ${CORES} workers: ${efficiency.toFixed(2)}× that of one thread`)
say(`load average after: ${loadAverage()}`)
say(`machine: ${machine.cpu}, ${machine.cores} cores, node ${machine.node}, ${machine.platform}`)

if (asJson) {
  process.stdout.write(`${JSON.stringify({ machine, settings: { rounds: ROUNDS, durationSeconds: DURATION, connections: CONNECTIONS, responderCore: RESPONDER_CORE }, runs, one, all, speedup, efficiency }, null, 2)}\n`)
}
