// Dry runs (issue #8): msw handlers answer a load test's HTTP requests inside
// this process, and each scenario runs one VU for one iteration, so a scenario
// is checked in milliseconds without a server (docs/dry-run.md).
//
// msw's setupServer patches Node's http module and globalThis.fetch, which
// undici's Pool never goes through; so the HTTP client is handed a dispatcher
// that asks msw's getResponse() instead. msw is imported only when a dry run
// starts: it is a dev dependency of the project under test, not of chaperon.
import type { IncomingHttpHeaders } from 'node:http'
// Not the globals, so a test file's vi.useFakeTimers() cannot stop a request's timeout.
import { clearTimeout, setTimeout } from 'node:timers'
import { Dispatcher, errors } from 'undici'
import type { RequestHandler } from 'msw'
import { timerMs } from '../core/duration.ts'
import { ChaperonError } from '../core/errors.ts'
import type { LoadTestResult } from '../core/result.ts'
import { WHOLE } from '../core/segment.ts'
import type { Thresholds } from '../core/thresholds.ts'
import { expectInteger, expectKnownKeys, expectObject, invalid } from '../core/validate.ts'
import { activeMetrics } from './metrics/user-metrics.ts'
import type { HttpOptions, MockHandler } from './options.ts'
import { type ResolvedLoadTest, resolveLoadTestOptions } from './resolve-options.ts'
import { runLoadTest } from './run.ts'
import { isScenario, type Scenario } from './scenario.ts'

type Msw = typeof import('msw')

/** What `dryRun(scenario, options)` takes. */
export interface DryRunOptions {
  /** The msw request handlers that answer the scenario's HTTP requests, as `http.get('/products', resolver)` makes them. */
  handlers: readonly MockHandler[]
  /**
   * Where relative paths go, as in `loadTest()`. Nothing is sent there; a
   * handler with a relative path (`'/products'`) matches it on any origin.
   * @default 'http://dry-run.invalid'
   */
  baseUrl?: string
  /** What the scenario reads with `s.config` and `s.require()`, as `loadTest({ config })`. @default {} */
  config?: Record<string, unknown>
  /** Judged on the dry run as in `loadTest()`; a failing one sets the result's `status` to `'failed'`, it does not throw. @default {} */
  thresholds?: Thresholds
  /** Default headers, `timeout` and `auth` of every request, as `loadTest({ http })`. @default {} */
  http?: HttpOptions
  /** VUs that run the scenario at once. @default 1 */
  vus?: number
  /** Iterations each VU runs. @default 1 */
  iterations?: number
}

/** How many VUs, each running how many iterations, every scenario of a dry run gets. */
interface DryRunSize {
  vus: number
  iterations: number
}

/** The `baseUrl` of a `dryRun()` that gives none: a name that never resolves (RFC 2606), so nothing can reach a real host. */
const DRY_RUN_BASE_URL = 'http://dry-run.invalid'
const DRY_RUN_KEYS = ['handlers', 'baseUrl', 'config', 'thresholds', 'http', 'vus', 'iterations'] as const
const ONE: DryRunSize = Object.freeze({ vus: 1, iterations: 1 })
const HANDLERS_EXAMPLE = "an array of msw request handlers, such as [http.get('/products', () => HttpResponse.json([]))]"

// The error_codes of dry-run requests the handlers did not answer with a response (docs/http.md#errors).
/** No handler answered the request, or one answered `passthrough()`, which a dry run cannot follow. */
const MOCK_UNHANDLED = 'MOCK_UNHANDLED'
/** A handler answered `HttpResponse.error()`, msw's network error. */
const MOCK_NETWORK_ERROR = 'MOCK_NETWORK_ERROR'
/** A handler threw, or msw could not take the request. */
const MOCK_HANDLER_ERROR = 'MOCK_HANDLER_ERROR'

// Plans made here, which runLoadTest must not shrink again to one VU and one iteration.
const plans = new WeakSet<ResolvedLoadTest>()

/**
 * Runs `scenario` as a dry run and returns its result: msw `handlers` answer
 * every HTTP request and Server-Sent Events stream, none of them leaves the
 * process (WebSockets are not mocked), and one VU runs one
 * iteration unless `vus` and `iterations` say otherwise. The way to
 * unit-test a scenario (docs/dry-run.md).
 *
 * Like `loadTest()`, it throws a `ChaperonError` the scenario's code raised
 * (a bad request option, a missing config key), after the run. Failures are
 * data: failed requests are counted by `error_code`, errors thrown by
 * scenario code are in `result.errors`, and failing thresholds set
 * `result.status` to `'failed'`, so a test can assert on them either way:
 *
 * ```ts
 * const result = await dryRun(browse, { handlers: [http.get('/products', () => HttpResponse.json([{ id: 1 }]))] })
 * expect(result.errors).toEqual([])
 * expect(result.status).toBe('passed')
 * ```
 */
export async function dryRun(scenario: Scenario, options: DryRunOptions): Promise<LoadTestResult> {
  if (!isScenario(scenario)) throw invalid('dryRun() scenario', "a scenario made with scenario('name', async (s) => { … })", scenario)
  expectKnownKeys(expectObject(options, 'dryRun() options', "{ handlers: [http.get('/products', () => HttpResponse.json([]))] }"), DRY_RUN_KEYS, 'dryRun() options')
  if (!Array.isArray(options.handlers)) throw invalid('dryRun() handlers', HANDLERS_EXAMPLE, options.handlers)
  const size = { vus: expectInteger(options.vus ?? ONE.vus, 'dryRun() vus', 1, 2), iterations: expectInteger(options.iterations ?? ONE.iterations, 'dryRun() iterations', 1, 3) }
  const name = scenario.name
  let resolved: ResolvedLoadTest
  try {
    resolved = resolveLoadTestOptions(name, {
      baseUrl: options.baseUrl ?? DRY_RUN_BASE_URL,
      config: options.config,
      thresholds: options.thresholds,
      http: options.http,
      scenarios: { [name]: { scenario, executor: 'per-vu-iterations' } },
      mock: options.handlers,
      // A dry run is one whole run here: CHAPERON_SEGMENT and CHAPERON_START_AT do not apply.
    }, {})
  } catch (error) {
    // The checks word their messages for loadTest(); these options were given to dryRun().
    if (error instanceof ChaperonError) error.message = error.message.replaceAll(`loadTest("${name}") mock`, 'dryRun() handlers').replaceAll(`loadTest("${name}")`, 'dryRun()')
    throw error
  }
  const { result, misuse } = await runLoadTest(name, dryRunPlan(resolved, size))
  if (misuse !== undefined) throw misuse
  return result
}

/**
 * The plan of a dry run: every scenario `size.vus` VUs (default 1) running
 * `size.iterations` iterations each (default 1), all starting at once
 * (`startTime` is not waited for), in this thread, as one whole run (no
 * segment, no `CHAPERON_START_AT`). Scenario time limits, `gracefulStop`,
 * tags, config and thresholds are kept. A plan made here is returned as it is.
 */
export function dryRunPlan(lt: ResolvedLoadTest, size: DryRunSize = ONE): ResolvedLoadTest {
  if (plans.has(lt)) return lt
  const scenarios = lt.scenarios.map((s) => ({
    ...s,
    executor: 'per-vu-iterations' as const,
    vus: size.vus,
    iterations: size.iterations,
    sharedIterations: false,
    startTimeMs: 0,
    stripe: WHOLE,
    arrival: undefined,
    ramp: undefined,
  }))
  const plan: ResolvedLoadTest = { ...lt, scenarios, vusMax: scenarios.length * size.vus, workers: 1, segment: undefined, startAt: undefined }
  plans.add(plan)
  return plan
}

/**
 * An undici dispatcher that answers every request with msw `handlers`,
 * inside this process: no socket is opened. A handler with a relative path
 * matches on the request's origin. A request no handler answers fails with
 * `error_code` `MOCK_UNHANDLED`, `HttpResponse.error()` with
 * `MOCK_NETWORK_ERROR`, and a handler that throws with `MOCK_HANDLER_ERROR`;
 * the first and last are also listed in the result's `errors`, with the
 * method and URL, so the missing or broken handler can be found.
 * Throws `CHAPERON_DRY_RUN` when msw is not installed.
 */
export async function mockDispatcher(handlers: readonly MockHandler[]): Promise<Dispatcher> {
  // MockHandler is msw's RequestHandler as options.ts can name it without importing msw.
  return new MockDispatcher(await importMsw(), handlers as unknown as RequestHandler[])
}

async function importMsw(): Promise<Msw> {
  try {
    return await import('msw')
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'ERR_MODULE_NOT_FOUND') throw error
    throw new ChaperonError(
      'CHAPERON_DRY_RUN',
      "A dry run (loadTest({ mock }) or dryRun()) needs msw, which cannot be imported here. Install it next to chaperon: npm install --save-dev msw, and write the handlers with import { http, HttpResponse } from 'msw'.",
      { cause: error },
    )
  }
}

/** Hands each request to a {@link MockExchange} of its own. */
class MockDispatcher extends Dispatcher {
  readonly #msw: Msw
  readonly #handlers: RequestHandler[]

  constructor(msw: Msw, handlers: RequestHandler[]) {
    super()
    this.#msw = msw
    this.#handlers = handlers
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const exchange = new MockExchange(options, handler)
    handler.onRequestStart?.(exchange, {})
    void exchange.answer(this.#msw, this.#handlers)
    return true
  }
}

/** A failed mocked request; `code` becomes its `error_code`. */
class MockError extends Error {
  readonly code: string

  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'MockError'
    this.code = code
  }
}

/**
 * One request answered by msw, driving its undici handler as a connection
 * would: start, sent, response headers, body chunks, end; or one error. It is
 * also the handler's controller: `abort()` (a hard stop) and the request's
 * `headersTimeout` and `bodyTimeout` end it with an error, and abort the
 * `request.signal` the resolver sees.
 */
class MockExchange implements Dispatcher.DispatchController {
  /** The response headers as name, value, name, value: the handler counts their bytes. */
  rawHeaders: string[] | null = null
  readonly #options: Dispatcher.DispatchOptions
  readonly #handler: Dispatcher.DispatchHandler
  readonly #request = new AbortController()
  #reason: Error | null = null
  #done = false
  #timer: NodeJS.Timeout | undefined
  #body: ReadableStreamDefaultReader<Uint8Array> | undefined
  #paused: PromiseWithResolvers<void> | undefined

  constructor(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler) {
    this.#options = options
    this.#handler = handler
  }

  get aborted(): boolean {
    return this.#reason !== null
  }

  get paused(): boolean {
    return this.#paused !== undefined
  }

  get reason(): Error | null {
    return this.#reason
  }

  abort(reason: Error): void {
    if (this.#done) return
    this.#reason = reason
    this.#fail(reason)
  }

  pause(): void {
    this.#paused ??= Promise.withResolvers()
  }

  resume(): void {
    this.#paused?.resolve()
    this.#paused = undefined
  }

  /** Asks msw for the response and plays it to the handler. Never rejects: every failure reaches the handler. */
  async answer(msw: Msw, handlers: RequestHandler[]): Promise<void> {
    const { path, body } = this.#options
    const method = this.#options.method.toUpperCase()
    const origin = String(this.#options.origin)
    const url = `${origin}${path}`
    this.#arm(this.#options.headersTimeout, () => new errors.HeadersTimeoutError())
    let request: Request
    try {
      request = new Request(url, {
        method,
        // HttpClient sends a record of header strings, and a string or bytes as the body.
        headers: (this.#options.headers ?? undefined) as Record<string, string> | undefined,
        // fetch's Request cannot carry a GET or HEAD body, so a handler could not read one anyway. A string goes
        // as bytes: as a string, Request would add a content-type chaperon never sends.
        body: method === 'GET' || method === 'HEAD' || body == null ? null : typeof body === 'string' ? Buffer.from(body) : (body as Uint8Array),
        signal: this.#request.signal,
      })
    } catch (error) {
      // Fetch's Request refuses some requests HTTP allows (CONNECT, TRACE): msw cannot answer them.
      const message = `A dry run cannot hand ${method} ${url} to msw: ${error instanceof Error ? error.message : String(error)}`
      return this.#report(new MockError(MOCK_UNHANDLED, message, { cause: error }), undefined)
    }
    let response: Response | undefined
    try {
      this.#handler.onRequestSent?.()
      response = await msw.getResponse(handlers, request, { baseUrl: origin })
    } catch (error) {
      const thrown = error instanceof Error ? `${error.name}: ${error.message}`.replace(/\.$/, '') : String(error)
      const message = `The msw handlers failed on ${method} ${url}: ${thrown}. Fix the handler; to simulate a network error, return HttpResponse.error().`
      return this.#report(new MockError(MOCK_HANDLER_ERROR, message, { cause: error }), error instanceof Error ? error.stack : undefined)
    }
    if (this.#done) {
      // Answered after a timeout or abort: nobody reads the body, which must not go on producing.
      void response?.body?.cancel().catch(() => {})
      return
    }
    if (response === undefined) {
      const call = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'].includes(method) ? method.toLowerCase() : 'all'
      const example = `http.${call}('${new URL(url).pathname}', () => HttpResponse.json(…))`
      return this.#report(new MockError(MOCK_UNHANDLED, `No msw handler answered ${method} ${url}. Add one to the handlers, such as ${example}.`), undefined)
    }
    if (msw.isPassthroughResponse(response)) {
      const message = `The msw handler for ${method} ${url} answered passthrough(), but a dry run sends nothing over the network. Answer with a mocked response, such as HttpResponse.json(…).`
      return this.#report(new MockError(MOCK_UNHANDLED, message), undefined)
    }
    if (response.type === 'error') return this.#fail(new MockError(MOCK_NETWORK_ERROR, `The msw handler for ${method} ${url} answered HttpResponse.error().`))
    try {
      if (method === 'HEAD') void response.body?.cancel().catch(() => {})
      await this.#respond(response, method === 'HEAD' ? null : response.body)
    } catch (error) {
      this.#fail(new MockError(MOCK_NETWORK_ERROR, `The mocked body of ${method} ${url} failed: ${String(error)}`, { cause: error }))
    }
  }

  async #respond(response: Response, body: ReadableStream<Uint8Array> | null): Promise<void> {
    const headers: IncomingHttpHeaders = {}
    const raw: string[] = []
    // Names come lower-cased, and each Set-Cookie on its own, as undici gives them.
    for (const [name, value] of response.headers) {
      raw.push(name, value)
      if (name === 'set-cookie') (headers['set-cookie'] ??= []).push(value)
      else headers[name] = value
    }
    this.rawHeaders = raw
    this.#arm(this.#options.bodyTimeout, () => new errors.BodyTimeoutError())
    this.#handler.onResponseStart?.(this, response.status, headers, response.statusText)
    if (body !== null) {
      this.#body = body.getReader()
      for (let part = await this.#body.read(); !part.done && !this.#done; part = await this.#body.read()) {
        this.#arm(this.#options.bodyTimeout, () => new errors.BodyTimeoutError())
        const chunk = part.value
        this.#handler.onResponseData?.(this, Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength))
        if (this.#paused !== undefined) await this.#paused.promise
      }
    }
    if (this.#done) return
    this.#done = true
    clearTimeout(this.#timer)
    this.#handler.onResponseEnd?.(this, {})
  }

  /** Fails the exchange with `error` after `ms` (none when 0 or unset), replacing the previous timer. */
  #arm(ms: number | null | undefined, error: () => Error): void {
    clearTimeout(this.#timer)
    if (ms != null && ms > 0) this.#timer = setTimeout(() => this.#fail(error()), timerMs(ms))
  }

  /**
   * Fails the exchange and lists `error` in the run's errors, with `stack`:
   * a missing or broken handler is a bug in the test, which the summary names.
   */
  #report(error: MockError, stack: string | undefined): void {
    if (this.#done) return
    activeMetrics.getStore()?.recordError('mock', error.code, error.message, stack)
    this.#fail(error)
  }

  /** Ends the exchange with `error`, once, and stops the resolver and the body. */
  #fail(error: Error): void {
    if (this.#done) return
    this.#done = true
    clearTimeout(this.#timer)
    this.#request.abort(error)
    this.#paused?.resolve()
    void this.#body?.cancel(error).catch(() => {})
    this.#handler.onResponseError?.(this, error)
  }
}
