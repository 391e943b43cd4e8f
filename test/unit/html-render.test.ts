import { createHash } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'
import { createHistogram, decodeHistogram, quickSummary, toMillis } from '../../src/core/histogram.ts'
import type { LoadTestResult, SeriesResult } from '../../src/core/result.ts'
import { chartData, escapeHtml, renderHtmlReport } from '../../src/reporters/html-render.ts'
import { HTML_REPORTER_DEFAULTS, resolveHtmlReporterOptions } from '../../src/reporters/html-reporter.ts'
import { fixedResult, fixedResults } from '../support/fixed-results.ts'

const GOLDEN = new URL('../golden/report.html', import.meta.url)
const require = createRequire(import.meta.url)
const UPLOT_JS = readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8').trim()
const UPLOT_CSS = readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8').trim()

/** The document with uPlot's 50 kB replaced by placeholders, so the golden file stays readable and survives uPlot updates. */
function withoutLibrary(html: string): string {
  expect(html).toContain(UPLOT_JS)
  expect(html).toContain(UPLOT_CSS)
  return html.replace(UPLOT_JS, '/* uPlot.iife.min.js */').replace(UPLOT_CSS, '/* uPlot.min.css */').replace(sha256(UPLOT_JS), "'sha256-uPlot'")
}

function sha256(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`
}

/** Each `<script>` element's type and content. */
function scripts(html: string): Array<{ type: string | undefined; body: string }> {
  return [...html.matchAll(/<script(?: type="([^"]*)")?[^>]*>([\s\S]*?)<\/script>/g)].map((m) => ({ type: m[1], body: m[2]! }))
}

/** The chart data embedded in the page, as the page's script reads it. */
function embedded(html: string): { tests: Array<ReturnType<typeof chartData>> } {
  const json = scripts(html).find((s) => s.type === 'application/json')
  return JSON.parse(json!.body)
}

const PAYLOADS = ['<img src=x onerror=alert(1)>', '</script><script>alert(1)</script>', '"><svg onload=alert(1)>', "'-alert(1)-'"]

/** `fixedResult()` with script payloads in every piece of user text a report shows. */
function hostile(): LoadTestResult {
  const r = fixedResult()
  const [img, script, attr, quote] = PAYLOADS as [string, string, string, string]
  const rename = (m: SeriesResult): SeriesResult => ({
    ...m,
    tags: Object.fromEntries(Object.entries(m.tags).map(([k, v]) => [k, k === 'scenario' && v === 'browse' ? script : k === 'name' ? img : k === 'check' ? attr : v])),
  })
  return {
    ...r,
    name: `shop ${img} ${script}`,
    location: { file: `load/${attr}.load.ts`, line: 1, column: 1 },
    scenarios: [{ name: script, executor: `constant-vus${quote}`, scenario: 'browse' }, ...r.scenarios.slice(1)],
    metrics: r.metrics.map(rename),
    thresholds: [{ key: `http_req_duration{name:${img}}`, expression: `p(95)<${script}`, ok: false, actual: 1, display: `p(95)=${attr}` }],
    errors: [{ scenario: script, action: 'ws.connect', code: quote, message: `failed to fetch https://x.test/?q=${script}`, stack: `Error: ${img}\n    at x`, count: 1 }],
    abortedBy: { key: img, expression: script, display: attr, atMs: 1000 },
  }
}

describe('renderHtmlReport', () => {
  it('renders the fixed results as in the golden file (UPDATE_GOLDEN=1 rewrites it)', () => {
    const html = withoutLibrary(renderHtmlReport(fixedResults(), { generatedAt: '2025-01-02T03:06:00.000Z' }))
    if (process.env['UPDATE_GOLDEN'] === '1') writeFileSync(GOLDEN, html)
    expect(html).toBe(readFileSync(GOLDEN, 'utf8'))
  })

  it('depends only on its input: no clock, and the same document twice', () => {
    const a = renderHtmlReport(fixedResults())
    expect(renderHtmlReport(fixedResults())).toBe(a)
    expect(a).not.toContain('generated')
    expect(renderHtmlReport([fixedResult()], { title: 'Checkout <nightly>' })).toContain('<title>Checkout &lt;nightly&gt;</title>')
  })

  it('is self-contained: uPlot inlined, nothing loaded from anywhere, and a CSP that allows only its own scripts', () => {
    const html = renderHtmlReport(fixedResults())
    expect(html).not.toMatch(/<link|<img|<iframe|\ssrc=|\shref="(?!#)|url\(|@import/i)
    const [data, lib, client] = scripts(html)
    expect(data?.type).toBe('application/json')
    expect(lib?.body).toBe(UPLOT_JS)
    expect(client?.body).toContain('new uPlot(')
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1]
    expect(csp).toBe(`default-src 'none'; script-src ${sha256(lib!.body)} ${sha256(client!.body)}; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'`)
  })

  it('shows verdicts, one request row per scenario and name plus a total, errors and checks', () => {
    const html = renderHtmlReport([fixedResult()])
    expect(html.match(/data-verdict="fail"/g)).toHaveLength(1)
    expect(html.match(/data-verdict="pass"/g)).toHaveLength(3)
    expect(html).toContain('<td><code>p(95)&lt;500</code></td><td>p(95)=964.1ms</td>')
    expect(html).toContain('<strong>Aborted</strong> after 3s by <code>http_req_duration{scenario:checkout}</code>')
    expect(html).toMatch(/<tr><td>browse<\/td><td>GET \/products<\/td><td class="num">400<\/td><td class="num">100\.0<\/td>/)
    expect(html).toMatch(/<tr><td>checkout<\/td><td>POST \/pay<\/td><td class="num">80<\/td>/)
    expect(html).toMatch(/<tr class="total"><td>total<\/td><td><\/td><td class="num">480<\/td>/)
    expect(html).toContain('TypeError: Cannot read properties of undefined (reading &#39;id&#39;)')
    expect(html).toContain('receipt has &quot;id&quot;, &quot;total&quot;')
    expect(html.match(/data-chart="(latency|throughput|distribution)"/g)).toHaveLength(3)
    expect(embedded(html).tests).toEqual([chartData(fixedResult())])
  })

  it('marks an interrupted result', () => {
    const html = renderHtmlReport([{ ...fixedResult(), interrupted: { by: 'timeout', atMs: 2500 } }])
    expect(html).toContain('<p class="aborted"><strong>Interrupted</strong> (timeout) after 2.5s: the figures cover the run until then.</p>')
    expect(renderHtmlReport([fixedResult()])).not.toContain('Interrupted')
  })

  it('escapes names, tags, URLs and error messages: every payload shows as text, none as markup', () => {
    const html = renderHtmlReport([hostile()])
    for (const payload of PAYLOADS) {
      expect(html).not.toContain(payload)
      expect(html).toContain(escapeHtml(payload))
    }
    // Only the page's own three script elements, and the data block cannot be closed early.
    expect(html.match(/<script/g)).toHaveLength(3)
    expect(scripts(html)[0]!.body).not.toMatch(/[<>&]/)
    expect(html).not.toMatch(/<(img|svg)\b/)
    // Inside a real tag, that is: as text the payloads keep their words.
    expect(html).not.toMatch(/<[^>]*\son(error|load)=/)
  })

  it('says so when there are no results, no requests or no time series', () => {
    expect(renderHtmlReport([])).toContain('No load test results.')
    const empty = { ...fixedResult(), metrics: [], timeSeries: { intervalMs: 1000, series: [] }, errors: [], thresholds: [] }
    const html = renderHtmlReport([empty])
    expect(html).toContain('No HTTP requests.')
    expect(html).toContain('no per-second time series')
    expect(html).not.toContain('data-chart=')
  })
})

describe('chartData', () => {
  it('merges every http_req_duration series per second: percentiles from the summed histograms', () => {
    const r = fixedResult()
    const data = chartData(r)
    expect(data.seconds).toEqual([0, 1, 2, 3])
    const durations = r.timeSeries.series.filter((s) => s.metric === 'http_req_duration')
    expect(durations.length).toBeGreaterThan(1)
    for (const t of data.seconds) {
      const h = createHistogram()
      for (const s of durations) for (const p of s.points) if (p.t === t && 'histogram' in p) h.add(decodeHistogram(p.histogram))
      const [p50, p95, p99] = quickSummary(h, [50, 95, 99]).at.map(toMillis)
      expect([data.p50[t], data.p95[t], data.p99[t]]).toEqual([p50, p95, p99])
    }
    // 480 requests and 40 failures spread over 4 seconds; errors 5 = 2 + 1 + 1 + 1.
    expect(data.rps).toEqual([120, 120, 120, 120])
    expect(data.failed).toEqual([10, 10, 10, 10])
    expect(data.errors.reduce((a, b) => a + b)).toBe(5)
  })

  it('bins the whole run by tenths of a decade for the log-scale distribution, every request counted once', () => {
    const { distribution } = chartData(fixedResult())
    expect(distribution.count.reduce((a, b) => a + b)).toBe(480)
    expect(distribution.ms.length).toBe(distribution.count.length)
    const ratios = distribution.ms.slice(1).map((ms, i) => ms / distribution.ms[i]!)
    for (const ratio of ratios) expect(ratio).toBeCloseTo(10 ** 0.1, 2)
    // Each bucket spans a twentieth of a decade either side of its centre: the fastest request (8 ms) is in the first, the slowest (1008.75 ms) in the last.
    const half = 10 ** 0.05
    expect(distribution.ms[0]! / half).toBeLessThanOrEqual(8)
    expect(distribution.ms[0]! * half).toBeGreaterThan(8)
    expect(distribution.ms.at(-1)! / half).toBeLessThanOrEqual(1008.75)
    expect(distribution.ms.at(-1)! * half).toBeGreaterThan(1008.75)
  })

  it('fills seconds without requests with gaps in latency and zeros in counts', () => {
    const r = fixedResult()
    const gap = {
      ...r,
      timeSeries: {
        ...r.timeSeries,
        series: r.timeSeries.series.map((s) => ({ ...s, points: (s.points as Array<{ t: number }>).filter((p) => p.t !== 2) }) as typeof s),
      },
    }
    const data = chartData(gap)
    expect(data.seconds).toEqual([0, 1, 2, 3])
    expect(data.p95[2]).toBeNull()
    expect(data.rps[2]).toBe(0)
  })

  it('falls back to the totals when the result has no time series', () => {
    const data = chartData({ ...fixedResult(), timeSeries: { intervalMs: 1000, series: [] } })
    expect(data.seconds).toEqual([])
    expect(data.distribution.count.reduce((a, b) => a + b)).toBe(480)
  })
})

describe('resolveHtmlReporterOptions', () => {
  it('fills in the defaults', () => {
    expect(resolveHtmlReporterOptions()).toEqual(HTML_REPORTER_DEFAULTS)
    expect(resolveHtmlReporterOptions({ outputFile: 'out/r.html', title: 'Nightly' })).toEqual({ outputFile: 'out/r.html', title: 'Nightly' })
    expect(Object.isFrozen(resolveHtmlReporterOptions({}))).toBe(true)
  })

  it('rejects mistakes with coded errors that say what to write', () => {
    expect(() => resolveHtmlReporterOptions({ outputDir: 'x' })).toThrow(expect.objectContaining({ code: 'CHAPERON_UNKNOWN_OPTION', message: expect.stringContaining('Did you mean "outputFile"?') }))
    expect(() => resolveHtmlReporterOptions({ outputFile: '' })).toThrow(expect.objectContaining({ code: 'CHAPERON_INVALID_OPTION', message: expect.stringContaining("outputFile option must be a non-empty path such as 'reports/load.html'") }))
    expect(() => resolveHtmlReporterOptions({ title: 3 })).toThrow(expect.objectContaining({ code: 'CHAPERON_INVALID_OPTION' }))
    expect(() => resolveHtmlReporterOptions('report.html')).toThrow(expect.objectContaining({ code: 'CHAPERON_INVALID_OPTION' }))
  })
})
