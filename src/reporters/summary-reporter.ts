import type { Reporter, TestCase, Vitest } from 'vitest/node'
import type { ProgressMessage } from '../core/progress.ts'
import { expectBoolean, expectKnownKeys, expectObject } from '../core/validate.ts'
import { createPalette, useColors } from './colors.ts'
import type { LiveReporter } from './live.ts'
import { createProgressDisplay, type ProgressDisplay } from './progress-render.ts'
import { renderSummary } from './summary-render.ts'

/** Options of the `summary` reporter. */
export interface SummaryReporterOptions {
  /**
   * Show a live line per running load test: elapsed time, VUs, req/s, p95 of
   * the last second, errors and dropped iterations. Redrawn in place in a
   * terminal; in CI (or when the output is not a TTY) printed every 10 seconds.
   * @default true
   */
  progress?: boolean
}

/** The defaults of the `summary` reporter's options. */
export const SUMMARY_REPORTER_DEFAULTS: Readonly<Required<SummaryReporterOptions>> = Object.freeze({ progress: true })

/** Checks the `summary` reporter's options and fills in the defaults; throws a ChaperonError on a mistake. */
export function resolveSummaryReporterOptions(options: unknown = {}): Readonly<Required<SummaryReporterOptions>> {
  const given = expectObject(options, "the 'summary' reporter's options", '{ progress: false }')
  expectKnownKeys(given, ['progress'], "the 'summary' reporter")
  const progress = given['progress'] === undefined ? SUMMARY_REPORTER_DEFAULTS.progress : expectBoolean(given['progress'], "the 'summary' reporter's progress option")
  return Object.freeze({ progress })
}

/**
 * Prints each load test's summary (per scenario and name, then thresholds) as
 * soon as the test ends, through Vitest's logger so it does not break Vitest's
 * own output. While load tests run, it shows their live progress, which the
 * chaperon plugin passes to {@link SummaryReporter.onLive}.
 */
export class SummaryReporter implements Reporter, LiveReporter {
  /** The resolved options. */
  readonly options: Readonly<Required<SummaryReporterOptions>>
  #vitest: Vitest | undefined
  #progress: ProgressDisplay | undefined

  constructor(options: SummaryReporterOptions = {}) {
    this.options = resolveSummaryReporterOptions(options)
  }

  onInit(vitest: Vitest): void {
    this.#vitest = vitest
    if (!this.options.progress) return
    const { outputStream, errorStream } = vitest.logger
    const progress = createProgressDisplay(outputStream, [errorStream, process.stdout, process.stderr], process.env)
    this.#progress = progress
    vitest.onClose(() => progress.close())
  }

  /** Whether it shows progress, and so needs the live channel. */
  get live(): boolean {
    return this.options.progress
  }

  /** Shows one message of the live channel; ignored when `progress` is off. */
  onLive(message: ProgressMessage): void {
    if (message.type === 'end') this.#progress?.end(message.testId)
    else if (message.type === 'progress') this.#progress?.update(message)
  }

  onTestCaseResult(testCase: TestCase): void {
    // Before the summary, so it takes the place of the progress line.
    this.#progress?.end(testCase.id)
    const result = testCase.meta().chaperon
    if (result === undefined || this.#vitest === undefined) return
    this.#vitest.logger.log(renderSummary(result, createPalette(useColors(process.stdout, process.env))))
  }
}
