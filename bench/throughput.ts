// Throughput of chaperon's load generator next to autocannon and wrk, all
// against the same raw-TCP responder (bench/responder.ts). Each run is one
// client process; the tools take turns in rotating order for ROUNDS rounds so
// drift on the machine hits all of them alike. req/s is always completed
// requests divided by the run's measured duration, whatever the tool prints.
//
//   npm run bench:throughput [-- --json]
//   ROUNDS=3 DURATION=10 CONNECTIONS=50   (defaults)
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { LOAD_WORKER_EXEC_ARGV } from '../dist/plugin/load-project.js'
import { asJson, benchDir, envInt, fmt, GRACE_MS, machine, median, onPath, rootDir, row, runCommand, say, startServerProcess } from './common.ts'

interface Measurement {
  requests: number
  seconds: number
}

interface Tool {
  name: string
  /** Why the tool cannot run here, or undefined when it can. */
  missing: string | undefined
  measure(url: string): Promise<Measurement>
}

type Run = { round: number; tool: string; requests: number; seconds: number; reqPerSec: number } | { round: number; tool: string; error: string }

const ROUNDS = envInt('ROUNDS', 3, 50)
const DURATION = envInt('DURATION', 10, 600)
const CONNECTIONS = envInt('CONNECTIONS', 50, 10_000)
/** Runs a command to completion and returns its stdout; stderr is kept for the error message. */
function capture(command: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  return runCommand(command, args, { env, timeoutMs: DURATION * 1000 + GRACE_MS })
}

const autocannon: Tool = {
  name: 'autocannon',
  missing: undefined,
  async measure(url) {
    const script = join(rootDir, 'node_modules/autocannon/autocannon.js')
    const out = await capture(process.execPath, [script, '-c', `${CONNECTIONS}`, '-d', `${DURATION}`, '-j', '-n', url])
    const result = JSON.parse(out) as { duration: number; errors: number; non2xx: number; requests: { total: number } }
    if (result.errors + result.non2xx > 0) say(`  note: autocannon saw ${result.errors} errors and ${result.non2xx} non-2xx responses`)
    return { requests: result.requests.total, seconds: result.duration }
  },
}

const UNIT_SECONDS: Record<string, number> = { us: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 }

const wrk: Tool = {
  name: 'wrk',
  missing: onPath('wrk') ? undefined : 'wrk is not on PATH (Debian/Ubuntu: apt-get install -y wrk)',
  async measure(url) {
    const out = await capture('wrk', ['-t1', `-c${CONNECTIONS}`, `-d${DURATION}s`, '--latency', url])
    // "  148112 requests in 10.00s, 12.71MB read"
    const match = /(\d+) requests in ([\d.]+)(us|ms|s|m|h),/.exec(out)
    if (match === null) throw new Error(`cannot find "N requests in T" in wrk's output:\n${out}`)
    const errors = /Socket errors: .*|Non-2xx or 3xx responses: \d+/.exec(out)
    if (errors !== null) say(`  note: wrk reported ${errors[0]}`)
    return { requests: Number(match[1]), seconds: Number(match[2]) * (UNIT_SECONDS[match[3] ?? 's'] ?? 1) }
  },
}

const chaperonClient = join(benchDir, 'chaperon-client.ts')
const chaperon: Tool = {
  name: 'chaperon',
  missing: existsSync(chaperonClient) ? undefined : 'bench/chaperon-client.ts does not exist yet',
  async measure(url) {
    // With the flags the load project gives its workers, as a load test runs.
    const out = await capture(process.execPath, [...LOAD_WORKER_EXEC_ARGV, chaperonClient], {
      URL: url,
      CONNECTIONS: `${CONNECTIONS}`,
      DURATION: `${DURATION}`,
    })
    const last = out.trim().split('\n').at(-1) ?? ''
    const result = JSON.parse(last) as { requests: number; durationMs: number }
    return { requests: result.requests, seconds: result.durationMs / 1000 }
  },
}

const tools = [autocannon, wrk, chaperon]
for (const tool of tools) if (tool.missing !== undefined) say(`skipping ${tool.name}: ${tool.missing}`)
const ready = tools.filter((tool) => tool.missing === undefined)

const responder = await startServerProcess('responder.ts', 'http')
const runs: Run[] = []
try {
  say(`${ready.length} tools × ${ROUNDS} rounds × ${DURATION} s, ${CONNECTIONS} connections, responder at ${responder.url}`)
  say()
  say(row('round', 'tool', 'req/s'))
  for (let round = 1; round <= ROUNDS; round++) {
    // Rotating the order keeps any tool from always running first (cold) or last (warm).
    const order = ready.map((_, i) => ready[(i + round - 1) % ready.length]!)
    for (const tool of order) {
      try {
        const { requests, seconds } = await tool.measure(responder.url)
        const reqPerSec = requests / seconds
        runs.push({ round, tool: tool.name, requests, seconds, reqPerSec })
        say(row(`${round}`, tool.name, fmt(reqPerSec)))
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error)
        runs.push({ round, tool: tool.name, error: message })
        say(row(`${round}`, tool.name, `failed: ${message}`))
      }
    }
  }
} finally {
  responder.stop()
}

const medians: Record<string, number> = {}
for (const tool of ready) {
  const rates = runs.flatMap((r) => (r.tool === tool.name && 'reqPerSec' in r ? [r.reqPerSec] : []))
  if (rates.length > 0) medians[tool.name] = median(rates)
}
const base = medians.autocannon
const ratios: Record<string, number> = {}
if (base !== undefined) for (const [name, value] of Object.entries(medians)) ratios[name] = value / base

say()
say(row('tool', 'median req/s', '× autocannon'))
for (const [name, value] of Object.entries(medians)) {
  say(row(name, fmt(value), ratios[name] === undefined ? '–' : ratios[name].toFixed(2)))
}
say()
say(`machine: ${machine.cpu}, ${machine.cores} cores, node ${machine.node}, ${machine.platform}`)

if (asJson) {
  const settings = { rounds: ROUNDS, durationSeconds: DURATION, connections: CONNECTIONS }
  process.stdout.write(`${JSON.stringify({ machine, settings, runs, medians, ratios }, null, 2)}\n`)
}
