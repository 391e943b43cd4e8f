import { ChaperonError } from '../core/errors.ts'
import type { Session } from './session.ts'

/** What a scenario does in one iteration, as one virtual user. */
export type ScenarioFn = (s: Session) => Promise<void> | void

const SCENARIO = Symbol.for('chaperon.scenario')

/** A named piece of work that VUs run; made with `scenario()`. */
export interface Scenario {
  readonly [SCENARIO]: true
  /** Names the scenario in logs and results. */
  readonly name: string
  /** Runs one iteration. */
  readonly run: ScenarioFn
}

/**
 * Defines a scenario: what one virtual user does in one iteration.
 *
 * ```ts
 * const browse = scenario('browse', async (s) => {
 *   await s.get('/products', { check: { 'is 200': (r) => r.status === 200 } })
 * })
 * ```
 */
export function scenario(name: string, run: ScenarioFn): Scenario {
  if (typeof name !== 'string' || name.length === 0) {
    throw new ChaperonError('CHAPERON_INVALID_OPTION', `scenario() needs a name first: scenario('browse', async (s) => { … }); got ${JSON.stringify(name)}.`)
  }
  if (typeof run !== 'function') {
    throw new ChaperonError('CHAPERON_INVALID_OPTION', `scenario('${name}', run) needs a function as run: scenario('${name}', async (s) => { … }).`)
  }
  return Object.freeze({ [SCENARIO]: true as const, name, run })
}

/** True for values made by `scenario()`. */
export function isScenario(value: unknown): value is Scenario {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[SCENARIO] === true
}
