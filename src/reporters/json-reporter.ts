import { join } from 'node:path'
import type { Reporter, TestCase, Vitest } from 'vitest/node'
import { PERCENTILES } from '../core/histogram.ts'
import { mergeSplitRuns } from '../core/merge.ts'
import type { LoadTestResult } from '../core/result.ts'
import { expectKnownKeys, expectObject } from '../core/validate.ts'
import { expectPath, fromRoot, reportWriteFailure, resultFileStem, writeFileAtomic } from './files.ts'

/** Options of the `json` reporter. */
export interface JsonReporterOptions {
  /**
   * The directory the result files go to, created when missing. A relative
   * path is taken from Vitest's root (`root` in the Vitest config).
   * @default 'chaperon-results'
   */
  outputDir?: string
}

/** The defaults of the `json` reporter's options. */
export const JSON_REPORTER_DEFAULTS: Readonly<Required<JsonReporterOptions>> = Object.freeze({ outputDir: 'chaperon-results' })

/** Checks the `json` reporter's options and fills in the defaults; throws a ChaperonError on a mistake. */
export function resolveJsonReporterOptions(options: unknown = {}): Readonly<Required<JsonReporterOptions>> {
  const given = expectObject(options, "the 'json' reporter's options", "{ outputDir: 'results/load' }")
  expectKnownKeys(given, ['outputDir'], "the 'json' reporter")
  const outputDir = given['outputDir'] === undefined ? JSON_REPORTER_DEFAULTS.outputDir : expectPath(given['outputDir'], "the 'json' reporter's outputDir option", "'results/load'")
  return Object.freeze({ outputDir })
}


// The order keys are written in: the order of the fields in result.ts. Keys not
// listed (from a newer result) follow, sorted, so nothing is dropped.
const RESULT_KEYS = ['schemaVersion', 'name', 'location', 'startedAt', 'durationMs', 'status', 'scenarios', 'metrics', 'timeSeries', 'thresholds', 'errors', 'abortedBy', 'interrupted', 'segment', 'merged']
const LOCATION_KEYS = ['file', 'line', 'column']
const SCENARIO_KEYS = ['name', 'executor', 'scenario']
const SERIES_KEYS = ['metric', 'type', 'tags', 'trend', 'value', 'passes', 'total', 'min', 'max', 'points']
const TREND_KEYS = ['count', 'min', 'max', 'mean', 'stdev', 'percentiles', 'histogram']
const PERCENTILE_KEYS = PERCENTILES.map((p) => `p${p}`)
const TIME_SERIES_KEYS = ['intervalMs', 'series']
const POINT_KEYS = ['t', 'count', 'value', 'passes', 'total', 'min', 'mean', 'p50', 'p90', 'p95', 'p99', 'max', 'histogram']
const THRESHOLD_KEYS = ['key', 'expression', 'ok', 'actual', 'display', 'baseline', 'change']
const ERROR_KEYS = ['scenario', 'action', 'code', 'message', 'stack', 'count']
const ABORTED_BY_KEYS = ['key', 'expression', 'display', 'atMs']
const INTERRUPTED_KEYS = ['by', 'atMs']
const SEGMENT_KEYS = ['segment', 'sequence', 'plan']
const MERGED_KEYS = ['segments', 'sequence', 'plan', 'missing']

/**
 * One load test's result as the `json` reporter writes it: the
 * `LoadTestResult` itself, indented by two spaces, with a newline at the end.
 * Keys come in a fixed order whatever order the object had (fields in the
 * order of `docs/result-schema.md`, tags sorted, percentiles ascending), so
 * the same result always gives the same text and files diff well.
 */
export function renderJson(result: LoadTestResult): string {
  return `${JSON.stringify(canonical(result), null, 2)}\n`
}

function canonical(result: LoadTestResult): unknown {
  const r = ordered(result, RESULT_KEYS)
  if (isRecord(r['location'])) r['location'] = ordered(r['location'], LOCATION_KEYS)
  if (Array.isArray(r['scenarios'])) r['scenarios'] = r['scenarios'].map((s: unknown) => ordered(s, SCENARIO_KEYS))
  if (Array.isArray(r['metrics'])) r['metrics'] = r['metrics'].map(series)
  if (isRecord(r['timeSeries'])) {
    const ts = ordered(r['timeSeries'], TIME_SERIES_KEYS)
    if (Array.isArray(ts['series'])) ts['series'] = ts['series'].map(series)
    r['timeSeries'] = ts
  }
  if (Array.isArray(r['thresholds'])) r['thresholds'] = r['thresholds'].map((t: unknown) => ordered(t, THRESHOLD_KEYS))
  if (Array.isArray(r['errors'])) r['errors'] = r['errors'].map((e: unknown) => ordered(e, ERROR_KEYS))
  if (isRecord(r['abortedBy'])) r['abortedBy'] = ordered(r['abortedBy'], ABORTED_BY_KEYS)
  if (isRecord(r['interrupted'])) r['interrupted'] = ordered(r['interrupted'], INTERRUPTED_KEYS)
  if (isRecord(r['segment'])) r['segment'] = ordered(r['segment'], SEGMENT_KEYS)
  if (isRecord(r['merged'])) r['merged'] = ordered(r['merged'], MERGED_KEYS)
  return r
}

/** A `SeriesResult` or a `SeriesTimeline`. */
function series(value: unknown): unknown {
  if (!isRecord(value)) return value
  const s = ordered(value, SERIES_KEYS)
  if (isRecord(s['tags'])) s['tags'] = ordered(s['tags'], [])
  if (isRecord(s['trend'])) {
    const trend = ordered(s['trend'], TREND_KEYS)
    if (isRecord(trend['percentiles'])) trend['percentiles'] = ordered(trend['percentiles'], PERCENTILE_KEYS)
    s['trend'] = trend
  }
  if (Array.isArray(s['points'])) s['points'] = s['points'].map((p: unknown) => ordered(p, POINT_KEYS))
  return s
}

/** A copy of `value` with the `first` keys in that order, then the others sorted; undefined values left out. */
function ordered(value: unknown, first: readonly string[]): Record<string, unknown> {
  if (!isRecord(value)) return value as Record<string, unknown>
  const out: Record<string, unknown> = {}
  for (const key of first) if (value[key] !== undefined) out[key] = value[key]
  for (const key of Object.keys(value).sort()) if (!(key in out) && value[key] !== undefined) out[key] = value[key]
  return out
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * Writes each load test's `LoadTestResult` to
 * `<outputDir>/<test file>--<test name>.json` as soon as the test ends (see
 * `resultFileStem`), atomically. Vitest waits for the writes at the end of
 * the run. A write that fails is printed as an error through Vitest's logger;
 * the run and the other files carry on. In a `vitest --merge-reports` run of
 * a split run's instances, each split load test is also written merged, at
 * the end of the run.
 */
export class JsonReporter implements Reporter {
  /** The resolved options. */
  readonly options: Readonly<Required<JsonReporterOptions>>
  #vitest: Vitest | undefined
  #writes: Array<Promise<void>> = []
  #segments: LoadTestResult[] = []

  constructor(options: JsonReporterOptions = {}) {
    this.options = resolveJsonReporterOptions(options)
  }

  /** The absolute directory the files go to: `outputDir` from Vitest's root (the working directory before `onInit`). */
  get outputDir(): string {
    return fromRoot(this.#vitest, this.options.outputDir)
  }

  onInit(vitest: Vitest): void {
    this.#vitest = vitest
  }

  onTestRunStart(): void {
    this.#writes = []
    this.#segments = []
  }

  onTestCaseResult(testCase: TestCase): void {
    const result = testCase.meta().chaperon
    if (result === undefined) return
    if (result.segment !== undefined && this.#vitest?.config.mergeReports) this.#segments.push(result)
    this.#write(result)
  }

  async onTestRunEnd(): Promise<void> {
    for (const merged of mergeSplitRuns(this.#segments).results) if (merged.merged !== undefined) this.#write(merged)
    this.#segments = []
    const writes = this.#writes
    this.#writes = []
    await Promise.all(writes)
  }

  #write(result: LoadTestResult): void {
    const path = join(this.outputDir, `${resultFileStem(result)}.json`)
    this.#writes.push(
      Promise.resolve()
        .then(() => writeFileAtomic(path, renderJson(result)))
        .catch((error: unknown) => reportWriteFailure(this.#vitest, 'json', path, `the result of "${result.name}"`, error)),
    )
  }
}

