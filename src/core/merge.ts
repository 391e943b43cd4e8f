/**
 * Merging a split run: each instance ran one segment of the plan
 * (`CHAPERON_SEGMENT`) and wrote its own `LoadTestResult`; the segments of
 * each load test are joined here into the result of the whole run, exactly
 * (histograms added, never percentiles averaged), and its thresholds are
 * judged once on the whole. Pure: `chaperon merge` reads and writes the files.
 */

import { basename } from 'node:path'
import { parseResultThreshold, resultIdentity, resultMetrics } from './baseline.ts'
import { ChaperonError } from './errors.ts'
import type { LoadTestResult, MergeInfo, ScenarioErrorResult, ThresholdResult } from './result.ts'
import type { SourcedResult } from './result-files.ts'
import { parseSegment, type Segment, segmentLabels } from './segment.ts'
import { aggregate, type Series, seriesFromResult, toSeriesResult } from './series.ts'
import { evaluateThresholds } from './thresholds.ts'
import { ADDITIVE_GAUGES, type IntervalSample, seriesKey, TimelineBuilder, type TimeSeries } from './timeline.ts'
import { isPlainObject } from './validate.ts'

/** Options of {@link mergeResults}. */
export interface MergeOptions {
  /**
   * Merge the segments that are there when some of the sequence are missing,
   * instead of refusing; the merged result lists them in `merged.missing` and fails.
   * @default false
   */
  partial?: boolean
}

/** What {@link mergeResults} made. */
export interface MergeOutcome {
  /** One result per load test, in the order the tests first appear in the input; each has `merged` and no `segment`. */
  results: LoadTestResult[]
  /** What the user should know that did not stop the merge, one line each. */
  warnings: string[]
}

/** Instances that started further apart than this get a warning: their time series do not line up. */
const START_SPREAD_MS = 1000

/** A segment result with its segment parsed. */
interface Part extends SourcedResult {
  segment: Segment
}

/**
 * Merges the results of the instances of split runs, one merged result per
 * load test (results pair by test file name and test name). The results of a
 * load test must be segments (`segment` set) of one sequence and one plan,
 * each segment once, and, unless `options.partial`, every segment of the
 * sequence; otherwise throws CHAPERON_MERGE naming the files, what differs and
 * what to do. Metrics, time series and errors are added up exactly, and every
 * threshold is judged again on the whole (baseline budgets come back not
 * compared: apply a baseline with `applyBaseline`).
 */
export function mergeResults(inputs: readonly SourcedResult[], options: MergeOptions = {}): MergeOutcome {
  const tests = groupBy(inputs, (i) => resultIdentity(i.result))
  const results: LoadTestResult[] = []
  const warnings: string[] = []
  for (const group of tests.values()) {
    const { parts, merged } = checkGroup(group, options.partial === true)
    results.push(mergeParts(parts.map((p) => p.result), merged))
    const starts = parts.map((p) => Date.parse(p.result.startedAt))
    const spread = Math.max(...starts) - Math.min(...starts)
    if (spread > START_SPREAD_MS) {
      warnings.push(
        `the segments of ${testName(parts[0]!.result)} started up to ${spread / 1000}s apart (${parts.map((p) => `${p.source} at ${p.result.startedAt}`).join(', ')}). ` +
          "Their time series are merged by seconds since each instance's own start, so the seconds do not line up; set CHAPERON_START_AT on every instance so they start together.",
      )
    }
  }
  return { results, warnings }
}

/**
 * The results of a run in which the segments of split runs may sit beside
 * whole runs, as in `vitest --merge-reports` of the instances' blobs: each
 * load test whose results are all segments is merged (see
 * {@link mergeResults}), and the others are kept as they are. A load test
 * whose segments cannot be merged (one missing, plans that differ) keeps
 * them, and the reason is one of the `problems`.
 */
export function mergeSplitRuns(results: readonly LoadTestResult[]): { results: LoadTestResult[]; problems: ChaperonError[] } {
  const out: LoadTestResult[] = []
  const problems: ChaperonError[] = []
  for (const group of groupBy(results, resultIdentity).values()) {
    if (!group.every((r) => r.segment !== undefined)) {
      out.push(...group)
      continue
    }
    try {
      out.push(...mergeResults(group.map((result) => ({ result, source: `segment ${result.segment!.segment}` }))).results)
    } catch (error) {
      if (!(error instanceof ChaperonError)) throw error
      problems.push(error)
      out.push(...group)
    }
  }
  return { results: out, problems }
}

/** The parts of one load test in sequence order, after checking they can be merged. */
function checkGroup(group: readonly SourcedResult[], partial: boolean): { parts: Part[]; merged: MergeInfo } {
  const test = testName(group[0]!.result)
  const whole = group.find((g) => g.result.segment === undefined)
  if (whole !== undefined) {
    const others = group.filter((g) => g !== whole)
    throw refuse(
      others.length === 0
        ? `${whole.source} holds a whole run of ${test} (it has no segment), so there is nothing to merge. Merge the results of instances run with CHAPERON_SEGMENT; for a whole run, use chaperon report.`
        : `${whole.source} holds a whole run of ${test} (it has no segment), which cannot be merged with the results in ${sources(others)}: it already covers the entire plan. Leave it out, or merge each run's results separately.`,
    )
  }
  const parts = group.map((g): Part => ({ ...g, segment: segmentOf(g, test) }))
  const plans = groupBy(parts, (p) => p.result.segment!.plan)
  if (plans.size > 1) {
    throw refuse(
      `the results of ${test} come from different plans (${described('plan', plans)}): their instances ran different scenarios, executors, thresholds or HTTP options. ` +
        "Run every instance from the same commit and config, or merge each run's results separately.",
    )
  }
  const sequences = groupBy(parts, (p) => p.segment.sequence)
  if (sequences.size > 1) {
    throw refuse(
      `the results of ${test} split the run by different sequences (${described('sequence', sequences)}), so their segments overlap. ` +
        "Merge each run's results separately, and give every instance of a run the same CHAPERON_SEGMENT count (i/n) or CHAPERON_SEGMENT_SEQUENCE.",
    )
  }
  for (const [label, holders] of groupBy(parts, (p) => p.segment.label)) {
    if (holders.length > 1) {
      throw refuse(
        `${sources(holders)} all hold segment ${label} of ${test}, which would count it ${holders.length} times. ` +
          "They are probably from different runs: merge each run's results separately, and give each instance of a run its own CHAPERON_SEGMENT.",
      )
    }
  }
  parts.sort((a, b) => a.segment.index - b.segment.index)
  const sequence = parts[0]!.segment.sequence
  const present = new Set(parts.map((p) => p.segment.label))
  const missing = segmentLabels(sequence).filter((label) => !present.has(label))
  if (missing.length > 0 && !partial) {
    throw refuse(
      `the results of ${test} (${sources(parts)}) cover ${parts.length} of the ${parts[0]!.segment.count} segments of ${sequence}; missing: ${missing.join(', ')}. ` +
        'Add the results of the missing instances, or merge what is there with --partial (the merged result then fails).',
    )
  }
  return { parts, merged: { segments: parts.map((p) => p.segment.label), sequence, plan: parts[0]!.result.segment!.plan, missing } }
}

/** A part's segment, parsed and in lowest terms; a CHAPERON_MERGE error when the file's segment is not one. */
function segmentOf(input: SourcedResult, test: string): Segment {
  const s: Record<string, unknown> = isPlainObject(input.result.segment) ? input.result.segment : {}
  const bad = (why: string) => refuse(`${input.source} holds ${test} with a segment that cannot be read (${why}). Write it again with this chaperon, or leave it out.`)
  if (typeof s['segment'] !== 'string' || typeof s['sequence'] !== 'string' || typeof s['plan'] !== 'string') throw bad(`${JSON.stringify(input.result.segment)} is not { segment, sequence, plan }`)
  try {
    return parseSegment(s['segment'], s['sequence'])
  } catch (error) {
    throw bad(error instanceof Error ? error.message : String(error))
  }
}

/** The result of the whole run from its segments' results, in sequence order. */
function mergeParts(parts: readonly LoadTestResult[], merged: MergeInfo): LoadTestResult {
  const first = parts[0]!
  const series = mergeSeries(parts)
  const abortedBy = earliest(parts.map((p) => p.abortedBy))
  const interrupted = earliest(parts.map((p) => p.interrupted))
  const result: LoadTestResult = {
    schemaVersion: first.schemaVersion,
    name: first.name,
    ...(first.location === undefined ? {} : { location: first.location }),
    startedAt: parts.map((p) => p.startedAt).reduce((a, b) => (Date.parse(b) < Date.parse(a) ? b : a)),
    durationMs: Math.max(...parts.map((p) => p.durationMs)),
    status: 'failed',
    scenarios: first.scenarios,
    metrics: series.map(toSeriesResult),
    timeSeries: mergeTimeSeries(parts),
    thresholds: [],
    errors: mergeErrors(parts),
    ...(abortedBy === undefined ? {} : { abortedBy }),
    ...(interrupted === undefined ? {} : { interrupted }),
    merged,
  }
  // The instances of one plan have the same thresholds (the plan digest covers them).
  const thresholds = judgeThresholds(first.thresholds, result, series, parts)
  const clean = parts.every((p) => p.status === 'passed' && p.abortedBy === undefined && p.interrupted === undefined)
  const status = clean && merged.missing.length === 0 && thresholds.every((t) => t.ok) ? 'passed' : 'failed'
  return { ...result, status, thresholds }
}

/**
 * Each metric and tag set added up over the parts, sorted by metric and tags
 * as results are: trend histograms added (with their exact maximum),
 * counters and rates summed, `vus` and `vus_max` summed (each part had its
 * own VUs, and the parts ran the same schedule, so their ranges add up too),
 * other gauges keeping the last part's value and the overall range, as
 * `TimelineBuilder` merges seconds.
 */
function mergeSeries(parts: readonly LoadTestResult[]): Series[] {
  const bySeries = groupBy(parts.flatMap(seriesFromResult), (s) => seriesKey(s.metric, s.tags))
  return [...bySeries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, group]): Series => {
    const { metric, tags } = group[0]!
    const merged = aggregate(group, metric)!
    if (merged.type !== 'gauge' || !ADDITIVE_GAUGES.has(metric)) return { metric, tags, ...merged }
    const gauges = group.filter((s) => s.type === 'gauge')
    const sum = (of: (g: (typeof gauges)[number]) => number) => gauges.reduce((n, g) => n + of(g), 0)
    return { metric, type: 'gauge', tags, value: sum((g) => g.value), min: sum((g) => g.min), max: sum((g) => g.max) }
  })
}

/** The parts' time series merged second by second (by seconds since each part's own start), each part a source of a `TimelineBuilder`. */
function mergeTimeSeries(parts: readonly LoadTestResult[]): TimeSeries {
  const timeline = new TimelineBuilder(parts.length)
  parts.forEach((part, source) => {
    const seconds = new Map<number, IntervalSample[]>()
    for (const s of part.timeSeries.series) {
      for (const point of s.points) {
        const sample = { metric: s.metric, type: s.type, tags: s.tags, point } as IntervalSample
        const samples = seconds.get(point.t)
        if (samples === undefined) seconds.set(point.t, [sample])
        else samples.push(sample)
      }
    }
    for (const t of [...seconds.keys()].sort((a, b) => a - b)) timeline.add(source, t, seconds.get(t)!)
  })
  parts.forEach((_, source) => timeline.end(source))
  return timeline.toTimeSeries()
}

/** The parts' errors grouped by scenario, action, code and message, counts summed; the first stack is kept. */
function mergeErrors(parts: readonly LoadTestResult[]): ScenarioErrorResult[] {
  const errors = new Map<string, ScenarioErrorResult>()
  for (const part of parts) {
    for (const e of part.errors) {
      const key = JSON.stringify([e.scenario, e.action, e.code, e.message])
      const seen = errors.get(key)
      if (seen === undefined) errors.set(key, { ...e })
      else seen.count += e.count
    }
  }
  return [...errors.values()]
}

/**
 * `thresholds` judged again on the merged result, whose `series` are given
 * as merged. One that no longer parses names a metric no part recorded: the
 * whole has no samples of it either, so its verdict is the part's.
 */
function judgeThresholds(thresholds: readonly ThresholdResult[], merged: LoadTestResult, series: readonly Series[], parts: readonly LoadTestResult[]): ThresholdResult[] {
  const metrics = resultMetrics(...parts)
  const parsed = thresholds.map((t) => parseResultThreshold(t, metrics))
  const known = parsed.flatMap((p) => (p === undefined ? [] : [p.parsed]))
  const judged = evaluateThresholds(known, series, merged.durationMs / 1000, metrics, merged.timeSeries.series)
  let k = 0
  return thresholds.map((t, i) => (parsed[i] === undefined ? t : judged[k++]!))
}

/** The stop (abort or interruption) that came first, if any part had one. */
function earliest<T extends { atMs: number }>(stops: ReadonlyArray<T | undefined>): T | undefined {
  return stops.reduce<T | undefined>((a, b) => (b !== undefined && (a === undefined || b.atMs < a.atMs) ? b : a), undefined)
}

/** The inputs grouped by `key`, groups and members in input order. */
function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>()
  for (const item of items) {
    const k = key(item)
    const group = out.get(k)
    if (group === undefined) out.set(k, [item])
    else group.push(item)
  }
  return out
}

/** `plan 3fa2 in a.json, b.json; plan 9c1d in c.json`. */
function described(what: string, groups: ReadonlyMap<string, readonly SourcedResult[]>): string {
  return [...groups].map(([value, holders]) => `${what} ${value} in ${sources(holders)}`).join('; ')
}

function sources(inputs: readonly SourcedResult[]): string {
  return inputs.map((i) => i.source).join(', ')
}

/** How messages name a load test: `"checkout" of shop.load.ts`. */
function testName(result: Pick<LoadTestResult, 'name' | 'location'>): string {
  return result.location === undefined ? `"${result.name}"` : `"${result.name}" of ${basename(result.location.file)}`
}

function refuse(message: string): ChaperonError {
  return new ChaperonError('CHAPERON_MERGE', `chaperon merge: ${message}`)
}
