import type { IntervalSample } from './timeline.ts'

/**
 * Live progress of a running load test: what the runtime (in a Vitest worker)
 * sends every second, and what the summary reporter (in the main process) draws.
 */

/** The environment variable through which the main process tells load-test workers where its progress socket listens. */
export const PROGRESS_SOCKET_ENV = 'CHAPERON_PROGRESS_SOCKET'

/** The state of a load test after one more second. */
export interface ProgressSnapshot {
  /** Milliseconds since the load test started. */
  elapsedMs: number
  /** The longest scenario's planned end (startTime + duration), in ms. */
  totalMs: number
  /** Active virtual users now. */
  vus: number
  /** Requests completed in the last interval, per second. */
  rps: number
  /** p95 of `http_req_duration` over the last interval in ms; null when no request finished in it. */
  p95Ms: number | null
  /** Failed requests plus session errors, since the start. */
  errors: number
  /** `dropped_iterations` since the start. */
  dropped: number
}

/**
 * One message on the progress channel: a test's snapshot, one closed second
 * of its metrics (for reporters that stream, such as InfluxDB), or its end.
 */
export type ProgressMessage =
  | ({ type: 'progress'; testId: string; name: string } & ProgressSnapshot)
  | { type: 'second'; testId: string; name: string; t: number; samples: IntervalSample[] }
  | { type: 'end'; testId: string }
