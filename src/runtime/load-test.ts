import { type TestContext, TestRunner } from 'vitest'
import { applyBaseline, BASELINE_ENV, type Baselines, findBaseline } from '../core/baseline.ts'
import { ChaperonError, ThresholdsFailedError } from '../core/errors.ts'
import type { Interruption, LoadTestResult } from '../core/result.ts'
import { readBaselines } from '../core/result-files.ts'
import { formatThresholdLine } from '../core/thresholds.ts'
import { expectInteger } from '../core/validate.ts'
import { userFrames } from './callsite.ts'
import { metricInfo } from './metrics/user-metrics.ts'
import type { LoadTestOptions } from './options.ts'
import { type ResolvedLoadTest, resolveLoadTestOptions } from './resolve-options.ts'
import { openProgress } from './progress-channel.ts'
import { type LoadTestRun, runLoadTest } from './run.ts'
import { onStopSignal } from './stop-signals.ts'

/** The key under which a test's `LoadTestResult` is stored in Vitest's task meta. */
export const META_KEY = 'chaperon'

/** The type of the test annotation that records each threshold verdict; Vitest's junit reporter writes it as a `<property>` name. */
export const THRESHOLD_ANNOTATION = 'chaperon.threshold'

declare module 'vitest' {
  interface TaskMeta {
    /** The result of a `loadTest()`, read by chaperon's reporters. */
    chaperon?: import('../core/result.ts').LoadTestResult
  }
}

/** Declares a load test. */
export interface LoadTestFn {
  /**
   * @param timeout How long Vitest waits for the test, in ms, as in `test(name, fn, timeout)`.
   * Defaults to the longest scenario's `startTime` + duration + `gracefulStop`, plus a minute.
   * A wait for `CHAPERON_START_AT` is added to it.
   * When it passes, the run stops and its partial result is reported, marked `interrupted`.
   */
  (name: string, options: LoadTestOptions, timeout?: number): void
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
  timeout?: number,
) {
  // Captured here so a threshold failure points at the user's loadTest() line, not at chaperon.
  const callsite = new Error().stack
  const resolved = this.todo === true ? undefined : resolveAtCallsite(name, options, timeout, callsite)
  const test = TestRunner.getCurrentSuite().task(name, {
    ...this,
    timeout: resolved === undefined ? undefined : startWait(resolved) + (timeout ?? timeoutFor(resolved)),
    handler: async (context) => {
      if (resolved === undefined) return
      const location = test.location === undefined ? undefined : { file: test.file.filepath, ...test.location }
      const interrupt = new AbortController()
      const stop = (by: Interruption['by']): void => {
        if (!interrupt.signal.aborted) interrupt.abort(by)
      }
      // Vitest aborts the signal when the test times out (the test fails) or the run is cancelled (the
      // test is reported skipped); either way it stops waiting for the handler at once.
      const onVitestAbort = (): void => stop(interruptionBy(context.signal.reason))
      context.signal.addEventListener('abort', onVitestAbort, { once: true })
      const offSignals = onStopSignal(stop)
      const finished = runAndStore(name, resolved, location, context, interrupt.signal)
      // So the partial result of a test Vitest gave up on is stored before the test is reported.
      context.onTestFinished(() => finished.then(noop, noop))
      let run: LoadTestRun
      try {
        run = await finished
      } finally {
        offSignals()
        context.signal.removeEventListener('abort', onVitestAbort)
      }
      const { result, misuse } = run
      // A misuse is a bug in the test, reported even when the run was also interrupted.
      if (misuse !== undefined && result.interrupted !== undefined) throw misuse
      if (result.interrupted !== undefined) {
        const { by, atMs } = result.interrupted
        throw atCallsite(new ChaperonError('CHAPERON_INTERRUPTED', `"${name}" was interrupted (${by}) after ${(atMs / 1000).toFixed(1)}s; its partial result is reported, marked interrupted.`), callsite)
      }
      await annotateVerdicts(context, result)
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

/** Runs the load test and stores its result, judged against the baseline, in the task's meta for the reporters. */
async function runAndStore(name: string, lt: ResolvedLoadTest, location: LoadTestResult['location'], context: TestContext, interrupt: AbortSignal): Promise<LoadTestRun> {
  const progress = openProgress(context.task.id, name)
  let run: LoadTestRun
  try {
    run = await runLoadTest(name, lt, location, { progress: (snapshot) => progress?.update(snapshot), second: (t, samples) => progress?.second(t, samples), interrupt })
  } finally {
    await progress?.end()
  }
  const result = await judgeBudgets(run.result, lt)
  context.task.meta[META_KEY] = result
  return { result, misuse: run.misuse }
}

function noop(): void {}

/**
 * @internal What Vitest aborted a test's signal for: a cancelled run
 * (`TestRunAbortError`, whose reason is the signal when chaperon's plugin
 * cancelled it), else the test's timeout.
 */
export function interruptionBy(reason: unknown): Interruption['by'] {
  if (!(reason instanceof Error) || reason.name !== 'TestRunAbortError') return 'timeout'
  const why = (reason as Error & { reason?: unknown }).reason
  return why === 'SIGINT' || why === 'SIGTERM' ? why : 'cancel'
}

/** Resolves the options; a mistake is thrown with a stack that starts at the user's loadTest() line. */
function resolveAtCallsite(name: string, options: LoadTestOptions, timeout: number | undefined, callsite: string | undefined): ResolvedLoadTest {
  try {
    if (timeout !== undefined) expectInteger(timeout, `loadTest("${name}") timeout`, 1, 600_000)
    return resolveLoadTestOptions(name, options)
  } catch (error) {
    throw error instanceof ChaperonError ? atCallsite(error, callsite) : error
  }
}

// Baselines read in this worker, by path: the load tests of a file share one directory.
const baselines = new Map<string, Promise<Baselines>>()

/**
 * Judges the baseline budgets (`'p(95)<+10% baseline'`) against this test's
 * result in CHAPERON_BASELINE. Without one they stay not compared; a baseline
 * that is set but has no usable result for this test says why on stderr.
 */
async function judgeBudgets(result: LoadTestResult, lt: ResolvedLoadTest): Promise<LoadTestResult> {
  const path = process.env[BASELINE_ENV]
  const budgets = lt.thresholds.filter((t) => t.budget !== undefined).length
  // A segment's share is not comparable with a whole run: chaperon merge --baseline judges the budgets.
  if (budgets === 0 || path === undefined || path === '' || result.segment !== undefined) return result
  let pending = baselines.get(path)
  if (pending === undefined) baselines.set(path, (pending = readBaselines(path)))
  const found = await pending
  const baseline = findBaseline(found, result)
  if (baseline === undefined) {
    const why = found.problems.length > 0 ? found.problems : [`ChaperonError [CHAPERON_BASELINE]: ${BASELINE_ENV}=${path} holds no result of "${result.name}"; a load test has none until a baseline run includes it.`]
    console.warn(`${why.join('\n')}\n${budgets} baseline budget${budgets === 1 ? '' : 's'} of "${result.name}" not compared.`)
  }
  return applyBaseline(result, baseline, metricInfo)
}

/**
 * Records each threshold verdict as a test annotation, which Vitest's junit
 * reporter writes as a `<property>`. A segment's verdicts are on its share
 * only, and say so.
 */
async function annotateVerdicts(context: TestContext, result: LoadTestResult): Promise<void> {
  const share = result.segment === undefined ? '' : ` (segment ${result.segment.segment} only; chaperon merge judges the whole)`
  for (const t of result.thresholds) await context.annotate(`${t.ok ? '✓' : '✗'} ${t.key} ${formatThresholdLine(t)}${share}`, THRESHOLD_ANNOTATION)
}

function timeoutFor(lt: ResolvedLoadTest): number {
  return Math.max(...lt.scenarios.map((s) => s.startTimeMs + s.durationMs + s.gracefulStopMs)) + TIMEOUT_MARGIN_MS
}

/** How long the run will wait for `CHAPERON_START_AT`, added to the test's timeout. */
function startWait(lt: ResolvedLoadTest): number {
  // A dry run does not wait (dryRunPlan).
  return lt.startAt === undefined || lt.mock !== undefined ? 0 : Math.max(0, lt.startAt - Date.now())
}

/** `error` with its stack replaced by the user's frames of `callsite`, so Vitest's code frame shows the loadTest() line. */
function atCallsite<E extends Error>(error: E, callsite: string | undefined): E {
  error.stack = `${error.name}: ${error.message}\n${userFrames(callsite)}`
  return error
}
