import { performance } from 'node:perf_hooks'
import { setImmediate } from 'node:timers'
import { setTimeout as sleep } from 'node:timers/promises'
import { timerMs } from '../../core/duration.ts'

/** Where an executor reads the time and waits: the real clock in a load test, a virtual one in tests of the schedules. */
export interface Clock {
  /** Milliseconds on a monotonic scale. */
  now(): number
  /** Resolves after `ms` (after one timer turn for 0 or less), or as soon as `signal` aborts; never rejects. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>
  /** Resolves once pending timers and I/O have had a turn, so iterations that never wait cannot starve them. */
  yield(): Promise<void>
  /**
   * Resolves on the first turn of the event loop at or after `at` (a `now()`
   * time), or as soon as `signal` aborts; never rejects. It turns the loop
   * instead of sleeping, so it costs CPU until then, but a sleeping thread
   * also waits for the system to wake it, which a turning one does not.
   */
  spin(at: number, signal: AbortSignal): Promise<void>
}

/**
 * `performance.now()` and timers imported from `node:timers`, not the globals,
 * so a test file's `vi.useFakeTimers()` cannot change a load test's schedule.
 */
export const realClock: Clock = {
  now: () => performance.now(),
  sleep: async (ms, signal) => {
    await sleep(timerMs(Math.max(0, ms)), undefined, { signal }).catch(() => {})
  },
  yield: () => new Promise((resolve) => setImmediate(resolve)),
  spin: (at, signal) =>
    new Promise((resolve) => {
      // One immediate per turn and no promise: at thousands of turns a second, less for the GC.
      const turn = (): void => {
        if (performance.now() >= at || signal.aborted) resolve()
        else setImmediate(turn)
      }
      turn()
    }),
}

/** Waits `ms` unless `signal` aborts first; returns at once when `ms` is 0 or less. */
export async function pause(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  if (ms > 0) await clock.sleep(ms, signal)
}

/** Waits for `promise` at most `ms`; true when it settled in time. */
export async function settlesWithin(clock: Clock, promise: Promise<unknown>, ms: number): Promise<boolean> {
  const timeout = new AbortController()
  try {
    return await Promise.race([promise.then(() => true), clock.sleep(ms, timeout.signal).then(() => false)])
  } finally {
    timeout.abort()
  }
}
