import { deepFreeze, deepMerge, plainData } from '../core/config.ts'
import { ChaperonError } from '../core/errors.ts'
import { expectKnownKeys, expectObject, invalid, isPlainObject } from '../core/validate.ts'
import { callerFile } from './callsite.ts'
import type { Session } from './session.ts'

/** One step of a scenario's lifecycle, run by one session. */
export type ScenarioFn = (s: Session) => Promise<void> | void

/** The object form of `scenario()`. */
export interface ScenarioDefinition {
  /** Names the scenario in logs, and in the `scenario` tag when it runs nested through `s.run()`. */
  name: string
  /** Runs once when a session starts, before its first `run`; may prepare `assigns`. If it throws, the session does not run. */
  init?: ScenarioFn
  /** One iteration: what the virtual user does. */
  run: ScenarioFn
  /** Runs once when a session ends, after its last `run`; its metrics are kept. */
  teardown?: ScenarioFn
  /** Configuration of this scenario, deep-merged over the load test's `config` and under the `scenarios` entry's. */
  config?: Record<string, unknown>
}

const SCENARIO = Symbol.for('chaperon.scenario')

/** A named piece of work that sessions run; made with `scenario()` or `sequence()`. */
export interface Scenario {
  readonly [SCENARIO]: true
  readonly name: string
  readonly init: ScenarioFn | undefined
  readonly run: ScenarioFn
  readonly teardown: ScenarioFn | undefined
  readonly config: Readonly<Record<string, unknown>>
  /** The module that made it, which a worker thread imports to find it (docs/workers.md); undefined when unknown. */
  readonly file: string | undefined
}

const KEYS = ['name', 'init', 'run', 'teardown', 'config'] as const

/**
 * Defines a scenario: what one virtual user does in one iteration, and
 * optionally what it does when its session starts and ends.
 *
 * ```ts
 * const browse = scenario('browse', async (s) => {
 *   await s.get('/products', { check: { 'is 200': (r) => r.status === 200 } })
 * })
 *
 * const shop = scenario({
 *   name: 'shop',
 *   config: { pageSize: 20 },
 *   init: async (s) => { await s.post('/login', { json: { user: s.require('user') } }) },
 *   run: async (s) => { await s.get('/products', { query: { size: s.config.pageSize as number } }) },
 *   teardown: async (s) => { await s.post('/logout') },
 * })
 * ```
 */
export function scenario(name: string, run: ScenarioFn): Scenario
export function scenario(definition: ScenarioDefinition): Scenario
export function scenario(nameOrDefinition: string | ScenarioDefinition, run?: ScenarioFn): Scenario {
  if (typeof nameOrDefinition === 'string') {
    if (nameOrDefinition.length === 0) throw invalid('scenario() name', "a non-empty string: scenario('browse', async (s) => { … })", nameOrDefinition)
    if (typeof run !== 'function') {
      throw new ChaperonError('CHAPERON_INVALID_OPTION', `scenario('${nameOrDefinition}', run) needs a function as run: scenario('${nameOrDefinition}', async (s) => { … }).`)
    }
    return make({ name: nameOrDefinition, run })
  }
  const d = expectObject(nameOrDefinition, 'scenario()', "scenario('browse', async (s) => { … }) or scenario({ name: 'browse', run: async (s) => { … } })")
  expectKnownKeys(d, KEYS, 'scenario()')
  if (typeof d.name !== 'string' || d.name.length === 0) throw invalid('scenario({ name })', "a non-empty string such as 'browse'", d.name)
  const where = `scenario('${d.name}')`
  for (const step of ['init', 'run', 'teardown'] as const) {
    if ((d[step] !== undefined || step === 'run') && typeof d[step] !== 'function') throw invalid(`${where} ${step}`, 'a function (s) => { … }', d[step])
  }
  if (d.config !== undefined && !isPlainObject(d.config)) throw invalid(`${where} config`, 'an object such as { pageSize: 20 }', d.config)
  return make({ ...(d as unknown as ScenarioDefinition), config: plainData(d.config ?? {}, `${where} config`) })
}

function make(d: ScenarioDefinition): Scenario {
  const file = callerFile(new Error().stack)
  return Object.freeze({ [SCENARIO]: true as const, name: d.name, init: d.init, run: d.run, teardown: d.teardown, config: deepFreeze(d.config ?? {}), file })
}

/** True for values made by `scenario()` or `sequence()`. */
export function isScenario(value: unknown): value is Scenario {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[SCENARIO] === true
}

/**
 * A scenario that runs `scenarios` in turn in one session, as Chaperon's
 * `Scenario.Sequence`: each one runs nested (`s.run()`) with the `assigns` of
 * the ones before it deep-merged into its config. The last one's `assigns`
 * become the sequence's own.
 *
 * ```ts
 * const signUpAndShop = sequence('sign up and shop', [signUp, logIn, shop])
 * ```
 */
export function sequence(name: string, scenarios: readonly Scenario[]): Scenario {
  if (typeof name !== 'string' || name.length === 0) throw invalid('sequence() name', "a non-empty string: sequence('checkout', [logIn, buy])", name)
  if (!Array.isArray(scenarios) || scenarios.length === 0) throw invalid(`sequence('${name}') scenarios`, 'a non-empty array of scenarios: [logIn, buy]', scenarios)
  scenarios.forEach((s, i) => {
    if (!isScenario(s)) throw invalid(`sequence('${name}') scenarios[${i}]`, "a scenario made with scenario('name', async (s) => { … })", s)
  })
  const steps = [...scenarios]
  return make({
    name,
    run: async (s) => {
      let config: Record<string, unknown> = {}
      let assigns: Record<string, unknown> = {}
      for (const step of steps) {
        assigns = await s.run(step, config)
        config = deepMerge(config, assigns)
      }
      s.assign(assigns)
    },
  })
}
