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

/** How long closing a second may hold the event loop before it lets timers and I/O have a turn, ms. */
const CLOSE_SLICE_MS = 1

/**
 * Hands the seconds `registry` closes to `onSecond`, in order. `close(t)`
 * cuts second `t` at once; its trends are then summarised a millisecond's
 * worth at a time, with a turn of the event loop between, so closing a busy
 * second does not hold arrival slots or responses back by milliseconds.
 * When `onSecond` throws, later seconds are still handed over; `drained()`
 * resolves once every second closed so far has been, and rejects with the
 * first error `onSecond` threw.
 */
export function secondCloser(registry: MetricsRegistry, onSecond: (t: number, samples: IntervalSample[]) => void): { close(t: number): void; drained(): Promise<void> } {
  let queue = Promise.resolve()
  let failed: { error: unknown } | undefined
  return {
    close(t) {
      const parts = registry.close(t)
      queue = queue.then(async () => {
        try {
          const samples: IntervalSample[] = []
          let sliceStart = performance.now()
          for (const part of parts) {
            if (typeof part !== 'function') {
              samples.push(part)
              continue
            }
            if (performance.now() - sliceStart >= CLOSE_SLICE_MS) {
              await realClock.yield()
              sliceStart = performance.now()
            }
            samples.push(part())
          }
          onSecond(t, samples)
        } catch (error) {
          failed ??= { error }
        }
      })
    },
    drained: () =>
      queue.then(() => {
        if (failed !== undefined) throw failed.error
      }),
  }
}
