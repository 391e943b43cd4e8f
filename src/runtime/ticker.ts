import { performance } from 'node:perf_hooks'
import { clearTimeout, setTimeout } from 'node:timers'
import { INTERVAL_MS } from '../core/timeline.ts'

/**
 * Calls `onTick(t)` when second `t` of a run has passed, at `t0 + (t+1)·1000`
 * (a `performance.now()` time), for t = 0, 1, … Targets are absolute, so ticks
 * do not drift; a tick that comes late catches up on the seconds it missed.
 * Timers come from `node:timers`, so `vi.useFakeTimers()` cannot stop them.
 * `stop()` ends the ticks and returns the second the run ended in: the next
 * to close, partial.
 */
export function startTicker(t0: number, onTick: (t: number) => void): { stop(): number } {
  let next = 0
  let timer: ReturnType<typeof setTimeout> | undefined
  const schedule = (): void => {
    timer = setTimeout(fire, Math.max(0, t0 + (next + 1) * INTERVAL_MS - performance.now()))
  }
  const fire = (): void => {
    while (t0 + (next + 1) * INTERVAL_MS <= performance.now()) onTick(next++)
    schedule()
  }
  schedule()
  return {
    stop() {
      clearTimeout(timer)
      return next
    },
  }
}
