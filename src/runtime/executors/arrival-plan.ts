import { slotAt, type Stripe, WHOLE } from '../../core/segment.ts'

/** One stage of an arrival rate: it moves linearly to `target` iterations per ms over `durationMs`. */
export interface RateStage {
  durationMs: number
  /** Iterations per millisecond at the end of the stage. */
  target: number
}

/**
 * When each iteration of an arrival-rate executor should start, as an offset
 * in ms from the executor's start. Iteration i starts when the integral of the
 * rate reaches i, so a constant rate r gives `i / r` and a ramp follows the
 * area under it exactly. Pure: the executor turns offsets into timers, and
 * tests read them directly.
 */
export class ArrivalPlan {
  readonly #stages: readonly RateStage[]
  #rate: number
  #stage = 0
  /** Offset and cumulative count at the start of the current stage. */
  #stageStartMs = 0
  #stageStartCount = 0
  /** The plan's slots this process starts, and how many of them it has started. */
  readonly #stripe: Stripe
  #taken = 0
  /** The whole plan's index of the offset `next()` returned last. */
  #slot = -1

  /**
   * `startRate` in iterations per ms; stages follow each other from offset 0.
   * With a `stripe`, the plan yields only the stripe's slots, so the plans of
   * the stripes of a split run together start exactly the slots of one.
   */
  constructor(startRate: number, stages: readonly RateStage[], stripe: Stripe = WHOLE) {
    this.#rate = startRate
    this.#stages = stages
    this.#stripe = stripe
  }

  /** The plan's slot of the offset `next()` returned last: iteration `slot` of the whole run. */
  get slot(): number {
    return this.#slot
  }

  /** The offset of the next iteration, or undefined once the last stage has ended. */
  next(): number | undefined {
    const i = slotAt(this.#stripe, this.#taken)
    while (this.#stage < this.#stages.length) {
      const { durationMs, target } = this.#stages[this.#stage]!
      const r0 = this.#rate
      const countAtEnd = this.#stageStartCount + ((r0 + target) / 2) * durationMs
      if (i < countAtEnd) {
        this.#taken++
        this.#slot = i
        return this.#stageStartMs + timeFor(i - this.#stageStartCount, r0, (target - r0) / durationMs)
      }
      this.#stageStartMs += durationMs
      this.#stageStartCount = countAtEnd
      this.#rate = target
      this.#stage++
    }
    return undefined
  }
}

/** The t ≥ 0 at which r0·t + slope·t²/2 reaches `count`. */
function timeFor(count: number, r0: number, slope: number): number {
  if (count <= 0) return 0
  if (Math.abs(slope) < 1e-15) return count / r0
  return (-r0 + Math.sqrt(r0 * r0 + 2 * slope * count)) / slope
}
