import { isAbsolute, relative, sep } from 'node:path'
import { type Baselines, compareResults, type Comparison, findBaseline, isBudgetExpression, parseResultThreshold, resultMetrics, type ValueComparison } from '../core/baseline.ts'
import { formatDuration } from '../core/duration.ts'
import type { Interruption, LoadTestResult, ThresholdResult } from '../core/result.ts'
import type { MetricInfo } from '../core/series.ts'
import { budgetLimit, formatChange, formatThresholdLine, formatThresholdValue } from '../core/thresholds.ts'

/** Options of {@link renderAnnotations}. */
export interface AnnotationOptions {
  /**
   * A passing threshold whose value is within this share of its limit gets a
   * warning: with 0.1, `p(95)<200` warns from 180 ms on. 0 turns warnings off.
   * @default 0.1
   */
  nearlyFailingMargin?: number
  /** The directory annotation paths are relative to: the repository root. @default process.cwd() */
  root?: string
}

/** Whether `env` is a GitHub Actions job's: `GITHUB_ACTIONS` set, and not to '' or 'false'. */
export function inGithubActions(env: NodeJS.ProcessEnv): boolean {
  const value = env['GITHUB_ACTIONS']
  return value !== undefined && value !== '' && value !== 'false'
}

/** The marker at the top of the PR comment, so a workflow can find its earlier comment and update it. */
export const PR_COMMENT_MARKER = '<!-- chaperon:pr-comment -->'

/**
 * GitHub Actions workflow commands for the thresholds of `results`: an
 * `::error` for each failing threshold and a `::warning` for each nearly
 * failing one or budget not compared with a baseline, at the file, line and
 * column of the `loadTest()` call. One command per line; empty when there is
 * nothing to say.
 */
export function renderAnnotations(results: readonly LoadTestResult[], options: AnnotationOptions = {}): string {
  const margin = options.nearlyFailingMargin ?? 0.1
  const root = options.root ?? process.cwd()
  const lines: string[] = []
  for (const result of results) {
    const metrics = resultMetrics(result)
    const where: Record<string, string> = {}
    if (result.location !== undefined) {
      where['file'] = repoPath(result.location.file, root)
      where['line'] = String(result.location.line)
      where['col'] = String(result.location.column)
    }
    const properties = { ...where, title: `chaperon: ${result.name}` }
    if (result.interrupted !== undefined) lines.push(command('error', properties, interruption(result.interrupted)))
    // A segment's thresholds judge its share only: chaperon merge annotates the verdicts on the whole.
    if (result.segment !== undefined) continue
    for (const t of result.thresholds) {
      const line = `${t.key} ${formatThresholdLine(t)}`
      if (!t.ok) lines.push(command('error', properties, `✗ ${line}`))
      else if (isBudgetExpression(t.expression) && t.baseline == null) lines.push(command('warning', properties, `not compared with a baseline: ${line}`))
      else {
        const limit = nearLimit(t, metrics, margin)
        if (limit !== undefined) lines.push(command('warning', properties, `nearly failing, within ${round(margin * 100)}% of its limit ${limit}: ${line}`))
      }
    }
  }
  return lines.map((l) => `${l}\n`).join('')
}

/**
 * The Markdown section appended to the job summary (`$GITHUB_STEP_SUMMARY`):
 * a table of the load tests, then each test's thresholds and errors.
 */
export function renderStepSummary(results: readonly LoadTestResult[], options: Pick<AnnotationOptions, 'nearlyFailingMargin'> = {}): string {
  const margin = options.nearlyFailingMargin ?? 0.1
  const failed = results.filter((r) => r.status === 'failed').length
  const out = [`## chaperon: ${headline(results.length, failed)}`, '']
  out.push('| | load test | duration | requests | p(95) | failed requests | thresholds |', '|:-:|---|--:|--:|--:|--:|---|')
  for (const r of results) {
    const c = compareResults(undefined, r)
    const reqs = r.metrics.reduce((n, m) => n + (m.metric === 'http_reqs' && m.type === 'counter' ? m.value : 0), 0)
    const rate = metric(c, 'http_reqs', 'rate')
    const requests = rate === undefined ? '—' : `${reqs} (${rate.currentDisplay})`
    const failing = r.thresholds.filter((t) => !t.ok).length
    const verdicts = r.thresholds.length === 0 ? '—' : failing > 0 ? `${failing} of ${r.thresholds.length} failed` : `${r.thresholds.length} passed`
    out.push(row(mark(r.status === 'passed'), text(r.name), formatDuration(r.durationMs), requests, shown(metric(c, 'http_req_duration', 'p(95)')), shown(metric(c, 'http_req_failed', 'rate')), verdicts))
  }
  for (const r of results) {
    out.push('', `### ${mark(r.status === 'passed')} ${text(r.name)}`, '')
    const facts = [r.location === undefined ? undefined : code(`${r.location.file}:${r.location.line}`), `${formatDuration(r.durationMs)}`, r.scenarios.length === 0 ? undefined : `scenarios ${r.scenarios.map((s) => text(s.name)).join(', ')}`]
    out.push(facts.filter((f) => f !== undefined).join(' · '))
    const abort = r.abortedBy
    if (abort !== undefined) out.push('', `Stopped after ${formatDuration(abort.atMs)} by ${code(abort.key)} ${code(abort.expression)} (${text(abort.display)}, abortOnFail).`)
    if (r.interrupted !== undefined) out.push('', interruption(r.interrupted))
    if (r.segment !== undefined) out.push('', `Segment ${code(r.segment.segment)} of ${code(r.segment.sequence)}: the figures and thresholds cover this share only; ${code('chaperon merge')} judges the whole.`)
    if (r.merged !== undefined) out.push('', `Merged from segments ${r.merged.segments.map(code).join(', ')}${r.merged.missing.length === 0 ? '' : `; **missing ${r.merged.missing.map(code).join(', ')}**`}.`)
    if (r.thresholds.length > 0) {
      const metrics = resultMetrics(r)
      out.push('', '| | metric | threshold | value |', '|:-:|---|---|---|')
      for (const t of r.thresholds) out.push(row(verdictMark(t, metrics, margin), code(t.key), code(t.expression), text(t.display)))
    }
    if (r.errors.length > 0) {
      out.push('', '| errors | scenario | action | message |', '|--:|---|---|---|')
      for (const e of r.errors) out.push(row(String(e.count), text(e.scenario), text(e.action), text(e.message.split('\n')[0]!)))
    }
  }
  return `${out.join('\n')}\n`
}

/**
 * The pull-request comment: per load test, a table of its thresholds and
 * headline metrics with the current value, the baseline's value and the
 * change. Budgets are judged against `baselines`; without them the baseline
 * columns say `no baseline`. Starts with {@link PR_COMMENT_MARKER}.
 */
export function renderPrComment(results: readonly LoadTestResult[], baselines?: Baselines): string {
  const comparisons = results.map((r) => compareResults(findBaseline(baselines, r), r))
  const failed = comparisons.filter((c) => c.status === 'failed').length
  const out = [PR_COMMENT_MARKER, `## chaperon: ${headline(results.length, failed)}`, '']
  if (baselines === undefined) out.push('No baseline was given, so nothing is compared.')
  else out.push(`Compared with the baseline in ${code(baselines.source)}.`)
  for (const problem of baselines?.problems ?? []) out.push('', `> ⚠ ${text(problem)}`)
  for (const [i, c] of comparisons.entries()) {
    out.push('', `### ${mark(c.status === 'passed')} ${text(c.name)}`, '')
    const stopped = results[i]!.interrupted
    if (stopped !== undefined) out.push(interruption(stopped), '')
    if (baselines !== undefined && c.baselineStartedAt === null) out.push('No baseline for this load test.', '')
    out.push('| metric | threshold | actual | baseline | change |', '|---|---|--:|--:|--:|')
    for (const t of c.thresholds) {
      out.push(row(code(t.key), `${mark(t.threshold.ok)} ${code(t.threshold.expression)}`, text(t.currentDisplay), text(t.baselineDisplay), change(t)))
    }
    for (const m of c.metrics) out.push(row(`${code(m.key)} ${m.aggregation}`, '', text(m.currentDisplay), text(m.baselineDisplay), change(m)))
  }
  return `${out.join('\n')}\n`
}

/** Escapes a workflow command's message: `%`, CR and LF (GitHub's rules, as in @actions/core). */
export function escapeData(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A')
}

/** Escapes a workflow command's property value: as {@link escapeData}, and also `:` and `,`. */
export function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C')
}

function command(name: 'error' | 'warning', properties: Record<string, string>, message: string): string {
  const props = Object.entries(properties).map(([k, v]) => `${k}=${escapeProperty(v)}`).join(',')
  return `::${name} ${props}::${escapeData(message)}`
}

/** `file` relative to the repository root, with `/` separators, as GitHub expects. */
function repoPath(file: string, root: string): string {
  const path = isAbsolute(file) ? relative(root, file) : file
  return path.split(sep).join('/')
}

/**
 * The limit of a passing threshold when its value is within `margin` of it,
 * formatted; undefined otherwise. Only `< <= > >=` have a side to be near.
 */
function nearLimit(t: ThresholdResult, metrics: (name: string) => MetricInfo | undefined, margin: number): string | undefined {
  if (!t.ok || t.actual === null || margin <= 0) return undefined
  const p = parseResultThreshold(t, metrics)
  if (p === undefined) return undefined
  const { parsed, info } = p
  const limit = parsed.budget === undefined ? parsed.target : t.baseline == null ? undefined : budgetLimit(parsed.budget, t.baseline)
  if (limit === undefined || limit === 0 || !Number.isFinite(limit)) return undefined
  const slack = margin * Math.abs(limit)
  const near = parsed.op === '<' || parsed.op === '<=' ? t.actual >= limit - slack : parsed.op === '>' || parsed.op === '>=' ? t.actual <= limit + slack : false
  return near ? formatThresholdValue(parsed, limit, info) : undefined
}

function verdictMark(t: ThresholdResult, metrics: (name: string) => MetricInfo | undefined, margin: number): string {
  if (!t.ok) return '✗'
  if (isBudgetExpression(t.expression) && t.baseline == null) return '⚠'
  return nearLimit(t, metrics, margin) === undefined ? '✓' : '⚠'
}

function headline(total: number, failed: number): string {
  const tests = `${total} load test${total === 1 ? '' : 's'}`
  return failed === 0 ? `${tests} passed` : `${failed} of ${tests} failed`
}

function metric(c: Comparison, key: string, aggregation: string): ValueComparison | undefined {
  return c.metrics.find((m) => m.key === key && m.aggregation === aggregation)
}

function shown(v: ValueComparison | undefined): string {
  return v === undefined ? '—' : text(v.currentDisplay)
}

function change(v: ValueComparison): string {
  return v.baselineDisplay === 'no baseline' ? '—' : formatChange(v.change)
}

function interruption(i: Interruption): string {
  return `Interrupted (${i.by}) after ${formatDuration(i.atMs)}: the figures cover the run until then.`
}

function mark(ok: boolean): string {
  return ok ? '✓' : '✗'
}

function row(...cells: string[]): string {
  return `| ${cells.join(' | ')} |`
}

/** Text in a Markdown table cell: Markdown's special characters escaped, one line. */
function text(s: string): string {
  return s.replace(/[\\`*_[\]<>|~#]/g, (c) => `\\${c}`).replace(/\r?\n/g, ' ')
}

/** A code span in a table cell; pipes stay escaped, as GitHub tables need even in code. */
function code(s: string): string {
  const body = s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ')
  const fence = body.includes('`') ? '``' : '`'
  const pad = fence.length > 1 ? ' ' : ''
  return `${fence}${pad}${body}${pad}${fence}`
}

function round(n: number): string {
  return String(Math.round(n * 100) / 100)
}
