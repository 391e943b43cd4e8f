// Line protocol of the influxdb reporter, and its options. The golden file is
// rewritten, when a change is intended, with
//   UPDATE_GOLDEN=1 npx vitest run --project unit test/unit/influxdb-line.test.ts
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { ChaperonError } from '../../src/core/errors.ts'
import { InfluxDbClient, redactUrl, writeHeaders, writeUrl } from '../../src/reporters/influxdb-client.ts'
import {
  escapeKey,
  escapeMeasurement,
  formatLine,
  linesFromResult,
  linesFromSeconds,
  quoteString,
  secondsFromTimeSeries,
  summaryLines,
} from '../../src/reporters/influxdb-line.ts'
import { INFLUXDB_REPORTER_DEFAULTS, InfluxDbReporter, resolveInfluxDbReporterOptions } from '../../src/reporters/influxdb-reporter.ts'
import { fixedResult } from '../support/fixed-results.ts'

function expectGolden(text: string): void {
  const path = fileURLToPath(new URL('../golden/influxdb.lp', import.meta.url))
  if (process.env['UPDATE_GOLDEN'] === '1') writeFileSync(path, text)
  expect(text, 'influxdb.lp differs from its golden file; if the change is intended, run with UPDATE_GOLDEN=1').toBe(readFileSync(path, 'utf8'))
}

/** A line split at its unescaped separators: measurement, tags, fields, timestamp. */
function parse(line: string): { measurement: string; tags: Record<string, string>; fields: Record<string, string>; time: number } {
  const parts = line.match(/^((?:\\.|[^ \\])+) ((?:"(?:\\.|[^"\\])*"|\\.|[^ \\"])+) (\d+)$/)
  if (parts === null) throw new Error(`not a line: ${line}`)
  const [head, ...tagParts] = parts[1]!.split(/(?<!\\),/)
  const pairs = (items: string[]): Record<string, string> => Object.fromEntries(items.map((item) => item.split(/(?<!\\)=/, 2) as [string, string]))
  return { measurement: head!, tags: pairs(tagParts), fields: pairs(parts[2]!.split(/(?<!\\),(?=(?:[^"]*"[^"]*")*[^"]*$)/)), time: Number(parts[3]) }
}

describe('line protocol escaping', () => {
  it('escapes commas and spaces in measurements, but not equals signs', () => {
    expect(escapeMeasurement('my metric,x=1')).toBe('my\\ metric\\,x=1')
  })

  it('escapes commas, equals signs and spaces in tag keys, tag values and field keys', () => {
    expect(escapeKey('GET /a?b=c, d')).toBe('GET\\ /a?b\\=c\\,\\ d')
    expect(escapeKey('plain_value-1.2')).toBe('plain_value-1.2')
  })

  it('keeps inner backslashes, drops trailing ones and turns newlines into spaces', () => {
    expect(escapeKey('C:\\dir\\file')).toBe('C:\\dir\\file')
    expect(escapeKey('ends\\\\')).toBe('ends')
    expect(escapeKey('two\nlines\r\nhere')).toBe('two\\ lines\\ here')
    expect(escapeMeasurement('a\nb')).toBe('a\\ b')
  })

  it('quotes string fields, escaping double quotes and backslashes', () => {
    expect(quoteString('say "hi" \\o/')).toBe('"say \\"hi\\" \\\\o/"')
  })

  it('writes sorted tags, typed fields and a timestamp, leaving out what line protocol cannot hold', () => {
    const line = formatLine('m', { z: '1', a: 'x y', empty: '', time: 't' }, { f: 1.5, i: { int: 3 }, ok: true, s: 'a"b', nan: Number.NaN, inf: Number.POSITIVE_INFINITY }, 1234.4)
    expect(line).toBe('m,a=x\\ y,time_=t,z=1 f=1.5,i=3i,ok=true,s="a\\"b" 1234')
    expect(formatLine('m', {}, { nan: Number.NaN }, 0)).toBeUndefined()
  })
})

describe('points of a result', () => {
  it('matches the golden file for a fixed result', () => {
    expectGolden(`${linesFromResult(fixedResult(), { run: 'ci-42', env: 'staging' }).join('\n')}\n`)
  })

  it('is the time series from linesFromSeconds followed by summaryLines', () => {
    const result = fixedResult()
    const start = Date.parse(result.startedAt)
    expect(linesFromResult(result)).toEqual([...linesFromSeconds(result.name, start, secondsFromTimeSeries(result.timeSeries)), ...summaryLines(result)])
  })

  it('has one point per series per second at start + t·1000 ms, whose counter values add up to the totals', () => {
    const result = fixedResult()
    const start = Date.parse(result.startedAt)
    const points = linesFromResult(result).map(parse)
    const perSecond = result.timeSeries.series.reduce((n, s) => n + s.points.length, 0)
    const seriesPoints = points.filter((p) => !p.measurement.startsWith('chaperon_'))
    expect(seriesPoints).toHaveLength(perSecond)
    expect(new Set(seriesPoints.map((p) => p.time))).toEqual(new Set([0, 1, 2, 3].map((t) => start + t * 1000)))
    const sum = (metric: string, field: string): number =>
      seriesPoints.filter((p) => p.measurement === metric).reduce((n, p) => n + Number.parseFloat(p.fields[field]!), 0)
    expect(sum('http_reqs', 'value')).toBe(480)
    expect(sum('data_received', 'value')).toBe(4_812_345 + 96_880)
    expect(sum('http_req_duration', 'count')).toBe(480)
    expect(sum('checks', 'total')).toBe(480)
    expect(points.filter((p) => p.measurement === 'http_req_duration').every((p) => p.fields['count']!.endsWith('i'))).toBe(true)
  })

  it('puts one summary point per series and one point per threshold at the end, tagged with the test', () => {
    const result = fixedResult()
    const end = Date.parse(result.startedAt) + result.durationMs
    const points = summaryLines(result, { run: '7' }).map(parse)
    const summary = points.filter((p) => p.measurement === 'chaperon_summary')
    expect(summary).toHaveLength(result.metrics.length)
    expect(points.filter((p) => p.measurement === 'chaperon_threshold')).toHaveLength(result.thresholds.length)
    expect(points.every((p) => p.time === end && p.tags['test'] === 'shop\\ under\\ load' && p.tags['run'] === '7')).toBe(true)
    const reqs = summary.filter((p) => p.tags['metric'] === 'http_reqs')
    expect(reqs.reduce((n, p) => n + Number(p.fields['value']), 0)).toBe(480)
    const noSamples = points.find((p) => p.tags['key'] === 'ws_connecting')!
    expect(noSamples.fields).toEqual({ ok: 'true', display: '"no samples"' })
  })

  it('lets the series tags win over extra tags, and test over both', () => {
    const [line] = linesFromSeconds('t', 0, [{ t: 2, samples: [{ metric: 'c', type: 'counter', tags: { scenario: 's', test: 'mine' }, point: { t: 2, value: 1 } }] }], { scenario: 'x', env: 'e' })
    expect(line).toBe('c,env=e,scenario=s,test=t value=1 2000')
  })
})

describe('InfluxDB requests', () => {
  it('writes 1.x to /write with db and precision, credentials as basic auth', () => {
    const target = { url: 'http://influx:8086/', version: 1 as const, database: 'load test', username: 'u', password: 'p w' }
    expect(writeUrl(target)).toBe('http://influx:8086/write?db=load+test&precision=ms')
    expect(writeHeaders(target)).toEqual({ 'content-type': 'text/plain; charset=utf-8', authorization: `Basic ${Buffer.from('u:p w').toString('base64')}` })
  })

  it('writes 2.x to /api/v2/write with org, bucket and precision, and a Token header', () => {
    const target = { url: 'https://cloud.example/prefix', version: 2 as const, org: 'acme', bucket: 'b', token: 's3cret' }
    expect(writeUrl(target)).toBe('https://cloud.example/prefix/api/v2/write?org=acme&bucket=b&precision=ms')
    expect(writeHeaders(target)['authorization']).toBe('Token s3cret')
    expect(new InfluxDbClient(target).url).toBe(writeUrl(target))
  })

  it('redacts credentials from URLs it prints', () => {
    expect(redactUrl('http://user:pw@h:1/write?db=x&p=pw&u=user')).toBe('http://***@h:1/write?db=x&p=***&u=***')
  })
})

describe('resolveInfluxDbReporterOptions', () => {
  const code = (fn: () => unknown): string | undefined => {
    try {
      fn()
    } catch (error) {
      return error instanceof ChaperonError ? `${error.code}: ${error.message}` : String(error)
    }
    return undefined
  }

  it('fills in the defaults', () => {
    expect(resolveInfluxDbReporterOptions({ url: 'http://localhost:8086/' }, {})).toEqual({
      url: 'http://localhost:8086',
      version: 1,
      database: 'chaperon',
      username: undefined,
      password: undefined,
      org: undefined,
      bucket: undefined,
      token: undefined,
      tags: {},
      run: undefined,
      stream: true,
      flushInterval: 5000,
      batchSize: 5000,
      timeout: 10_000,
      retries: 3,
    })
    expect(INFLUXDB_REPORTER_DEFAULTS).toMatchObject({ version: 1, database: 'chaperon', stream: true, flushInterval: '5s', batchSize: 5000, timeout: '10s', retries: 3 })
  })

  it('reads the 2.x token from INFLUXDB_TOKEN when not given, and an option wins over it', () => {
    const v2 = { url: 'http://h:8086', version: 2, org: 'o', bucket: 'b' }
    expect(resolveInfluxDbReporterOptions(v2, { INFLUXDB_TOKEN: 'from-env' }).token).toBe('from-env')
    expect(resolveInfluxDbReporterOptions({ ...v2, token: 'given' }, { INFLUXDB_TOKEN: 'from-env' }).token).toBe('given')
    expect(code(() => resolveInfluxDbReporterOptions(v2, {}))).toMatch(/^CHAPERON_INVALID_OPTION: .*needs a token.*INFLUXDB_TOKEN/)
  })

  it('accepts its own resolved options again, as the plugin passes them', () => {
    const resolved = resolveInfluxDbReporterOptions({ url: 'http://h:1', version: 2, bucket: 'b', token: 't', flushInterval: '250ms', tags: { env: 'ci' }, run: '9' }, {})
    expect(new InfluxDbReporter(resolved).options).toEqual(resolved)
    expect(new InfluxDbReporter(resolved).live).toBe(true)
    expect(new InfluxDbReporter({ url: 'http://h:1', stream: false }).live).toBe(false)
  })

  it('rejects mistakes with coded errors that say what to write', () => {
    expect(code(() => resolveInfluxDbReporterOptions(undefined))).toMatch(/^CHAPERON_INVALID_OPTION: .*url: 'http:\/\/localhost:8086'/)
    expect(code(() => resolveInfluxDbReporterOptions({}))).toMatch(/^CHAPERON_INVALID_OPTION: .*needs a url/)
    expect(code(() => resolveInfluxDbReporterOptions({ url: 'http://h', bukcet: 'x' }))).toMatch(/^CHAPERON_UNKNOWN_OPTION: .*"bukcet".*Did you mean "bucket"\?/)
    expect(code(() => resolveInfluxDbReporterOptions({ url: 'localhost:8086' }))).toMatch(/^CHAPERON_INVALID_URL: .*http\(s\) URL/)
    expect(code(() => resolveInfluxDbReporterOptions({ url: 'udp://h:8089' }))).toMatch(/^CHAPERON_INVALID_URL/)
    expect(code(() => resolveInfluxDbReporterOptions({ url: 'http://u:p@h:8086' }))).toMatch(/^CHAPERON_INVALID_URL: .*must not hold credentials/)
    expect(code(() => resolveInfluxDbReporterOptions({ url: 'http://h:8086/write?db=x' }))).toMatch(/^CHAPERON_INVALID_URL: .*without a query/)
    expect(code(() => resolveInfluxDbReporterOptions({ url: 'http://h', version: 3 }))).toMatch(/^CHAPERON_INVALID_OPTION: .*version option must be 1 .* or 2/)
    expect(code(() => resolveInfluxDbReporterOptions({ url: 'http://h', token: 't' }))).toMatch(/^CHAPERON_INVALID_OPTION: .*token option is for InfluxDB 2\.x.*Set version: 2/)
    expect(code(() => resolveInfluxDbReporterOptions({ url: 'http://h', version: 2, bucket: 'b', token: 't', database: 'd' }))).toMatch(/database option is for InfluxDB 1\.x/)
    expect(code(() => resolveInfluxDbReporterOptions({ url: 'http://h', version: 2, token: 't' }))).toMatch(/needs a bucket/)
    expect(code(() => resolveInfluxDbReporterOptions({ url: 'http://h', tags: { test: 'x' } }))).toMatch(/cannot set "test"/)
    expect(code(() => resolveInfluxDbReporterOptions({ url: 'http://h', tags: { env: '' } }))).toMatch(/^CHAPERON_INVALID_OPTION: .*tags\.env/)
    expect(code(() => resolveInfluxDbReporterOptions({ url: 'http://h', tags: { run: '1' }, run: '2' }))).toMatch(/run tag twice/)
    expect(code(() => resolveInfluxDbReporterOptions({ url: 'http://h', flushInterval: '5 seconds' }))).toMatch(/^CHAPERON_INVALID_DURATION/)
    expect(code(() => resolveInfluxDbReporterOptions({ url: 'http://h', timeout: 0 }))).toMatch(/timeout option must be a duration above zero/)
    expect(code(() => resolveInfluxDbReporterOptions({ url: 'http://h', batchSize: 0 }))).toMatch(/batchSize option must be an integer of at least 1/)
    expect(code(() => resolveInfluxDbReporterOptions({ url: 'http://h', stream: 'yes' }))).toMatch(/stream option must be true or false/)
  })
})
