import { seriesByName } from '../metrics/named-series.ts'
import type { MetricsRegistry } from '../metrics/registry.ts'
import { recordTrend } from '../metrics/registry.ts'

type Trend = ReturnType<MetricsRegistry['trend']>
type Counter = ReturnType<MetricsRegistry['counter']>

/**
 * The `ws_*` series of one connection name in one scenario. Each series is
 * made on its first sample, so a connection that never received anything
 * leaves no empty `ws_recv_duration` behind; after that a sample is a field update.
 */
export class WsSeries {
  readonly #registry: MetricsRegistry
  readonly #tags: Readonly<Record<string, string>>
  #connecting: Trend | undefined
  #sessions: Counter | undefined
  #sent: Counter | undefined
  #received: Counter | undefined
  #recvDuration: Trend | undefined
  #sessionDuration: Trend | undefined

  constructor(registry: MetricsRegistry, tags: Readonly<Record<string, string>>) {
    this.#registry = registry
    this.#tags = tags
  }

  /** A handshake that completed: `ws_connecting` and `ws_sessions`. */
  opened(handshakeUs: number): void {
    recordTrend((this.#connecting ??= this.#registry.trend('ws_connecting', this.#tags)), handshakeUs)
    ;(this.#sessions ??= this.#registry.counter('ws_sessions', this.#tags)).value++
  }

  messageSent(): void {
    ;(this.#sent ??= this.#registry.counter('ws_msgs_sent', this.#tags)).value++
  }

  messageReceived(): void {
    ;(this.#received ??= this.#registry.counter('ws_msgs_received', this.#tags)).value++
  }

  /** A `recv`/`awaitRecv` that got its message, waited `us` for it. */
  recvDone(us: number): void {
    recordTrend((this.#recvDuration ??= this.#registry.trend('ws_recv_duration', this.#tags)), us)
  }

  /** A connection that had opened has closed, `us` after its connect started. */
  closed(us: number): void {
    recordTrend((this.#sessionDuration ??= this.#registry.trend('ws_session_duration', this.#tags)), us)
  }
}

/** The series of connections named `name` in the scenario that `metrics` belongs to. */
export const wsSeries = seriesByName((registry, tags) => new WsSeries(registry, tags))
