import { InflightRequests } from '../http/inflight.ts'
import { activeMetrics } from '../metrics/user-metrics.ts'
import type { ResolvedScenario } from '../resolve-options.ts'
import type { ScenarioContext } from '../session.ts'
import { VirtualUser } from '../session-lifecycle.ts'
import { type Clock, pause, realClock, settlesWithin } from './clock.ts'

/** What a running scenario needs from its load test. */
export interface ScenarioDeps {
  /** Builds the context the scenario's sessions share, around the executor's hard-stop signal and in-flight list. */
  context(s: ResolvedScenario, signal: AbortSignal, inflight: InflightRequests): ScenarioContext
  /** Called with +1 when a VU starts and -1 when it ends. */
  onVuChange(delta: number): void
  /** Aborted when the whole load test stops early (an `abortOnFail` threshold failed): every scenario is cut off. */
  readonly abort: AbortSignal
  /** Where the executor reads the time and waits. @default realClock */
  readonly clock?: Clock
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
 * Time comes from `deps.clock`, by default `realClock`, which a test file's
 * `vi.useFakeTimers()` cannot change.
 */
export async function runFixedVus(s: ResolvedScenario, deps: ScenarioDeps): Promise<void> {
  const clock = deps.clock ?? realClock
  const { signal, inflight, hardStop } = stopControls(deps)
  const ctx = deps.context(s, signal, inflight)
  await pause(clock, s.startTimeMs, signal)
  const end = clock.now() + s.durationMs
  // shared-iterations hands out one pool of iterations; the other executors give each VU its own.
  let taken = 0
  const take = s.sharedIterations ? () => taken++ < s.iterations : undefined
  const loops: Promise<void>[] = []
  for (let vu = 1; vu <= s.vus; vu++) loops.push(activeMetrics.run(ctx.metrics, () => vuLoop(new VirtualUser(ctx, s.scenario, vu), s, end, take, deps, clock, signal)))
  const all = Promise.all(loops)
  if (await settlesWithin(clock, all, end + s.gracefulStopMs - clock.now())) return
  hardStop(new ScenarioStoppedError(s.key))
  // Scenario code that ignores the abort signal is left behind rather than hanging the test.
  await settlesWithin(clock, all, 1000)
}

async function vuLoop(vu: VirtualUser, s: ResolvedScenario, end: number, take: (() => boolean) | undefined, deps: ScenarioDeps, clock: Clock, stop: AbortSignal): Promise<void> {
  deps.onVuChange(1)
  const perVu = take === undefined ? s.iterations : Number.POSITIVE_INFINITY
  try {
    for (let i = 0; i < perVu && clock.now() < end && !stop.aborted && (take === undefined || take()); i++) {
      if (!(await vu.iterate(i))) return
      if (i % YIELD_EVERY === YIELD_EVERY - 1) await clock.yield()
    }
  } finally {
    await vu.end()
    deps.onVuChange(-1)
  }
}
