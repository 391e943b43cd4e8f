import type { Reporter, TestCase, Vitest } from 'vitest/node'
import { mergeSplitRuns } from '../core/merge.ts'
import type { LoadTestResult } from '../core/result.ts'
import { problemLine } from '../core/result-files.ts'
import { createPalette, useColors } from '../reporters/colors.ts'
import { renderSummary } from '../reporters/summary-render.ts'

/**
 * The verdict of a `vitest --merge-reports` run over the blobs of a split
 * run's instances (docs/distributed.md): merges the segments of each load
 * test, prints the merged summary, and fails the run (exit code 1) when a
 * merged load test fails or its segments cannot be merged (one missing,
 * plans that differ). Vitest's own report still shows each instance's test
 * case as its instance reported it; this verdict is printed after it.
 * The chaperon() plugin adds it to merge-reports runs only.
 */
export function mergedVerdict(): Reporter {
  let vitest: Vitest | undefined
  let results: LoadTestResult[] = []
  return {
    onInit(v: Vitest) {
      vitest = v
    },
    onTestRunStart() {
      results = []
    },
    onTestCaseResult(testCase: TestCase) {
      const result = testCase.meta().chaperon
      if (result?.segment !== undefined) results.push(result)
    },
    onTestRunEnd() {
      if (vitest === undefined || results.length === 0) return
      const merged = mergeSplitRuns(results)
      results = []
      const palette = createPalette(useColors(process.stdout, process.env))
      const whole = merged.results.filter((r) => r.merged !== undefined)
      for (const r of whole) vitest.logger.log(renderSummary(r, palette))
      for (const problem of merged.problems) vitest.logger.error(problemLine(problem))
      const failed = whole.filter((r) => r.status === 'failed')
      if (failed.length === 0 && merged.problems.length === 0) {
        vitest.logger.log(palette.green(`chaperon: the merged segments of ${count(whole.length)} passed.`))
        return
      }
      process.exitCode = 1
      const what = [failed.length > 0 ? `${count(failed.length)} failed on the merged segments (${failed.map((r) => `"${r.name}"`).join(', ')})` : '', merged.problems.length > 0 ? `${count(merged.problems.length)} could not be merged` : '']
      vitest.logger.error(palette.red(`chaperon: ${what.filter((w) => w !== '').join('; ')}.`))
    },
  }
}

function count(n: number): string {
  return `${n} load test${n === 1 ? '' : 's'}`
}
