import { parseArgs } from 'node:util'
import { type Baselines, compareResults, type Comparison, findBaseline } from '../core/baseline.ts'
import type { LoadTestResult } from '../core/result.ts'
import { formatChange } from '../core/thresholds.ts'
import { renderPrComment } from '../reporters/github-render.ts'
import { argsError, type CliIo, EXIT, readAll, usage, writeOutput } from './common.ts'

/**
 * `chaperon compare <baseline> <current> [--markdown <file>]`: prints each
 * load test of `current` next to its baseline, judges the budgets, and exits
 * 1 when one fails.
 */
export async function compareCommand(args: string[], io: CliIo): Promise<number> {
  let parsed
  try {
    parsed = parseArgs({ args, options: { markdown: { type: 'string' } }, allowPositionals: true, strict: true })
  } catch (error) {
    throw argsError('compare', error)
  }
  const { positionals, values } = parsed
  if (positionals.length !== 2) {
    throw usage(`chaperon compare takes a baseline and a current result, as in "chaperon compare baseline/ chaperon-results/"; got ${positionals.length === 0 ? 'none' : positionals.map((p) => JSON.stringify(p)).join(' ')}.`)
  }
  const [baselinePath, currentPath] = positionals as [string, string]
  const baseline = await readAll([baselinePath], 'CHAPERON_BASELINE', io)
  const current = await readAll([currentPath], 'CHAPERON_RESULT_FILE', io)
  if (baseline === undefined || current === undefined) return EXIT.usage

  const baselines: Baselines = { source: baselinePath, results: pairSingle(baseline, current), problems: [] }
  const comparisons = current.map((c) => compareResults(findBaseline(baselines, c), c))
  io.stdout.write(renderComparisons(comparisons))
  if (values.markdown !== undefined) {
    await writeOutput(values.markdown, renderPrComment(current, baselines), '--markdown')
    io.stdout.write(`Markdown written to ${values.markdown}\n`)
  }
  return comparisons.every((c) => c.budgetsOk) ? EXIT.ok : EXIT.failed
}

/**
 * Two files of one result each are compared with each other even when the
 * test was renamed or moved: the baseline takes the current test's name and
 * location. Otherwise results pair by test file and name.
 */
function pairSingle(baseline: LoadTestResult[], current: LoadTestResult[]): LoadTestResult[] {
  if (baseline.length !== 1 || current.length !== 1) return baseline
  const { location: _, ...rest } = baseline[0]!
  const c = current[0]!
  return [{ ...rest, name: c.name, ...(c.location === undefined ? {} : { location: c.location }) }]
}

/**
 * The comparison as plain text: per load test a table of its thresholds and
 * headline metrics (value, baseline, change), then a line on the budgets.
 */
export function renderComparisons(comparisons: readonly Comparison[]): string {
  const out: string[] = []
  for (const c of comparisons) {
    const where = c.location === undefined ? '' : `  ${c.location.file}:${c.location.line}`
    out.push(`${c.status === 'passed' ? '✓' : '✗'} ${c.name}${where}`)
    out.push(c.baselineStartedAt === null ? '  no baseline for this load test' : `  baseline from the run of ${c.baselineStartedAt}`)
    const rows: string[][] = [['metric', 'threshold', 'actual', 'baseline', 'change']]
    for (const t of c.thresholds) rows.push([t.key, `${t.threshold.ok ? '✓' : '✗'} ${t.threshold.expression}`, t.currentDisplay, t.baselineDisplay, changeText(t)])
    for (const m of c.metrics) rows.push([`${m.key} ${m.aggregation}`, '', m.currentDisplay, m.baselineDisplay, changeText(m)])
    out.push(...table(rows).map((line) => `  ${line}`), '')
  }
  const budgets = comparisons.flatMap((c) => c.thresholds.filter((t) => t.budget))
  const failed = budgets.filter((t) => !t.threshold.ok)
  const unjudged = budgets.filter((t) => t.threshold.ok && t.baseline === null)
  if (budgets.length === 0) out.push('No baseline budgets to judge.')
  else if (failed.length > 0) out.push(`${failed.length} of ${budgets.length} budget${budgets.length === 1 ? '' : 's'} failed:`, ...failed.map((t) => `  ✗ ${t.key} '${t.threshold.expression}' ${t.threshold.display}`))
  else out.push(`${budgets.length - unjudged.length} of ${budgets.length} budget${budgets.length === 1 ? '' : 's'} held${unjudged.length > 0 ? `, ${unjudged.length} not compared (no baseline)` : ''}.`)
  return `${out.join('\n')}\n`
}

function changeText(v: { baselineDisplay: string; change: number | null }): string {
  return v.baselineDisplay === 'no baseline' ? '' : formatChange(v.change)
}

/** Columns padded to their widest cell: text left, numbers (the last three) right. */
function table(rows: readonly string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => [...r[i]!].length)))
  return rows.map((r) => r.map((cell, i) => (i >= 2 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ').trimEnd())
}
