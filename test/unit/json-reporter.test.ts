// The `json` reporter's render function on fixed results, against test/golden/result.json.
//
// After an intended change to the output, rewrite the golden file and review its diff:
//   UPDATE_GOLDEN=1 npx vitest run --project unit test/unit/json-reporter.test.ts
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js'
import { describe, expect, it } from 'vitest'
import { ChaperonError } from '../../src/core/errors.ts'
import type { LoadTestResult } from '../../src/core/result.ts'
import { JSON_REPORTER_DEFAULTS, JsonReporter, renderJson, resolveJsonReporterOptions } from '../../src/reporters/json-reporter.ts'
import { fixedResult, fixedResults } from '../support/fixed-results.ts'

function expectGolden(name: string, text: string): void {
  const path = fileURLToPath(new URL(`../golden/${name}`, import.meta.url))
  if (process.env['UPDATE_GOLDEN'] === '1') writeFileSync(path, text)
  expect(text, `${name} differs from its golden file; if the change is intended, run with UPDATE_GOLDEN=1`).toBe(readFileSync(path, 'utf8'))
}

const schema = JSON.parse(readFileSync(new URL('../../schema/load-test-result.schema.json', import.meta.url), 'utf8'))
const validate = new Ajv2020({ strict: true, allErrors: true }).compile(schema)

function schemaErrors(value: unknown): string[] {
  return validate(value) ? [] : validate.errors!.map((e: ErrorObject) => `${e.instancePath} ${e.message}`)
}

/** The same object with the keys of every object in reverse order. */
function reversedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversedKeys)
  if (typeof value !== 'object' || value === null) return value
  return Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reversedKeys(v)]))
}

describe('renderJson', () => {
  it('matches the golden file', () => {
    expectGolden('result.json', renderJson(fixedResult()))
  })

  it('writes the result losslessly, indented by two spaces, with a newline at the end', () => {
    const text = renderJson(fixedResult())
    expect(JSON.parse(text)).toEqual(fixedResult())
    expect(text.startsWith('{\n  "schemaVersion": 1,\n  "name": "shop under load",\n')).toBe(true)
    expect(text.endsWith('}\n')).toBe(true)
    expect(text.endsWith('\n\n')).toBe(false)
  })

  it('writes keys in a fixed order whatever order the result has', () => {
    const shuffled = reversedKeys(fixedResult()) as LoadTestResult
    expect(Object.keys(shuffled)[0]).toBe('abortedBy')
    expect(renderJson(shuffled)).toBe(renderJson(fixedResult()))
  })

  it('sorts tags and orders percentiles from p10 to p99.999', () => {
    const r = fixedResult()
    const trend = r.metrics.find((m) => m.type === 'trend')!
    if (trend.type !== 'trend') throw new Error('fixture changed')
    trend.tags = { status: '200', method: 'GET' }
    trend.trend.percentiles = Object.fromEntries(Object.entries(trend.trend.percentiles).reverse())
    const back = JSON.parse(renderJson(r)) as LoadTestResult
    const first = back.metrics[0]!
    expect(Object.keys(first.tags)).toEqual(['method', 'status'])
    if (first.type !== 'trend') throw new Error('fixture changed')
    expect(Object.keys(first.trend.percentiles)).toEqual(['p10', 'p20', 'p30', 'p40', 'p50', 'p60', 'p75', 'p80', 'p85', 'p90', 'p95', 'p99', 'p99.9', 'p99.99', 'p99.999'])
  })

  it('leaves out optional fields that are undefined and keeps fields it does not know', () => {
    const r = { ...fixedResult(), location: undefined, abortedBy: undefined, futureField: 1 } as unknown as LoadTestResult
    const back = JSON.parse(renderJson(r)) as Record<string, unknown>
    expect(Object.keys(back)).toEqual(['schemaVersion', 'name', 'startedAt', 'durationMs', 'status', 'scenarios', 'metrics', 'timeSeries', 'thresholds', 'errors', 'futureField'])
  })

  it('keeps the encoded histograms of the summaries and of every second', () => {
    const back = JSON.parse(renderJson(fixedResult())) as LoadTestResult
    const trends = back.metrics.filter((m) => m.type === 'trend')
    expect(trends.length).toBeGreaterThan(0)
    for (const t of trends) expect(t.trend.histogram).toMatch(/^HISTF/)
    const points = back.timeSeries.series.flatMap((s) => (s.type === 'trend' ? s.points : []))
    expect(points.length).toBeGreaterThan(0)
    for (const p of points) expect(p.histogram).toMatch(/^HISTF/)
  })
})

describe('schema/load-test-result.schema.json', () => {
  it('accepts the rendered fixed results', () => {
    for (const r of fixedResults()) expect(schemaErrors(JSON.parse(renderJson(r)))).toEqual([])
  })

  it('carries the schema version in its $id and in schemaVersion', () => {
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema')
    expect(schema.$id).toMatch(/:1$/)
    expect(schema.properties.schemaVersion).toMatchObject({ const: 1 })
  })

  it.each<[string, (r: Record<string, any>) => void, string]>([
    ['another schemaVersion', (r) => (r['schemaVersion'] = 2), '/schemaVersion must be equal to constant'],
    ['an unknown top-level field', (r) => (r['extra'] = true), ' must NOT have additional properties'],
    ['a missing field', (r) => delete r['timeSeries'], " must have required property 'timeSeries'"],
    ['an unknown status', (r) => (r['status'] = 'ok'), '/status must be equal to one of the allowed values'],
    ['a tag that is not a string', (r) => (r['metrics'][0].tags.scenario = 1), '/metrics/0/tags/scenario must be string'],
    ['a missing percentile', (r) => delete r['metrics'][0].trend.percentiles['p99.9'], "/metrics/0/trend/percentiles must have required property 'p99.9'"],
    ['a histogram that is not HdrHistogram base64', (r) => (r['metrics'][0].trend.histogram = 'abc'), '/metrics/0/trend/histogram must match pattern'],
    ['a counter with a trend field', (r) => (r['metrics'].find((m: { type: string }) => m.type === 'counter').passes = 1), 'must NOT have additional properties'],
    ['a rate point with a fractional total', (r) => (r['timeSeries'].series.find((s: { type: string }) => s.type === 'rate').points[0].total = 1.5), 'must be integer'],
    ['a startedAt that is not an ISO time', (r) => (r['startedAt'] = 'yesterday'), '/startedAt must match pattern'],
    ['a threshold actual that is a string', (r) => (r['thresholds'][0].actual = '1'), '/thresholds/0/actual must be number,null'],
    ['an error without a count', (r) => delete r['errors'][0].count, "/errors/0 must have required property 'count'"],
  ])('rejects %s', (_, change, message) => {
    const r = JSON.parse(renderJson(fixedResult())) as Record<string, any>
    change(r)
    expect(schemaErrors(r).join('\n')).toContain(message)
  })
})

describe('resolveJsonReporterOptions', () => {
  it('fills in the default outputDir and freezes the result', () => {
    expect(resolveJsonReporterOptions()).toEqual({ outputDir: 'chaperon-results' })
    expect(resolveJsonReporterOptions({})).toEqual(JSON_REPORTER_DEFAULTS)
    expect(resolveJsonReporterOptions({ outputDir: 'out/load' })).toEqual({ outputDir: 'out/load' })
    expect(Object.isFrozen(resolveJsonReporterOptions({}))).toBe(true)
    expect(new JsonReporter({ outputDir: '/abs/dir' }).outputDir).toBe('/abs/dir')
  })

  it.each<[string, unknown, string, string]>([
    ['a misspelled option', { outputdir: 'x' }, 'CHAPERON_UNKNOWN_OPTION', `the 'json' reporter has an unknown option "outputdir". Did you mean "outputDir"? Known options: outputDir.`],
    ['an option of another reporter', { outputFile: 'x.json' }, 'CHAPERON_UNKNOWN_OPTION', 'Known options: outputDir.'],
    ['a number', { outputDir: 3 }, 'CHAPERON_INVALID_OPTION', `the 'json' reporter's outputDir option must be a non-empty path such as 'results/load'; got 3.`],
    ['an empty path', { outputDir: ' ' }, 'CHAPERON_INVALID_OPTION', 'must be a non-empty path'],
    ['options that are not an object', 'out', 'CHAPERON_INVALID_OPTION', `the 'json' reporter's options must be an object such as { outputDir: 'results/load' }; got "out".`],
  ])('rejects %s', (_, options, code, message) => {
    const error = (() => {
      try {
        resolveJsonReporterOptions(options)
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
