import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Ajv2020 } from 'ajv/dist/2020.js'
import { describe, expect, it } from 'vitest'
import type { LoadTestResult } from '../../src/core/result.ts'
import { CSV_COLUMNS } from '../../src/reporters/csv-render.ts'
import { chromiumMissing, launchChromium } from '../support/chromium.ts'
import { influxdMissing, influxString, startInfluxDb } from '../support/influxdb.ts'
import { runFixtureProject, type VitestRun } from './run-vitest.ts'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

/** The `loadTest()` call in fixtures/projects/reports/reports.load.ts. */
const LINE = 8

/** A run of the reports fixture as in GitHub Actions, with Vitest's junit reporter, and where its files went. */
async function runInActions(baseline: string): Promise<{ run: VitestRun; summary: string; comment: string; junit: string; result: LoadTestResult }> {
  const dir = mkdtempSync(join(tmpdir(), 'chaperon-reports-'))
  const files = { summary: join(dir, 'step-summary.md'), comment: join(dir, 'pr-comment.md'), junit: join(dir, 'junit.xml') }
  writeFileSync(files.summary, '# earlier step\n')
  const run = await runFixtureProject(
    'reports',
    { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: files.summary, CHAPERON_E2E_PR_COMMENT: files.comment, CHAPERON_BASELINE: baseline },
    ['--reporter=junit', `--outputFile.junit=${files.junit}`],
  )
  const [test] = run.report.testResults[0]?.assertionResults ?? []
  const read = (path: string) => readFileSync(path, 'utf8')
  return { run, summary: read(files.summary), comment: read(files.comment), junit: read(files.junit), result: test?.meta.chaperon as LoadTestResult }
}

/** The `<property>` elements of a JUnit file, with XML entities decoded. */
function properties(junit: string): Array<{ name: string; value: string }> {
  const decode = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&')
  return [...junit.matchAll(/<property name="([^"]*)" value="([^"]*)"/g)].map((m) => ({ name: decode(m[1]!), value: decode(m[2]!) }))
}

describe('the github reporter and JUnit verdicts in a real run', () => {
  it('annotates at the loadTest() line, appends the job summary, writes the PR comment and the JUnit properties; a missing baseline is one clear line', async () => {
    const missing = join(tmpdir(), 'chaperon-no-such-baseline')
    const { run, summary, comment, junit, result } = await runInActions(missing)
    expect(run.exitCode).toBe(1)
    const at = `file=(?:[^,]*/)?reports\\.load\\.ts,line=${LINE},col=1,title=chaperon%3A reports its verdicts`
    expect(run.output).toMatch(new RegExp(`^::error ${at}::✗ http_req_duration 'p\\(95\\)<1ms' p\\(95\\)=[\\d.]+ms$`, 'm'))
    expect(run.output).toMatch(new RegExp(`^::warning ${at}::nearly failing, within 10%25 of its limit 11: http_reqs 'count<11' count=10$`, 'm'))
    expect(run.output).toMatch(new RegExp(`^::warning ${at}::not compared with a baseline: http_reqs 'count<=\\+0%25 baseline' count=10, not compared: no baseline$`, 'm'))
    expect(run.output).not.toMatch(/^::(error|warning) .*'max<10s'/m)
    // The baseline that is not there: said once by the load test, once by the reporter; nothing crashed.
    expect(run.output).toContain(`ChaperonError [CHAPERON_BASELINE]: The baseline ${missing} does not exist.`)
    expect(run.output).toContain('2 baseline budgets of "reports its verdicts" not compared.')

    expect(summary.startsWith('# earlier step\n## chaperon: 1 of 1 load test failed\n')).toBe(true)
    expect(summary).toContain('| ✗ | reports its verdicts |')
    expect(summary).toMatch(/\| ✗ \| `http_req_duration` \| `p\(95\)<1ms` \| p\(95\)=[\d.]+ms \|/)
    expect(summary).toContain('| ⚠ | `http_reqs` | `count<11` | count=10 |')

    expect(comment).toContain('<!-- chaperon:pr-comment -->')
    expect(comment).toContain('ChaperonError \\[CHAPERON\\_BASELINE\\]: The baseline')
    expect(comment).toContain('No baseline for this load test.')
    expect(comment).toContain('| `http_reqs` | ✓ `count<=+0% baseline` | 10 | no baseline | — |')

    expect(result.thresholds.map((t) => [t.expression, t.ok, t.baseline])).toEqual([
      ['p(95)<1ms', false, undefined],
      ['max<10s', true, undefined],
      ['count<11', true, undefined],
      ['count<=+0% baseline', true, null],
      ['count<-50% baseline', true, null],
    ])
    const verdicts = properties(junit).filter((p) => p.name === 'chaperon.threshold').map((p) => p.value)
    expect(verdicts).toEqual([
      expect.stringMatching(/^✗ http_req_duration 'p\(95\)<1ms' p\(95\)=[\d.]+ms$/),
      expect.stringMatching(/^✓ http_req_duration 'max<10s' max=[\d.]+ms$/),
      "✓ http_reqs 'count<11' count=10",
      "✓ http_reqs 'count<=+0% baseline' count=10, not compared: no baseline",
      "✓ http_reqs 'count<-50% baseline' count=10, not compared: no baseline",
    ])

    // Judged against a baseline run of itself: one budget holds, the other fails the test.
    const baselineFile = join(mkdtempSync(join(tmpdir(), 'chaperon-baseline-')), 'main.json')
    writeFileSync(baselineFile, JSON.stringify(result))
    const second = await runInActions(baselineFile)
    expect(second.run.exitCode).toBe(1)
    expect(second.run.output).toMatch(/✗ http_reqs 'count<-50% baseline' count=10, baseline 10 \(\+0%\)/)
    expect(second.run.output).toMatch(new RegExp(`^::error ${at}::✗ http_reqs 'count<-50%25 baseline' count=10, baseline 10 \\(\\+0%25\\)$`, 'm'))
    expect(second.run.output).not.toContain('CHAPERON_BASELINE')
    expect(second.result.thresholds.slice(3).map((t) => [t.ok, t.baseline, t.change])).toEqual([
      [true, 10, 0],
      [false, 10, 0],
    ])
    expect(second.comment).toContain('| `http_reqs` | ✓ `count<=+0% baseline` | 10 | 10 | +0% |')
    expect(second.comment).toContain('| `http_reqs` | ✗ `count<-50% baseline` | 10 | 10 | +0% |')
    expect(properties(second.junit).map((p) => p.value)).toContain("✗ http_reqs 'count<-50% baseline' count=10, baseline 10 (+0%)")
  })
})

describe('every reporter in one real run', () => {
  const influxMissing = influxdMissing()
  const browserMissing = chromiumMissing()
  // Both throw when CI is set and the program is missing, so CI never skips this.
  const missing = influxMissing ?? browserMissing

  it.skipIf(missing !== undefined)(`writes every artefact, and each parses back and checks out${missing === undefined ? '' : ` (skipped: ${missing})`}`, async () => {
    const influx = await startInfluxDb()
    try {
      const out = mkdtempSync(join(tmpdir(), 'chaperon-every-reporter-'))
      const summary = join(out, 'step-summary.md')
      const run = await runFixtureProject('reports', {
        GITHUB_ACTIONS: 'true',
        GITHUB_STEP_SUMMARY: summary,
        CHAPERON_E2E_PR_COMMENT: join(out, 'pr-comment.md'),
        CHAPERON_E2E_OUT: out,
        CHAPERON_E2E_INFLUX: influx.url,
      })
      const result = run.report.testResults[0]!.assertionResults[0]!.meta.chaperon as LoadTestResult
      expect(result.name).toBe('reports its verdicts')
      const reqs = result.metrics.reduce((n, m) => n + (m.metric === 'http_reqs' && m.type === 'counter' ? m.value : 0), 0)
      expect(reqs).toBe(10)

      // JSON: one file per load test, valid against the schema, equal to the result Vitest holds.
      const [jsonFile, ...others] = readdirSync(join(out, 'json'))
      expect(others).toEqual([])
      const json = JSON.parse(readFileSync(join(out, 'json', jsonFile!), 'utf8')) as LoadTestResult
      const validate = new Ajv2020({ strict: true }).compile(JSON.parse(readFileSync(join(ROOT, 'schema/load-test-result.schema.json'), 'utf8')))
      expect(validate(json), JSON.stringify(validate.errors)).toBe(true)
      expect(json).toEqual(result)

      // CSV: the documented columns, one row per series.
      const rows = readFileSync(join(out, 'results.csv'), 'utf8').trimEnd().split('\r\n')
      expect(rows[0]!.split(',')).toEqual([...CSV_COLUMNS])
      expect(rows).toHaveLength(1 + result.metrics.length)

      // InfluxDB: the per-second points add up to the run's counts.
      const [series] = await influx.query('e2e', `SELECT sum("value") FROM "http_reqs" WHERE "test" = ${influxString(result.name)}`)
      expect(series?.values[0]?.[1]).toBe(reqs)
      const [durations] = await influx.query('e2e', `SELECT sum("count") FROM "http_req_duration" WHERE "test" = ${influxString(result.name)}`)
      expect(durations?.values[0]?.[1]).toBe(reqs)

      // HTML: renders in Chromium with no console errors and three drawn charts.
      const browser = await launchChromium()
      try {
        const page = await (await browser.newContext({ offline: true })).newPage()
        const errors: string[] = []
        page.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())))
        page.on('pageerror', (e) => errors.push(e.message))
        await page.goto(pathToFileURL(join(out, 'report.html')).href)
        expect(await page.locator('.plot canvas').count()).toBe(3)
        expect(await page.locator('tr[data-verdict]').count()).toBe(result.thresholds.length)
        expect(errors).toEqual([])
      } finally {
        await browser.close()
      }

      // GitHub: the annotation points at the loadTest() line; the job summary was appended.
      expect(run.output).toMatch(new RegExp(`^::error file=(?:[^,]*/)?reports\\.load\\.ts,line=${LINE},col=1,`, 'm'))
      expect(readFileSync(summary, 'utf8')).toContain('| ✗ | reports its verdicts |')
    } finally {
      await influx.stop()
    }
  })
})

describe('an exporter outage', () => {
  it('InfluxDB down: the local files are still written, the failure is reported and fails the run', async () => {
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const port = (closed.address() as AddressInfo).port
    await new Promise((resolve) => closed.close(resolve))
    const out = mkdtempSync(join(tmpdir(), 'chaperon-influx-down-'))
    const run = await runFixtureProject('reports', { CHAPERON_E2E_OUT: out, CHAPERON_E2E_INFLUX: `http://127.0.0.1:${port}` })
    expect(run.exitCode).toBe(1)
    expect(run.output).toContain(`ChaperonError [CHAPERON_EXPORT_FAILED]: Writing to InfluxDB at http://127.0.0.1:${port}/write?db=e2e&precision=ms failed after 4 attempts`)
    expect(run.output).toContain('The points of "reports its verdicts" were not written.')
    const [jsonFile] = readdirSync(join(out, 'json'))
    const json = JSON.parse(readFileSync(join(out, 'json', jsonFile!), 'utf8')) as LoadTestResult
    expect(json.name).toBe('reports its verdicts')
    expect(readFileSync(join(out, 'results.csv'), 'utf8')).toContain('reports its verdicts,http_reqs,counter,')
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('reports its verdicts')
  })
})
