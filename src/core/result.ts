/**
 * `LoadTestResult` is the one contract between the runtime, the reporters and
 * the CLI: plain JSON, versioned by `schemaVersion`. Everything downstream reads
 * only this. Documented field by field in `docs/result-schema.md`.
 */

import type { TimeSeries } from './timeline.ts'

/** The version of the `LoadTestResult` shape this build writes and reads. */
export const SCHEMA_VERSION = 1

/** The kind of a metric, as in k6. */
export type MetricType = 'trend' | 'counter' | 'rate' | 'gauge'

/** Tags of one series, sorted by key. */
export type Tags = Readonly<Record<string, string>>

/** Summary of one trend series. Times are in milliseconds. */
export interface TrendSummary {
  count: number
  min: number
  max: number
  mean: number
  stdev: number
  /** Percentile → value, keys as in `p50`, `p99.9`. */
  percentiles: Record<string, number>
  /** The HDR histogram in integer microseconds, compressed and base64-encoded. */
  histogram: string
}

/** One metric with one tag set. */
export type SeriesResult =
  | { metric: string; type: 'trend'; tags: Tags; trend: TrendSummary }
  | { metric: string; type: 'counter'; tags: Tags; value: number }
  | { metric: string; type: 'rate'; tags: Tags; passes: number; total: number }
  | { metric: string; type: 'gauge'; tags: Tags; value: number; min: number; max: number }

/** The verdict of one threshold expression. */
export interface ThresholdResult {
  /** The metric key as written, e.g. `http_req_duration{name:GET /}`. */
  key: string
  /** The expression as written, e.g. `p(95)<200`. */
  expression: string
  ok: boolean
  /** The observed value in the expression's unit (ms for times); null when the metric had no samples. */
  actual: number | null
  /** The observed value formatted for people, e.g. `p(95)=148.21ms`. */
  display: string
  /**
   * Baseline budgets only (`p(95)<+10% baseline`): the baseline run's value of
   * the same aggregation and key, in `actual`'s unit; null when it was not
   * compared (no baseline, or a baseline without samples).
   */
  baseline?: number | null
  /** Baseline budgets only: the change from `baseline` to `actual`, in percent (12.5 is +12.5 %); null when not compared or the baseline is 0. */
  change?: number | null
}

/** A scenario as it ran. */
export interface ScenarioResult {
  name: string
  executor: string
  /** The scenario function's own name. */
  scenario: string
}

/**
 * A distinct error seen in a run: scenario code that threw, or a session action
 * that failed (a timeout, a WebSocket error). Grouped by scenario, action, code
 * and message; each is also counted in the `errors` metric.
 */
export interface ScenarioErrorResult {
  scenario: string
  /** What failed: `iteration` for scenario code that threw, else the action, such as `await` or `ws.connect`. */
  action: string
  /** The `error_code` tag it was counted under. */
  code: string
  message: string
  /** The stack of the first occurrence, when the error had one. */
  stack?: string
  count: number
}

/** Everything one `loadTest()` produced. */
export interface LoadTestResult {
  schemaVersion: typeof SCHEMA_VERSION
  /** The `loadTest()` name. */
  name: string
  /** Where `loadTest()` was called, when known. */
  location?: { file: string; line: number; column: number }
  /** ISO time the first VU started. */
  startedAt: string
  /** Wall time from start to end, in milliseconds. */
  durationMs: number
  /** `passed` when every threshold held and the run was neither aborted nor interrupted. */
  status: 'passed' | 'failed'
  scenarios: ScenarioResult[]
  metrics: SeriesResult[]
  /** Every metric second by second, for charts and windowed thresholds. */
  timeSeries: TimeSeries
  thresholds: ThresholdResult[]
  errors: ScenarioErrorResult[]
  /** Set when an `abortOnFail` threshold failed while the test ran and stopped it early. */
  abortedBy?: { key: string; expression: string; display: string; atMs: number }
  /**
   * Set when the run was stopped from outside before its end: the result holds
   * what was measured until then, and the test fails.
   */
  interrupted?: Interruption
  /**
   * Set when this instance ran one segment of a split run (`CHAPERON_SEGMENT`):
   * every figure covers that share only, and `status` ignores the thresholds,
   * which `chaperon merge` judges on the whole.
   */
  segment?: SegmentInfo
  /** Set on a result that `chaperon merge` made from the segments of a split run. */
  merged?: MergeInfo
}

/** Which part of a split run a result covers, and which run it belongs to. */
export interface SegmentInfo {
  /** The segment as `from:to` in lowest terms, e.g. `1/3:2/3`. */
  segment: string
  /** The boundaries every instance of the run split by, e.g. `0,1/3,2/3,1`. */
  sequence: string
  /**
   * A digest of the load test's plan before the split (its scenarios,
   * executors, thresholds and HTTP options): the instances of one run have the
   * same, and `chaperon merge` refuses results whose plans differ.
   */
  plan: string
}

/** What a merged result was made of. */
export interface MergeInfo {
  /** The segments merged, in sequence order. */
  segments: string[]
  /** Their sequence. */
  sequence: string
  /** Their plan digest (see `SegmentInfo.plan`). */
  plan: string
  /** Segments of the sequence that were not merged (`chaperon merge --partial`); the result then fails. */
  missing: string[]
}

/** What stopped a load test from outside, and when. */
export interface Interruption {
  /**
   * `SIGINT` or `SIGTERM` (Ctrl-C, a CI job cancelled), `cancel` (Vitest
   * cancelled the run: Ctrl-C in watch mode, `--bail`), or `timeout` (the
   * test's Vitest timeout passed).
   */
  by: 'SIGINT' | 'SIGTERM' | 'cancel' | 'timeout'
  /** When, in ms after the start. */
  atMs: number
}
