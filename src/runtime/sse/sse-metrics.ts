import { seriesByName } from '../metrics/named-series.ts'
import type { MetricsRegistry } from '../metrics/registry.ts'
import { recordTrend } from '../metrics/registry.ts'

type Trend = ReturnType<MetricsRegistry['trend']>
type Counter = ReturnType<MetricsRegistry['counter']>

/**
 * The `sse_*` series of one stream name in one scenario, each made on its
 * first sample (as the `ws_*` ones), so a stream that never opened leaves no
 * empty trend behind.
 */
export class SseSeries {
  readonly #registry: MetricsRegistry
  readonly #tags: Readonly<Record<string, string>>
  #connecting: Trend | undefined
  #events: Counter | undefined
  #eventDuration: Trend | undefined
  #reconnects: Counter | undefined

  constructor(registry: MetricsRegistry, tags: Readonly<Record<string, string>>) {
    this.#registry = registry
    this.#tags = tags
  }

  /** A connection that opened (200, `text/event-stream`), `us` after it started: `sse_connecting`. */
  opened(us: number): void {
    recordTrend((this.#connecting ??= this.#registry.trend('sse_connecting', this.#tags)), us)
  }

  /** An event that arrived `us` after its stream opened: `sse_events` and `sse_event_duration`. */
  event(us: number): void {
    ;(this.#events ??= this.#registry.counter('sse_events', this.#tags)).value++
    recordTrend((this.#eventDuration ??= this.#registry.trend('sse_event_duration', this.#tags)), us)
  }

  /** A reconnection started: `sse_reconnects`. */
  reconnected(): void {
    ;(this.#reconnects ??= this.#registry.counter('sse_reconnects', this.#tags)).value++
  }
}

/** The series of streams named `name` in the scenario that `metrics` belongs to. */
export const sseSeries = seriesByName((registry, tags) => new SseSeries(registry, tags))
