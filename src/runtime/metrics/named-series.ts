import type { MetricsRegistry } from './registry.ts'
import { normalizeTags } from './registry.ts'
import type { ScenarioMetrics } from './scenario-metrics.ts'

/**
 * A lookup of the series set made by `make` for each name (a WebSocket
 * connection's, a Server-Sent Events stream's) in each scenario: every
 * session of a scenario shares one set per name, tagged with the scenario's
 * tags and `name`. Keyed by the scenario's metrics, so the cache goes away
 * with the scenario.
 */
export function seriesByName<T>(make: (registry: MetricsRegistry, tags: Readonly<Record<string, string>>) => T): (metrics: ScenarioMetrics, name: string) => T {
  const cache = new WeakMap<ScenarioMetrics, Map<string, T>>()
  return (metrics, name) => {
    let byName = cache.get(metrics)
    if (byName === undefined) cache.set(metrics, (byName = new Map()))
    let series = byName.get(name)
    if (series === undefined) byName.set(name, (series = make(metrics.registry, normalizeTags({ ...metrics.tags, name }))))
    return series
  }
}
