import { performance } from 'node:perf_hooks'
import { clearTimeout, setImmediate, setTimeout } from 'node:timers'
import { setTimeout as sleep } from 'node:timers/promises'
import { timerMs } from '../../core/duration.ts'
import { InflightRequests } from '../http/inflight.ts'
import { activeMetrics } from '../metrics/user-metrics.ts'
import type { ResolvedScenario } from '../resolve-options.ts'
import type { ScenarioContext } from '../session.ts'
import { VirtualUser } from '../session-lifecycle.ts'

/** What a running scenario needs from its load test. */
export interface ScenarioDeps {
  /** Builds the context the scenario's sessions share, around the executor's hard-stop signal and in-flight list. */
  context(s: ResolvedScenario, signal: AbortSignal, inflight: InflightRequests): ScenarioContext
  /** Called with +1 when a VU starts and -1 when it ends. */
  onVuChange(delta: number): void
  /** Aborted when the whole load test stops early (an `abortOnFail` threshold failed): every scenario is cut off. */
  readonly abort: AbortSignal
}

/** A scenario's hard stop, pulled by its own graceful-stop timer or by the load test stopping early. */
export function stopControls(deps: ScenarioDeps): { signal: AbortSignal; inflight: InflightRequests; hardStop(reason: Error): void } {
  const controller = new AbortController()
  const inflight = new InflightRequests()
  const hardStop = (reason: Error): void => {
    if (controller.signal.aborted) return
    controller.abort(reason)
    inflight.abortAll(reason)
  }
  if (deps.abort.aborted) hardStop(deps.abort.reason as Error)
  else deps.abort.addEventListener('abort', () => hardStop(deps.abort.reason as Error), { once: true })
  return { signal: controller.signal, inflight, hardStop }
}

/** Waits `ms` unless `signal` aborts first. */
export async function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (ms > 0) await sleep(timerMs(ms), undefined, { signal }).catch(() => {})
}

/** Thrown into sessions that are cut off after the graceful stop. */
export class ScenarioStoppedError extends Error {
  constructor(scenario: string) {
    super(`scenario "${scenario}" was stopped after its graceful stop`)
    this.name = 'ScenarioStoppedError'
  }
}

// An iteration that never waits on I/O would otherwise starve timers and sockets.
const YIELD_EVERY = 64

/**
 * After `startTimeMs`, runs `vus` VUs at once, each looping over the scenario
 * until it has run `iterations` times (or, with `sharedIterations`, until all
 * VUs together have) or `durationMs` has passed, then gives running iterations
 * `gracefulStopMs` before cutting them off. Serves `constant-vus` (unbounded
 * iterations), `per-vu-iterations`, `shared-iterations` and Chaperon's
 * `concurrency` (one iteration).
 *
 * Timers come from `node:timers` and the clock from `node:perf_hooks`, so a test
 * file's `vi.useFakeTimers()` cannot change the schedule.
 */
export async function runFixedVus(s: ResolvedScenario, deps: ScenarioDeps): Promise<void> {
  const { signal, inflight, hardStop } = stopControls(deps)
  const ctx = deps.context(s, signal, inflight)
  await pause(s.startTimeMs, signal)
  const end = performance.now() + s.durationMs
  // shared-iterations hands out one pool of iterations; the other executors give each VU its own.
  let taken = 0
  const take = s.sharedIterations ? () => taken++ < s.iterations : undefined
  const loops: Promise<void>[] = []
  for (let vu = 1; vu <= s.vus; vu++) loops.push(activeMetrics.run(ctx.metrics, () => vuLoop(new VirtualUser(ctx, s.scenario, vu), s, end, take, deps, signal)))
  const all = Promise.all(loops)
  if (await settlesWithin(all, end + s.gracefulStopMs - performance.now())) return
  hardStop(new ScenarioStoppedError(s.key))
  // Scenario code that ignores the abort signal is left behind rather than hanging the test.
  await settlesWithin(all, 1000)
}

async function vuLoop(vu: VirtualUser, s: ResolvedScenario, end: number, take: (() => boolean) | undefined, deps: ScenarioDeps, stop: AbortSignal): Promise<void> {
  deps.onVuChange(1)
  const perVu = take === undefined ? s.iterations : Number.POSITIVE_INFINITY
  try {
    for (let i = 0; i < perVu && performance.now() < end && !stop.aborted && (take === undefined || take()); i++) {
      if (!(await vu.iterate(i))) return
      if (i % YIELD_EVERY === YIELD_EVERY - 1) await new Promise((resolve) => setImmediate(resolve))
    }
  } finally {
    await vu.end()
    deps.onVuChange(-1)
  }
}

/** Waits for `promise` at most `ms`; true when it settled in time. */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(resolve, timerMs(Math.max(0, ms)), false)
  })
  try {
    return await Promise.race([promise.then(() => true), timeout])
  } finally {
    clearTimeout(timer)
  }
}
