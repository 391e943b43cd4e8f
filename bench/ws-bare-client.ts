// The baseline client of bench/websocket.ts: SESSIONS bare `ws` clients, each
// sending a text message and awaiting its echo (decoded to a string, as
// chaperon's recv() does) in a loop for DURATION seconds, with
// nothing of chaperon loaded. Prints {"messages", "durationMs", "sessions",
// "errors", "peakRssMb"} as its last line.
import { once } from 'node:events'
import { performance } from 'node:perf_hooks'
import { WebSocket } from 'ws'
import { startWsClientRun } from './ws-client-run.ts'

const { url, sessions, payload, end, report } = startWsClientRun()
let messages = 0
let opened = 0
let errors = 0

async function session(): Promise<void> {
  const ws = new WebSocket(url, { perMessageDeflate: false })
  ws.on('error', () => errors++)
  try {
    await once(ws, 'open')
  } catch {
    return
  }
  opened++
  let echoed: (message: string) => void = () => {}
  // Decoded as chaperon's recv() does, so both clients hand the scenario the same string.
  ws.on('message', (data: Buffer) => {
    messages++
    echoed(data.toString())
  })
  while (performance.now() < end) {
    const reply = new Promise<string>((resolve) => (echoed = resolve))
    ws.send(payload)
    await reply
  }
  const closed = once(ws, 'close')
  ws.close()
  await closed
}

await Promise.all(Array.from({ length: sessions }, session))
report({ messages, sessions: opened, errors })
