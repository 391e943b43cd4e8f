import { resolve } from 'node:path'
import type { Reporter, TestCase, Vitest } from 'vitest/node'
import type { LoadTestResult } from '../core/result.ts'
import { expectKnownKeys, expectObject } from '../core/validate.ts'
import { renderCsv } from './csv-render.ts'
import { expectPath, reportWriteFailure, writeFileAtomic } from './files.ts'

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
export class CsvReporter implements Reporter {
  /** The resolved options. */
  readonly options: Readonly<Required<CsvReporterOptions>>
  #vitest: Vitest | undefined
  #results: LoadTestResult[] = []

  constructor(options: CsvReporterOptions = {}) {
    this.options = resolveCsvReporterOptions(options)
  }

  /** The absolute path of the file: `outputFile` from Vitest's root (the working directory before `onInit`). */
  get outputFile(): string {
    return resolve(this.#vitest?.config.root ?? process.cwd(), this.options.outputFile)
  }

  onInit(vitest: Vitest): void {
    this.#vitest = vitest
  }

  onTestRunStart(): void {
    this.#results = []
  }

  onTestCaseResult(testCase: TestCase): void {
    const result = testCase.meta().chaperon
    if (result !== undefined) this.#results.push(result)
  }

  async onTestRunEnd(): Promise<void> {
    const results = this.#results.sort(byPlace)
    this.#results = []
    if (results.length === 0) return
    const path = this.outputFile
    try {
      await writeFileAtomic(path, renderCsv(results))
    } catch (error) {
      reportWriteFailure(this.#vitest, 'csv', path, `the results of ${results.length} load test${results.length === 1 ? '' : 's'}`, error)
    }
  }
}

/** By test file, line and column, then name; tests without a location last. */
function byPlace(a: LoadTestResult, b: LoadTestResult): number {
  const la = a.location
  const lb = b.location
  if (la === undefined || lb === undefined) return la === lb ? compare(a.name, b.name) : la === undefined ? 1 : -1
  return compare(la.file, lb.file) || la.line - lb.line || la.column - lb.column || compare(a.name, b.name)
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
