import { performance } from 'node:perf_hooks'
import { clearTimeout, setTimeout } from 'node:timers'
import { INTERVAL_MS, type IntervalSample } from '../core/timeline.ts'
import { realClock } from './executors/clock.ts'
import type { MetricsRegistry } from './metrics/registry.ts'

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

/**
 * Hands the seconds `registry` closes to `onSecond`, in order. `close(t)`
 * cuts second `t` at once; each trend of it is then summarised in a turn of
 * the event loop of its own, so closing a busy second never holds arrival
 * slots or responses back by milliseconds. `drained()` resolves once every
 * second closed so far has been handed over, and rejects with the first
 * error `onSecond` threw, after which later seconds are not handed over.
 */
export function secondCloser(registry: MetricsRegistry, onSecond: (t: number, samples: IntervalSample[]) => void): { close(t: number): void; drained(): Promise<void> } {
  let queue = Promise.resolve()
  return {
    close(t) {
      const parts = registry.close(t)
      queue = queue.then(async () => {
        const samples: IntervalSample[] = []
        for (const part of parts) {
          if (typeof part === 'function') {
            await realClock.yield()
            samples.push(part())
          } else {
            samples.push(part)
          }
        }
        onSecond(t, samples)
      })
      // Handled in drained(); until then a failed second must not count as an unhandled rejection.
      queue.catch(() => {})
    },
    drained: () => queue,
  }
}
