import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import type * as hdr from 'hdr-histogram-js'
import { formatDuration } from '../core/duration.ts'
import { createHistogram, decodeHistogram, type Histogram, percentile, quickSummary, toMillis } from '../core/histogram.ts'
import type { LoadTestResult, ThresholdResult } from '../core/result.ts'
import { aggregate, seriesFromResult } from '../core/series.ts'
import { compare, formatBytes, formatMillis, formatRate, type HttpRow, httpRows, percent, perSecond } from './summary-render.ts'

/** Options of {@link renderHtmlReport}. */
export interface HtmlReportOptions {
  /** The page's title and heading. @default 'chaperon load test report' */
  title?: string
  /** When the report was made, shown under the title as given (an ISO time, say). Left out when not set, so the output depends only on its input. */
  generatedAt?: string
}

/** What the inline script draws for one load test. Times in ms; `seconds` holds each second's start after the test started. */
export interface ChartData {
  seconds: number[]
  p50: Array<number | null>
  p95: Array<number | null>
  p99: Array<number | null>
  /** Requests per second. */
  rps: number[]
  /** Requests counted as failed by `http_req_failed`, per second. */
  failed: number[]
  /** The `errors` metric per second. */
  errors: number[]
  /** The whole test's `http_req_duration` histogram in buckets of a tenth of a decade: centres in ms and their counts. */
  distribution: { ms: number[]; count: number[] }
}

/** The title a report has when none is given. */
export const DEFAULT_HTML_TITLE = 'chaperon load test report'

/**
 * One self-contained HTML page for the given load tests: threshold verdicts,
 * a table per scenario and request name, errors and checks, and uPlot charts
 * of latency percentiles, requests and errors per second and the latency
 * distribution. uPlot, its CSS and the data are inlined, so the page makes no
 * network request. Every piece of user text (names, tags, URLs, messages) is
 * HTML-escaped, and a Content-Security-Policy lets only the page's own two
 * scripts run. Pure: the same results and options give the same document.
 */
export function renderHtmlReport(results: LoadTestResult[], options: HtmlReportOptions = {}): string {
  const title = options.title ?? DEFAULT_HTML_TITLE
  const lib = uplot()
  const charts = results.map(chartData)
  const json = JSON.stringify({ tests: charts }).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026')
  const csp = `default-src 'none'; script-src ${sha256(lib.js)} ${sha256(CLIENT_SCRIPT)}; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'`
  const failed = results.filter((r) => r.status !== 'passed').length
  const meta = [`${results.length} load test${results.length === 1 ? '' : 's'}`, failed === 0 ? 'all passed' : `${failed} failed`]
  if (options.generatedAt !== undefined) meta.push(`generated ${options.generatedAt}`)
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<title>${esc(title)}</title>
<style>${lib.css}</style>
<style>${STYLE}</style>
</head>
<body>
<header class="report">
<h1>${esc(title)}</h1>
<p class="meta">${meta.map(esc).join(' · ')}</p>
${results.length > 1 ? navigation(results) : ''}</header>
<main>
${results.length === 0 ? '<p class="note">No load test results.</p>\n' : results.map((r, i) => section(r, i, charts[i]!)).join('')}</main>
<script type="application/json" id="chaperon-data">${json}</script>
<script>${lib.js}</script>
<script>${CLIENT_SCRIPT}</script>
</body>
</html>
`
}

/** Escapes text for HTML content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!)
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }
const esc = escapeHtml

/** A count from the result, escaped too: a hand-edited result file may hold text where a number belongs. */
function num(n: number): string {
  return esc(String(n))
}

function navigation(results: readonly LoadTestResult[]): string {
  const items = results.map((r, i) => `<li><a href="#test-${i + 1}">${mark(r.status === 'passed')} ${esc(r.name)}</a></li>`)
  return `<nav><ul>\n${items.join('\n')}\n</ul></nav>\n`
}

function section(r: LoadTestResult, index: number, chart: ChartData): string {
  const id = `test-${index + 1}`
  const passed = r.status === 'passed'
  return `<section class="load-test" id="${id}">
<h2><span class="status ${passed ? 'pass' : 'fail'}">${passed ? '✓ passed' : '✗ failed'}</span> ${esc(r.name)}</h2>
${facts(r)}${aborted(r)}${thresholds(r.thresholds)}${requests(r)}${charts(index, chart)}${checks(r)}${errors(r)}</section>
`
}

function facts(r: LoadTestResult): string {
  const series = seriesFromResult({ metrics: r.metrics.filter((m) => ['http_reqs', 'iterations', 'vus', 'data_received'].includes(m.metric)) })
  const items: Array<[string, string]> = [
    ['Started', `<time datetime="${esc(r.startedAt)}">${esc(r.startedAt)}</time>`],
    ['Duration', esc(formatDuration(r.durationMs))],
  ]
  if (r.location !== undefined) items.push(['Location', `<code>${esc(`${r.location.file}:${r.location.line}:${r.location.column}`)}</code>`])
  if (r.scenarios.length > 0) items.push(['Scenarios', r.scenarios.map((s) => `${esc(s.name)} <span class="dim">(${esc(s.executor)})</span>`).join(', ')])
  const reqs = aggregate(series, 'http_reqs')
  if (reqs?.type === 'counter') items.push(['Requests', `${num(reqs.value)} <span class="dim">${formatRate(perSecond(reqs.value, r.durationMs))}/s</span>`])
  const iterations = aggregate(series, 'iterations')
  if (iterations?.type === 'counter') items.push(['Iterations', `${num(iterations.value)} <span class="dim">${formatRate(perSecond(iterations.value, r.durationMs))}/s</span>`])
  const received = aggregate(series, 'data_received')
  if (received?.type === 'counter') items.push(['Received', esc(formatBytes(received.value))])
  const vus = aggregate(series, 'vus')
  if (vus?.type === 'gauge') items.push(['Max VUs', num(vus.max)])
  return `<dl class="facts">\n${items.map(([k, v]) => `<div><dt>${k}</dt><dd>${v}</dd></div>`).join('\n')}\n</dl>\n`
}

function aborted(r: LoadTestResult): string {
  const a = r.abortedBy
  const i = r.interrupted
  let out = ''
  if (a !== undefined) out += `<p class="aborted"><strong>Aborted</strong> after ${esc(formatDuration(a.atMs))} by <code>${esc(a.key)}</code> <code>${esc(a.expression)}</code> ${esc(a.display)} (abortOnFail)</p>\n`
  if (i !== undefined) out += `<p class="aborted"><strong>Interrupted</strong> (${esc(i.by)}) after ${esc(formatDuration(i.atMs))}: the figures cover the run until then.</p>\n`
  if (r.segment !== undefined) out += `<p><strong>Segment ${esc(r.segment.segment)}</strong> of ${esc(r.segment.sequence)}: the figures and thresholds cover this share only; <code>chaperon merge</code> judges the whole.</p>\n`
  if (r.merged !== undefined) {
    const missing = r.merged.missing.length === 0 ? '' : `; <strong>missing ${esc(r.merged.missing.join(', '))}</strong>`
    out += `<p>Merged from segments ${esc(r.merged.segments.join(', '))}${missing}.</p>\n`
  }
  return out
}

function thresholds(list: readonly ThresholdResult[]): string {
  if (list.length === 0) return ''
  // Declaration order, with each metric key's lines together, as in the terminal summary.
  const byKey = new Map<string, ThresholdResult[]>()
  for (const t of list) byKey.set(t.key, [...(byKey.get(t.key) ?? []), t])
  const rows = [...byKey.values()].flat().map(
    (t) => `<tr class="${t.ok ? 'pass' : 'fail'}" data-verdict="${t.ok ? 'pass' : 'fail'}"><td class="mark">${mark(t.ok)}</td><td><code>${esc(t.key)}</code></td><td><code>${esc(t.expression)}</code></td><td>${esc(t.display)}</td></tr>`,
  )
  return `<h3>Thresholds</h3>\n<table class="thresholds">\n<thead><tr><th></th><th>metric</th><th>threshold</th><th>actual</th></tr></thead>\n<tbody>\n${rows.join('\n')}\n</tbody>\n</table>\n`
}

function requests(r: LoadTestResult): string {
  const rows = httpRows(r)
  if (rows.length === 0) return '<h3>Requests</h3>\n<p class="note">No HTTP requests.</p>\n'
  const body = rows.map((row) => requestRow(row, false))
  if (rows.length > 1) body.push(requestRow(totalRow(r, rows), true))
  const head = ['scenario', 'name', 'count', 'req/s', 'p50', 'p90', 'p95', 'p99', 'max', 'failures'].map((h) => `<th>${h}</th>`).join('')
  return `<h3>Requests</h3>\n<table class="requests">\n<thead><tr>${head}</tr></thead>\n<tbody>\n${body.join('\n')}\n</tbody>\n</table>\n`
}

function requestRow(row: HttpRow, total: boolean): string {
  const failures = row.failures === 0 ? '<td class="num dim">0</td>' : `<td class="num bad">${num(row.failures)} (${percent(row.failures, row.count)})</td>`
  const times = [row.p50, row.p90, row.p95, row.p99, row.max].map((ms) => `<td class="num">${esc(formatMillis(ms))}</td>`).join('')
  return `<tr${total ? ' class="total"' : ''}><td>${esc(row.scenario)}</td><td>${esc(row.name)}</td><td class="num">${num(row.count)}</td><td class="num">${formatRate(row.rate)}</td>${times}${failures}</tr>`
}

/** All requests in one row, from the merged histogram of every `http_req_duration` series. */
function totalRow(r: LoadTestResult, rows: readonly HttpRow[]): HttpRow {
  const h = mergedTotal(r) ?? createHistogram()
  const max = Math.max(...rows.map((row) => row.max))
  const at = (q: number): number => (h.totalCount === 0 ? 0 : toMillis(percentile(h, q, max * 1000)))
  const failures = rows.reduce((sum, row) => sum + row.failures, 0)
  return { scenario: 'total', name: '', count: h.totalCount, rate: perSecond(h.totalCount, r.durationMs), p50: at(50), p90: at(90), p95: at(95), p99: at(99), max, failures }
}

// Distinct errors shown at once; the rest fold away so they cannot push the charts off the page.
const ERRORS_SHOWN = 10

function errors(r: LoadTestResult): string {
  if (r.errors.length === 0) return ''
  const sorted = [...r.errors].sort((a, b) => b.count - a.count || compare(a.message, b.message))
  const rows = sorted.map((e) => {
    const stack = e.stack === undefined ? '' : `<details><summary>stack</summary><pre>${esc(e.stack)}</pre></details>`
    return `<tr><td class="num bad">${num(e.count)}</td><td>${esc(e.scenario)}</td><td>${esc(e.action)}</td><td><code>${esc(e.code)}</code></td><td class="message"><pre>${esc(e.message)}</pre>${stack}</td></tr>`
  })
  const table = (body: readonly string[]): string =>
    `<table class="errors">\n<thead><tr><th>count</th><th>scenario</th><th>action</th><th>code</th><th>message</th></tr></thead>\n<tbody>\n${body.join('\n')}\n</tbody>\n</table>\n`
  const rest = rows.slice(ERRORS_SHOWN)
  const more = rest.length === 0 ? '' : `<details class="more"><summary>${rest.length} more distinct error${rest.length === 1 ? '' : 's'}</summary>\n${table(rest)}</details>\n`
  return `<h3>Errors</h3>\n${table(rows.slice(0, ERRORS_SHOWN))}${more}`
}

function checks(r: LoadTestResult): string {
  const byName = new Map<string, { scenario: string; check: string; passes: number; total: number }>()
  for (const m of r.metrics) {
    if (m.metric !== 'checks' || m.type !== 'rate') continue
    const scenario = m.tags['scenario'] ?? '-'
    const check = m.tags['check'] ?? '-'
    const key = `${scenario}\0${check}`
    const row = byName.get(key) ?? { scenario, check, passes: 0, total: 0 }
    row.passes += m.passes
    row.total += m.total
    byName.set(key, row)
  }
  if (byName.size === 0) return ''
  const rows = [...byName.values()]
    .sort((a, b) => compare(a.scenario, b.scenario) || compare(a.check, b.check))
    .map((c) => {
      const failed = c.total - c.passes
      return `<tr class="${failed === 0 ? 'pass' : 'fail'}"><td class="mark">${mark(failed === 0)}</td><td>${esc(c.scenario)}</td><td>${esc(c.check)}</td><td class="num">${num(c.passes)}/${num(c.total)}</td><td class="num${failed === 0 ? '' : ' bad'}">${percent(c.passes, c.total)}</td></tr>`
    })
  return `<h3>Checks</h3>\n<table class="checks">\n<thead><tr><th></th><th>scenario</th><th>check</th><th>passed</th><th>rate</th></tr></thead>\n<tbody>\n${rows.join('\n')}\n</tbody>\n</table>\n`
}

function charts(index: number, data: ChartData): string {
  const figure = (kind: string, caption: string): string =>
    `<figure class="chart ${kind}"><figcaption>${caption}</figcaption><div class="plot" data-chart="${kind}" data-test="${index}"></div></figure>`
  const overTime =
    data.seconds.length === 0
      ? ['<p class="note">This result has no per-second time series of HTTP requests, so there is nothing to draw over time.</p>']
      : [figure('latency', 'Latency over time: p50, p95, p99'), figure('throughput', 'Requests and errors per second')]
  const distribution = data.distribution.ms.length === 0 ? [] : [figure('distribution', 'Latency distribution (log scale)')]
  if (overTime.length + distribution.length === 0) return ''
  return `<h3>Charts</h3>\n<div class="charts">\n${[...overTime, ...distribution].join('\n')}\n</div>\n`
}

/**
 * The chart data of one result. Each second's percentiles come from the sum of
 * that second's histograms of every `http_req_duration` series, which is exact,
 * unlike averaging the series' own percentiles.
 */
export function chartData(r: LoadTestResult): ChartData {
  const intervalSec = (r.timeSeries.intervalMs || 1000) / 1000
  const latency = new Map<number, string[]>()
  const reqs = new Map<number, number>()
  const failed = new Map<number, number>()
  const errorCounts = new Map<number, number>()
  let hasReqs = false
  for (const s of r.timeSeries.series) {
    if (s.metric === 'http_req_duration' && s.type === 'trend') for (const p of s.points) latency.set(p.t, [...(latency.get(p.t) ?? []), p.histogram])
    else if (s.metric === 'http_reqs' && s.type === 'counter') {
      hasReqs = true
      for (const p of s.points) add(reqs, p.t, p.value)
    } else if (s.metric === 'http_req_failed' && s.type === 'rate') for (const p of s.points) add(failed, p.t, p.passes)
    else if (s.metric === 'errors' && s.type === 'counter') for (const p of s.points) add(errorCounts, p.t, p.value)
  }
  const known = [...latency.keys(), ...reqs.keys(), ...failed.keys(), ...errorCounts.keys()]
  const seconds = known.length === 0 ? [] : range(Math.min(...known), Math.max(...known))
  const out: ChartData = { seconds: seconds.map((t) => t * intervalSec), p50: [], p95: [], p99: [], rps: [], failed: [], errors: [], distribution: distribution(r) }
  // One histogram, emptied each second: a fresh one per second costs more than the merge.
  const h = createHistogram()
  for (const t of seconds) {
    const encoded = latency.get(t)
    let count = 0
    if (encoded === undefined) {
      out.p50.push(null)
      out.p95.push(null)
      out.p99.push(null)
    } else {
      h.reset()
      for (const e of encoded) h.add(decodeHistogram(e))
      const { at } = quickSummary(h, [50, 95, 99])
      out.p50.push(toMillis(at[0]!))
      out.p95.push(toMillis(at[1]!))
      out.p99.push(toMillis(at[2]!))
      count = h.totalCount
    }
    out.rps.push((hasReqs ? (reqs.get(t) ?? 0) : count) / intervalSec)
    out.failed.push((failed.get(t) ?? 0) / intervalSec)
    out.errors.push((errorCounts.get(t) ?? 0) / intervalSec)
  }
  return out
}

// Ten buckets per decade: 1, 1.26, 1.58, 2, 2.5, 3.2, 4, 5, 6.3, 7.9, 10 ms.
const BUCKETS_PER_DECADE = 10
// The smallest value a histogram holds above 0 is 1 µs; zeros count there too, since a log scale has no 0.
const SMALLEST_MS = 0.001

function distribution(r: LoadTestResult): ChartData['distribution'] {
  const h = mergedTotal(r) ?? mergedTimeline(r)
  if (h === undefined || h.totalCount === 0) return { ms: [], count: [] }
  const js = h as hdr.JsHistogram
  const counts = new Map<number, number>()
  for (let i = 0; i < js.countsArrayLength; i++) {
    const n = js.getCountAtIndex(i)
    if (n === 0) continue
    const ms = Math.max(toMillis(js.medianEquivalentValue(js.valueFromIndex(i))), SMALLEST_MS)
    add(counts, Math.floor(Math.log10(ms) * BUCKETS_PER_DECADE + 1e-9), n)
  }
  const buckets = range(Math.min(...counts.keys()), Math.max(...counts.keys()))
  return {
    ms: buckets.map((b) => Number((10 ** ((b + 0.5) / BUCKETS_PER_DECADE)).toPrecision(4))),
    count: buckets.map((b) => counts.get(b) ?? 0),
  }
}

/** Every `http_req_duration` series of the totals, merged; undefined when there is none. */
function mergedTotal(r: LoadTestResult): Histogram | undefined {
  const merged = aggregate(seriesFromResult({ metrics: r.metrics.filter((m) => m.metric === 'http_req_duration') }), 'http_req_duration')
  return merged?.type === 'trend' ? merged.histogram : undefined
}

/** For a result whose totals lack `http_req_duration`: its per-second histograms, merged. */
function mergedTimeline(r: LoadTestResult): Histogram | undefined {
  let h: Histogram | undefined
  for (const s of r.timeSeries.series) {
    if (s.metric !== 'http_req_duration' || s.type !== 'trend') continue
    for (const p of s.points) (h ??= createHistogram()).add(decodeHistogram(p.histogram))
  }
  return h
}

let cachedUplot: { js: string; css: string } | undefined

/** uPlot's IIFE build and CSS, read once from the installed package. */
function uplot(): { js: string; css: string } {
  if (cachedUplot !== undefined) return cachedUplot
  const require = createRequire(import.meta.url)
  const read = (file: string): string => readFileSync(require.resolve(`uplot/dist/${file}`), 'utf8').trim()
  const js = read('uPlot.iife.min.js')
  const css = read('uPlot.min.css')
  // Inlined as they are, these would end their element early; no uPlot release has them so far.
  if (/<\/script|<!--/i.test(js) || /<\/style/i.test(css)) throw new Error('this uPlot build cannot be inlined as it is: it contains </script>, <!-- or </style>')
  cachedUplot = { js, css }
  return cachedUplot
}

function sha256(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`
}

function mark(ok: boolean): string {
  return ok ? '<span class="ok">✓</span>' : '<span class="bad">✗</span>'
}

function add(map: Map<number, number>, key: number, n: number): void {
  map.set(key, (map.get(key) ?? 0) + n)
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i)
}

const STYLE = `
:root { color-scheme: light; --fg: #1f2328; --dim: #656d76; --line: #d0d7de; --bg-alt: #f6f8fa; --ok: #1a7f37; --bad: #cf222e; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: #fff; }
header.report, main { max-width: 1200px; margin: 0 auto; padding: 0 24px; }
header.report { padding-top: 24px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 0 0 12px; overflow-wrap: anywhere; }
h3 { font-size: 15px; margin: 20px 0 8px; }
.meta, .dim { color: var(--dim); }
nav ul { list-style: none; padding: 0; margin: 8px 0 0; }
nav a { color: inherit; }
section.load-test { border-top: 1px solid var(--line); margin-top: 24px; padding: 20px 0 8px; }
.status { font-size: 13px; font-weight: 600; padding: 2px 8px; border-radius: 12px; vertical-align: middle; color: #fff; }
.status.pass { background: var(--ok); }
.status.fail { background: var(--bad); }
.ok { color: var(--ok); }
.bad { color: var(--bad); }
dl.facts { display: flex; flex-wrap: wrap; gap: 8px 32px; margin: 0; }
dl.facts dt { color: var(--dim); font-size: 12px; }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
.aborted { border-left: 4px solid var(--bad); background: #ffebe9; padding: 8px 12px; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 4px 10px; border-bottom: 1px solid var(--line); vertical-align: top; overflow-wrap: anywhere; }
th { font-weight: 600; color: var(--dim); font-size: 12px; background: var(--bg-alt); }
td.num { text-align: right; white-space: nowrap; }
td.mark { width: 1.5em; }
tr.total td { font-weight: 600; background: var(--bg-alt); }
tr.fail td { background: #fff5f5; }
pre { margin: 0; white-space: pre-wrap; font-size: 12px; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
details summary { color: var(--dim); cursor: pointer; font-size: 12px; }
.note { color: var(--dim); font-style: italic; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); gap: 16px; }
figure.chart { margin: 0; border: 1px solid var(--line); border-radius: 6px; padding: 8px; min-width: 0; }
figcaption { font-weight: 600; margin-bottom: 4px; }
.plot { min-height: 260px; overflow: hidden; }
figure.distribution { grid-column: 1 / -1; }
details.more { margin-top: 8px; }
details.more > summary { font-size: 13px; }
`

/**
 * Draws the charts from the JSON block. It reads no user text, so it never
 * writes any; what it exposes for tests (`window.chaperonCharts`: each chart's
 * kind and point counts) is frozen.
 */
const CLIENT_SCRIPT = `
(function () {
  'use strict'
  var data = JSON.parse(document.getElementById('chaperon-data').textContent)
  function ms(v) {
    if (v == null) return '-'
    if (v === 0) return '0ms'
    if (v < 1) return v.toFixed(2) + 'ms'
    if (v < 999.5) return v.toPrecision(3) + 'ms'
    return (v / 1000).toPrecision(3) + 's'
  }
  function num(v) { return v == null ? '-' : String(Math.round(v * 100) / 100) }
  function secs(v) {
    if (v == null) return '-'
    if (v < 60) return v + 's'
    return Math.floor(v / 60) + 'm' + (v % 60 === 0 ? '' : (v % 60) + 's')
  }
  // Axis labels: short, and empty where uPlot leaves a log scale's minor tick unlabelled.
  function tick(fmt) { return function (u, splits) { return splits.map(function (v) { return v == null ? '' : fmt(v) }) } }
  function shortMs(v) { return v < 1000 ? Number(v.toPrecision(3)) + 'ms' : Number((v / 1000).toPrecision(3)) + 's' }
  var axis = { stroke: '#656d76', grid: { stroke: '#eaeef2' }, ticks: { stroke: '#d0d7de' } }
  function ax(extra) { return Object.assign({}, axis, extra) }
  // Whole seconds and minutes on the time axis.
  var SECOND_INCRS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400]
  var time = { time: false }
  var fromZero = { range: function (u, min, max) { return uPlot.rangeNum(0, max > 0 ? max : 1, 0.1, true) } }
  var build = {
    latency: function (d) {
      return {
        data: [d.seconds, d.p50, d.p95, d.p99],
        opts: {
          scales: { x: time, y: fromZero },
          axes: [ax({ incrs: SECOND_INCRS, values: tick(secs) }), ax({ size: 60, values: tick(shortMs) })],
          series: [
            { label: 'second', value: function (u, v) { return secs(v) } },
            { label: 'p50', stroke: '#1a7f37', width: 2, value: function (u, v) { return ms(v) } },
            { label: 'p95', stroke: '#bf8700', width: 2, value: function (u, v) { return ms(v) } },
            { label: 'p99', stroke: '#cf222e', width: 2, value: function (u, v) { return ms(v) } }
          ]
        }
      }
    },
    throughput: function (d) {
      // One scale for all three: a few failures among many requests should look small, because they are.
      return {
        data: [d.seconds, d.rps, d.failed, d.errors],
        opts: {
          scales: { x: time, y: fromZero },
          axes: [ax({ incrs: SECOND_INCRS, values: tick(secs) }), ax({ size: 60, label: 'per second', values: tick(num) })],
          series: [
            { label: 'second', value: function (u, v) { return secs(v) } },
            { label: 'requests', stroke: '#0969da', fill: 'rgba(9,105,218,0.08)', width: 2, value: function (u, v) { return num(v) } },
            { label: 'failed requests', stroke: '#cf222e', fill: 'rgba(207,34,46,0.12)', width: 2, value: function (u, v) { return num(v) } },
            { label: 'errors', stroke: '#8250df', width: 2, dash: [6, 4], value: function (u, v) { return num(v) } }
          ]
        }
      }
    },
    distribution: function (d) {
      var step = Math.pow(10, 0.05)
      return {
        data: [d.distribution.ms, d.distribution.count],
        opts: {
          scales: { x: { time: false, distr: 3, log: 10 }, y: fromZero },
          axes: [ax({ values: tick(shortMs) }), ax({ size: 60, label: 'requests' })],
          series: [
            { label: 'latency', value: function (u, v) { return v == null ? '-' : ms(v / step) + ' to ' + ms(v * step) } },
            { label: 'requests', stroke: '#0969da', fill: 'rgba(9,105,218,0.35)', width: 1, points: { show: false }, paths: uPlot.paths.bars({ size: [0.9, 40] }) }
          ]
        }
      }
    }
  }
  var charts = []
  var plots = []
  var els = document.querySelectorAll('[data-chart]')
  for (var i = 0; i < els.length; i++) {
    var el = els[i]
    var kind = el.getAttribute('data-chart')
    var test = Number(el.getAttribute('data-test'))
    var spec = build[kind](data.tests[test])
    spec.opts.width = Math.max(el.clientWidth, 300)
    spec.opts.height = 260
    spec.opts.legend = { live: true }
    var u = new uPlot(spec.opts, spec.data, el)
    var lengths = u.data.slice(1).map(function (s) { return s.filter(function (v) { return v != null }).length })
    el.setAttribute('data-points', String(u.data[0].length))
    charts.push(Object.freeze({ test: test, kind: kind, points: u.data[0].length, series: Object.freeze(lengths) }))
    plots.push({ el: el, u: u })
  }
  Object.defineProperty(window, 'chaperonCharts', { value: Object.freeze(charts) })
  var pending = 0
  window.addEventListener('resize', function () {
    cancelAnimationFrame(pending)
    pending = requestAnimationFrame(function () {
      plots.forEach(function (p) { p.u.setSize({ width: Math.max(p.el.clientWidth, 300), height: 260 }) })
    })
  })
})()
`
