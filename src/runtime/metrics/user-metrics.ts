import { AsyncLocalStorage } from 'node:async_hooks'
import { BUILTIN_METRICS } from '../../core/builtin-metrics.ts'
import { ChaperonError } from '../../core/errors.ts'
import type { MetricType } from '../../core/result.ts'
import type { MetricInfo } from '../../core/series.ts'
import { invalid } from '../../core/validate.ts'
import type { ScenarioMetrics } from './scenario-metrics.ts'

/**
 * The metrics of the session whose code is running. Entered once per session
 * (not per iteration), so `myTrend.add()` finds its session without being handed it.
 */
export const activeMetrics = new AsyncLocalStorage<ScenarioMetrics>()

const declared = new Map<string, MetricInfo>()
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

/** What chaperon knows about a metric: a built-in one, or one declared with `new Trend()` and the like. */
export function metricInfo(name: string): MetricInfo | undefined {
  return BUILTIN_METRICS[name] ?? declared.get(name)
}

/** The names of every metric thresholds may name. */
export function knownMetricNames(): string[] {
  return [...Object.keys(BUILTIN_METRICS), ...declared.keys()]
}

function declare(name: string, info: MetricInfo): string {
  if (typeof name !== 'string' || !NAME.test(name)) throw invalid('A custom metric name', "letters, digits and underscores, such as 'cart_size'", name)
  if (BUILTIN_METRICS[name] !== undefined) {
    throw new ChaperonError('CHAPERON_METRIC_CONFLICT', `"${name}" is one of chaperon's built-in metrics; give your ${info.type} another name, such as "my_${name}".`)
  }
  const existing = declared.get(name)
  if (existing !== undefined && (existing.type !== info.type || existing.unit !== info.unit)) {
    throw new ChaperonError('CHAPERON_METRIC_CONFLICT', `Metric "${name}" is already declared as a ${describe(existing)}; it cannot also be a ${describe(info)}. Use one declaration, or another name.`)
  }
  declared.set(name, info)
  return name
}

function describe(info: MetricInfo): string {
  return info.type === 'trend' && info.unit === 'time' ? 'time trend' : info.type
}

function record(name: string, type: MetricType, value: number, tags: Record<string, string> | undefined): void {
  const metrics = activeMetrics.getStore()
  if (metrics === undefined) {
    throw new ChaperonError('CHAPERON_NO_SESSION', `${name}.add() was called outside a running scenario; call it from scenario code, where it records into that session's load test.`)
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(`${name}.add() value`, 'a finite number', value)
  metrics.recordCustom(name, type, value, tags)
}

/**
 * A custom trend: every value is kept in an HDR histogram, so thresholds can
 * ask for `p(95)`, `avg`, `max` and the like. Declare it at the top of the test
 * file, so thresholds can name it. As in k6, `isTime` marks values as
 * milliseconds. Values are kept to three decimals, from 0 to 3,600,000.
 *
 * ```ts
 * const cartSize = new Trend('cart_size')
 * // in a scenario:
 * cartSize.add(items.length, { shop: 'eu' })
 * ```
 */
export class Trend {
  readonly name: string
  readonly isTime: boolean

  constructor(name: string, isTime = false) {
    this.name = declare(name, { type: 'trend', unit: isTime ? 'time' : 'count', description: 'custom trend' })
    this.isTime = isTime
  }

  add(value: number, tags?: Record<string, string>): void {
    record(this.name, 'trend', value, tags)
  }
}

/** A custom counter: a sum, shown as a total and a rate per second. */
export class Counter {
  readonly name: string

  constructor(name: string) {
    this.name = declare(name, { type: 'counter', unit: 'count', description: 'custom counter' })
  }

  add(value: number, tags?: Record<string, string>): void {
    record(this.name, 'counter', value, tags)
  }
}

/** A custom rate: the share of added values that are truthy (non-zero). */
export class Rate {
  readonly name: string

  constructor(name: string) {
    this.name = declare(name, { type: 'rate', unit: 'count', description: 'custom rate' })
  }

  add(value: boolean | number, tags?: Record<string, string>): void {
    record(this.name, 'rate', typeof value === 'boolean' ? Number(value) : value, tags)
  }
}

/** A custom gauge: the last value added, with the smallest and largest seen. */
export class Gauge {
  readonly name: string

  constructor(name: string) {
    this.name = declare(name, { type: 'gauge', unit: 'count', description: 'custom gauge' })
  }

  add(value: number, tags?: Record<string, string>): void {
    record(this.name, 'gauge', value, tags)
  }
}
