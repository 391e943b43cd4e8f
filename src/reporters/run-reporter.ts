import type { Reporter, TestCase, Vitest } from 'vitest/node'
import { mergeSplitRuns } from '../core/merge.ts'
import type { LoadTestResult } from '../core/result.ts'
import { compare } from './summary-render.ts'

/**
 * A reporter that writes once per run: it collects each finished load test's
 * result and hands them all, in source order, to `writeRun` at the end of the
 * run. In watch mode each rerun starts afresh. A run without load tests
 * writes nothing. In a `vitest --merge-reports` run, the segments of each
 * split load test are merged first, so it is written once, as a whole.
 */
export abstract class RunReporter implements Reporter {
  /** Vitest, once `onInit` has run. */
  protected vitest: Vitest | undefined
  #results: LoadTestResult[] = []

  onInit(vitest: Vitest): void {
    this.vitest = vitest
  }

  onTestRunStart(): void {
    this.#results = []
  }

  onTestCaseResult(testCase: TestCase): void {
    const result = testCase.meta().chaperon
    if (result !== undefined) this.#results.push(result)
  }

  async onTestRunEnd(): Promise<void> {
    // Files run in parallel, so the order they finish in varies; the output's order does not.
    let results = this.#results.sort(bySource)
    this.#results = []
    // Merging the blobs of a split run's instances: report each split load test once, merged.
    if (this.vitest?.config.mergeReports) results = mergeSplitRuns(results).results
    if (results.length > 0) await this.writeRun(results)
  }

  /** Writes the run's results; failures are reported, never thrown. */
  protected abstract writeRun(results: LoadTestResult[]): Promise<void>
}

/** By test file, line and column, then name; tests without a location last. */
export function bySource(a: LoadTestResult, b: LoadTestResult): number {
  const la = a.location
  const lb = b.location
  if (la === undefined || lb === undefined) return la === lb ? compare(a.name, b.name) : la === undefined ? 1 : -1
  return compare(la.file, lb.file) || la.line - lb.line || la.column - lb.column || compare(a.name, b.name)
}
