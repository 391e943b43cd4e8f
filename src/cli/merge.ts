import { appendFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { applyBaseline, BASELINE_ENV, type Baselines, findBaseline } from '../core/baseline.ts'
import { ChaperonError } from '../core/errors.ts'
import { mergeResults } from '../core/merge.ts'
import type { LoadTestResult } from '../core/result.ts'
import { readBaselines } from '../core/result-files.ts'
import { createPalette, useColors } from '../reporters/colors.ts'
import { resultFileStem } from '../reporters/files.ts'
import { inGithubActions, renderAnnotations, renderPrComment, renderStepSummary } from '../reporters/github-render.ts'
import { renderHtmlReport } from '../reporters/html-render.ts'
import { renderJson } from '../reporters/json-reporter.ts'
import { renderSummary } from '../reporters/summary-render.ts'
import { argsError, type CliIo, EXIT, readAllSourced, usage, writeOutput } from './common.ts'

// Where the merged results go without --json.
const MERGE_OUTPUT_DIR = 'chaperon-merged'

/**
 * `chaperon merge <result>... [--json <dir>] [--html <file>] [--title <text>]
 * [--github] [--baseline <path>] [--partial]`: joins the segment results of
 * the instances of a split run into one result per load test, judges its
 * thresholds on the whole, prints each test's summary and writes the merged
 * results (and the HTML report and GitHub outputs when asked). Exits 1 when
 * a merged load test failed.
 */
export async function mergeCommand(args: string[], io: CliIo): Promise<number> {
  let parsed
  try {
    parsed = parseArgs({
      args,
      options: {
        json: { type: 'string' },
        html: { type: 'string' },
        title: { type: 'string' },
        github: { type: 'boolean' },
        baseline: { type: 'string' },
        partial: { type: 'boolean' },
      },
      allowPositionals: true,
      strict: true,
    })
  } catch (error) {
    throw argsError('merge', error)
  }
  const { positionals, values } = parsed
  if (positionals.length === 0) throw usage(`chaperon merge needs the result files or directories of the instances of a split run, as in "chaperon merge results/ --json chaperon-merged".`)
  if (values.title !== undefined && values.html === undefined) throw usage('chaperon merge --title is the title of the HTML report; give --html <file> too, as in "chaperon merge results/ --html report.html --title Nightly".')
  const inputs = await readAllSourced(positionals, 'CHAPERON_RESULT_FILE', io)
  if (inputs === undefined) return EXIT.usage
  const baselinePath = values.baseline ?? (process.env[BASELINE_ENV] || undefined)
  let baselines: Baselines | undefined
  if (baselinePath !== undefined) {
    baselines = await readBaselines(baselinePath)
    for (const problem of baselines.problems) io.stderr.write(`${problem}\n`)
    // A baseline given on the command line must be readable; one from the environment is treated as in a run.
    if (values.baseline !== undefined && baselines.problems.length > 0) return EXIT.usage
  }

  const { results: merged, warnings } = mergeResults(inputs, { partial: values.partial === true })
  const results = merged.map((r) => (baselines === undefined ? r : applyBaseline(r, findBaseline(baselines, r))))
  const palette = createPalette(useColors(io.stdout as { isTTY?: boolean }, process.env))
  // The summary says which segments each result was merged from.
  for (const r of results) io.stdout.write(`${renderSummary(r, palette)}\n`)
  for (const warning of warnings) io.stderr.write(`Warning: ${warning}\n`)

  const dir = values.json ?? MERGE_OUTPUT_DIR
  for (const r of results) await writeOutput(join(dir, `${resultFileStem(r)}.json`), renderJson(r), '--json')
  io.stdout.write(`${results.length} merged result${results.length === 1 ? '' : 's'} written to ${dir}\n`)
  if (values.html !== undefined) {
    await writeOutput(values.html, renderHtmlReport(results, { ...(values.title === undefined ? {} : { title: values.title }), generatedAt: new Date().toISOString() }), '--html')
    io.stdout.write(`HTML report written to ${values.html}\n`)
  }
  if (values.github === true) await writeGithub(results, baselines, dir, io)
  return results.every((r) => r.status === 'passed') ? EXIT.ok : EXIT.failed
}

/** What the `github` reporter writes at the end of a run: annotations and the job summary in GitHub Actions, and the PR comment in `dir`. */
async function writeGithub(results: readonly LoadTestResult[], baselines: Baselines | undefined, dir: string, io: CliIo): Promise<void> {
  const env = process.env
  if (inGithubActions(env)) {
    io.stdout.write(renderAnnotations(results, { root: env['GITHUB_WORKSPACE'] || process.cwd() }))
    const summary = env['GITHUB_STEP_SUMMARY']
    if (summary !== undefined && summary !== '') {
      try {
        await appendFile(summary, `${renderStepSummary(results)}\n`)
      } catch (cause) {
        throw new ChaperonError('CHAPERON_EXPORT_FAILED', `Cannot append the job summary to ${summary} (GITHUB_STEP_SUMMARY): ${cause instanceof Error ? cause.message : String(cause)}.`, { cause })
      }
    }
  }
  const comment = join(dir, 'pr-comment.md')
  await writeOutput(comment, renderPrComment(results, baselines), '--json')
  io.stdout.write(`PR comment written to ${comment}\n`)
}
