import type { LoadTestResult } from '../core/result.ts'
import { expectKnownKeys, expectObject } from '../core/validate.ts'
import { renderCsv } from './csv-render.ts'
import { expectPath, fromRoot, reportWriteFailure, writeFileAtomic } from './files.ts'
import { RunReporter } from './run-reporter.ts'

/** Options of the `csv` reporter. */
export interface CsvReporterOptions {
  /**
   * The file to write, its directories created when missing. A relative path
   * is taken from Vitest's root (`root` in the Vitest config).
   * @default 'chaperon-results/results.csv'
   */
  outputFile?: string
}

/** The defaults of the `csv` reporter's options. */
export const CSV_REPORTER_DEFAULTS: Readonly<Required<CsvReporterOptions>> = Object.freeze({ outputFile: 'chaperon-results/results.csv' })

/** Checks the `csv` reporter's options and fills in the defaults; throws a ChaperonError on a mistake. */
export function resolveCsvReporterOptions(options: unknown = {}): Readonly<Required<CsvReporterOptions>> {
  const given = expectObject(options, "the 'csv' reporter's options", "{ outputFile: 'results/load.csv' }")
  expectKnownKeys(given, ['outputFile'], "the 'csv' reporter")
  const outputFile = given['outputFile'] === undefined ? CSV_REPORTER_DEFAULTS.outputFile : expectPath(given['outputFile'], "the 'csv' reporter's outputFile option", "'results/load.csv'")
  return Object.freeze({ outputFile })
}

/**
 * Writes one CSV (see `renderCsv`) of every load test of the run when the run
 * ends, atomically. Tests come in order of file, line and name, so the same
 * run always gives the same rows. A run without load tests (only unit tests,
 * say) leaves the file as it was. A write that fails is printed as an error
 * through Vitest's logger; the run carries on.
 */
export class CsvReporter extends RunReporter {
  /** The resolved options. */
  readonly options: Readonly<Required<CsvReporterOptions>>

  constructor(options: CsvReporterOptions = {}) {
    super()
    this.options = resolveCsvReporterOptions(options)
  }

  /** The absolute path of the file: `outputFile` from Vitest's root (the working directory before `onInit`). */
  get outputFile(): string {
    return fromRoot(this.vitest, this.options.outputFile)
  }

  protected async writeRun(results: LoadTestResult[]): Promise<void> {
    const path = this.outputFile
    try {
      await writeFileAtomic(path, renderCsv(results))
    } catch (error) {
      reportWriteFailure(this.vitest, 'csv', path, `the results of ${results.length} load test${results.length === 1 ? '' : 's'}`, error)
    }
  }
}
