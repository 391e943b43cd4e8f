// The machine's floor for bench/rate-accuracy.ts: a bare timer loop that
// "starts" RATE slots per second for DURATION seconds the way chaperon's
// arrival-rate executor schedules them, on the executor's own clock
// (`realClock`), and does nothing else. Its start lateness is what the event
// loop and the machine cost before any load generator work; chaperon's cannot
// be expected below it.
//
//   PACING=timer (default)  absolute targets from performance.now(), every slot
//                           due within 1 ms started at once, the next timer set
//                           for the first slot not yet due
//   PACING=spin             a timer until 2 ms before the next slot, then turns
//                           of the event loop (`realClock.spin`) until it is due
//
// Prints {"count", "p50", "p99", "p99_9", "max"} (ms) as its last line.
import { createHistogram, recordMicros, summarize } from '../dist/core/histogram.js'
import { realClock } from '../dist/runtime/executors/clock.js'

const perMs = Number(process.env.RATE ?? 5000) / 1000
const durationMs = Number(process.env.DURATION ?? 30) * 1000
const spin = process.env.PACING === 'spin'
const EARLY_MS = 1
const SPIN_MS = 2
const never = new AbortController().signal

// The executor's loop (src/runtime/executors/arrival-rate.ts) with its slots' work left out.
const lateness = createHistogram()
const t0 = realClock.now()
const slots = Math.ceil(durationMs * perMs)
for (let slot = 0; slot < slots; ) {
  const due = t0 + slot / perMs
  const wait = due - realClock.now()
  if (!spin && wait > EARLY_MS) await realClock.sleep(wait)
  if (spin) await (wait > SPIN_MS ? realClock.sleep(wait - SPIN_MS) : realClock.spin(due, never))
  const now = realClock.now()
  for (; slot < slots && t0 + slot / perMs <= now + (spin ? 0 : EARLY_MS); slot++) recordMicros(lateness, (now - (t0 + slot / perMs)) * 1000)
}
const s = summarize(lateness)
console.log(JSON.stringify({ count: s.count, p50: s.percentiles.p50, p99: s.percentiles.p99, p99_9: s.percentiles['p99.9'], max: s.max }))
