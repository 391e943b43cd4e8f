import { TestRunner } from 'vitest'
import { ChaperonError, ThresholdsFailedError } from '../core/errors.ts'
import { userFrames } from './callsite.ts'
import { formatThresholdLine } from '../core/thresholds.ts'
import type { LoadTestOptions } from './options.ts'
import { type ResolvedLoadTest, resolveLoadTestOptions } from './resolve-options.ts'
import { openProgress } from './progress-channel.ts'
import { type LoadTestRun, runLoadTest } from './run.ts'

/** The key under which a test's `LoadTestResult` is stored in Vitest's task meta. */
export const META_KEY = 'chaperon'

declare module 'vitest' {
  interface TaskMeta {
    /** The result of a `loadTest()`, read by chaperon's reporters. */
    chaperon?: import('../core/result.ts').LoadTestResult
  }
}

/** Declares a load test. */
export interface LoadTestFn {
  (name: string, options: LoadTestOptions): void
}

/** `loadTest()` with Vitest's modifiers. */
export interface LoadTestAPI extends LoadTestFn {
  /** Declares a load test that is not run. */
  skip: LoadTestFn
  /** Runs only this load test (and other `.only` tests) in the file. */
  only: LoadTestFn
  /** Lists a load test still to be written. */
  todo: (name: string, options?: LoadTestOptions) => void
}

// Time a load test may take beyond its longest scenario before Vitest calls it stuck.
const TIMEOUT_MARGIN_MS = 60_000

/**
 * Declares a load test: a Vitest test that runs the given scenarios, records
 * every action and fails when a threshold is breached.
 *
 * Options and thresholds are checked when the file is collected, so a mistake
 * fails the file before any request is sent.
 *
 * ```ts
 * loadTest('home page holds up', {
 *   baseUrl: inject('chaperon:targetUrl'),
 *   scenarios: { browse: { scenario: browse, executor: 'constant-vus', vus: 10, duration: '10s' } },
 *   thresholds: { http_req_duration: ['p(95)<200'] },
 * })
 * ```
 */
export const loadTest: LoadTestAPI = TestRunner.createTaskCollector(function (
  this: Record<string, unknown>,
  name: string,
  options: LoadTestOptions,
) {
  // Captured here so a threshold failure points at the user's loadTest() line, not at chaperon.
  const callsite = new Error().stack
  const resolved = this.todo === true ? undefined : resolveAtCallsite(name, options, callsite)
  const test = TestRunner.getCurrentSuite().task(name, {
    ...this,
    timeout: resolved === undefined ? undefined : timeoutFor(resolved),
    handler: async (context) => {
      if (resolved === undefined) return
      const location = test.location === undefined ? undefined : { file: test.file.filepath, ...test.location }
      const progress = openProgress(context.task.id, name)
      let run: LoadTestRun
      try {
        run = await runLoadTest(name, resolved, location, { progress: (snapshot) => progress?.update(snapshot), second: (t, samples) => progress?.second(t, samples) })
      } finally {
        await progress?.end()
      }
      const { result, misuse } = run
      context.task.meta[META_KEY] = result
      if (misuse !== undefined) throw misuse
      if (result.status === 'failed') {
        const failures = result.thresholds.filter((t) => !t.ok).map((t) => `${t.key} ${formatThresholdLine(t)}`)
        const abort = result.abortedBy
        if (abort !== undefined) failures.unshift(`${abort.key} '${abort.expression}' ${abort.display} after ${(abort.atMs / 1000).toFixed(1)}s: the test was aborted (abortOnFail)`)
        throw atCallsite(new ThresholdsFailedError(name, failures), callsite)
      }
    },
  })
}) as unknown as LoadTestAPI

/** Resolves the options; a mistake is thrown with a stack that starts at the user's loadTest() line. */
function resolveAtCallsite(name: string, options: LoadTestOptions, callsite: string | undefined): ResolvedLoadTest {
  try {
    return resolveLoadTestOptions(name, options)
  } catch (error) {
    throw error instanceof ChaperonError ? atCallsite(error, callsite) : error
  }
}

function timeoutFor(lt: ResolvedLoadTest): number {
  return Math.max(...lt.scenarios.map((s) => s.startTimeMs + s.durationMs + s.gracefulStopMs)) + TIMEOUT_MARGIN_MS
}

/** `error` with its stack replaced by the user's frames of `callsite`, so Vitest's code frame shows the loadTest() line. */
function atCallsite<E extends Error>(error: E, callsite: string | undefined): E {
  error.stack = `${error.name}: ${error.message}\n${userFrames(callsite)}`
  return error
}
