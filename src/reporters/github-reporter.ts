import { appendFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import type { Vitest } from 'vitest/node'
import { applyBaseline, BASELINE_ENV, type Baselines, findBaseline } from '../core/baseline.ts'
import type { LoadTestResult } from '../core/result.ts'
import { readBaselines } from '../core/result-files.ts'
import { expectKnownKeys, expectObject, invalid } from '../core/validate.ts'
import { reportWriteFailure, writeFileAtomic } from './files.ts'
import { inGithubActions, renderAnnotations, renderPrComment, renderStepSummary } from './github-render.ts'
import { RunReporter } from './run-reporter.ts'

/** Options of the `github` reporter. */
export interface GithubReporterOptions {
  /**
   * Where to write the pull-request comment (Markdown), relative to Vitest's
   * root, or `false` for none. It is written on every run, in GitHub Actions
   * or not, so a workflow step can post it.
   * @default 'chaperon-results/pr-comment.md'
   */
  prComment?: string | false
  /**
   * The baseline to compare with: a result file or a directory of them (the
   * `json` reporter's output of a main-branch run), relative to Vitest's root.
   * Budgets (`'p(95)<+10% baseline'`) are judged against it in everything this
   * reporter writes, and the PR comment shows each value's baseline and change.
   * @default process.env.CHAPERON_BASELINE
   */
  baseline?: string
  /**
   * A passing threshold within this share of its limit is annotated as a
   * warning: with 0.1, `p(95)<200` warns from 180 ms on. 0 turns it off.
   * @default 0.1
   */
  nearlyFailingMargin?: number
}

/** The `github` reporter's options once resolved; `baseline` stays unset when neither the option nor `CHAPERON_BASELINE` gives one. */
export interface ResolvedGithubReporterOptions {
  readonly prComment: string | false
  readonly baseline: string | undefined
  readonly nearlyFailingMargin: number
}

/** The defaults of the `github` reporter's options (`baseline` defaults to `CHAPERON_BASELINE` when the reporter starts). */
export const GITHUB_REPORTER_DEFAULTS: Readonly<{ prComment: string; nearlyFailingMargin: number }> = Object.freeze({
  prComment: 'chaperon-results/pr-comment.md',
  nearlyFailingMargin: 0.1,
})

const WHERE = "the 'github' reporter"
const KEYS = ['prComment', 'baseline', 'nearlyFailingMargin']

/** Checks the `github` reporter's options and fills in the defaults; throws a ChaperonError on a mistake. */
export function resolveGithubReporterOptions(options: unknown = {}): ResolvedGithubReporterOptions {
  const given = expectObject(options, `${WHERE}'s options`, "{ baseline: 'baseline/' }")
  expectKnownKeys(given, KEYS, WHERE)
  const { prComment, baseline, nearlyFailingMargin } = given
  if (prComment !== undefined && prComment !== false && !isPath(prComment)) {
    throw invalid(`${WHERE}'s prComment option`, "a file path such as 'chaperon-results/pr-comment.md', or false for no comment", prComment)
  }
  if (baseline !== undefined && !isPath(baseline)) throw invalid(`${WHERE}'s baseline option`, "a result file or directory such as 'baseline/'", baseline)
  if (nearlyFailingMargin !== undefined && (typeof nearlyFailingMargin !== 'number' || !(nearlyFailingMargin >= 0 && nearlyFailingMargin < 1))) {
    throw invalid(`${WHERE}'s nearlyFailingMargin option`, 'a share of the limit from 0 (no warnings) to below 1, such as 0.1 for 10%', nearlyFailingMargin)
  }
  return Object.freeze({
    prComment: prComment === undefined ? GITHUB_REPORTER_DEFAULTS.prComment : (prComment as string | false),
    baseline: (baseline as string | undefined) ?? (process.env[BASELINE_ENV] || undefined),
    nearlyFailingMargin: (nearlyFailingMargin as number | undefined) ?? GITHUB_REPORTER_DEFAULTS.nearlyFailingMargin,
  })
}

function isPath(value: unknown): value is string {
  return typeof value === 'string' && value.trim() !== '' && !value.includes('\0')
}

/**
 * Reports load tests to GitHub when the run ends. In GitHub Actions
 * (`GITHUB_ACTIONS` set), it prints an `::error` annotation for each failing
 * threshold and a `::warning` for each nearly failing one at the `loadTest()`
 * line, and appends a Markdown section to the job summary
 * (`GITHUB_STEP_SUMMARY`). Everywhere, it writes the PR comment file. With a
 * baseline, budgets are judged against it and the comment shows the changes;
 * a baseline that cannot be read is one `CHAPERON_BASELINE` line, not a crash.
 */
export class GithubReporter extends RunReporter {
  /** The resolved options. */
  readonly options: ResolvedGithubReporterOptions

  constructor(options: GithubReporterOptions = {}) {
    super()
    this.options = resolveGithubReporterOptions(options)
  }

  protected async writeRun(current: LoadTestResult[]): Promise<void> {
    const vitest = this.vitest
    if (vitest === undefined) return
    const root = vitest.config.root
    const env = process.env
    let baselines: Baselines | undefined
    if (this.options.baseline !== undefined) {
      baselines = await readBaselines(resolve(root, this.options.baseline))
      baselines = { ...baselines, source: this.options.baseline }
      for (const problem of baselines.problems) vitest.logger.error(problem)
    }
    const results = current.map((r) => (baselines === undefined ? r : applyBaseline(r, findBaseline(baselines, r))))

    if (inGithubActions(env)) {
      const annotations = renderAnnotations(results, { nearlyFailingMargin: this.options.nearlyFailingMargin, root: env['GITHUB_WORKSPACE'] || root })
      // Workflow commands must start a line, whatever Vitest printed last.
      if (annotations !== '') vitest.logger.log(`\n${annotations.trimEnd()}`)
      const summary = env['GITHUB_STEP_SUMMARY']
      if (summary !== undefined && summary !== '') {
        await write(vitest, 'the job summary', summary, () => appendFile(summary, `${renderStepSummary(results, { nearlyFailingMargin: this.options.nearlyFailingMargin })}\n`))
      }
    }
    if (this.options.prComment !== false) {
      const path = resolve(root, this.options.prComment)
      await write(vitest, 'the PR comment', path, () => writeFileAtomic(path, renderPrComment(results, baselines)))
    }
  }
}

/** Runs a write; a failure is one CHAPERON_EXPORT_FAILED line (and exit code 1), and the other outputs are still written. */
async function write(vitest: Vitest, what: string, path: string, run: () => Promise<void>): Promise<void> {
  try {
    await run()
  } catch (cause) {
    reportWriteFailure(vitest, 'github', path, what, cause)
  }
}
