// Coordinated omission: the target stalls once, for STALL_MS, STALL_AT seconds
// into a DURATION-second run, and each load generator reports what it saw.
// The target is the bundled server (bench/target.ts) in its own process; the
// harness stalls it with `POST /stall?ms=STALL_MS`, a busy wait that blocks its
// whole event loop, so every request already sent and every one that arrives
// meanwhile waits, as behind a long GC pause. Each run is a fresh client
// process; the stall is sent STALL_AT seconds after the client was spawned.
//
//   npm run bench:co [-- --json]
//   RATE=200 DURATION=10 STALL_MS=1000 STALL_AT=5 MAX_VUS=400 SMALL_MAX_VUS=50,10
//   CONNECTIONS=10 ROUNDS=1   (defaults)
//
// Runs, in order:
//   chaperon open      constant-arrival-rate RATE/s, maxVUs MAX_VUS (enough for the stall)
//   chaperon open      the same with each maxVUs of SMALL_MAX_VUS (too few: slots are dropped)
//   chaperon closed    constant-vus, CONNECTIONS VUs, each GET then a think time of
//                      CONNECTIONS/RATE s, so about RATE requests/s while the target is fast
//   autocannon         -c CONNECTIONS (closed, as fast as the target answers)
//   autocannon -R      -c CONNECTIONS -R RATE (its rate limit and its latency correction)
//   autocannon -R -C   the same with its correction turned off
//   wrk                -t1 -cCONNECTIONS (closed, as fast as the target answers)
import { request } from 'node:http'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { LOAD_WORKER_EXEC_ARGV } from '../dist/plugin/load-project.js'
import type { ClientReport } from './chaperon-rate-client.ts'
import { asJson, benchDir, envInt, fixed, fmt, GRACE_MS, lastJsonLine, loadAverage, machine, median, onPath, rootDir, runCommand, say, startServerProcess } from './common.ts'

const RATE = envInt('RATE', 200, 10_000)
const DURATION = envInt('DURATION', 10, 600)
const STALL_MS = envInt('STALL_MS', 1000, 10_000)
const STALL_AT = envInt('STALL_AT', 5, 600)
const MAX_VUS = envInt('MAX_VUS', 400, 10_000)
/** maxVUs too small to ride out the stall, one chaperon run each: comma-separated. */
const SMALL_MAX_VUS = (process.env.SMALL_MAX_VUS || '50,10').split(',').map((raw) => {
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new Error(`SMALL_MAX_VUS must be integers from 1 to 10000, comma-separated, got '${raw}'`)
  return n
})
const CONNECTIONS = envInt('CONNECTIONS', 10, 1000)
const ROUNDS = envInt('ROUNDS', 1, 20)
if (STALL_AT * 1000 + STALL_MS > DURATION * 1000 - 1000) throw new Error(`the stall (STALL_AT=${STALL_AT} s + STALL_MS=${STALL_MS} ms) must end at least 1 s before the run does (DURATION=${DURATION} s)`)

/** Latencies in ms as one tool reports them; undefined where the tool has no such number. */
interface Latencies {
  p50: number | undefined
  /** The stall delays about a tenth of an open model's requests, so it shows from p90 up. */
  p90: number | undefined
  p99: number | undefined
  p99_9: number | undefined
  max: number | undefined
}

interface Measurement {
  /** Requests answered. */
  requests: number
  /** Samples in the latency histogram, where the tool says (autocannon's correction adds some). */
  samples: number | undefined
  dropped: number | undefined
  /** chaperon: the most VUs allocated at once. */
  peakVUs: number | undefined
  /** What the tool reports as request latency. */
  latency: Latencies
  /** chaperon's http_req_latency_corrected. */
  corrected: Latencies | undefined
  /** chaperon's start lateness of arrival-rate iterations. */
  lateness: Latencies | undefined
}

interface Tool {
  name: string
  /** Open (requests scheduled on a clock) or closed (a request when the previous one returned). */
  model: string
  missing: string | undefined
  command(url: string): { command: string; args: string[]; env?: Record<string, string> }
  parse(stdout: string): Measurement
}

type Run = ({ round: number; tool: string; stallSentAtMs: number; stallTookMs: number } & Measurement) | { round: number; tool: string; error: string }

const pick = (t: { p50: number; p90: number; p99: number; p99_9: number; max: number } | undefined): Latencies | undefined =>
  t === undefined ? undefined : { p50: t.p50, p90: t.p90, p99: t.p99, p99_9: t.p99_9, max: t.max }

const chaperonClient = join(benchDir, 'chaperon-rate-client.ts')
function chaperon(name: string, model: string, env: Record<string, string>): Tool {
  return {
    name,
    model,
    missing: undefined,
    // With the flags the load project gives its workers, as a load test runs.
    command: (url) => ({ command: process.execPath, args: [...LOAD_WORKER_EXEC_ARGV, chaperonClient], env: { URL: url, DURATION: `${DURATION}`, ...env } }),
    parse(stdout) {
      const r = lastJsonLine<ClientReport>(stdout, 'bench/chaperon-rate-client.ts')
      if (r.failed > 0) say(`  note: ${r.failed} of chaperon's requests failed`)
      return {
        requests: r.requests,
        samples: r.httpReqDuration?.count,
        dropped: r.dropped,
        peakVUs: r.peakVUs,
        latency: pick(r.httpReqDuration) ?? { p50: undefined, p90: undefined, p99: undefined, p99_9: undefined, max: undefined },
        corrected: pick(r.httpReqLatencyCorrected),
        lateness: pick(r.lateness),
      }
    },
  }
}

interface AutocannonJson {
  requests: { total: number }
  errors: number
  non2xx: number
  timeouts: number
  latency: { p50: number; p90: number; p99: number; p99_9: number; max: number; totalCount: number }
}
const autocannonScript = join(rootDir, 'node_modules/autocannon/autocannon.js')
function autocannon(name: string, model: string, extra: string[]): Tool {
  return {
    name,
    model,
    missing: undefined,
    command: (url) => ({ command: process.execPath, args: [autocannonScript, '-c', `${CONNECTIONS}`, '-d', `${DURATION}`, '-j', '-n', ...extra, url] }),
    parse(stdout) {
      const r = lastJsonLine<AutocannonJson>(stdout, 'autocannon')
      if (r.errors + r.non2xx > 0) say(`  note: autocannon saw ${r.errors} errors (${r.timeouts} timeouts) and ${r.non2xx} non-2xx responses`)
      return {
        requests: r.requests.total,
        samples: r.latency.totalCount,
        dropped: undefined,
        peakVUs: undefined,
        latency: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, p99_9: r.latency.p99_9, max: r.latency.max },
        corrected: undefined,
        lateness: undefined,
      }
    },
  }
}

const UNIT_MS: Record<string, number> = { us: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 }
/** `1.23ms` → 1.23 */
function wrkMs(text: string | undefined): number | undefined {
  const match = /^([\d.]+)(us|ms|s|m|h)$/.exec(text ?? '')
  return match === null ? undefined : Number(match[1]) * (UNIT_MS[match[2]!] ?? Number.NaN)
}
const wrk: Tool = {
  name: 'wrk',
  model: 'closed',
  missing: onPath('wrk') ? undefined : 'wrk is not on PATH (Debian/Ubuntu: apt-get install -y wrk)',
  command: (url) => ({ command: 'wrk', args: ['-t1', `-c${CONNECTIONS}`, `-d${DURATION}s`, '--latency', url] }),
  parse(stdout) {
    const requests = /(\d+) requests in /.exec(stdout)
    if (requests === null) throw new Error(`cannot find "N requests in T" in wrk's output:\n${stdout}`)
    // "    Latency     1.76ms    4.70ms  58.22ms   96.54%"
    const summary = /Latency\s+(\S+)\s+(\S+)\s+(\S+)/.exec(stdout)
    const at = (p: string): number | undefined => wrkMs(new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm').exec(stdout)?.[1])
    const errors = /Socket errors: .*|Non-2xx or 3xx responses: \d+/.exec(stdout)
    if (errors !== null) say(`  note: wrk reported ${errors[0]}`)
    return {
      requests: Number(requests[1]),
      samples: undefined,
      dropped: undefined,
      peakVUs: undefined,
      latency: { p50: at('50'), p90: at('90'), p99: at('99'), p99_9: undefined, max: wrkMs(summary?.[3]) },
      corrected: undefined,
      lateness: undefined,
    }
  },
}

const thinkMs = Math.round((CONNECTIONS * 1000) / RATE)
const arrival = { EXECUTOR: 'constant-arrival-rate', RATE: `${RATE}`, PRE_VUS: '20' }
const tools: Tool[] = [
  chaperon(`chaperon maxVUs ${MAX_VUS}`, 'open', { ...arrival, MAX_VUS: `${MAX_VUS}` }),
  ...SMALL_MAX_VUS.map((max) => chaperon(`chaperon maxVUs ${max}`, 'open', { ...arrival, PRE_VUS: `${Math.min(20, max)}`, MAX_VUS: `${max}` })),
  chaperon(`chaperon ${CONNECTIONS} VUs`, `closed, ${thinkMs} ms think`, { EXECUTOR: 'constant-vus', VUS: `${CONNECTIONS}`, THINK_MS: `${thinkMs}` }),
  autocannon(`autocannon -c${CONNECTIONS}`, 'closed', []),
  autocannon(`autocannon -R${RATE}`, 'closed, rate-capped', ['-R', `${RATE}`]),
  autocannon(`autocannon -R${RATE} -C`, 'closed, rate-capped', ['-R', `${RATE}`, '-C']),
  wrk,
]

/** Sends `POST /stall?ms=…` on a connection of its own; resolves with how long the target took to answer. */
function stall(baseUrl: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const req = request(new URL(`/stall?ms=${STALL_MS}`, baseUrl), { method: 'POST', agent: false }, (res) => {
      res.resume()
      res.on('end', () => (res.statusCode === 200 ? resolve(performance.now() - started) : reject(new Error(`POST /stall answered ${res.statusCode}`))))
    })
    req.on('error', reject)
    req.end()
  })
}

async function measure(tool: Tool, url: string): Promise<{ m: Measurement; stallSentAtMs: number; stallTookMs: number }> {
  const { command, args, env } = tool.command(url)
  let timer: NodeJS.Timeout | undefined
  let stalled: Promise<number> | undefined
  let spawnedAt = 0
  let stallSentAtMs = Number.NaN
  try {
    const out = await runCommand(command, args, {
      ...(env === undefined ? {} : { env }),
      timeoutMs: DURATION * 1000 + GRACE_MS,
      onStart(at) {
        spawnedAt = at
        timer = setTimeout(() => {
          stallSentAtMs = performance.now() - spawnedAt
          stalled = stall(url)
          // Awaited below; a failure must not go unhandled meanwhile.
          stalled.catch(() => {})
        }, STALL_AT * 1000)
      },
    })
    if (stalled === undefined) throw new Error(`${tool.name} ended before the stall was sent`)
    return { m: tool.parse(out), stallSentAtMs, stallTookMs: await stalled }
  } finally {
    clearTimeout(timer)
  }
}

const WIDTHS = [6, 22, 24, 10, 10, 9, 6, 8, 8, 8, 8, 8, 9, 9, 9, 9]
const line = (...cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(WIDTHS[i] ?? 10))).join('')
const ms = (n: number | undefined): string => (n === undefined ? '–' : n >= 100 ? fmt(n) : fixed(n, n >= 10 ? 1 : 2))
const ready = tools.filter((t) => t.missing === undefined)
for (const tool of tools) if (tool.missing !== undefined) say(`skipping ${tool.name}: ${tool.missing}`)
if (!onPath('wrk2')) say('wrk2 is not installed (no Debian package); its correction is described in bench/README.md')

const target = await startServerProcess('target.ts', 'http')
const runs: Run[] = []
try {
  say(`${DURATION} s runs at ${RATE} req/s (open) or ${CONNECTIONS} connections (closed); POST /stall?ms=${STALL_MS} ${STALL_AT} s after each client starts; target at ${target.url}`)
  say(`load average before: ${loadAverage()}`)
  say()
  say(line('round', 'tool', 'model', 'requests', 'samples', 'dropped', 'VUs', 'p50', 'p90', 'p99', 'p99.9', 'max', 'corr p50', 'corr p99', 'corr max', 'stall at'))
  for (let round = 1; round <= ROUNDS; round++) {
    for (const tool of ready) {
      try {
        const { m, stallSentAtMs, stallTookMs } = await measure(tool, target.url)
        runs.push({ round, tool: tool.name, stallSentAtMs, stallTookMs, ...m })
        const c = m.corrected
        const samples = m.samples === undefined ? '–' : fmt(m.samples)
        say(line(`${round}`, tool.name, tool.model, fmt(m.requests), samples, m.dropped === undefined ? '–' : fmt(m.dropped), m.peakVUs === undefined ? '–' : fmt(m.peakVUs), ms(m.latency.p50), ms(m.latency.p90), ms(m.latency.p99), ms(m.latency.p99_9), ms(m.latency.max), ms(c?.p50), ms(c?.p99), ms(c?.max), `${fixed(stallSentAtMs / 1000, 2)} s`))
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error)
        runs.push({ round, tool: tool.name, error: message })
        say(line(`${round}`, tool.name, `failed: ${message}`))
      }
    }
  }
} finally {
  target.stop()
}

// Per tool, the median of each number over the rounds.
const medians: Record<string, Record<string, number>> = {}
for (const tool of ready) {
  const ok = runs.flatMap((r) => (r.tool === tool.name && 'requests' in r ? [r] : []))
  if (ok.length === 0) continue
  const out: Record<string, number> = {}
  const add = (key: string, values: Array<number | undefined>): void => {
    const present = values.filter((v): v is number => v !== undefined)
    if (present.length > 0) out[key] = median(present)
  }
  add('requests', ok.map((r) => r.requests))
  add('samples', ok.map((r) => r.samples))
  add('dropped', ok.map((r) => r.dropped))
  add('peakVUs', ok.map((r) => r.peakVUs))
  for (const p of ['p50', 'p90', 'p99', 'p99_9', 'max'] as const) {
    add(p, ok.map((r) => r.latency[p]))
    add(`corrected_${p}`, ok.map((r) => r.corrected?.[p]))
    add(`lateness_${p}`, ok.map((r) => r.lateness?.[p]))
  }
  medians[tool.name] = out
}
if (ROUNDS > 1) {
  say()
  say(`medians of ${ROUNDS} rounds:`)
  say(line('', 'tool', 'model', 'requests', 'samples', 'dropped', 'VUs', 'p50', 'p90', 'p99', 'p99.9', 'max', 'corr p50', 'corr p99', 'corr max'))
  for (const tool of ready) {
    const m = medians[tool.name]
    if (m === undefined) continue
    const count = (n: number | undefined): string => (n === undefined ? '–' : fmt(n))
    say(line('', tool.name, tool.model, count(m.requests), count(m.samples), count(m.dropped), count(m.peakVUs), ms(m.p50), ms(m.p90), ms(m.p99), ms(m.p99_9), ms(m.max), ms(m.corrected_p50), ms(m.corrected_p99), ms(m.corrected_max)))
  }
}
const open = medians[`chaperon maxVUs ${MAX_VUS}`]
const bar = open?.corrected_p99 !== undefined && open.corrected_p99 >= STALL_MS / 2
say()
say(`chaperon open model, corrected p99 ${ms(open?.corrected_p99)} ms ${bar ? '✓' : '✗'} ≥ ${STALL_MS / 2} ms`)
say(`machine: ${machine.cpu}, ${machine.cores} cores, node ${machine.node}, ${machine.platform}; load average at the end ${loadAverage()}`)

if (asJson) {
  const settings = { rate: RATE, durationSeconds: DURATION, stallMs: STALL_MS, stallAtSeconds: STALL_AT, maxVUs: MAX_VUS, smallMaxVUs: SMALL_MAX_VUS, connections: CONNECTIONS, rounds: ROUNDS }
  process.stdout.write(`${JSON.stringify({ machine, settings, runs, medians, bar: { correctedP99AtLeastHalfTheStall: bar } }, null, 2)}\n`)
}
