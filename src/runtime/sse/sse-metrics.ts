import type { MetricsRegistry } from '../metrics/registry.ts'
import { normalizeTags, recordTrend } from '../metrics/registry.ts'
import type { ScenarioMetrics } from '../metrics/scenario-metrics.ts'

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

  /** An event that arrived `us` after its connection started: `sse_events` and `sse_event_duration`. */
  event(us: number): void {
    ;(this.#events ??= this.#registry.counter('sse_events', this.#tags)).value++
    recordTrend((this.#eventDuration ??= this.#registry.trend('sse_event_duration', this.#tags)), us)
  }

  /** A reconnection started: `sse_reconnects`. */
  reconnected(): void {
    ;(this.#reconnects ??= this.#registry.counter('sse_reconnects', this.#tags)).value++
  }
}

// Keyed by the scenario's metrics, so every session of a scenario shares one set per name
// and the cache goes away with the scenario.
const cache = new WeakMap<ScenarioMetrics, Map<string, SseSeries>>()

/** The series of streams named `name` in the scenario that `metrics` belongs to. */
export function sseSeries(metrics: ScenarioMetrics, name: string): SseSeries {
  let byName = cache.get(metrics)
  if (byName === undefined) cache.set(metrics, (byName = new Map()))
  let series = byName.get(name)
  if (series === undefined) {
    series = new SseSeries(metrics.registry, normalizeTags({ ...metrics.tags, name }))
    byName.set(name, series)
  }
  return series
}
