// The `csv` reporter's render function on fixed results, against test/golden/results.csv.
//
// After an intended change to the output, rewrite the golden file and review its diff:
//   UPDATE_GOLDEN=1 npx vitest run --project unit test/unit/csv-render.test.ts
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { ChaperonError } from '../../src/core/errors.ts'
import { PERCENTILES } from '../../src/core/histogram.ts'
import type { LoadTestResult, SeriesResult } from '../../src/core/result.ts'
import { CSV_COLUMNS, csvField, formatNumber, formatTags, renderCsv } from '../../src/reporters/csv-render.ts'
import { CSV_REPORTER_DEFAULTS, CsvReporter, resolveCsvReporterOptions } from '../../src/reporters/csv-reporter.ts'
import { fixedResult, fixedResults } from '../support/fixed-results.ts'

function expectGolden(name: string, text: string): void {
  const path = fileURLToPath(new URL(`../golden/${name}`, import.meta.url))
  if (process.env['UPDATE_GOLDEN'] === '1') writeFileSync(path, text)
  expect(text, `${name} differs from its golden file; if the change is intended, run with UPDATE_GOLDEN=1`).toBe(readFileSync(path, 'utf8'))
}

/**
 * A strict RFC 4180 parser, written from the RFC rather than from renderCsv:
 * every record must end in CRLF, and a quote may only open a field or, doubled,
 * stand for itself inside a quoted one.
 */
function parseCsv(text: string): string[][] {
  const rows: string[][] = []
  let row: string[] = []
  let i = 0
  while (i < text.length) {
    let field = ''
    if (text[i] === '"') {
      i++
      for (;;) {
        if (i >= text.length) throw new Error('unterminated quoted field')
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            field += '"'
            i += 2
          } else {
            i++
            break
          }
        } else field += text[i++]
      }
    } else {
      while (i < text.length && text[i] !== ',' && text[i] !== '\r' && text[i] !== '\n') {
        if (text[i] === '"') throw new Error(`bare quote at ${i}`)
        field += text[i++]
      }
    }
    row.push(field)
    if (text[i] === ',') i++
    else if (text.startsWith('\r\n', i)) {
      rows.push(row)
      row = []
      i += 2
    } else throw new Error(`expected , or CRLF at ${i}, got ${JSON.stringify(text[i])}`)
  }
  if (row.length > 0) throw new Error('last record does not end in CRLF')
  return rows
}

/** The parsed rows as objects keyed by column. */
function records(text: string): Array<Record<string, string>> {
  const [header, ...rows] = parseCsv(text)
  return rows.map((r) => Object.fromEntries(header!.map((h, i) => [h, r[i]!])))
}

function result(name: string, metrics: SeriesResult[], durationMs = 2000): LoadTestResult {
  return { ...fixedResult(), name, durationMs, metrics }
}

describe('renderCsv', () => {
  it('matches the golden file', () => {
    expectGolden('results.csv', renderCsv(fixedResults()))
  })

  it('has a header row and one row per load test and series, every row as wide as the header', () => {
    const results = fixedResults()
    const rows = parseCsv(renderCsv(results))
    expect(rows[0]).toEqual(CSV_COLUMNS)
    expect(rows.length - 1).toBe(results.reduce((n, r) => n + r.metrics.length, 0))
    for (const row of rows) expect(row).toHaveLength(CSV_COLUMNS.length)
    expect(rows.slice(1).map((r) => r[0])).toEqual(results.flatMap((r) => r.metrics.map(() => r.name)))
  })

  it("has Chaperon's percentile columns", () => {
    expect(CSV_COLUMNS).toEqual(['test', 'metric', 'type', 'tags', 'count', 'rate', 'value', 'min', 'mean', 'max', 'p10', 'p20', 'p30', 'p40', 'p50', 'p60', 'p75', 'p80', 'p85', 'p90', 'p95', 'p99', 'p99.9', 'p99.99', 'p99.999'])
    expect(CSV_COLUMNS.slice(-PERCENTILES.length)).toEqual(PERCENTILES.map((p) => `p${p}`))
  })

  it('is the header row alone without results', () => {
    expect(renderCsv([])).toBe(`${CSV_COLUMNS.join(',')}\r\n`)
  })

  it('fills the cells of each type and leaves the others empty', () => {
    const [trend, counter, rate, gauge, emptyRate] = records(
      renderCsv([
        result('t', [
          { metric: 'http_req_duration', type: 'trend', tags: { status: '200' }, trend: fixedTrend() },
          { metric: 'http_reqs', type: 'counter', tags: {}, value: 5 },
          { metric: 'checks', type: 'rate', tags: { check: 'ok' }, passes: 1, total: 3 },
          { metric: 'vus', type: 'gauge', tags: {}, value: 2, min: 0, max: 7 },
          { metric: 'http_req_failed', type: 'rate', tags: {}, passes: 0, total: 0 },
        ]),
      ]),
    )
    const t = fixedTrend()
    expect(trend).toMatchObject({ test: 't', metric: 'http_req_duration', type: 'trend', tags: 'status=200', count: String(t.count), rate: '', value: '', min: String(t.min), mean: String(t.mean), max: String(t.max) })
    for (const p of PERCENTILES) expect(trend![`p${p}`]).toBe(String(t.percentiles[`p${p}`]))
    expect(counter).toMatchObject({ type: 'counter', count: '5', rate: '2.5', value: '', min: '', mean: '', max: '', p50: '' })
    expect(rate).toMatchObject({ type: 'rate', count: '3', rate: '0.3333333333333333', value: '', min: '', max: '', p99: '' })
    expect(gauge).toMatchObject({ type: 'gauge', tags: '', count: '', rate: '', value: '2', min: '0', mean: '', max: '7', p10: '' })
    expect(emptyRate).toMatchObject({ count: '0', rate: '' })
  })

  it('leaves a counter rate empty when the test took no time', () => {
    const [row] = records(renderCsv([result('t', [{ metric: 'iterations', type: 'counter', tags: {}, value: 1 }], 0)]))
    expect(row).toMatchObject({ count: '1', rate: '' })
  })

  it('quotes names and tags holding commas, quotes, CR or LF, and reads them back exactly', () => {
    const nasty = {
      comma: 'a,b',
      quote: 'say "hi"',
      lf: 'line 1\nline 2',
      crlf: 'x\r\ny',
      cr: 'x\ry',
      unicode: 'Grüße — 東京 ✓ 🚀',
      space: '  padded  ',
    }
    const name = 'load, "quoted"\nand ünïcode'
    const text = renderCsv([result(name, [{ metric: 'my,metric', type: 'counter', tags: nasty, value: 1 }])])
    const [row] = records(text)
    expect(row!['test']).toBe(name)
    expect(row!['metric']).toBe('my,metric')
    expect(row!['tags']).toBe(formatTags(nasty))
    expect(row!['tags']).toBe('comma=a,b;cr=x\ry;crlf=x\r\ny;lf=line 1\nline 2;quote=say "hi";space=  padded  ;unicode=Grüße — 東京 ✓ 🚀')
    expect(text).toContain('"load, ""quoted""\nand ünïcode","my,metric",counter,"comma=a,b;')
  })

  it('puts every row on its own CRLF-ended line when no field holds a line break', () => {
    const text = renderCsv(fixedResults())
    expect(text.endsWith('\r\n')).toBe(true)
    expect(text.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/)
  })
})

describe('csvField', () => {
  it.each([
    ['plain', 'plain'],
    ['', ''],
    ['a,b', '"a,b"'],
    ['a"b', '"a""b"'],
    ['"', '""""'],
    ['a\nb', '"a\nb"'],
    ['a\rb', '"a\rb"'],
    [' spaced ', ' spaced '],
    ['ünï ✓', 'ünï ✓'],
  ])('%j → %j', (text, field) => {
    expect(csvField(text)).toBe(field)
  })
})

describe('formatTags', () => {
  it('sorts by key and escapes the separators', () => {
    expect(formatTags({})).toBe('')
    expect(formatTags({ status: '200', method: 'GET', name: 'GET /' })).toBe('method=GET;name=GET /;status=200')
    expect(formatTags({ 'a=b': 'c=d', 'e;f': 'g;h\\i' })).toBe('a\\=b=c=d;e\\;f=g\\;h\\\\i')
  })
})

describe('formatNumber', () => {
  it.each<[number | undefined, string]>([
    [0, '0'],
    [-0, '0'],
    [42, '42'],
    [1234567.5, '1234567.5'],
    [-3.25, '-3.25'],
    [0.1 + 0.2, '0.30000000000000004'],
    [1e-7, '0.0000001'],
    [-1.2345e-10, '-0.00000000012345'],
    [123456789012345680000, '123456789012345680000'],
    [1e21, '1e+21'],
    [Number.NaN, ''],
    [Number.POSITIVE_INFINITY, ''],
    [undefined, ''],
  ])('%d → %j', (n, text) => {
    expect(formatNumber(n)).toBe(text)
    if (text !== '' && !text.includes('e')) expect(Number(text)).toBe(n === -0 ? 0 : n)
  })
})

describe('resolveCsvReporterOptions', () => {
  it('fills in the default outputFile and freezes the result', () => {
    expect(resolveCsvReporterOptions()).toEqual({ outputFile: 'chaperon-results/results.csv' })
    expect(resolveCsvReporterOptions({})).toEqual(CSV_REPORTER_DEFAULTS)
    expect(resolveCsvReporterOptions({ outputFile: 'out/load.csv' })).toEqual({ outputFile: 'out/load.csv' })
    expect(Object.isFrozen(resolveCsvReporterOptions({}))).toBe(true)
    expect(new CsvReporter({ outputFile: '/abs/load.csv' }).outputFile).toBe('/abs/load.csv')
  })

  it.each<[string, unknown, string, string]>([
    ['a misspelled option', { outputFle: 'x.csv' }, 'CHAPERON_UNKNOWN_OPTION', `the 'csv' reporter has an unknown option "outputFle". Did you mean "outputFile"? Known options: outputFile.`],
    ['an option of the json reporter', { outputDir: 'x' }, 'CHAPERON_UNKNOWN_OPTION', 'Known options: outputFile.'],
    ['a boolean', { outputFile: true }, 'CHAPERON_INVALID_OPTION', `the 'csv' reporter's outputFile option must be a non-empty path such as 'results/load.csv'; got true.`],
    ['an empty path', { outputFile: '' }, 'CHAPERON_INVALID_OPTION', 'must be a non-empty path'],
    ['options that are an array', ['x.csv'], 'CHAPERON_INVALID_OPTION', `the 'csv' reporter's options must be an object such as { outputFile: 'results/load.csv' }; got an array.`],
  ])('rejects %s', (_, options, code, message) => {
    const error = (() => {
      try {
        resolveCsvReporterOptions(options)
      } catch (e) {
        return e
      }
      throw new Error('no error thrown')
    })()
    expect(error).toBeInstanceOf(ChaperonError)
    expect(error).toMatchObject({ code })
    expect((error as Error).message).toContain(message)
  })
})

function fixedTrend() {
  const m = fixedResult().metrics.find((s) => s.type === 'trend' && s.metric === 'http_req_duration')
  if (m?.type !== 'trend') throw new Error('fixture changed')
  return m.trend
}
