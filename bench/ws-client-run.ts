// What both WebSocket bench clients share: their knobs, one deadline, and the
// peak resident memory of their process.
import { performance } from 'node:perf_hooks'

/** Result line every bench client prints last. */
export interface ClientReport {
  messages: number
  sessions: number
  errors: number
}

/**
 * Reads URL, SESSIONS, DURATION and SIZE, starts the clock and samples the RSS
 * every 250 ms from now on; `report()` prints the client's result line with the
 * duration and the peak RSS in MiB.
 */
export function startWsClientRun(): { url: string; sessions: number; payload: string; end: number; report(counts: ClientReport): void } {
  const url = process.env.URL
  if (url === undefined) throw new Error('set URL to the echo server, e.g. URL=ws://127.0.0.1:3000/')
  const start = performance.now()
  let peak = process.memoryUsage.rss()
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss())
  }, 250)
  return {
    url,
    sessions: Number(process.env.SESSIONS ?? 1000),
    payload: 'x'.repeat(Number(process.env.SIZE ?? 32)),
    // One deadline for every session, so both clients count the same time.
    end: start + Number(process.env.DURATION ?? 10) * 1000,
    report(counts) {
      clearInterval(timer)
      const peakRssMb = Math.max(peak, process.memoryUsage.rss()) / 2 ** 20
      console.log(JSON.stringify({ ...counts, durationMs: performance.now() - start, peakRssMb }))
    },
  }
}
