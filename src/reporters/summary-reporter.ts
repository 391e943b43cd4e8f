import type { Reporter, TestCase, Vitest } from 'vitest/node'
import { createPalette, useColors } from './colors.ts'
import { renderSummary } from './summary-render.ts'

/**
 * Prints each load test's summary (per scenario and name, then thresholds) as
 * soon as the test ends, through Vitest's logger so it does not break Vitest's
 * own output.
 */
export class SummaryReporter implements Reporter {
  #vitest: Vitest | undefined

  onInit(vitest: Vitest): void {
    this.#vitest = vitest
  }

  onTestCaseResult(testCase: TestCase): void {
    const result = testCase.meta().chaperon
    if (result === undefined || this.#vitest === undefined) return
    this.#vitest.logger.log(renderSummary(result, createPalette(useColors(process.stdout, process.env))))
  }
}
