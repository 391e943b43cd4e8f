// One chaperon client process for bench/throughput.ts and bench/scale.ts: a
// constant-vus GET loop with every built-in metric recorded, against URL for
// DURATION seconds, on WORKERS worker threads ('auto' or a number; default 1).
// Prints {"requests", "durationMs", "cpuMs"} as its last line.
import { resolveLoadTestOptions } from '../dist/runtime/resolve-options.js'
import { runLoadTest } from '../dist/runtime/run.js'
import { get } from './scenarios.ts'

const url = process.env.URL
if (url === undefined) throw new Error('set URL to the responder, e.g. URL=http://127.0.0.1:3000/')
const vus = Number(process.env.CONNECTIONS ?? 50)
const seconds = Number(process.env.DURATION ?? 10)
const workers = process.env.WORKERS === 'auto' ? 'auto' : Number(process.env.WORKERS ?? 1)

const options = resolveLoadTestOptions('throughput', {
  baseUrl: url,
  workers,
  scenarios: { loop: { scenario: get, executor: 'constant-vus', vus, duration: `${seconds}s` } },
})
const { result } = await runLoadTest('throughput', options)
let requests = 0
for (const m of result.metrics) if (m.metric === 'http_reqs' && m.type === 'counter') requests += m.value
// CPU of the whole process, every thread: user plus system.
const cpu = process.cpuUsage()
console.log(JSON.stringify({ requests, durationMs: result.durationMs, cpuMs: (cpu.user + cpu.system) / 1000 }))
