import { PERCENTILES } from '../core/histogram.ts'
import type { LoadTestResult, SeriesResult, Tags } from '../core/result.ts'

/**
 * The columns of the `csv` reporter's file, in order. Which cells a row fills
 * depends on the metric's type; the rest stay empty:
 *
 * | column | trend | counter | rate | gauge |
 * |---|---|---|---|---|
 * | `count` | samples | the total | samples (`total`) | |
 * | `rate` | | total per second of the test's `durationMs` | `passes / total` (0–1) | |
 * | `value` | | | | last value |
 * | `min`, `max` | smallest, largest sample | | | smallest, largest value |
 * | `mean` | mean sample | | | |
 * | `p10` … `p99.999` | Chaperon's percentiles | | | |
 *
 * Trend values are as in `TrendSummary`: milliseconds for times.
 */
export const CSV_COLUMNS: readonly string[] = Object.freeze([
  'test',
  'metric',
  'type',
  'tags',
  'count',
  'rate',
  'value',
  'min',
  'mean',
  'max',
  ...PERCENTILES.map((p) => `p${p}`),
])

const CRLF = '\r\n'

/**
 * The CSV of one run: a header row of {@link CSV_COLUMNS}, then one row per
 * load test and series, the tests in the order given and each test's series
 * in its `metrics` order. RFC 4180: CRLF after every row (the last one
 * included), and a field holding a comma, a double quote, CR or LF is put in
 * double quotes with its quotes doubled. Numbers are plain decimals with a
 * `.` (exponents only below 1e-20 or from 1e21). With no results it is the
 * header row alone.
 */
export function renderCsv(results: readonly LoadTestResult[]): string {
  const rows: string[][] = [[...CSV_COLUMNS]]
  for (const result of results) {
    for (const series of result.metrics) rows.push(csvRow(result, series))
  }
  return rows.map((row) => row.map(csvField).join(',') + CRLF).join('')
}

function csvRow(result: LoadTestResult, series: SeriesResult): string[] {
  const cells: Record<string, number | undefined> = {}
  switch (series.type) {
    case 'trend': {
      const t = series.trend
      Object.assign(cells, { count: t.count, min: t.min, mean: t.mean, max: t.max })
      for (const p of PERCENTILES) cells[`p${p}`] = t.percentiles[`p${p}`]
      break
    }
    case 'counter':
      cells['count'] = series.value
      cells['rate'] = result.durationMs > 0 ? series.value / (result.durationMs / 1000) : undefined
      break
    case 'rate':
      cells['count'] = series.total
      cells['rate'] = series.total > 0 ? series.passes / series.total : undefined
      break
    case 'gauge':
      Object.assign(cells, { value: series.value, min: series.min, max: series.max })
      break
  }
  return [result.name, series.metric, series.type, formatTags(series.tags), ...CSV_COLUMNS.slice(4).map((c) => formatNumber(cells[c]))]
}

/**
 * Tags as `key=value` pairs sorted by key and joined by `;`, e.g.
 * `method=GET;name=GET /;status=200`. A `\` or `;` inside a key or value, and
 * a `=` inside a key, is preceded by `\`, so the cell splits back unambiguously.
 */
export function formatTags(tags: Tags): string {
  return Object.keys(tags)
    .sort()
    .map((key) => `${escapeTag(key, /[\\;=]/g)}=${escapeTag(tags[key]!, /[\\;]/g)}`)
    .join(';')
}

function escapeTag(text: string, special: RegExp): string {
  return text.replace(special, (c) => `\\${c}`)
}

/**
 * A number as a plain decimal: no thousands separators, `.` as the decimal
 * point, no exponent between 1e-20 and 1e21, as many digits as it takes to
 * read back the same number. `undefined` and non-finite numbers give an empty cell.
 */
export function formatNumber(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return ''
  if (n === 0) return '0' // also -0
  const text = String(n)
  if (!text.includes('e') || Math.abs(n) >= 1e21 || Math.abs(n) < 1e-20) return text
  // Below 1e-6: write out the leading zeros, keeping the shortest digits that read back the same.
  const [mantissa, exponent] = text.split('e') as [string, string]
  const negative = mantissa.startsWith('-')
  const digits = mantissa.replace('-', '').replace('.', '')
  return `${negative ? '-' : ''}0.${'0'.repeat(-Number(exponent) - 1)}${digits}`
}

/** One RFC 4180 field: quoted, with quotes doubled, when it holds a comma, a quote, CR or LF. */
export function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
}
