// The baseline client of bench/websocket.ts: SESSIONS bare `ws` clients, each
// sending a text message and awaiting its echo (decoded to a string, as
// chaperon's recv() does) in a loop for DURATION seconds, with
// nothing of chaperon loaded. Prints {"messages", "durationMs", "sessions",
// "errors", "peakRssMb"} as its last line.
import { once } from 'node:events'
import { performance } from 'node:perf_hooks'
import { WebSocket } from 'ws'
import { trackPeakRss } from './peak-rss.ts'

const url = process.env.URL
if (url === undefined) throw new Error('set URL to the echo server, e.g. URL=ws://127.0.0.1:3000/')
const sessions = Number(process.env.SESSIONS ?? 1000)
const seconds = Number(process.env.DURATION ?? 10)
const payload = 'x'.repeat(Number(process.env.SIZE ?? 32))

const rss = trackPeakRss()
const start = performance.now()
const end = start + seconds * 1000
let messages = 0
let opened = 0
let errors = 0

async function session(): Promise<void> {
  const ws = new WebSocket(url!, { perMessageDeflate: false })
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
const durationMs = performance.now() - start
console.log(JSON.stringify({ messages, durationMs, sessions: opened, errors, peakRssMb: rss.stop() }))
