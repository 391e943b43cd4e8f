import { setImmediate } from 'node:timers'
import type { Clock } from '../../src/runtime/executors/clock.ts'

interface Timer {
  at: number
  fire(): void
}

/**
 * A clock whose time moves only when the test moves it. Due timers run in
 * time order, and promise callbacks settle after each one, so async code
 * driven by it progresses the same way on every run.
 */
export class VirtualClock implements Clock {
  #now = 0
  /** In the order they were armed, so of timers due at the same time the first armed runs first. */
  readonly #timers: Timer[] = []

  now(): number {
    return this.#now
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve()
      const onAbort = (): void => {
        this.#timers.splice(this.#timers.indexOf(timer), 1)
        resolve()
      }
      const timer: Timer = {
        at: this.#now + Math.max(0, ms),
        fire: () => {
          signal?.removeEventListener('abort', onAbort)
          resolve()
        },
      }
      this.#timers.push(timer)
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  yield(): Promise<void> {
    return this.sleep(0)
  }

  spin(at: number, signal: AbortSignal): Promise<void> {
    return this.sleep(at - this.#now, signal)
  }

  /** Moves time forward by `ms`, running every timer due on the way. */
  async advance(ms: number): Promise<void> {
    const until = this.#now + ms
    await settle()
    while (await this.#fireNext(until));
    this.#now = until
  }

  /** Runs timers until `promise` settles, and returns what it resolves to; throws if it waits on no timer. */
  async run<T>(promise: Promise<T>): Promise<T> {
    let settled = false
    const done = (): void => {
      settled = true
    }
    promise.then(done, done)
    await settle()
    while (!settled) {
      if (!(await this.#fireNext(Number.POSITIVE_INFINITY))) throw new Error(`stuck at ${this.#now} ms: the promise waits on no timer`)
    }
    return promise
  }

  /** Runs the earliest timer due by `until`, then lets promise callbacks settle; false when there is none. */
  async #fireNext(until: number): Promise<boolean> {
    let next: Timer | undefined
    for (const t of this.#timers) if (t.at <= until && (next === undefined || t.at < next.at)) next = t
    if (next === undefined) return false
    this.#timers.splice(this.#timers.indexOf(next), 1)
    this.#now = next.at
    next.fire()
    await settle()
    return true
  }
}

/** One turn of the real event loop: every promise callback queued so far, and those they queue, run first. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}
