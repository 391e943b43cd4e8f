import { setTimeout as sleep } from 'node:timers/promises'
import type { Dispatcher } from 'undici'
import { type Duration, parseDuration } from '../core/duration.ts'
import { ChaperonError } from '../core/errors.ts'
import type { HttpClient } from './http/client.ts'
import { type RequestOptions, resolveRequest } from './http/request-options.ts'
import { Response } from './http/response.ts'
import type { ScenarioMetrics } from './metrics/scenario-metrics.ts'

/** What the sessions of one running scenario share. */
export interface ScenarioContext {
  /** The scenario's key in `loadTest({ scenarios })`. */
  readonly name: string
  readonly client: HttpClient
  readonly metrics: ScenarioMetrics
  readonly config: Readonly<Record<string, unknown>>
  readonly timeoutMs: number
  /** Aborted when the scenario is cut off after its graceful stop. */
  readonly signal: AbortSignal
  readonly inflight: Set<Dispatcher.DispatchController>
}

/** A delay: milliseconds, a duration string such as `'250ms'`, or a uniform random range. */
export type DelayValue = Duration | { min: Duration; max: Duration }

/**
 * One virtual user's iteration of a scenario: its identity, its state and the
 * actions it can take. Every action is measured.
 */
export class Session {
  /** `<scenario>#<vu>.<iteration>`, used to prefix logs. */
  readonly id: string
  /** The VU number within its scenario, from 1. */
  readonly vu: number
  /** The iteration number of this VU, from 0. */
  readonly iteration: number
  /** The scenario's key in `loadTest({ scenarios })`. */
  readonly scenario: string
  /** Read-only configuration: the scenario's `config` deep-merged over the load test's. */
  readonly config: Readonly<Record<string, unknown>>
  /** Aborted when the load test cuts this session off. */
  readonly signal: AbortSignal
  /** The session's own mutable state; see `assign()`. */
  readonly assigns: Record<string, unknown> = {}
  readonly #ctx: ScenarioContext

  /** @internal Sessions are made by executors. */
  constructor(ctx: ScenarioContext, vu: number, iteration: number) {
    this.#ctx = ctx
    this.vu = vu
    this.iteration = iteration
    this.scenario = ctx.name
    this.config = ctx.config
    this.signal = ctx.signal
    this.id = `${ctx.name}#${vu}.${iteration}`
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
  async request(method: string, path: string, options?: RequestOptions): Promise<Response> {
    const ctx = this.#ctx
    const req = resolveRequest(method, path, options, ctx.timeoutMs)
    const outcome = await ctx.client.send({
      method: req.method,
      path: req.path,
      headers: req.headers,
      body: req.body,
      timeoutMs: req.timeoutMs,
      keepBody: req.keepBody,
      inflight: ctx.inflight,
    })
    // A request cut off by the load test's own stop says nothing about the target.
    if (ctx.signal.aborted) throw ctx.signal.reason
    const error = outcome.error === undefined ? undefined : errorCode(outcome.error)
    const failed = error !== undefined || !req.expect(outcome.status)
    const durationUs = (outcome.endedAt - outcome.startedAt) * 1000
    const waitingUs = (outcome.headersAt - outcome.startedAt) * 1000
    ctx.metrics.recordHttp({
      name: req.name,
      method: req.method,
      status: outcome.status,
      errorCode: error,
      failed,
      extraTags: req.tags,
      durationUs,
      waitingUs,
      receivingUs: durationUs - waitingUs,
      bytesSent: outcome.bytesSent,
      bytesReceived: outcome.bytesReceived,
    })
    const response = new Response({
      url: outcome.url,
      status: outcome.status,
      headers: outcome.headers,
      bytes: outcome.bodyBytes,
      timings: { waiting: waitingUs / 1000, receiving: (durationUs - waitingUs) / 1000, duration: durationUs / 1000 },
      error,
      ok: !failed,
      chunks: outcome.chunks,
    })
    if (req.checks !== undefined) {
      for (const [check, predicate] of req.checks) {
        let ok: boolean
        try {
          ok = predicate(response) === true
        } catch {
          ok = false
        }
        ctx.metrics.recordCheck(req.name, check, ok)
      }
    }
    return response
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

/** A stable code for a request error: Node's `code` (`ECONNREFUSED`) or undici's (`UND_ERR_SOCKET`). */
function errorCode(error: Error): string {
  const code = (error as { code?: unknown }).code
  return typeof code === 'string' ? code : error.name
}
