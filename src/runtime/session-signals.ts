import { isDeepStrictEqual } from 'node:util'
import { clearTimeout, setTimeout } from 'node:timers'

/** What `awaitSignal()` waits for: a value (compared deeply) or a predicate. Leave it out for any signal. */
export type SignalMatch = unknown

interface Waiter {
  match: SignalMatch
  resolve(result: { value: unknown } | undefined): void
  reject(reason: unknown): void
  timer: NodeJS.Timeout
}

/**
 * A session's inbox of signals. A signal that nobody waits for yet is kept, so
 * `signalParent()` before the parent's `awaitSignal()` is not lost; each wait
 * takes the oldest signal that matches.
 */
export class Mailbox {
  readonly #queue: unknown[] = []
  readonly #waiters: Waiter[] = []

  deliver(value: unknown): void {
    const i = this.#waiters.findIndex((w) => matches(w.match, value))
    if (i === -1) {
      this.#queue.push(value)
      return
    }
    const [waiter] = this.#waiters.splice(i, 1)
    clearTimeout(waiter!.timer)
    waiter!.resolve({ value })
  }

  /** The first matching signal, or undefined after `timeoutMs`; rejects with the reason when `signal` aborts. */
  take(match: SignalMatch, timeoutMs: number, signal: AbortSignal): Promise<{ value: unknown } | undefined> {
    const i = this.#queue.findIndex((v) => matches(match, v))
    if (i !== -1) return Promise.resolve({ value: this.#queue.splice(i, 1)[0] })
    if (signal.aborted) return Promise.reject(signal.reason)
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        this.#remove(waiter)
        reject(signal.reason)
      }
      const waiter: Waiter = {
        match,
        resolve: (result) => {
          signal.removeEventListener('abort', onAbort)
          resolve(result)
        },
        reject,
        timer: setTimeout(() => {
          this.#remove(waiter)
          waiter.resolve(undefined)
        }, timeoutMs),
      }
      signal.addEventListener('abort', onAbort, { once: true })
      this.#waiters.push(waiter)
    })
  }

  /** Drops the signals nobody waits for. */
  clear(): void {
    // Checked first: truncating even an empty array costs on the per-iteration path.
    if (this.#queue.length > 0) this.#queue.length = 0
  }

  #remove(waiter: Waiter): void {
    clearTimeout(waiter.timer)
    const i = this.#waiters.indexOf(waiter)
    if (i !== -1) this.#waiters.splice(i, 1)
  }
}

function matches(match: SignalMatch, value: unknown): boolean {
  if (match === undefined) return true
  if (typeof match === 'function') {
    try {
      return Boolean((match as (v: unknown) => unknown)(value))
    } catch {
      return false
    }
  }
  return isDeepStrictEqual(match, value)
}
