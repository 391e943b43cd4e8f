import { stripVTControlCharacters } from 'node:util'
import { describe, expect, it } from 'vitest'
import { createHistogram, type Histogram, recordMicros, summarize, toMillis } from '../../src/core/histogram.ts'
import { type LoadTestResult, SCHEMA_VERSION, type SeriesResult, type Tags } from '../../src/core/result.ts'
import { createPalette, useColors } from '../../src/reporters/colors.ts'
import { failureRows, formatBytes, formatMillis, httpRows, renderSummary } from '../../src/reporters/summary-render.ts'

const plain = createPalette(false)
const ANSI = /\u001b\[[0-9;]*m/

function result(overrides: Partial<LoadTestResult> = {}): LoadTestResult {
  return {
    schemaVersion: SCHEMA_VERSION,
    name: 'shop under load',
    startedAt: '2025-01-01T00:00:00.000Z',
    durationMs: 10_000,
    status: 'passed',
    scenarios: [{ name: 'browse', executor: 'fixed-vus', scenario: 'browse' }],
    metrics: [],
    timeSeries: { intervalMs: 1000, series: [] },
    thresholds: [],
    errors: [],
    ...overrides,
  }
}

function trend(metric: string, tags: Tags, samplesMs: readonly number[], into?: Histogram): SeriesResult {
  const h = createHistogram()
  for (const ms of samplesMs) {
    recordMicros(h, ms * 1000)
    if (into !== undefined) recordMicros(into, ms * 1000)
  }
  return { metric, type: 'trend', tags, trend: summarize(h) }
}

/** Deterministic, spread-out latencies so percentiles differ per series. */
function latencies(n: number, baseMs: number, spreadMs: number): number[] {
  return Array.from({ length: n }, (_, i) => baseMs + ((i * 7919) % n) * (spreadMs / n))
}

/** The table row whose first two cells are `scenario` and `name`, split into cells. */
function row(text: string, scenario: string, name: string): string[] {
  const line = text.split('\n').find((l) => l.trim().startsWith(`${scenario}  `) && l.includes(`  ${name}  `))
  expect(line, `row ${scenario} ${name}`).toBeDefined()
  return line!.trim().split(/ {2,}/)
}

/**
 * 1000 requests: browse/GET / (600: 540 × 200 fast, 60 × 500 slow), browse/POST /cart (300 × 201)
 * and checkout/POST /pay (100 × 200). The slow 500s dominate GET /'s tail, so averaging
 * per-status percentiles would give a different p95 than merging the histograms.
 */
function shop(): { result: LoadTestResult; getAll: Histogram } {
  const getAll = createHistogram()
  const get = { scenario: 'browse', name: 'GET /', method: 'GET' }
  const metrics: SeriesResult[] = [
    trend('http_req_duration', { ...get, expected_response: 'true', status: '200' }, latencies(540, 10, 20), getAll),
    trend('http_req_duration', { ...get, expected_response: 'false', status: '500' }, latencies(60, 400, 400), getAll),
    trend('http_req_duration', { scenario: 'browse', name: 'POST /cart', method: 'POST', status: '201' }, latencies(300, 30, 30)),
    trend('http_req_duration', { scenario: 'checkout', name: 'POST /pay', method: 'POST', status: '200' }, latencies(100, 1000, 900)),
    { metric: 'http_req_failed', type: 'rate', tags: { ...get, status: '200' }, passes: 0, total: 540 },
    { metric: 'http_req_failed', type: 'rate', tags: { ...get, status: '500' }, passes: 60, total: 60 },
    { metric: 'http_req_failed', type: 'rate', tags: { scenario: 'browse', name: 'POST /cart', status: '201' }, passes: 0, total: 300 },
    { metric: 'http_req_failed', type: 'rate', tags: { scenario: 'checkout', name: 'POST /pay', status: '200' }, passes: 0, total: 100 },
    { metric: 'iterations', type: 'counter', tags: { scenario: 'browse' }, value: 300 },
    { metric: 'iterations', type: 'counter', tags: { scenario: 'checkout' }, value: 100 },
    trend('iteration_duration', { scenario: 'browse' }, latencies(300, 50, 100)),
    { metric: 'checks', type: 'rate', tags: { scenario: 'browse', name: 'GET /', check: 'status is 200' }, passes: 540, total: 600 },
    { metric: 'checks', type: 'rate', tags: { scenario: 'checkout', name: 'POST /pay', check: 'status is 200' }, passes: 98, total: 100 },
    { metric: 'checks', type: 'rate', tags: { scenario: 'browse', name: 'GET /', check: 'has body' }, passes: 600, total: 600 },
    { metric: 'data_sent', type: 'counter', tags: { scenario: 'browse' }, value: 120_000 },
    { metric: 'data_received', type: 'counter', tags: { scenario: 'browse' }, value: 45_600_000 },
    { metric: 'vus', type: 'gauge', tags: {}, value: 0, min: 0, max: 20 },
  ]
  return {
    getAll,
    result: result({
      status: 'failed',
      scenarios: [
        { name: 'browse', executor: 'fixed-vus', scenario: 'browse' },
        { name: 'checkout', executor: 'ramping-vus', scenario: 'pay' },
      ],
      metrics,
      thresholds: [
        { key: 'http_req_duration', expression: 'p(95)<200', ok: false, actual: 1320.5, display: 'p(95)=1320.5ms' },
        { key: 'http_req_failed', expression: 'rate<0.1', ok: true, actual: 0.06, display: 'rate=6.00%' },
        { key: 'http_req_duration', expression: 'p(50)<100', ok: true, actual: 24.3, display: 'p(50)=24.3ms' },
      ],
      errors: [
        { scenario: 'browse', action: 'iteration', code: 'TypeError', message: 'TypeError: cart is undefined', stack: 'TypeError: cart is undefined\n    at browse (shop.load.ts:12:5)\n    at run (chaperon.js:1:1)', count: 3 },
        { scenario: 'checkout', action: 'iteration', code: 'TypeError', message: 'TypeError: cart is undefined', count: 4 },
        { scenario: 'checkout', action: 'iteration', code: 'Error', message: 'payment declined\nsecond line', count: 9 },
      ],
    }),
  }
}

describe('httpRows', () => {
  it('groups requests per scenario and name, sorted, with merged percentiles and failures', () => {
    const { result: r, getAll } = shop()
    const rows = httpRows(r)
    expect(rows.map((x) => [x.scenario, x.name, x.count, x.failures])).toEqual([
      ['browse', 'GET /', 600, 60],
      ['browse', 'POST /cart', 300, 0],
      ['checkout', 'POST /pay', 100, 0],
    ])
    const get = rows[0]!
    expect(get.rate).toBe(60)
    expect(get.p50).toBe(toMillis(getAll.getValueAtPercentile(50)))
    expect(get.p95).toBe(toMillis(getAll.getValueAtPercentile(95)))
    expect(get.p99).toBe(toMillis(getAll.getValueAtPercentile(99)))
    expect(get.max).toBe(toMillis(getAll.maxValue))
    // 10% of GET / are slow 500s, so the merged p95 lies among them; averaging per-status p95s would not.
    expect(get.p95).toBeGreaterThan(400)
    const [ok, failed] = r.metrics.filter((m) => m.type === 'trend' && m.tags['name'] === 'GET /')
    if (ok?.type !== 'trend' || failed?.type !== 'trend') throw new Error('fixture changed')
    expect(get.p95).not.toBeCloseTo((ok.trend.percentiles['p95']! + failed.trend.percentiles['p95']!) / 2, 0)
  })

  it('shows a missing scenario or name tag as "-"', () => {
    const r = result({ metrics: [trend('http_req_duration', { method: 'GET' }, [5, 6])] })
    expect(httpRows(r)).toMatchObject([{ scenario: '-', name: '-', count: 2, failures: 0 }])
  })
})

/** A failed-request series as the runtime writes it: `http_req_failed` for one name and outcome. */
function failed(scenario: string, name: string, status: string, errorCode: string | undefined, passes: number, total = passes): SeriesResult {
  const tags: Record<string, string> = { scenario, name, method: 'GET', status, expected_response: String(passes === 0) }
  if (errorCode !== undefined) tags['error_code'] = errorCode
  return { metric: 'http_req_failed', type: 'rate', tags, passes, total }
}

/** 1000 requests, 130 of them failed under five error codes, one of which hits four request names. */
function faults(): LoadTestResult {
  return result({
    metrics: [
      failed('browse', 'GET /', '200', undefined, 0, 870),
      failed('browse', 'GET /', '0', 'ECONNREFUSED', 40),
      failed('browse', 'GET /a', '0', 'ECONNREFUSED', 10),
      failed('browse', 'GET /b', '0', 'ECONNREFUSED', 10),
      failed('checkout', 'POST /pay', '0', 'ECONNREFUSED', 20),
      failed('checkout', 'GET /c', '0', 'ECONNREFUSED', 10),
      failed('browse', 'GET /', '503', 'HTTP_503', 30),
      failed('checkout', 'POST /pay', '0', 'UND_ERR_HEADERS_TIMEOUT', 5),
      failed('browse', 'GET /', '0', 'ECONNRESET', 3),
      failed('browse', 'GET /b', '0', 'INCOMPLETE_RESPONSE', 2),
      // An expected 404: not failed, so neither counted nor listed.
      failed('browse', 'GET /missing', '404', undefined, 0, 0),
    ],
  })
}

describe('failureRows', () => {
  it('groups failed requests by error_code, most frequent first, with their share and the names they hit', () => {
    expect(failureRows(faults())).toEqual([
      { code: 'ECONNREFUSED', count: 90, share: 0.09, names: ['GET /', 'POST /pay', 'GET /a', 'GET /b', 'GET /c'] },
      { code: 'HTTP_503', count: 30, share: 0.03, names: ['GET /'] },
      { code: 'UND_ERR_HEADERS_TIMEOUT', count: 5, share: 0.005, names: ['POST /pay'] },
      { code: 'ECONNRESET', count: 3, share: 0.003, names: ['GET /'] },
      { code: 'INCOMPLETE_RESPONSE', count: 2, share: 0.002, names: ['GET /b'] },
    ])
  })

  it('orders codes with the same count by name, and merges the series of one code', () => {
    const r = result({ metrics: [failed('a', 'x', '0', 'ENOTFOUND', 2), failed('b', 'y', '0', 'ECONNRESET', 1), failed('b', 'x', '0', 'ECONNRESET', 1)] })
    expect(failureRows(r).map((f) => [f.code, f.count, f.names])).toEqual([
      ['ECONNRESET', 2, ['x', 'y']],
      ['ENOTFOUND', 2, ['x']],
    ])
  })

  it('groups a failed status without error_code, from an older result, as HTTP_<status>', () => {
    expect(failureRows(shop().result)).toEqual([{ code: 'HTTP_500', count: 60, share: 0.06, names: ['GET /'] }])
  })

  it('is empty when nothing failed', () => {
    expect(failureRows(result({ metrics: [failed('a', 'x', '200', undefined, 0, 10)] }))).toEqual([])
    expect(failureRows(result())).toEqual([])
  })
})

describe('renderSummary', () => {
  it('renders the header with status, duration and scenarios with executors', () => {
    const [title, scenarios] = renderSummary(shop().result, plain).split('\n')
    expect(title).toBe('shop under load  ✗ failed  in 10s')
    expect(scenarios).toBe('  scenarios: browse (fixed-vus), checkout (ramping-vus)')
  })

  it('renders one aligned table row per scenario and name, and a total row', () => {
    const { result: r, getAll } = shop()
    const text = renderSummary(r, plain)
    const at = (q: number) => formatMillis(toMillis(getAll.getValueAtPercentile(q)))
    expect(row(text, 'browse', 'GET /')).toEqual([
      'browse', 'GET /', '600', '60.0', at(50), at(90), at(95), at(99), formatMillis(toMillis(getAll.maxValue)), '60 (10.00%)',
    ])
    expect(row(text, 'browse', 'POST /cart').slice(2, 4)).toEqual(['300', '30.0'])
    expect(row(text, 'browse', 'POST /cart').at(-1)).toBe('0')
    expect(row(text, 'checkout', 'POST /pay').slice(2, 4)).toEqual(['100', '10.0'])
    const total = text.split('\n').find((l) => l.trim().startsWith('total'))!.trim().split(/ {2,}/)
    expect([total[1], total[2], total.at(-1)]).toEqual(['1000', '100.0', '60 (6.00%)'])
    // Right-aligned numbers: every row of the table ends at the same column.
    const table = text.split('\n').filter((l) => /^ {2}(scenario|browse|checkout|total) /.test(l))
    expect(table).toHaveLength(5)
    expect(table[0]!.trim().split(/ +/)).toEqual(['scenario', 'name', 'count', 'req/s', 'p50', 'p90', 'p95', 'p99', 'max', 'failures'])
    expect(new Set(table.map((l) => l.length)).size).toBe(1)
  })

  it('aligns columns by visible width when colours are on', () => {
    const text = stripVTControlCharacters(renderSummary(shop().result, createPalette(true)))
    const table = text.split('\n').filter((l) => /^ {2}(scenario|browse|checkout|total) /.test(l))
    expect(new Set(table.map((l) => l.length)).size).toBe(1)
    expect(text).toBe(renderSummary(shop().result, plain))
  })

  it('summarises iterations, checks with the failing ones, data and VUs', () => {
    const lines = renderSummary(shop().result, plain).split('\n')
    const after = (label: string) => lines.find((l) => l.startsWith(`  ${label} `))?.slice(label.length + 2).trim()
    expect(after('iterations')).toMatch(/^400 {2}40\.0\/s {2}p50=\S+ms p95=\S+ms$/)
    expect(after('checks')).toBe('95.23%  1238/1300 passed')
    const checksAt = lines.findIndex((l) => l.startsWith('  checks '))
    expect(lines[checksAt + 1]).toBe('    ✗ status is 200  62/700 failed')
    expect(lines.some((l) => l.includes('has body'))).toBe(false)
    expect(after('data_sent')).toBe('120 kB  12.0 kB/s')
    expect(after('data_received')).toBe('45.6 MB  4.56 MB/s')
    expect(after('vus')).toBe('max 20')
  })

  it('shows each distinct error once, most frequent first, with its first line, where it came from and its stack', () => {
    const text = renderSummary(shop().result, plain)
    expect(text).toContain(
      [
        '  errors',
        '    9× payment declined (checkout, iteration, Error)',
        '    4× TypeError: cart is undefined (checkout, iteration, TypeError)',
        '    3× TypeError: cart is undefined (browse, iteration, TypeError)',
        '        at browse (shop.load.ts:12:5)',
        '        at run (chaperon.js:1:1)',
        '',
      ].join('\n'),
    )
    expect(text).not.toContain('second line')
  })

  it('breaks the failures down by error_code right under the table, at most three names per code', () => {
    const r = faults()
    r.metrics.push(trend('http_req_duration', { scenario: 'browse', name: 'GET /' }, latencies(1000, 1, 10)))
    const text = renderSummary(r, plain)
    const section = [
      '  failed requests by error_code',
      '    90×  ECONNREFUSED             9.00%  GET /, POST /pay, GET /a +2 more',
      '    30×  HTTP_503                 3.00%  GET /',
      '     5×  UND_ERR_HEADERS_TIMEOUT  0.50%  POST /pay',
      '     3×  ECONNRESET               0.30%  GET /',
      '     2×  INCOMPLETE_RESPONSE      0.20%  GET /b',
    ].join('\n')
    const sections = text.trimEnd().split('\n\n')
    expect(sections[1]).toMatch(/^ {2}scenario /)
    expect(sections[2]).toBe(section)
  })

  it('shows no failure breakdown when no request failed', () => {
    const r = result({ metrics: [trend('http_req_duration', { scenario: 'a', name: 'b' }, [1]), failed('a', 'b', '200', undefined, 0, 1)] })
    expect(renderSummary(r, plain)).not.toContain('failed requests')
  })

  it('lists thresholds with ✓/✗ and their values, grouped by metric key', () => {
    const text = renderSummary(shop().result, plain)
    expect(text.endsWith(
      [
        '  thresholds',
        "    ✗ http_req_duration  'p(95)<200' p(95)=1320.5ms",
        "    ✓ http_req_duration  'p(50)<100' p(50)=24.3ms",
        "    ✓ http_req_failed    'rate<0.1' rate=6.00%",
        '',
      ].join('\n'),
    )).toBe(true)
  })

  it('colours only when the palette is enabled', () => {
    expect(renderSummary(shop().result, plain)).not.toMatch(ANSI)
    const coloured = renderSummary(shop().result, createPalette(true))
    expect(coloured).toMatch(ANSI)
    expect(coloured).toContain(createPalette(true).red('✗'))
    expect(coloured).toContain(createPalette(true).green('✓'))
  })

  it('summarises WebSocket sessions, messages and receive times, session aborts and dropped iterations', () => {
    const ws = { scenario: 'chat', name: '/ws/echo' }
    const r = result({
      durationMs: 2000,
      metrics: [
        { metric: 'ws_sessions', type: 'counter', tags: ws, value: 40 },
        trend('ws_connecting', ws, latencies(40, 2, 2)),
        { metric: 'ws_msgs_sent', type: 'counter', tags: ws, value: 800 },
        { metric: 'ws_msgs_received', type: 'counter', tags: ws, value: 790 },
        trend('ws_recv_duration', ws, latencies(790, 1, 10)),
        { metric: 'session_aborts', type: 'counter', tags: { scenario: 'chat' }, value: 3 },
        { metric: 'dropped_iterations', type: 'counter', tags: { scenario: 'chat' }, value: 7 },
      ],
    })
    const lines = renderSummary(r, plain).split('\n')
    const after = (label: string) => lines.find((l) => l.trim().startsWith(`${label} `))?.trim().slice(label.length).trim()
    expect(after('session_aborts')).toBe('3')
    expect(after('dropped_iterations')).toBe('7')
    expect(after('ws_sessions')).toMatch(/^40 {2}connecting p95=3\.\d+ms$/)
    expect(after('ws_msgs_sent')).toBe('800  400.0/s')
    expect(after('ws_msgs_received')).toBe('790  395.0/s')
    expect(after('ws_recv_duration')).toMatch(/^p50=\d\.\d+ms p95=\d+\.\d+ms p99=\d+\.\d+ms$/)
  })

  it('summarises Server-Sent Events streams, events and reconnects, without an empty HTTP table', () => {
    const sse = { scenario: 'feed', name: '/sse/ticks' }
    const r = result({
      durationMs: 2000,
      metrics: [
        trend('sse_connecting', sse, latencies(4, 2, 2)),
        { metric: 'sse_events', type: 'counter', tags: sse, value: 120 },
        trend('sse_event_duration', sse, latencies(120, 10, 900)),
        { metric: 'sse_reconnects', type: 'counter', tags: sse, value: 2 },
      ],
    })
    const text = renderSummary(r, plain)
    const lines = text.split('\n')
    const after = (label: string) => lines.find((l) => l.trim().startsWith(`${label} `))?.trim().slice(label.length).trim()
    expect(after('sse_connecting')).toMatch(/^4 {2}p95=\d\.\d+ms$/)
    expect(after('sse_events')).toBe('120  60.0/s')
    expect(after('sse_event_duration')).toMatch(/^p50=\d+(\.\d+)?ms p95=\d+(\.\d+)?ms p99=\d+(\.\d+)?ms$/)
    expect(after('sse_reconnects')).toBe('2')
    expect(text).not.toContain('no HTTP requests')
  })

  it('says in the header when an abortOnFail threshold stopped the test', () => {
    const text = renderSummary(result({ status: 'failed', durationMs: 3200, abortedBy: { key: 'http_req_failed', expression: 'rate<0.1', display: 'rate=100%', atMs: 3100 } }), plain)
    expect(text.split('\n')[2]).toBe("  aborted after 3.1s: http_req_failed 'rate<0.1' rate=100% (abortOnFail)")
  })

  it('says in the header when the run was interrupted, and by what', () => {
    const text = renderSummary(result({ status: 'failed', durationMs: 4200, interrupted: { by: 'SIGINT', atMs: 4150 } }), plain)
    expect(text.split('\n')[2]).toBe('  interrupted (SIGINT) after 4.15s: the figures cover the run until then')
  })

  it('renders a result without any requests', () => {
    const text = renderSummary(result({ scenarios: [] }), plain)
    expect(text).toBe('shop under load  ✓ passed  in 10s\n\n  no HTTP requests\n')
  })

  it('does not divide by a zero duration', () => {
    const r = result({ durationMs: 0, metrics: [trend('http_req_duration', { scenario: 'a', name: 'b' }, [1])] })
    expect(row(renderSummary(r, plain), 'a', 'b').slice(2, 4)).toEqual(['1', '0.00'])
  })
})

describe('formatMillis and formatBytes', () => {
  it.each([
    [0, '0ms'],
    [0.42, '0.42ms'],
    [4.567, '4.57ms'],
    [12.34, '12.3ms'],
    [148.2, '148ms'],
    [999.7, '1.00s'],
    [1237, '1.24s'],
    [125_000, '2m5s'],
  ])('%d ms is %s', (ms, text) => expect(formatMillis(ms)).toBe(text))

  it.each([
    [512, '512 B'],
    [1234, '1.23 kB'],
    [45_600_000, '45.6 MB'],
    [2e9, '2.00 GB'],
  ])('%d bytes is %s', (bytes, text) => expect(formatBytes(bytes)).toBe(text))
})

describe('createPalette', () => {
  it('styles exactly the text it is given, even when called by Array#map', () => {
    expect(['a', 'b'].map(createPalette(true).dim)).toEqual(['\u001b[2ma\u001b[22m', '\u001b[2mb\u001b[22m'])
    expect(['a', 'b'].map(createPalette(false).red)).toEqual(['a', 'b'])
  })
})

describe('useColors', () => {
  it.each([
    [{ NO_COLOR: '1', FORCE_COLOR: '1' }, true, false],
    [{ NO_COLOR: '' }, true, true],
    [{ FORCE_COLOR: '1' }, false, true],
    [{ FORCE_COLOR: '' }, false, true],
    [{ FORCE_COLOR: '0' }, true, false],
    [{ FORCE_COLOR: 'false' }, true, false],
    [{}, true, true],
    [{}, false, false],
  ])('%j with isTTY=%s → %s', (env, isTTY, expected) => {
    expect(useColors({ isTTY }, env)).toBe(expected)
  })

  it('treats a stream without isTTY as not a terminal', () => {
    expect(useColors({}, {})).toBe(false)
  })
})
