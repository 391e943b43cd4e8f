import { scale, type Stripe } from '../../core/segment.ts'

/** One stage of `ramping-vus`: the VU count moves linearly to `target` over `durationMs`. */
export interface VuStage {
  durationMs: number
  target: number
}

/** From `atMs` (after the executor's start) on, `vus` VUs should run. */
export interface VuStep {
  atMs: number
  vus: number
}

/**
 * Every moment the whole number of VUs of a `ramping-vus` executor changes,
 * in order, starting with `startVUs` at 0. Within a stage the count moves
 * linearly and changes each time the line reaches a whole number, up or down:
 * a ramp from 0 to 10 over 10 s adds one VU each second, the first after 1 s,
 * and a ramp back removes one each second, the last at the stage's end.
 */
export function vuSteps(startVUs: number, stages: readonly VuStage[]): VuStep[] {
  const steps: VuStep[] = [{ atMs: 0, vus: startVUs }]
  let from = startVUs
  let at = 0
  for (const { durationMs, target } of stages) {
    if (durationMs === 0) {
      if (target !== from) steps.push({ atMs: at, vus: target })
    } else if (target > from) {
      for (let v = from + 1; v <= target; v++) steps.push({ atMs: at + (durationMs * (v - from)) / (target - from), vus: v })
    } else if (target < from) {
      for (let v = from - 1; v >= target; v--) steps.push({ atMs: at + (durationMs * (from - v)) / (from - target), vus: v })
    }
    from = target
    at += durationMs
  }
  return mergeSameTime(steps)
}

/** Keeps the last count of steps that happen at the same moment. */
function mergeSameTime(steps: VuStep[]): VuStep[] {
  const out: VuStep[] = []
  for (const step of steps) {
    if (out.length > 0 && out.at(-1)!.atMs === step.atMs) out[out.length - 1] = step
    else out.push(step)
  }
  return out
}

/**
 * The part of the whole run's `steps` that `stripe` runs (for `WHOLE`, the
 * steps themselves): at each, the number of VUs among the whole run's that
 * `stripe` owns, keeping only the steps where that number changes. So the
 * parts together run the whole run's count at every moment, each VU number
 * starting and stopping when it would in the whole run.
 */
export function stripeSteps(steps: readonly VuStep[], stripe: Stripe): VuStep[] {
  const out: VuStep[] = []
  for (const step of steps) {
    const vus = scale(stripe, step.vus)
    if (out.length === 0 || out.at(-1)!.vus !== vus) out.push({ atMs: step.atMs, vus })
  }
  return out
}

