import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { Worker } from 'node:worker_threads'
import { ChaperonError, type ChaperonErrorCode } from '../core/errors.ts'
import type { ScenarioErrorResult } from '../core/result.ts'
import type { IntervalSample } from '../core/timeline.ts'
import { PACKAGE_ROOT } from './callsite.ts'
import type { ResolvedLoadTest, ResolvedScenario } from './resolve-options.ts'
import type { Scenario } from './scenario.ts'
import { splitStripe, WHOLE } from '../core/segment.ts'
import { segmentOf } from './segments.ts'
import type { FeederFile } from './feeder/registry.ts'

/** How a worker finds a scenario: the module that made it, and its name there. */
export interface ScenarioRef {
  file: string
  name: string
}

/** A worker's part of the load test, as it crosses to the thread: plain data, scenarios by reference. */
export interface ShippedLoadTest extends Omit<ResolvedLoadTest, 'baseUrl' | 'scenarios'> {
  baseUrl: string | undefined
  scenarios: Array<Omit<ResolvedScenario, 'scenario'> & { scenario: ScenarioRef }>
}

/** What the worker thread is started with. */
export interface WorkerData {
  lt: ShippedLoadTest
  /** The feeders' rows and positions, in memory the threads share. */
  feeders: FeederFile[]
}

/** An error as it crosses between threads. */
export interface ShippedError {
  code?: ChaperonErrorCode
  message: string
  stack?: string
}

/** Messages from a worker thread. */
export type FromWorker =
  | { type: 'ready' }
  | { type: 'failed'; error: ShippedError }
  | { type: 'second'; t: number; samples: IntervalSample[] }
  | { type: 'done'; errors: ScenarioErrorResult[]; misuse?: ShippedError }

/** Messages to a worker thread. */
export type ToWorker = { type: 'start'; startAt: number } | { type: 'abort'; message: string }

/** What the parent hears of a run on workers. */
export interface WorkerHandlers {
  /** The common start, as a `performance.now()` time of this thread. */
  onStart(t0: number): void
  /** Worker `worker` closed second `t`. */
  onSecond(worker: number, t: number, samples: IntervalSample[]): void
  /** Worker `worker` has ended, normally or not. */
  onEnd(worker: number): void
}

// The workers start together this long after the last is ready, so none misses the start.
const START_DELAY_MS = 50

/**
 * Runs a load test split over `lt.workers` worker threads (`segmentOf`): each
 * imports the scenarios' modules, waits for a common start and streams its
 * metrics second by second. The threads share `feeders`, the rows and
 * positions the parent loaded. `abort` stops them all. A worker that fails is
 * reported as a `CHAPERON_WORKER_FAILED` misuse; the others' results are kept.
 */
export async function runOnWorkers(
  lt: ResolvedLoadTest,
  testFile: string | undefined,
  feeders: FeederFile[],
  abort: AbortSignal,
  handlers: WorkerHandlers,
): Promise<{ errors: ScenarioErrorResult[]; misuse: ChaperonError | undefined }> {
  const refs = new Map(lt.scenarios.map((s) => [s.scenario, refOf(s.scenario, s.key, testFile)]))
  const entry = join(PACKAGE_ROOT, 'dist', 'runtime', 'worker.js')
  if (!existsSync(entry)) throw new ChaperonError('CHAPERON_WORKER_FAILED', `workers need chaperon's compiled worker at ${entry}; build chaperon first (npm run build).`)

  const count = lt.workers
  const errors: ScenarioErrorResult[] = []
  let misuse: ChaperonError | undefined
  let ready = 0
  const workers: Worker[] = []
  const ended = Array.from({ length: count }, () => Promise.withResolvers<void>())
  const start = Promise.withResolvers<void>()

  for (let index = 0; index < count; index++) {
    const part = segmentOf(lt, splitStripe(lt.segment?.stripe ?? WHOLE, index, count))
    const shipped: ShippedLoadTest = {
      ...part,
      baseUrl: part.baseUrl?.href,
      thresholds: [],
      scenarios: part.scenarios.map((s) => ({ ...s, scenario: refs.get(s.scenario)! })),
    }
    const worker = new Worker(entry, { workerData: { lt: shipped, feeders } satisfies WorkerData })
    workers.push(worker)
    let done = false
    let counted = false
    // A worker that ends before it is ready must not hold the others back.
    const markReady = (): void => {
      if (counted) return
      counted = true
      if (++ready === count) start.resolve()
    }
    const finish = (): void => {
      if (done) return
      done = true
      markReady()
      handlers.onEnd(index)
      ended[index]!.resolve()
      void worker.terminate()
    }
    const fail = (error: ShippedError): void => {
      misuse ??= error.code === undefined ? new ChaperonError('CHAPERON_WORKER_FAILED', `worker ${index + 1} of ${count} failed: ${error.message}`) : toChaperonError(error)
      finish()
    }
    worker.on('message', (m: FromWorker) => {
      switch (m.type) {
        case 'ready':
          markReady()
          break
        case 'second':
          handlers.onSecond(index, m.t, m.samples)
          break
        case 'failed':
          fail(m.error)
          break
        case 'done':
          errors.push(...m.errors)
          if (m.misuse !== undefined) misuse ??= toChaperonError(m.misuse)
          finish()
          break
      }
    })
    worker.on('error', (error) => fail({ message: error.stack ?? error.message }))
    worker.on('exit', (code) => {
      if (!done) fail({ message: `its thread exited with code ${code} before the end of the run` })
    })
  }

  await start.promise
  const startAt = Math.max(performance.timeOrigin + performance.now() + START_DELAY_MS, lt.startAt ?? 0)
  handlers.onStart(startAt - performance.timeOrigin)
  for (const w of workers) w.postMessage({ type: 'start', startAt } satisfies ToWorker)
  const onAbort = (): void => {
    for (const w of workers) w.postMessage({ type: 'abort', message: String((abort.reason as Error | undefined)?.message ?? abort.reason) } satisfies ToWorker)
  }
  // An abort while the workers were still loading stops them as soon as they start.
  if (abort.aborted) onAbort()
  else abort.addEventListener('abort', onAbort, { once: true })
  try {
    await Promise.all(ended.map((e) => e.promise))
  } finally {
    abort.removeEventListener('abort', onAbort)
  }
  return { errors, misuse }
}

/**
 * Where a worker finds `scenario`: the module that made it, which must not be
 * the test file (importing it would declare the tests again).
 */
function refOf(scenario: Scenario, key: string, testFile: string | undefined): ScenarioRef {
  const move = `Move it into a module of its own, export it (export const ${identifier(scenario.name)} = scenario(…)), and import it in the test file: worker threads import that module to run it (docs/workers.md).`
  if (scenario.file === undefined) {
    throw new ChaperonError('CHAPERON_WORKER_SCENARIO', `scenarios.${key}: chaperon cannot tell which module made scenario '${scenario.name}', so worker threads cannot load it. ${move}`)
  }
  if (scenario.file === testFile) {
    throw new ChaperonError('CHAPERON_WORKER_SCENARIO', `scenarios.${key}: scenario '${scenario.name}' is made in the test file itself, which worker threads cannot import. ${move}`)
  }
  return { file: scenario.file, name: scenario.name }
}

function identifier(name: string): string {
  const id = name.replace(/[^A-Za-z0-9_$]+(.)?/g, (_, c: string | undefined) => (c ?? '').toUpperCase())
  return /^[A-Za-z_$]/.test(id) ? id : 'myScenario'
}

/** A shipped error as a ChaperonError, keeping its code and stack. */
function toChaperonError(e: ShippedError): ChaperonError {
  const error = new ChaperonError(e.code ?? 'CHAPERON_WORKER_FAILED', e.message)
  if (e.stack !== undefined) error.stack = e.stack
  return error
}
