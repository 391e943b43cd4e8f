// The html reporter's page in real headless Chromium (Debian's package, driven by playwright-core).
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestCase, Vitest } from 'vitest/node'
import type { LoadTestResult, SeriesResult } from '../../src/core/result.ts'
import { chartData, renderHtmlReport } from '../../src/reporters/html-render.ts'
import { HtmlReporter } from '../../src/reporters/html-reporter.ts'
import { scenario } from '../../src/runtime/scenario.ts'
import { chromiumMissing, launchChromium } from '../support/chromium.ts'
import { fixedResult } from '../support/fixed-results.ts'
import { useTarget } from '../support/results.ts'

const missing = chromiumMissing()

/** A page of the report in `file`, with everything a test asserts on recorded. */
interface Opened {
  page: Page
  /** Every request but the report file itself; routes abort them, so none reaches a network. */
  requests: string[]
  /** Console errors and uncaught page errors. */
  errors: string[]
  /** Dialogs (`alert()` and kin) the page opened. */
  dialogs: string[]
}

async function open(browser: Browser, file: string, viewport = { width: 1280, height: 1600 }): Promise<Opened> {
  const context = await browser.newContext({ viewport, offline: true })
  const page = await context.newPage()
  const url = pathToFileURL(file).href
  const opened: Opened = { page, requests: [], errors: [], dialogs: [] }
  await context.route(
    (u) => u.href !== url,
    (route) => {
      opened.requests.push(route.request().url())
      return route.abort()
    },
  )
  page.on('request', (request) => {
    if (request.url() !== url && !opened.requests.includes(request.url())) opened.requests.push(request.url())
  })
  page.on('console', (message) => {
    if (message.type() === 'error') opened.errors.push(message.text())
  })
  page.on('pageerror', (error) => opened.errors.push(error.message))
  page.on('dialog', (dialog) => {
    opened.dialogs.push(dialog.message())
    void dialog.dismiss()
  })
  await page.goto(url, { waitUntil: 'load' })
  return opened
}

/** The little of the browser's globals these tests read; the project's types have no DOM library. */
interface PageGlobals {
  chaperonCharts: Array<{ test: number; kind: string; points: number; series: number[] }>
  __pwned?: unknown
  document: {
    scripts: { length: number }
    querySelector(selector: string): { width: number; height: number; getContext(type: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null } | null
  }
}

/** What the page's script reports of the charts it drew, plus how many canvas pixels each chart painted. */
async function drawnCharts(page: Page): Promise<Array<{ test: number; kind: string; points: number; series: number[]; painted: number }>> {
  return page.evaluate(() => {
    const g = globalThis as unknown as PageGlobals
    return g.chaperonCharts.map((c) => {
      const canvas = g.document.querySelector(`[data-test="${c.test}"][data-chart="${c.kind}"] canvas`)
      const pixels = canvas?.getContext('2d')?.getImageData(0, 0, canvas.width, canvas.height).data ?? new Uint8ClampedArray()
      let painted = 0
      for (let i = 3; i < pixels.length; i += 4) if (pixels[i]! > 0) painted++
      return { ...c, series: [...c.series], painted }
    })
  })
}

/** A load test of about `seconds` seconds at a constant arrival rate, with a few failed requests and thrown errors. */
function shopRun(seconds: number, rate: number): Parameters<ReturnType<typeof useTarget>['run']>[0] {
  let n = 0
  return {
    scenarios: {
      browse: {
        scenario: scenario('browse', async (s) => {
          const i = n++
          await s.get('/delay?min=1&max=25', { name: 'GET /products' })
          if (i % 12 === 5) await s.get('/status/503', { name: 'GET /stock' })
          if (i % 25 === 7) throw new Error('stock service said no')
        }),
        executor: 'constant-arrival-rate',
        rate,
        duration: `${seconds}s`,
        preAllocatedVUs: 10,
      },
      checkout: {
        scenario: scenario('pay', async (s) => {
          await s.post('/cart', { name: 'POST /cart', body: '{"items":1}', headers: { 'content-type': 'application/json' } })
          await s.get('/delay?min=40&max=120', { name: 'GET /pay' })
        }),
        executor: 'constant-arrival-rate',
        rate: Math.max(1, Math.round(rate / 4)),
        duration: `${seconds}s`,
        preAllocatedVUs: 10,
      },
    },
    thresholds: {
      http_req_duration: ['p(95)<500'],
      'http_req_duration{scenario:checkout}': ['p(99)<100'],
      http_req_failed: ['rate<0.01'],
    },
  }
}

/** `fixedResult()` with payloads in its name, a scenario, a request name, a check, a threshold and an error; each sets `window.__pwned` or calls `alert()` if it ever runs. */
function hostile(): LoadTestResult {
  const r = fixedResult()
  const img = '<img src=x onerror="window.__pwned=1;alert(1)">'
  const script = '</script><script>window.__pwned=2;alert(2)</script>'
  const svg = '"><svg onload="window.__pwned=3;alert(3)">'
  const rename = (m: SeriesResult): SeriesResult => ({
    ...m,
    tags: Object.fromEntries(Object.entries(m.tags).map(([k, v]) => [k, k === 'scenario' && v === 'browse' ? script : k === 'name' ? img : k === 'check' ? svg : v])),
  })
  return {
    ...r,
    name: `shop ${img} ${script}`,
    scenarios: [{ name: script, executor: 'constant-vus', scenario: 'browse' }, ...r.scenarios.slice(1)],
    metrics: r.metrics.map(rename),
    thresholds: [{ key: `http_req_duration{name:${img}}`, expression: 'p(95)<500', ok: false, actual: 964.1, display: `p(95)=${svg}` }],
    errors: [{ scenario: script, action: 'iteration', code: 'Error', message: `GET https://shop.test/?q=${script} failed: ${img}`, count: 1 }],
  }
}

// Without Chromium the suite is skipped locally, its name saying why; with CI set chromiumMissing() throws instead.
const skip = missing !== undefined
if (skip) console.warn(`Skipping the HTML report's browser tests: ${missing}. With CI set they fail instead.`)
describe.skipIf(skip)(skip ? `HTML report in Chromium (skipped: ${missing})` : 'HTML report in Chromium', () => {
  const target = useTarget()
  let browser: Browser | undefined
  let dir = ''

  beforeAll(async () => {
    // In CI a missing browser fails the run here instead of skipping it.
    if (missing !== undefined) throw new Error(`the HTML report's browser tests need Chromium, and CI is set: ${missing}`)
    browser = await launchChromium()
    dir = await mkdtemp(join(tmpdir(), 'chaperon-html-'))
  })
  afterAll(async () => {
    await browser?.close()
    if (dir !== '') await rm(dir, { recursive: true, force: true })
  })

  it('renders a real run: verdicts, tables and three charts with a point per second, no console errors and no network', async () => {
    const result = await target.run(shopRun(3, 30))
    const seconds = chartData(result).seconds.length
    expect(seconds).toBeGreaterThanOrEqual(3)
    const file = join(dir, 'report.html')
    await writeFile(file, renderHtmlReport([result]))

    const { page, requests, errors, dialogs } = await open(browser!, file)
    expect(errors).toEqual([])
    expect(requests).toEqual([])
    expect(dialogs).toEqual([])
    const charts = await drawnCharts(page)
    expect(charts.map((c) => c.kind)).toEqual(['latency', 'throughput', 'distribution'])
    expect(await page.locator('.plot canvas').count()).toBe(3)
    for (const chart of charts) {
      expect(chart.painted, `${chart.kind} paints its canvas`).toBeGreaterThan(1000)
      for (const length of chart.series) expect(length, `${chart.kind} has data`).toBeGreaterThan(0)
    }
    const [latency, throughput, distribution] = charts
    expect(latency!.points).toBe(seconds)
    expect(throughput!.points).toBe(seconds)
    expect(throughput!.series[0]).toBe(seconds)
    expect(distribution!.points).toBeGreaterThan(1)
    expect(await page.locator('[data-chart="latency"]').getAttribute('data-points')).toBe(String(seconds))

    const verdicts = page.locator('tr[data-verdict]')
    expect(await verdicts.count()).toBe(3)
    expect(await page.locator('tr[data-verdict="fail"]').count()).toBeGreaterThanOrEqual(1)
    expect(await verdicts.first().textContent()).toMatch(/^[✓✗]http_req_durationp\(95\)<500p\(95\)=/)
    const rows = await page.locator('table.requests tbody tr').allTextContents()
    expect(rows.map((r) => r.slice(0, 20))).toEqual(expect.arrayContaining([expect.stringMatching(/^browseGET \/products/), expect.stringMatching(/^browseGET \/stock/), expect.stringMatching(/^checkoutGET \/pay/), expect.stringMatching(/^total/)]))
    expect(await page.locator('table.errors').textContent()).toContain('Error: stock service said no')
  })

  it('shows script payloads in names, tags and messages as text; none of them runs', async () => {
    const file = join(dir, 'hostile.html')
    await writeFile(file, renderHtmlReport([hostile()], { title: '<script>window.__pwned=4</script>' }))
    const { page, requests, errors, dialogs } = await open(browser!, file)
    expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).__pwned)).toBeUndefined()
    expect(dialogs).toEqual([])
    expect(errors).toEqual([])
    expect(requests).toEqual([])
    expect(await page.title()).toBe('<script>window.__pwned=4</script>')
    expect(await page.locator('h2').textContent()).toContain('shop <img src=x onerror="window.__pwned=1;alert(1)"> </script><script>window.__pwned=2;alert(2)</script>')
    expect(await page.locator('table.requests').textContent()).toContain('<img src=x onerror="window.__pwned=1;alert(1)">')
    expect(await page.locator('table.checks').textContent()).toContain('"><svg onload="window.__pwned=3;alert(3)">')
    expect(await page.locator('table.errors').textContent()).toContain('GET https://shop.test/?q=</script><script>window.__pwned=2;alert(2)</script> failed')
    // The page's own three scripts, and no element the payloads would have made.
    expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).document.scripts.length)).toBe(3)
    expect(await page.locator('main img, main svg, [onerror], [onload]').count()).toBe(0)
    expect((await drawnCharts(page)).length).toBe(3)
  })
})

describe('HtmlReporter', () => {
  let dir = ''
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'chaperon-html-reporter-'))
  })
  afterAll(() => rm(dir, { recursive: true, force: true }))

  function fakeVitest(root: string): { vitest: Vitest; logs: string[]; errors: string[] } {
    const logs: string[] = []
    const errors: string[] = []
    const vitest = { config: { root }, logger: { log: (...a: unknown[]) => logs.push(a.join(' ')), error: (...a: unknown[]) => errors.push(a.join(' ')) } }
    return { vitest: vitest as unknown as Vitest, logs, errors }
  }

  function testCase(result: LoadTestResult | undefined): TestCase {
    return { meta: () => (result === undefined ? {} : { chaperon: result }) } as unknown as TestCase
  }

  it('writes one report of every load test at the end of the run, in source order, relative to the root', async () => {
    const { vitest, logs, errors } = fakeVitest(dir)
    const reporter = new HtmlReporter({ outputFile: 'out/load.html', title: 'Nightly' })
    reporter.onInit(vitest)
    reporter.onTestRunStart()
    const later = { ...fixedResult(), name: 'later', location: { file: 'b.load.ts', line: 1, column: 1 } }
    const earlier = { ...fixedResult(), name: 'earlier', location: { file: 'a.load.ts', line: 9, column: 1 } }
    reporter.onTestCaseResult(testCase(later))
    reporter.onTestCaseResult(testCase(undefined))
    reporter.onTestCaseResult(testCase(earlier))
    await reporter.onTestRunEnd()
    expect(errors).toEqual([])
    const html = await readFile(join(dir, 'out/load.html'), 'utf8')
    expect(html).toContain('<title>Nightly</title>')
    expect(html.indexOf('</span> earlier</h2>')).toBeLessThan(html.indexOf('</span> later</h2>'))
    expect(html).toMatch(/generated \d{4}-\d\d-\d\dT/)
    expect(logs.join('\n')).toMatch(/HTML report written to .*out\/load\.html/)
  })

  it('writes nothing for a run without load tests', async () => {
    const { vitest } = fakeVitest(join(dir, 'none'))
    const reporter = new HtmlReporter()
    reporter.onInit(vitest)
    reporter.onTestCaseResult(testCase(undefined))
    await reporter.onTestRunEnd()
    expect(existsSync(join(dir, 'none'))).toBe(false)
  })

  it('logs a file it cannot write and fails the exit code, without throwing', async () => {
    await writeFile(join(dir, 'a-file'), '')
    const { vitest, errors } = fakeVitest(dir)
    const reporter = new HtmlReporter({ outputFile: 'a-file/report.html' })
    reporter.onInit(vitest)
    reporter.onTestCaseResult(testCase(fixedResult()))
    const exitCode = process.exitCode
    try {
      await expect(reporter.onTestRunEnd()).resolves.toBeUndefined()
      expect(process.exitCode).toBe(1)
    } finally {
      process.exitCode = exitCode
    }
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatch(/CHAPERON_EXPORT_FAILED.*'html' reporter could not write the report of 1 load test to .*a-file\/report\.html: E(EXIST|NOTDIR)/)
  })
})
