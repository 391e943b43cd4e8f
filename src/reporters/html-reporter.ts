import { relative } from 'node:path'
import type { LoadTestResult } from '../core/result.ts'
import { expectKnownKeys, expectObject, invalid } from '../core/validate.ts'
import { expectPath, fromRoot, reportWriteFailure, writeFileAtomic } from './files.ts'
import { DEFAULT_HTML_TITLE, renderHtmlReport } from './html-render.ts'
import { RunReporter } from './run-reporter.ts'

/** Options of the `html` reporter. */
export interface HtmlReporterOptions {
  /**
   * The file to write, its directories created when missing. A relative path
   * is taken from Vitest's root (`root` in the Vitest config).
   * @default 'chaperon-results/report.html'
   */
  outputFile?: string
  /**
   * The report's title and heading.
   * @default 'chaperon load test report'
   */
  title?: string
}

/** The defaults of the `html` reporter's options. */
export const HTML_REPORTER_DEFAULTS: Readonly<Required<HtmlReporterOptions>> = Object.freeze({
  outputFile: 'chaperon-results/report.html',
  title: DEFAULT_HTML_TITLE,
})

const WHERE = "the 'html' reporter"

/** Checks the `html` reporter's options and fills in the defaults; throws a ChaperonError on a mistake. */
export function resolveHtmlReporterOptions(options: unknown = {}): Readonly<Required<HtmlReporterOptions>> {
  const given = expectObject(options, `${WHERE}'s options`, "{ outputFile: 'reports/load.html' }")
  expectKnownKeys(given, ['outputFile', 'title'], WHERE)
  return Object.freeze({
    outputFile: given['outputFile'] === undefined ? HTML_REPORTER_DEFAULTS.outputFile : expectPath(given['outputFile'], `${WHERE}'s outputFile option`, "'reports/load.html'"),
    title: given['title'] === undefined ? HTML_REPORTER_DEFAULTS.title : expectTitle(given['title']),
  })
}

function expectTitle(value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') throw invalid(`${WHERE}'s title option`, "a non-empty string such as 'Checkout load tests'", value)
  return value
}

/**
 * Writes one self-contained HTML report (see {@link renderHtmlReport}) of every
 * load test of the run when the run ends, atomically. Tests come in order of
 * file, line and name, whichever finished first. A run without load tests
 * (only unit tests, say) leaves the file as it was. A write that fails is
 * printed as a CHAPERON_EXPORT_FAILED error through Vitest's logger and fails
 * the run's exit code; the run and the other reporters carry on.
 */
export class HtmlReporter extends RunReporter {
  /** The resolved options. */
  readonly options: Readonly<Required<HtmlReporterOptions>>

  constructor(options: HtmlReporterOptions = {}) {
    super()
    this.options = resolveHtmlReporterOptions(options)
  }

  /** The absolute path of the file: `outputFile` from Vitest's root (the working directory before `onInit`). */
  get outputFile(): string {
    return fromRoot(this.vitest, this.options.outputFile)
  }

  protected async writeRun(results: LoadTestResult[]): Promise<void> {
    const path = this.outputFile
    const what = `the report of ${results.length} load test${results.length === 1 ? '' : 's'}`
    try {
      await writeFileAtomic(path, renderHtmlReport(results, { title: this.options.title, generatedAt: new Date().toISOString() }))
    } catch (error) {
      reportWriteFailure(this.vitest, 'html', path, what, error)
      return
    }
    this.vitest?.logger.log(`chaperon: HTML report written to ${relative(process.cwd(), path) || path}`)
  }
}
