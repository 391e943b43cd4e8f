import { activeMetrics } from '../metrics/user-metrics.ts'
import type { ResolvedScenario } from '../resolve-options.ts'
import { VirtualUser } from '../session-lifecycle.ts'
import { ArrivalPlan } from './arrival-plan.ts'
import { pause, realClock, settlesWithin } from './clock.ts'
import { addPacer, type Pacer } from './pacer.ts'
import { type ScenarioDeps, ScenarioStoppedError, stopControls } from './fixed-vus.ts'

/** What an arrival-rate executor runs by: its rate plan and its pool of VUs. */
export interface ArrivalRateSettings {
  /** Iterations per ms at the start. */
  startRate: number
  stages: ReadonlyArray<{ durationMs: number; target: number }>
  preAllocatedVUs: number
  maxVUs: number
  /** How the executor waits for its next slot (the scenario's `pacing`). */
  pacing: 'timer' | 'spin'
}

// With timer pacing, a slot due within this much is started now rather than after one more timer.
const EARLY_MS = 1
// With spin pacing, the executor sleeps until this long before a slot, then turns the event loop until it is due.
const SPIN_MS = 2

/**
 * Starts iterations on a plan, never on completions (`constant-arrival-rate`,
 * `ramping-arrival-rate`): iteration i starts at the executor's start plus its
 * offset in `ArrivalPlan`, on a free VU. When no VU is free and `maxVUs` are
 * all busy, the iteration is dropped and counted in `dropped_iterations`.
 * Each iteration also records its latency from its planned start
 * (`iteration_latency_corrected`, `http_req_latency_corrected`), so a target
 * that stalls cannot hide the stall by slowing the generator down.
 *
 * Timers are absolute targets on `deps.clock`, so they do not drift; the
 * default `realClock` is one `vi.useFakeTimers()` cannot change. With
 * `pacing: 'spin'` the last {@link SPIN_MS} before each slot are spent turning
 * the event loop instead of asleep, and no slot starts before its time.
 */
export async function runArrivalRate(s: ResolvedScenario, arrival: ArrivalRateSettings, deps: ScenarioDeps): Promise<void> {
  const clock = deps.clock ?? realClock
  const { signal, inflight, hardStop } = stopControls(deps)
  const ctx = deps.context(s, signal, inflight)
  await pause(clock, s.startTimeMs, signal)
  const all: VirtualUser[] = []
  const idle: VirtualUser[] = []
  const perVu = new Map<VirtualUser, number>()
  const allocate = (): VirtualUser => {
    const vu = new VirtualUser(ctx, s.scenario, all.length + 1)
    all.push(vu)
    perVu.set(vu, 0)
    deps.onVuChange(1)
    return vu
  }
  for (let i = 0; i < arrival.preAllocatedVUs; i++) idle.push(allocate())
  const running = new Set<Promise<void>>()
  const start = (plannedAt: number, slot: number): void => {
    const vu = idle.pop() ?? (all.length < arrival.maxVUs ? allocate() : undefined)
    if (vu === undefined) {
      ctx.metrics.recordDropped()
      return
    }
    const iteration = perVu.get(vu)!
    perVu.set(vu, iteration + 1)
    const done: Promise<void> = activeMetrics
      .run(ctx.metrics, () => vu.iterate(iteration, plannedAt, slot))
      .then((more) => {
        running.delete(done)
        if (more) idle.push(vu)
        pacer.catchUp()
      })
    running.add(done)
  }

  const t0 = clock.now()
  const end = t0 + s.durationMs
  const plan = new ArrivalPlan(arrival.startRate, arrival.stages, s.stripe)
  let offset = plan.next()
  /**
   * Starts every slot due by `until`, so a late timer does not push the rest
   * back. Only the timer drops a slot no VU is free for: between timers, a
   * slot waits for a VU that is about to finish instead (`whileVuFree`).
   */
  const startDue = (until: number, whileVuFree = false): void => {
    while (offset !== undefined && t0 + offset <= until && !signal.aborted) {
      if (whileVuFree && idle.length === 0 && all.length >= arrival.maxVUs) return
      start(t0 + offset, plan.slot)
      offset = plan.next()
    }
  }
  // Between timers, the thread's I/O and each iteration's end start the slots that fall due.
  const pacer: Pacer = {
    due: () => offset !== undefined && t0 + offset <= clock.now(),
    catchUp: () => startDue(clock.now(), true),
  }
  const work = (async () => {
    const removePacer = addPacer(pacer)
    try {
      while (offset !== undefined && !signal.aborted) {
        const wait = t0 + offset - clock.now()
        // A stage at rate 0 can mean a long wait; the hard stop ends it rather than leaving a timer behind.
        if (arrival.pacing === 'timer') {
          if (wait > EARLY_MS) await pause(clock, wait, signal)
          startDue(clock.now() + EARLY_MS)
        } else {
          if (wait > SPIN_MS) await pause(clock, wait - SPIN_MS, signal)
          else await clock.spin(t0 + offset, signal)
          startDue(clock.now())
        }
      }
    } finally {
      removePacer()
    }
    while (running.size > 0) await Promise.all(running)
    await Promise.all(all.map((vu) => activeMetrics.run(ctx.metrics, () => vu.end())))
  })()
  try {
    if (await settlesWithin(clock, work, end + s.gracefulStopMs - clock.now())) return
    hardStop(new ScenarioStoppedError(s.key))
    // Scenario code that ignores the abort signal is left behind rather than hanging the test.
    await settlesWithin(clock, work, 1000)
  } finally {
    deps.onVuChange(-all.length)
  }
}
