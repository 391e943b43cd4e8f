import { stripVTControlCharacters } from 'node:util'
import { formatDuration } from '../core/duration.ts'
import { createHistogram, type Histogram, percentile, toMillis } from '../core/histogram.ts'
import type { LoadTestResult, Tags, ThresholdResult } from '../core/result.ts'
import { aggregate, type Series, seriesFromResult } from '../core/series.ts'
import type { Palette } from './colors.ts'

/** Requests of one scenario and request name. Times are in milliseconds. */
export interface HttpRow {
  scenario: string
  name: string
  count: number
  /** Requests per second over the whole test. */
  rate: number
  p50: number
  p90: number
  p95: number
  p99: number
  max: number
  /** Requests counted as failed by `http_req_failed`. */
  failures: number
}

/** Failed requests that share one `error_code`. */
export interface FailureRow {
  /** The `error_code` tag, such as `ECONNREFUSED` or `HTTP_503`. */
  code: string
  count: number
  /** Share of all HTTP requests, from 0 to 1. */
  share: number
  /** The request names that failed with it, most failures first. */
  names: string[]
}

/** Shown in place of a tag the series lacks. */
const MISSING = '-'
// Request names listed after each error code; the rest are counted.
const FAILURE_NAMES = 3

/** A row with its merged histogram, so a total row can merge further. */
interface HttpGroup {
  row: HttpRow
  histogram: Histogram
}

/** Metrics the lines under the table read; only these are decoded for them. */
const STAT_METRICS = new Set(['iterations', 'iteration_duration', 'checks', 'data_sent', 'data_received', 'vus', 'session_aborts', 'dropped_iterations', 'ws_sessions', 'ws_connecting', 'ws_msgs_sent', 'ws_msgs_received', 'ws_recv_duration', 'sse_connecting', 'sse_events', 'sse_event_duration', 'sse_reconnects'])

/**
 * One row per (scenario, name) of the `http_req_duration` series, sorted by
 * scenario then name. Each row's histograms are merged before percentiles are
 * read, because averaging per-status percentiles would be wrong; failures come
 * from `http_req_failed` grouped the same way.
 */
export function httpRows(result: Pick<LoadTestResult, 'metrics' | 'durationMs'>): HttpRow[] {
  return httpGroups(result).map((g) => g.row)
}

function httpGroups(result: Pick<LoadTestResult, 'metrics' | 'durationMs'>): HttpGroup[] {
  const durations = groupBy(result.metrics, 'http_req_duration', rowKey)
  const failed = groupBy(result.metrics, 'http_req_failed', rowKey)
  const groups: HttpGroup[] = []
  for (const [key, group] of durations) {
    const [scenario = MISSING, name = MISSING] = key.split('\0')
    const merged = aggregate(seriesFromResult({ metrics: group }), 'http_req_duration')
    const failures = aggregate(seriesFromResult({ metrics: failed.get(key) ?? [] }), 'http_req_failed')
    if (merged?.type !== 'trend') continue
    // Summaries keep the exact max; a decoded histogram only knows its bucket's upper edge.
    const max = Math.max(...group.map((s) => (s.type === 'trend' ? s.trend.max : 0)))
    const row = toRow(scenario, name, merged.histogram, max, failures?.type === 'rate' ? failures.passes : 0, result.durationMs)
    groups.push({ row, histogram: merged.histogram })
  }
  return groups.sort((a, b) => compare(a.row.scenario, b.row.scenario) || compare(a.row.name, b.row.name))
}

/**
 * Failed requests grouped by `error_code`, most frequent first (then by code),
 * from the `http_req_failed` series. A failed series without the tag (a result
 * written before unexpected statuses were tagged) is grouped as `HTTP_<status>`,
 * as the runtime tags it now.
 */
export function failureRows(result: Pick<LoadTestResult, 'metrics'>): FailureRow[] {
  const groups = new Map<string, { count: number; names: Map<string, number> }>()
  let requests = 0
  for (const s of result.metrics) {
    if (s.metric !== 'http_req_failed' || s.type !== 'rate') continue
    requests += s.total
    if (s.passes === 0) continue
    const code = s.tags['error_code'] ?? (s.tags['status'] !== undefined && s.tags['status'] !== '0' ? `HTTP_${s.tags['status']}` : MISSING)
    let group = groups.get(code)
    if (group === undefined) groups.set(code, (group = { count: 0, names: new Map() }))
    group.count += s.passes
    const name = s.tags['name'] ?? MISSING
    group.names.set(name, (group.names.get(name) ?? 0) + s.passes)
  }
  return [...groups]
    .map(([code, g]) => ({
      code,
      count: g.count,
      share: requests === 0 ? 0 : g.count / requests,
      names: [...g.names].sort((a, b) => b[1] - a[1] || compare(a[0], b[0])).map(([name]) => name),
    }))
    .sort((a, b) => b.count - a.count || compare(a.code, b.code))
}

/**
 * The end-of-test terminal summary of one load test: header, per-request table,
 * failed requests by error code, iterations, checks, data, VUs, scenario errors
 * and threshold verdicts. Pure:
 * colours come from `palette`, so callers decide about TTYs and `NO_COLOR`.
 * Ends with a newline.
 */
export function renderSummary(result: LoadTestResult, palette: Palette): string {
  const series = seriesFromResult({ metrics: result.metrics.filter((m) => STAT_METRICS.has(m.metric)) })
  const sections = [
    header(result, palette),
    httpTable(result, palette),
    failures(result, palette),
    stats(series, result.durationMs, palette),
    errors(result, palette),
    thresholds(result.thresholds, palette),
  ].filter((lines) => lines.length > 0)
  return `${sections.map((lines) => lines.join('\n')).join('\n\n')}\n`
}

/** Milliseconds with about three significant digits: `0.42ms`, `12.3ms`, `148ms`, `1.24s`, `2m5s`. */
export function formatMillis(ms: number): string {
  if (ms === 0) return '0ms'
  if (ms < 1) return `${ms.toFixed(2)}ms`
  if (ms < 999.5) return `${ms.toPrecision(3)}ms`
  if (ms < 59_950) return `${(ms / 1000).toPrecision(3)}s`
  return formatDuration(ms)
}

/** Bytes in decimal units as k6 shows them: `512 B`, `1.23 kB`, `45.6 MB`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB']
  let value = bytes
  let unit = 0
  while (value >= 999.5 && unit < units.length - 1) {
    value /= 1000
    unit++
  }
  return unit === 0 ? `${Math.round(value)} B` : `${value.toPrecision(3)} ${units[unit]}`
}

function header(result: LoadTestResult, p: Palette): string[] {
  const status = result.status === 'passed' ? p.green('✓ passed') : p.red('✗ failed')
  const lines = [`${p.bold(result.name)}  ${status}  ${p.dim(`in ${formatDuration(result.durationMs)}`)}`]
  if (result.scenarios.length > 0) {
    const list = result.scenarios.map((s) => `${p.cyan(s.name)} ${p.dim(`(${s.executor})`)}`)
    lines.push(`  scenarios: ${list.join(', ')}`)
  }
  const abort = result.abortedBy
  if (abort !== undefined) {
    lines.push(`  ${p.red('aborted')} after ${formatDuration(abort.atMs)}: ${abort.key} '${abort.expression}' ${abort.display} (abortOnFail)`)
  }
  const stopped = result.interrupted
  if (stopped !== undefined) {
    lines.push(`  ${p.red(`interrupted (${stopped.by})`)} after ${formatDuration(stopped.atMs)}: the figures cover the run until then`)
  }
  if (result.segment !== undefined) {
    lines.push(`  ${p.yellow(`segment ${result.segment.segment}`)} of ${result.segment.sequence}: the figures and thresholds cover this share only; chaperon merge judges the whole`)
  }
  const merged = result.merged
  if (merged !== undefined) {
    lines.push(`  merged from segments ${merged.segments.join(', ')}${merged.missing.length === 0 ? '' : `; ${p.red(`missing ${merged.missing.join(', ')}`)}`}`)
  }
  return lines
}

function httpTable(result: LoadTestResult, p: Palette): string[] {
  const groups = httpGroups(result)
  if (groups.length === 0) return result.metrics.some((m) => m.metric.startsWith('ws_') || m.metric.startsWith('sse_')) ? [] : [p.dim('  no HTTP requests')]
  const cells = groups.map((g) => rowCells(g.row, p))
  if (groups.length > 1) {
    const all = createHistogram()
    for (const g of groups) all.add(g.histogram)
    const max = Math.max(...groups.map((g) => g.row.max))
    const failures = groups.reduce((sum, g) => sum + g.row.failures, 0)
    cells.push(rowCells(toRow('total', '', all, max, failures, result.durationMs), p).map((c, i) => (i === 0 ? p.bold(c) : c)))
  }
  const head = ['scenario', 'name', 'count', 'req/s', 'p50', 'p90', 'p95', 'p99', 'max', 'failures'].map(p.dim)
  return table([head, ...cells], 2)
}

function rowCells(r: HttpRow, p: Palette): string[] {
  const failures = r.failures === 0 ? p.dim('0') : p.red(`${r.failures} (${percent(r.failures, r.count)})`)
  return [
    p.cyan(r.scenario),
    r.name,
    String(r.count),
    formatRate(r.rate),
    ...[r.p50, r.p90, r.p95, r.p99, r.max].map(formatMillis),
    failures,
  ]
}

/** Under the table: what its failures column is made of, one line per error code. */
function failures(result: LoadTestResult, p: Palette): string[] {
  const rows = failureRows(result)
  if (rows.length === 0) return []
  const width = (cells: string[]): number => Math.max(...cells.map((c) => c.length))
  const counts = rows.map((r) => `${r.count}×`)
  const shares = rows.map((r) => percent(r.share, 1))
  const [countWidth, codeWidth, shareWidth] = [width(counts), width(rows.map((r) => r.code)), width(shares)]
  const lines = rows.map((r, i) => {
    const shown = r.names.slice(0, FAILURE_NAMES).join(', ')
    const more = r.names.length > FAILURE_NAMES ? ` +${r.names.length - FAILURE_NAMES} more` : ''
    return `    ${p.red(counts[i]!.padStart(countWidth))}  ${r.code.padEnd(codeWidth)}  ${shares[i]!.padStart(shareWidth)}  ${p.dim(shown + more)}`
  })
  return [`  ${p.red('failed requests')} ${p.dim('by error_code')}`, ...lines]
}

function stats(series: readonly Series[], durationMs: number, p: Palette): string[] {
  const lines: [string, string][] = []
  const iterations = aggregate(series, 'iterations')
  const iterationDuration = aggregate(series, 'iteration_duration')
  if (iterations?.type === 'counter' || iterationDuration?.type === 'trend') {
    const count = iterations?.type === 'counter' ? iterations.value : 0
    let line = `${count}  ${p.dim(`${formatRate(perSecond(count, durationMs))}/s`)}`
    if (iterationDuration?.type === 'trend' && iterationDuration.histogram.totalCount > 0) {
      const at = (q: number) => formatMillis(toMillis(percentile(iterationDuration.histogram, q)))
      line += `  p50=${at(50)} p95=${at(95)}`
    }
    lines.push(['iterations', line])
  }
  const checks = aggregate(series, 'checks')
  const failedChecks: string[] = []
  if (checks?.type === 'rate' && checks.total > 0) {
    const text = `${percent(checks.passes, checks.total)}  ${checks.passes}/${checks.total} passed`
    lines.push(['checks', checks.passes === checks.total ? p.green(text) : p.yellow(text)])
    const byName = [...groupBy(series, 'checks', (tags) => tags['check'] ?? MISSING)].sort((a, b) => compare(a[0], b[0]))
    for (const [name, group] of byName) {
      const agg = aggregate(group, 'checks')
      if (agg?.type !== 'rate' || agg.passes === agg.total) continue
      failedChecks.push(`    ${p.red('✗')} ${name}  ${p.dim(`${agg.total - agg.passes}/${agg.total} failed`)}`)
    }
  }
  const dropped = aggregate(series, 'dropped_iterations')
  if (dropped?.type === 'counter' && dropped.value > 0) lines.push(['dropped_iterations', p.yellow(String(dropped.value))])
  const aborts = aggregate(series, 'session_aborts')
  if (aborts?.type === 'counter' && aborts.value > 0) lines.push(['session_aborts', p.yellow(String(aborts.value))])
  const wsSessions = aggregate(series, 'ws_sessions')
  if (wsSessions?.type === 'counter') {
    const connecting = aggregate(series, 'ws_connecting')
    const p95 = connecting?.type === 'trend' && connecting.histogram.totalCount > 0 ? `  connecting p95=${formatMillis(toMillis(percentile(connecting.histogram, 95)))}` : ''
    lines.push(['ws_sessions', `${wsSessions.value}${p95}`])
    for (const metric of ['ws_msgs_sent', 'ws_msgs_received']) {
      const agg = aggregate(series, metric)
      if (agg?.type === 'counter') lines.push([metric, `${agg.value}  ${p.dim(`${formatRate(perSecond(agg.value, durationMs))}/s`)}`])
    }
    const recv = aggregate(series, 'ws_recv_duration')
    if (recv?.type === 'trend' && recv.histogram.totalCount > 0) {
      const at = (q: number) => formatMillis(toMillis(percentile(recv.histogram, q)))
      lines.push(['ws_recv_duration', `p50=${at(50)} p95=${at(95)} p99=${at(99)}`])
    }
  }
  const sseConnecting = aggregate(series, 'sse_connecting')
  if (sseConnecting?.type === 'trend' && sseConnecting.histogram.totalCount > 0) {
    lines.push(['sse_connecting', `${sseConnecting.histogram.totalCount}  p95=${formatMillis(toMillis(percentile(sseConnecting.histogram, 95)))}`])
    const events = aggregate(series, 'sse_events')
    if (events?.type === 'counter') lines.push(['sse_events', `${events.value}  ${p.dim(`${formatRate(perSecond(events.value, durationMs))}/s`)}`])
    const waited = aggregate(series, 'sse_event_duration')
    if (waited?.type === 'trend' && waited.histogram.totalCount > 0) {
      const at = (q: number) => formatMillis(toMillis(percentile(waited.histogram, q)))
      lines.push(['sse_event_duration', `p50=${at(50)} p95=${at(95)} p99=${at(99)}`])
    }
    const reconnects = aggregate(series, 'sse_reconnects')
    if (reconnects?.type === 'counter' && reconnects.value > 0) lines.push(['sse_reconnects', p.yellow(String(reconnects.value))])
  }
  for (const metric of ['data_sent', 'data_received']) {
    const agg = aggregate(series, metric)
    if (agg?.type !== 'counter') continue
    lines.push([metric, `${formatBytes(agg.value)}  ${p.dim(`${formatBytes(perSecond(agg.value, durationMs))}/s`)}`])
  }
  const vus = aggregate(series, 'vus')
  if (vus?.type === 'gauge') lines.push(['vus', `max ${vus.max}`])
  if (lines.length === 0) return []
  const width = Math.max(...lines.map(([label]) => label.length))
  const out = lines.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`)
  // Failed checks go right under the checks line they explain.
  const checksAt = lines.findIndex(([label]) => label === 'checks')
  if (checksAt >= 0) out.splice(checksAt + 1, 0, ...failedChecks)
  return out
}

// Stack frames shown under each distinct error; enough to find the line in the scenario.
const STACK_FRAMES = 4

/** Each distinct error once, most frequent first: its count, scenario, action and code, then the top of its stack. */
function errors(result: LoadTestResult, p: Palette): string[] {
  if (result.errors.length === 0) return []
  const sorted = [...result.errors].sort((a, b) => b.count - a.count || compare(a.message, b.message))
  const out = [`  ${p.red('errors')}`]
  for (const e of sorted) {
    // Only the first line: multi-line messages would break the summary's layout.
    const message = e.message.split('\n', 1)[0] ?? ''
    out.push(`    ${p.red(`${e.count}×`)} ${message} ${p.dim(`(${e.scenario}, ${e.action}, ${e.code})`)}`)
    const frames = (e.stack ?? '').split('\n').filter((line) => /^\s+at /.test(line)).slice(0, STACK_FRAMES)
    for (const frame of frames) out.push(`        ${p.dim(frame.trim())}`)
  }
  return out
}

function thresholds(list: readonly ThresholdResult[], p: Palette): string[] {
  if (list.length === 0) return []
  // Keep the order thresholds were declared in, but put each metric key's lines together.
  const byKey = new Map<string, ThresholdResult[]>()
  for (const t of list) {
    const group = byKey.get(t.key)
    if (group === undefined) byKey.set(t.key, [t])
    else group.push(t)
  }
  const width = Math.max(...list.map((t) => t.key.length))
  const lines = [...byKey.values()].flat().map((t) => {
    const mark = t.ok ? p.green('✓') : p.red('✗')
    return `    ${mark} ${t.key.padEnd(width)}  '${t.expression}' ${t.ok ? t.display : p.red(t.display)}`
  })
  return [`  ${p.bold('thresholds')}`, ...lines]
}

function toRow(scenario: string, name: string, h: Histogram, max: number, failures: number, durationMs: number): HttpRow {
  const at = (q: number) => (h.totalCount === 0 ? 0 : toMillis(percentile(h, q, max * 1000)))
  return {
    scenario,
    name,
    count: h.totalCount,
    rate: perSecond(h.totalCount, durationMs),
    p50: at(50),
    p90: at(90),
    p95: at(95),
    p99: at(99),
    max,
    failures,
  }
}

function rowKey(tags: Tags): string {
  return `${tags['scenario'] ?? MISSING}\0${tags['name'] ?? MISSING}`
}

function groupBy<S extends { metric: string; tags: Tags }>(series: readonly S[], metric: string, keyOf: (tags: Tags) => string): Map<string, S[]> {
  const groups = new Map<string, S[]>()
  for (const s of series) {
    if (s.metric !== metric) continue
    const key = keyOf(s.tags)
    const group = groups.get(key)
    if (group === undefined) groups.set(key, [s])
    else group.push(s)
  }
  return groups
}

/** Text in the first `leftColumns` columns is left-aligned, numbers after them right-aligned; widths ignore ANSI codes. */
function table(rows: readonly string[][], leftColumns: number): string[] {
  const widths: number[] = []
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, visibleLength(cell))))
  return rows.map((row) => {
    const cells = row.map((cell, i) => {
      const pad = ' '.repeat((widths[i] ?? 0) - visibleLength(cell))
      return i < leftColumns ? cell + pad : pad + cell
    })
    return `  ${cells.join('  ')}`.trimEnd()
  })
}

function visibleLength(text: string): number {
  return stripVTControlCharacters(text).length
}

/** `amount` per second of `durationMs`; 0 for an empty run. */
export function perSecond(amount: number, durationMs: number): number {
  return durationMs > 0 ? (amount / durationMs) * 1000 : 0
}

/** A rate with two decimals below 10, one below 1000, none above. */
export function formatRate(rate: number): string {
  return rate < 10 ? rate.toFixed(2) : rate < 1000 ? rate.toFixed(1) : String(Math.round(rate))
}

/** `part` of `total` as a percentage with two decimals. */
export function percent(part: number, total: number): string {
  return `${total === 0 ? '0.00' : ((part / total) * 100).toFixed(2)}%`
}

/** Orders strings by code unit, the same in every locale. */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
