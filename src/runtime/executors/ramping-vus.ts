import { activeMetrics } from '../metrics/user-metrics.ts'
import type { ResolvedScenario } from '../resolve-options.ts'
import type { ScenarioContext } from '../session.ts'
import { VirtualUser } from '../session-lifecycle.ts'
import { pause, realClock, settlesWithin } from './clock.ts'
import { type ScenarioDeps, ScenarioStoppedError, stopControls } from './fixed-vus.ts'
import { stripeSteps, vuSteps, type VuStage } from './vu-steps.ts'

/** The stages of a `ramping-vus` executor. */
export interface RampingVusSettings {
  startVUs: number
  stages: readonly VuStage[]
  gracefulRampDownMs: number
}

// An iteration that never waits on I/O would otherwise starve timers and sockets.
const YIELD_EVERY = 64

/** One VU of the pool, looping while it is wanted. */
class Slot {
  readonly vu: VirtualUser
  active = false
  loop: Promise<void> | undefined
  /** Aborted to cancel the `gracefulRampDown` of a VU taken away. */
  rampDown: AbortController | undefined
  iterations = 0

  constructor(ctx: ScenarioContext, s: ResolvedScenario, vu: number) {
    this.vu = new VirtualUser(ctx, s.scenario, vu)
  }
}

/**
 * Moves the number of looping VUs through `stages` (k6 `ramping-vus`). A VU
 * that is taken away finishes its iteration; if it is still busy after
 * `gracefulRampDown`, the iteration is cut off and not counted. A VU keeps
 * its session while it is away, and uses it again when it comes back.
 */
export async function runRampingVus(s: ResolvedScenario, ramp: RampingVusSettings, deps: ScenarioDeps): Promise<void> {
  const clock = deps.clock ?? realClock
  const { signal, inflight, hardStop } = stopControls(deps)
  const ctx = deps.context(s, signal, inflight)
  await pause(clock, s.startTimeMs, signal)
  const t0 = clock.now()
  const end = t0 + s.durationMs
  const slots: Slot[] = []
  let wanted = 0

  const loop = async (slot: Slot): Promise<void> => {
    deps.onVuChange(1)
    try {
      while (slot.active && clock.now() < end && !signal.aborted) {
        if (!(await slot.vu.iterate(slot.iterations++))) return
        if (slot.iterations % YIELD_EVERY === 0) await clock.yield()
      }
    } finally {
      deps.onVuChange(-1)
    }
  }
  const activate = (slot: Slot): void => {
    slot.active = true
    slot.rampDown?.abort()
    slot.loop ??= activeMetrics.run(ctx.metrics, () => loop(slot)).finally(() => (slot.loop = undefined))
  }
  const deactivate = (slot: Slot): void => {
    slot.active = false
    const rampDown = (slot.rampDown = new AbortController())
    void clock.sleep(ramp.gracefulRampDownMs, rampDown.signal).then(() => {
      if (!rampDown.signal.aborted && slot.loop !== undefined) slot.vu.interrupt()
    })
  }

  const work = (async () => {
    for (const step of stripeSteps(vuSteps(ramp.startVUs, ramp.stages), s.stripe)) {
      const wait = t0 + step.atMs - clock.now()
      await pause(clock, wait, signal)
      if (signal.aborted) break
      for (; wanted < step.vus; wanted++) activate((slots[wanted] ??= new Slot(ctx, s, wanted + 1)))
      for (; wanted > step.vus; wanted--) deactivate(slots[wanted - 1]!)
    }
    const left = end - clock.now()
    await pause(clock, left, signal)
    // The end stops new iterations; running ones get gracefulStop, not gracefulRampDown.
    for (const slot of slots) {
      slot.active = false
      slot.rampDown?.abort()
    }
    await Promise.all(slots.map((slot) => slot.loop))
    await Promise.all(slots.map((slot) => activeMetrics.run(ctx.metrics, () => slot.vu.end())))
  })()
  if (await settlesWithin(clock, work, end + s.gracefulStopMs - clock.now())) return
  hardStop(new ScenarioStoppedError(s.key))
  // Scenario code that ignores the abort signal is left behind rather than hanging the test.
  await settlesWithin(clock, work, 1000)
}
