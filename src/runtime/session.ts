import { setTimeout as sleep } from 'node:timers/promises'
import { type Duration, parseDuration } from '../core/duration.ts'
import { ChaperonError } from '../core/errors.ts'
import type { HttpClient, RequestScope } from './http/client.ts'
import type { RequestOptions } from './http/request-options.ts'
import type { Response } from './http/response.ts'

/** What the sessions of one running scenario share. */
export interface ScenarioContext extends RequestScope {
  /** The scenario's key in `loadTest({ scenarios })`. */
  readonly name: string
  readonly client: HttpClient
  readonly config: Readonly<Record<string, unknown>>
}

/** @internal Moves a session on to its next iteration; only executors call it. */
export const NEXT_ITERATION = Symbol('chaperon.nextIteration')

/** A delay: milliseconds, a duration string such as `'250ms'`, or a uniform random range. */
export type DelayValue = Duration | { min: Duration; max: Duration }

/**
 * One virtual user of a scenario: its identity, its state and the actions it
 * can take. Every action is measured. A VU keeps its session, and so its
 * `assigns`, across its iterations, as a k6 VU keeps its variables.
 */
export class Session {
  /** `<scenario>#<vu>`, used to prefix logs. */
  readonly id: string
  /** The VU number within its scenario, from 1. */
  readonly vu: number
  /** The scenario's key in `loadTest({ scenarios })`. */
  readonly scenario: string
  /** Read-only configuration: the scenario's `config` deep-merged over the load test's. */
  readonly config: Readonly<Record<string, unknown>>
  /** Aborted when the load test cuts this session off. */
  readonly signal: AbortSignal
  /** The session's own mutable state, kept across the VU's iterations; see `assign()`. */
  readonly assigns: Record<string, unknown> = {}
  readonly #ctx: ScenarioContext
  #iteration = 0

  /** @internal Sessions are made by executors. */
  constructor(ctx: ScenarioContext, vu: number) {
    this.#ctx = ctx
    this.vu = vu
    this.scenario = ctx.name
    this.config = ctx.config
    this.signal = ctx.signal
    this.id = `${ctx.name}#${vu}`
  }

  /** The number of the iteration this VU is running, from 0. */
  get iteration(): number {
    return this.#iteration
  }

  /** @internal */
  [NEXT_ITERATION](iteration: number): void {
    this.#iteration = iteration
  }

  /** Merges `values` into `assigns`. */
  assign(values: Record<string, unknown>): this {
    Object.assign(this.assigns, values)
    return this
  }

  get(path: string, options?: RequestOptions): Promise<Response> {
    return this.request('GET', path, options)
  }

  post(path: string, options?: RequestOptions): Promise<Response> {
    return this.request('POST', path, options)
  }

  put(path: string, options?: RequestOptions): Promise<Response> {
    return this.request('PUT', path, options)
  }

  patch(path: string, options?: RequestOptions): Promise<Response> {
    return this.request('PATCH', path, options)
  }

  delete(path: string, options?: RequestOptions): Promise<Response> {
    return this.request('DELETE', path, options)
  }

  head(path: string, options?: RequestOptions): Promise<Response> {
    return this.request('HEAD', path, options)
  }

  options(path: string, options?: RequestOptions): Promise<Response> {
    return this.request('OPTIONS', path, options)
  }

  /**
   * Sends one request and records it. A failed request (network error or an
   * unexpected status) is data: it is counted and returned, never thrown.
   */
  request(method: string, path: string, options?: RequestOptions): Promise<Response> {
    const ctx = this.#ctx
    try {
      return ctx.client.send(ctx.client.prepare(method, path, options), ctx)
    } catch (error) {
      // Bad options reject like any other failure of an awaited action.
      return Promise.reject(error)
    }
  }

  /** Waits: `delay(250)`, `delay('1.5s')`, or a uniform random time `delay({ min: 50, max: 150 })`. */
  async delay(value: DelayValue): Promise<void> {
    await sleep(delayMillis(value), undefined, { signal: this.signal })
  }
}

function delayMillis(value: DelayValue): number {
  if (typeof value === 'object' && value !== null) {
    const min = parseDuration(value.min, 'delay({ min })')
    const max = parseDuration(value.max, 'delay({ max })')
    if (max < min) throw new ChaperonError('CHAPERON_INVALID_OPTION', `delay({ min, max }) needs min ≤ max; got min ${min}ms and max ${max}ms.`)
    return min + Math.random() * (max - min)
  }
  return parseDuration(value, 'delay()')
}
