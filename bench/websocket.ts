// WebSocket load from one chaperon process next to bare `ws` clients, both
// against the same raw-TCP echo server (bench/ws-echo-server.ts) in its own
// process. Each run is one client process holding SESSIONS connections, each
// sending a message and awaiting its echo in a loop for DURATION seconds; the
// two clients take turns for ROUNDS rounds. msgs/s is echoes received divided
// by the run's wall time; the client samples its own RSS every 250 ms.
//
//   npm run bench:websocket [-- --json]
//   ROUNDS=3 DURATION=10 SESSIONS=1000 SIZE=32   (defaults)
//   CLIENT_FLAGS='…'  extra node flags for both clients
// The chaperon client runs with the flags the load project gives its workers
// (LOAD_WORKER_EXEC_ARGV), as a load test does; the bare client runs without.
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { LOAD_WORKER_EXEC_ARGV } from '../dist/plugin/load-project.js'
import { benchDir, envInt, fmt, GRACE_MS, machine, median, rootDir, row, say, asJson, startServerProcess } from './common.ts'

interface Measurement {
  messages: number
  durationMs: number
  sessions: number
  errors: number
  peakRssMb: number
}

type Run = ({ round: number; client: string; msgsPerSec: number } & Measurement) | { round: number; client: string; error: string }

const ROUNDS = envInt('ROUNDS', 3, 50)
const DURATION = envInt('DURATION', 10, 600)
const SESSIONS = envInt('SESSIONS', 1000, 10_000)
const SIZE = envInt('SIZE', 32, 1_000_000)
const RSS_BUDGET_MB = 300
const CLIENT_FLAGS = (process.env.CLIENT_FLAGS ?? '').split(' ').filter((f) => f !== '')
const CLIENTS = [
  { name: 'ws (bare)', script: join(benchDir, 'ws-bare-client.ts'), flags: CLIENT_FLAGS },
  { name: 'chaperon', script: join(benchDir, 'ws-chaperon-client.ts'), flags: [...LOAD_WORKER_EXEC_ARGV, ...CLIENT_FLAGS] },
]

/** Runs one client process and parses the JSON on its last line of output. */
function measure(script: string, flags: readonly string[], url: string): Promise<Measurement> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, URL: url, SESSIONS: `${SESSIONS}`, DURATION: `${DURATION}`, SIZE: `${SIZE}` }
    const child = spawn(process.execPath, [...flags, script], { cwd: rootDir, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk))
    const killer = setTimeout(() => child.kill('SIGKILL'), DURATION * 1000 + GRACE_MS)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(killer)
      if (code !== 0) return reject(new Error(`${script} exited with ${signal ?? code}\n${stderr.trim()}`))
      try {
        resolve(JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as Measurement)
      } catch {
        reject(new Error(`${script} printed no result line:\n${stdout}${stderr}`))
      }
    })
  })
}

const server = await startServerProcess('ws-echo-server.ts', 'ws')
const runs: Run[] = []
try {
  say(`${CLIENTS.length} clients × ${ROUNDS} rounds × ${DURATION} s, ${SESSIONS} sessions, ${SIZE}-byte messages, echo server at ${server.url}`)
  if (CLIENT_FLAGS.length > 0) say(`client node flags: ${CLIENT_FLAGS.join(' ')}`)
  say()
  say(row('round', 'client', 'msgs/s', 'peak RSS', 'sessions', 'errors'))
  for (let round = 1; round <= ROUNDS; round++) {
    // Rotating the order keeps either client from always running first (cold) or last (warm).
    const order = CLIENTS.map((_, i) => CLIENTS[(i + round - 1) % CLIENTS.length]!)
    for (const client of order) {
      try {
        const m = await measure(client.script, client.flags, server.url)
        const msgsPerSec = m.messages / (m.durationMs / 1000)
        runs.push({ round, client: client.name, msgsPerSec, ...m })
        say(row(`${round}`, client.name, fmt(msgsPerSec), `${m.peakRssMb.toFixed(0)} MB`, fmt(m.sessions), fmt(m.errors)))
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error)
        runs.push({ round, client: client.name, error: message })
        say(row(`${round}`, client.name, `failed: ${message}`))
      }
    }
  }
} finally {
  server.stop()
}

const medians: Record<string, { msgsPerSec: number; peakRssMb: number; maxPeakRssMb: number }> = {}
for (const client of CLIENTS) {
  const ok = runs.flatMap((r) => (r.client === client.name && 'msgsPerSec' in r ? [r] : []))
  if (ok.length === 0) continue
  const peaks = ok.map((r) => r.peakRssMb)
  medians[client.name] = { msgsPerSec: median(ok.map((r) => r.msgsPerSec)), peakRssMb: median(peaks), maxPeakRssMb: Math.max(...peaks) }
}
const base = medians['ws (bare)']?.msgsPerSec
const ours = medians.chaperon
const ratio = base === undefined || ours === undefined ? undefined : ours.msgsPerSec / base
// Every run must stay under the budget, not just the median one.
const withinBudget = ours === undefined ? undefined : ours.maxPeakRssMb < RSS_BUDGET_MB

say()
say(row('client', 'median msgs/s', 'median RSS', 'max RSS', '× ws (bare)'))
for (const [name, m] of Object.entries(medians)) {
  say(row(name, fmt(m.msgsPerSec), `${m.peakRssMb.toFixed(0)} MB`, `${m.maxPeakRssMb.toFixed(0)} MB`, base === undefined ? '–' : (m.msgsPerSec / base).toFixed(2)))
}
if (withinBudget !== undefined) say(`chaperon peak RSS ${withinBudget ? '✓ within' : '✗ over'} the ${RSS_BUDGET_MB} MB budget in ${withinBudget ? 'every run' : 'at least one run'}`)
say()
say(`machine: ${machine.cpu}, ${machine.cores} cores, node ${machine.node}, ${machine.platform}`)

if (asJson) {
  const settings = { rounds: ROUNDS, durationSeconds: DURATION, sessions: SESSIONS, messageBytes: SIZE, rssBudgetMb: RSS_BUDGET_MB, clientFlags: CLIENT_FLAGS }
  process.stdout.write(`${JSON.stringify({ machine, settings, runs, medians, ratio, withinBudget }, null, 2)}\n`)
}
