import type { ProgressMessage } from '../core/progress.ts'

/**
 * A reporter that hears load tests while they run: their progress each
 * second, each closed second of their metrics, and their end. The chaperon
 * plugin opens the live channel to the load tests' workers when any of its
 * reporters is `live`, and passes every message to each of those.
 */
export interface LiveReporter {
  /** Whether this reporter wants the live channel. */
  readonly live: boolean
  onLive(message: ProgressMessage): void
}

/** True when `reporter` implements {@link LiveReporter} and wants the channel. */
export function isLive<R extends object>(reporter: R): reporter is R & LiveReporter {
  return typeof (reporter as Partial<LiveReporter>).onLive === 'function' && (reporter as Partial<LiveReporter>).live === true
}
