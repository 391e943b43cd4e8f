// The chaperon client of bench/websocket.ts: SESSIONS VUs through the real
// runtime, each connecting with s.ws and sending a message and awaiting its
// echo in a loop for DURATION seconds, every built-in metric recorded. Prints
// {"messages", "durationMs", "sessions", "errors", "peakRssMb"} as its last line.
import { performance } from 'node:perf_hooks'
import { resolveLoadTestOptions } from '../dist/runtime/resolve-options.js'
import { runLoadTest } from '../dist/runtime/run.js'
import { scenario } from '../dist/runtime/scenario.js'
import { startWsClientRun } from './ws-client-run.ts'

const { url, sessions, payload, end, report } = startWsClientRun()

const echo = scenario('echo', async (s) => {
  const ws = await s.ws.connect(url, { name: 'echo' })
  if (!ws.ok) return
  await s.loop(Math.max(0, end - performance.now()), async () => {
    ws.send(payload)
    await ws.recv()
  })
  await ws.close()
})
const options = resolveLoadTestOptions('websocket', {
  scenarios: { echo: { scenario: echo, executor: 'per-vu-iterations', vus: sessions, iterations: 1 } },
})
const { result } = await runLoadTest('websocket', options)
const sum = (metric: string): number => {
  let n = 0
  for (const m of result.metrics) if (m.metric === metric && m.type === 'counter') n += m.value
  return n
}
report({ messages: sum('ws_msgs_received'), sessions: sum('ws_sessions'), errors: sum('errors') })
