// The machine's floor for bench/rate-accuracy.ts: a bare Node timer loop that
// "starts" RATE slots per second for DURATION seconds the way chaperon's
// arrival-rate executor schedules them (absolute targets from
// performance.now(), every slot due within 1 ms started at once, the next
// timer set for the first slot not yet due), and does nothing else. Its start
// lateness is what the event loop and the machine cost before any load
// generator work; chaperon's cannot be expected below it.
// Prints {"count", "p50", "p99", "p99_9", "max"} (ms) as its last line.
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { createHistogram, recordMicros, summarize } from '../dist/core/histogram.js'

const perMs = Number(process.env.RATE ?? 5000) / 1000
const durationMs = Number(process.env.DURATION ?? 30) * 1000
const EARLY_MS = 1

// The executor's loop (src/runtime/executors/arrival-rate.ts) with its slots' work left out.
const lateness = createHistogram()
const t0 = performance.now()
const slots = Math.ceil(durationMs * perMs)
for (let slot = 0; slot < slots; ) {
  const wait = t0 + slot / perMs - performance.now()
  if (wait > EARLY_MS) await sleep(wait)
  const now = performance.now()
  for (; slot < slots && t0 + slot / perMs <= now + EARLY_MS; slot++) recordMicros(lateness, (now - (t0 + slot / perMs)) * 1000)
}
const s = summarize(lateness)
console.log(JSON.stringify({ count: s.count, p50: s.percentiles.p50, p99: s.percentiles.p99, p99_9: s.percentiles['p99.9'], max: s.max }))
