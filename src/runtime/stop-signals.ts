import { isMainThread } from 'node:worker_threads'

type Stop = (signal: 'SIGINT' | 'SIGTERM') => void

const SIGNALS = ['SIGINT', 'SIGTERM'] as const
const stops = new Set<Stop>()

function onSignal(signal: 'SIGINT' | 'SIGTERM'): void {
  for (const stop of stops) stop(signal)
}

/**
 * Calls `stop` on SIGINT or SIGTERM until the returned function is called.
 *
 * Ctrl-C signals the whole process group, so the forked process a load test
 * runs in gets SIGINT together with Vitest's main process, and by default
 * would die with the run's results. While a load test runs, the signal stops
 * it instead: the test ends with its partial result, which Vitest then
 * reports. Worker threads get no signals; their run is cancelled by Vitest.
 */
export function onStopSignal(stop: Stop): () => void {
  if (!isMainThread) return () => {}
  if (stops.size === 0) for (const signal of SIGNALS) process.on(signal, onSignal)
  stops.add(stop)
  return () => {
    if (!stops.delete(stop) || stops.size > 0) return
    for (const signal of SIGNALS) process.off(signal, onSignal)
  }
}
