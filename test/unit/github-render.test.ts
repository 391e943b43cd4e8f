import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { applyBaseline, type Baselines, findBaseline } from '../../src/core/baseline.ts'
import { BUILTIN_METRICS } from '../../src/core/builtin-metrics.ts'
import { ChaperonError } from '../../src/core/errors.ts'
import { createHistogram, recordMicros, summarize } from '../../src/core/histogram.ts'
import type { LoadTestResult, ThresholdResult } from '../../src/core/result.ts'
import { seriesFromResult } from '../../src/core/series.ts'
import { evaluateThresholds, parseThresholds } from '../../src/core/thresholds.ts'
import { escapeData, escapeProperty, inGithubActions, PR_COMMENT_MARKER, renderAnnotations, renderPrComment, renderStepSummary } from '../../src/reporters/github-render.ts'
import { GITHUB_REPORTER_DEFAULTS, resolveGithubReporterOptions } from '../../src/reporters/github-reporter.ts'
import { fixedResult, fixedResults } from '../support/fixed-results.ts'

/** Compares `text` with `test/golden/<name>`; `UPDATE_GOLDEN=1` rewrites the file instead. */
function expectGolden(name: string, text: string): void {
  const path = fileURLToPath(new URL(`../golden/${name}`, import.meta.url))
  if (process.env['UPDATE_GOLDEN'] === '1') {
    mkdirSync(dirname(path), { recursive: true })
    writeFileSync(path, text)
  }
  if (!existsSync(path)) throw new Error(`test/golden/${name} is missing; run with UPDATE_GOLDEN=1 to write it`)
  expect(text).toBe(readFileSync(path, 'utf8'))
}

/** `result` with budgets added, evaluated as the runtime does without a baseline (not compared). */
function withBudgets(result: LoadTestResult, budgets: Record<string, string>): LoadTestResult {
  const lookup = (name: string) => BUILTIN_METRICS[name]
  const added = evaluateThresholds(parseThresholds(budgets, lookup), seriesFromResult(result), result.durationMs / 1000, lookup)
  return { ...result, thresholds: [...result.thresholds, ...added] }
}

/** A baseline of `fixedResult()`: checkout requests faster (100–400 ms), 25 % more requests, fewer failures. */
function shopBaseline(): LoadTestResult {
  const r = fixedResult()
  const fast = createHistogram()
  for (let i = 0; i < 80; i++) recordMicros(fast, (100 + ((i * 37) % 80) * 3.75) * 1000)
  const metrics = r.metrics.map((m) => {
    if (m.metric === 'http_req_duration' && m.tags['scenario'] === 'checkout' && m.type === 'trend') return { ...m, trend: summarize(fast) }
    if (m.metric === 'http_reqs' && m.type === 'counter') return { ...m, value: m.value * 1.25 }
    if (m.metric === 'http_req_failed' && m.type === 'rate' && m.passes > 0) return { ...m, passes: 20 }
    return m
  })
  return { ...r, startedAt: '2024-12-30T10:00:00.000Z', metrics, status: 'passed', thresholds: [] }
}

/** The fixed results with budgets, and the baselines of the first (the second has none). */
function budgeted(): { results: LoadTestResult[]; baselines: Baselines } {
  const [shop, smoke] = fixedResults()
  const results = [
    withBudgets(shop!, { 'http_req_duration{scenario:checkout}': 'p(95)<+10% baseline', http_reqs: 'rate>-10% baseline', http_req_failed: 'rate<=+0.05 baseline' }),
    withBudgets(smoke!, { http_req_duration: 'p(99)<=+20% baseline' }),
  ]
  const problems = ['ChaperonError [CHAPERON_BASELINE]: baseline/old.json has schemaVersion 0, but chaperon 0.1.0 reads version 1. Write it again with chaperon 0.1.0, or read it with the chaperon that wrote it.']
  return { results, baselines: { source: 'baseline/', results: [shopBaseline()], problems } }
}

/** What the reporter renders: every result with its budgets judged against its baseline. */
function judged(): { results: LoadTestResult[]; baselines: Baselines } {
  const { results, baselines } = budgeted()
  return { results: results.map((r) => applyBaseline(r, findBaseline(baselines, r))), baselines }
}

describe('golden files', () => {
  it('annotations', () => {
    expectGolden('annotations.txt', renderAnnotations(judged().results, { root: '/repo' }))
  })

  it('step summary', () => {
    expectGolden('step-summary.md', renderStepSummary(judged().results))
  })

  it('PR comment', () => {
    const { results, baselines } = budgeted()
    expectGolden('pr-comment.md', renderPrComment(results, baselines))
  })
})

describe('renderAnnotations', () => {
  const result = (over: Partial<LoadTestResult>, thresholds: ThresholdResult[]): LoadTestResult => ({ ...fixedResult(), abortedBy: undefined, ...over, thresholds })
  const t = (key: string, expression: string, ok: boolean, actual: number | null, display: string): ThresholdResult => ({ key, expression, ok, actual, display })

  it('puts each failing threshold at the loadTest() call, relative to the root', () => {
    const r = result({ location: { file: '/repo/load/api.load.ts', line: 8, column: 1 } }, [t('http_req_duration', 'p(95)<200', false, 250, 'p(95)=250ms')])
    expect(renderAnnotations([r], { root: '/repo' })).toBe("::error file=load/api.load.ts,line=8,col=1,title=chaperon%3A shop under load::✗ http_req_duration 'p(95)<200' p(95)=250ms\n")
  })

  it('leaves out the place when the result has none', () => {
    const { location: _, ...r } = result({}, [t('http_reqs', 'count>1', false, 0, 'count=0')])
    expect(renderAnnotations([r as LoadTestResult])).toBe("::error title=chaperon%3A shop under load::✗ http_reqs 'count>1' count=0\n")
  })

  it('annotates an interrupted result as an error, and says so in the job summary and the PR comment', () => {
    const r = result({ location: { file: '/repo/a.load.ts', line: 2, column: 1 }, interrupted: { by: 'SIGTERM', atMs: 61_000 } }, [])
    const line = 'Interrupted (SIGTERM) after 1m1s: the figures cover the run until then.'
    expect(renderAnnotations([r], { root: '/repo' })).toBe(`::error file=a.load.ts,line=2,col=1,title=chaperon%3A shop under load::${line}\n`)
    expect(renderStepSummary([r])).toContain(`\n${line}\n`)
    expect(renderPrComment([r])).toContain(`### ✗ shop under load\n\n${line}\n`)
  })

  it('escapes data and properties by the workflow-command rules', () => {
    expect(escapeData('50% done\r\nnext: a, b')).toBe('50%25 done%0D%0Anext: a, b')
    expect(escapeProperty('50% done\r\nnext: a, b')).toBe('50%25 done%0D%0Anext%3A a%2C b')
    const r = result({ name: 'odd: 100%, "a,b"\nline', location: { file: '/repo/we,ird:dir/x.load.ts', line: 3, column: 2 } }, [t('checks{check:is 200, ok}', 'rate>0.99', false, 0.5, 'rate=50%')])
    expect(renderAnnotations([r], { root: '/repo' })).toBe(
      "::error file=we%2Cird%3Adir/x.load.ts,line=3,col=2,title=chaperon%3A odd%3A 100%25%2C \"a%2Cb\"%0Aline::✗ checks{check:is 200, ok} 'rate>0.99' rate=50%25\n",
    )
  })

  it('warns of a passing threshold within the margin of its limit, on the side it would fail', () => {
    const thresholds = [
      t('http_req_duration', 'p(95)<200', true, 185, 'p(95)=185ms'),
      t('http_req_duration', 'p(99)<=200', true, 175, 'p(99)=175ms'),
      t('checks', 'rate>0.9', true, 0.95, 'rate=95%'),
      t('http_reqs', 'count>=100', true, 400, 'count=400'),
      t('http_reqs', 'count==100', true, 100, 'count=100'),
      t('http_req_failed', 'rate<=0', true, 0, 'rate=0%'),
    ]
    const lines = (margin: number) => renderAnnotations([result({}, thresholds)], { nearlyFailingMargin: margin }).trimEnd().split('\n').filter(Boolean)
    expect(lines(0.1)).toEqual([expect.stringMatching(/^::warning .*::nearly failing, within 10%25 of its limit 200ms: http_req_duration 'p\(95\)<200' p\(95\)=185ms$/), expect.stringContaining("checks 'rate>0.9'")])
    expect(lines(0.2)).toHaveLength(3)
    expect(lines(0)).toEqual([])
    // Within 10 % of 90 %: 95 % is 5.6 % above it.
    expect(lines(0.1)[1]).toContain('within 10%25 of its limit 90%25')
  })

  it('warns of a budget not compared, and measures a compared one against its limit', () => {
    const lookup = (name: string) => BUILTIN_METRICS[name]
    const [budget] = parseThresholds({ http_req_duration: 'p(95)<+10% baseline' }, lookup)
    const r = result({}, [{ key: 'http_req_duration', expression: budget!.expression, ok: true, actual: 105, display: 'p(95)=105ms, baseline 100ms (+5%)', baseline: 100, change: 5 }])
    expect(renderAnnotations([r])).toContain('nearly failing, within 10%25 of its limit 110ms')
    const none = result({}, [{ key: 'http_req_duration', expression: budget!.expression, ok: true, actual: 105, display: 'p(95)=105ms, not compared: no baseline', baseline: null, change: null }])
    expect(renderAnnotations([none])).toContain("::not compared with a baseline: http_req_duration 'p(95)<+10%25 baseline' p(95)=105ms, not compared: no baseline")
  })
})

describe('renderPrComment', () => {
  it('starts with a marker, and says when nothing is compared', () => {
    const text = renderPrComment(fixedResults())
    expect(text.startsWith(`${PR_COMMENT_MARKER}\n## chaperon: 1 of 2 load tests failed\n`)).toBe(true)
    expect(text).toContain('No baseline was given, so nothing is compared.')
    expect(text).toContain('| `http_req_duration{scenario:checkout}` | ✗ `p(95)<500` | 964.1ms | no baseline | — |')
  })

  it('escapes Markdown in names and pipes in keys', () => {
    const r = { ...fixedResults()[1]!, name: 'a | b *c*', thresholds: [{ key: 'http_req_duration{name:GET /a|b}', expression: 'p(99)<50', ok: true, actual: 3, display: 'p(99)=3ms' }] }
    const text = renderPrComment([r])
    expect(text).toContain('### ✓ a \\| b \\*c\\*')
    expect(text).toContain('| `http_req_duration{name:GET /a\\|b}` | ✓ `p(99)<50` |')
  })
})

describe('github reporter options', () => {
  it('has defaults', () => {
    const before = process.env['CHAPERON_BASELINE']
    delete process.env['CHAPERON_BASELINE']
    try {
      expect(resolveGithubReporterOptions()).toEqual({ prComment: 'chaperon-results/pr-comment.md', baseline: undefined, nearlyFailingMargin: 0.1 })
      expect(GITHUB_REPORTER_DEFAULTS).toEqual({ prComment: 'chaperon-results/pr-comment.md', nearlyFailingMargin: 0.1 })
      process.env['CHAPERON_BASELINE'] = 'main-results/'
      expect(resolveGithubReporterOptions({}).baseline).toBe('main-results/')
      expect(resolveGithubReporterOptions({ baseline: 'other/', prComment: false, nearlyFailingMargin: 0 })).toEqual({ prComment: false, baseline: 'other/', nearlyFailingMargin: 0 })
    } finally {
      if (before === undefined) delete process.env['CHAPERON_BASELINE']
      else process.env['CHAPERON_BASELINE'] = before
    }
  })

  it.each([
    [{ prComent: 'x.md' }, 'CHAPERON_UNKNOWN_OPTION', 'Did you mean "prComment"?'],
    [{ prComment: true }, 'CHAPERON_INVALID_OPTION', "prComment option must be a file path such as 'chaperon-results/pr-comment.md', or false"],
    [{ baseline: '' }, 'CHAPERON_INVALID_OPTION', 'baseline option must be a result file or directory'],
    [{ nearlyFailingMargin: 10 }, 'CHAPERON_INVALID_OPTION', 'nearlyFailingMargin option must be a share of the limit from 0'],
    ['github', 'CHAPERON_INVALID_OPTION', "the 'github' reporter's options must be an object"],
  ])('rejects %j', (options, code, message) => {
    let error: unknown
    try {
      resolveGithubReporterOptions(options)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(ChaperonError)
    expect((error as ChaperonError).code).toBe(code)
    expect((error as ChaperonError).message).toContain(message)
  })
})

describe('inGithubActions', () => {
  it.each([
    ['true', true],
    ['1', true],
    ['false', false],
    ['', false],
    [undefined, false],
  ])('GITHUB_ACTIONS=%s → %s', (value, expected) => {
    expect(inGithubActions(value === undefined ? {} : { GITHUB_ACTIONS: value })).toBe(expected)
  })
})
