// One chaperon client process for bench/throughput.ts: a constant-vus GET loop
// with every built-in metric recorded, against URL for DURATION seconds.
// Prints {"requests", "durationMs"} as its last line.
import { resolveLoadTestOptions } from '../dist/runtime/resolve-options.js'
import { runLoadTest } from '../dist/runtime/run.js'
import { scenario } from '../dist/runtime/scenario.js'

const url = process.env.URL
if (url === undefined) throw new Error('set URL to the responder, e.g. URL=http://127.0.0.1:3000/')
const vus = Number(process.env.CONNECTIONS ?? 50)
const seconds = Number(process.env.DURATION ?? 10)

const get = scenario('get', async (s) => {
  await s.get('/')
})
const options = resolveLoadTestOptions('throughput', {
  baseUrl: url,
  scenarios: { loop: { scenario: get, executor: 'constant-vus', vus, duration: `${seconds}s` } },
})
const { result } = await runLoadTest('throughput', options)
let requests = 0
for (const m of result.metrics) if (m.metric === 'http_reqs' && m.type === 'counter') requests += m.value
console.log(JSON.stringify({ requests, durationMs: result.durationMs }))
