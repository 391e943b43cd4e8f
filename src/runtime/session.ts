import { performance } from 'node:perf_hooks'
import { setImmediate } from 'node:timers'
import { setTimeout as sleep } from 'node:timers/promises'
import { type Duration, parseDuration, timerMs } from '../core/duration.ts'
import { BUILTIN_METRICS } from '../core/builtin-metrics.ts'
import type { Redactor } from '../core/redact.ts'
import type { Stripe } from '../core/segment.ts'
import { ChaperonError, MissingConfigError } from '../core/errors.ts'
import { expectInteger, expectKnownKeys, expectObject, invalid } from '../core/validate.ts'
import type { HttpClient, RequestScope } from './http/client.ts'
import type { SessionCookies } from './http/cookies.ts'
import type { InflightRequests } from './http/inflight.ts'
import type { RequestOptions } from './http/request-options.ts'
import { Response } from './http/response.ts'
import type { ScenarioMetrics } from './metrics/scenario-metrics.ts'
import { metricInfo } from './metrics/user-metrics.ts'
import type { Scenario } from './scenario.ts'
import { awaitTasks, forkChild, runNested } from './session-lifecycle.ts'
import { type LogLevel, SessionLog } from './session-log.ts'
import { Mailbox, type SignalMatch } from './session-signals.ts'
import { sseSeries } from './sse/sse-metrics.ts'
import { checkSseOptions, type SseOptions } from './sse/sse-options.ts'
import { SseStream } from './sse/sse-stream.ts'
import { WsClient } from './ws/ws-client.ts'

/** What the sessions of one running scenario share. */
export interface ScenarioContext {
  /** The scenario's key in `loadTest({ scenarios })`. */
  readonly name: string
  readonly client: HttpClient
  /** The metrics of the scenario's own sessions, tagged `scenario: name`. */
  readonly metrics: ScenarioMetrics
  readonly config: Readonly<Record<string, unknown>>
  /** Aborted when the load test cuts the scenario off after its graceful stop. */
  readonly signal: AbortSignal
  readonly inflight: InflightRequests
  readonly baseUrl: URL | undefined
  /** Headers every WebSocket handshake and Server-Sent Events request sends: the HTTP client's defaults. */
  readonly wsHeaders: Readonly<Record<string, string>>
  /** `http.insecure`, for `wss://` handshakes and `https://` event streams. */
  readonly insecure: boolean
  readonly logLevel: LogLevel
  /** Takes secrets out of `s.log` lines. */
  readonly redactor: Redactor
  /** Which VU numbers this part of a split run gives out (see `ResolvedScenario.stripe`). */
  readonly vuSlots: Stripe
  /** The `iterationInTest` of the next iteration of an executor without a plan of slots. */
  nextIterationInTest(): number
  /**
   * True when VUs can be cut off one by one (under `ramping-vus`, or with an
   * `iterationTimeout`): their requests then stop waiting at once.
   */
  readonly interruptible: boolean
  /** The longest one iteration may run, if limited. */
  readonly iterationTimeoutMs?: number | undefined
  /** Metrics tagged with another scenario's name, for scenarios run nested with `s.run()`. */
  metricsFor(scenario: string): ScenarioMetrics
  /** Scenario code misused chaperon's API (a ChaperonError): a bug in the test, which fails it. */
  onMisuse(error: ChaperonError): void
}

/** A delay: milliseconds, a duration string such as `'250ms'`, or a uniform random range. */
export type DelayValue = Duration | { min: Duration; max: Duration }

/** Options of `s.await()`, `s.awaitAll()` and `s.awaitSignal()`. */
export interface WaitOptions {
  /** How long to wait before the wait is recorded as failed and given up. @default '10s' */
  timeout?: Duration
}

/** Options of `s.repeat()`. */
export interface RepeatOptions {
  /** Times each turn as `call_duration{name}` under this name. */
  traced?: string
}

/** Options of `s.retryOnError()`. */
export interface RetryOptions {
  /** Tries after the first. @default 3 */
  retries?: number
  /** The wait before each retry. @default 0 */
  delay?: DelayValue
}

/** Options of `s.spread()`. */
export interface SpreadOptions {
  /** Child sessions to start. */
  count: number
  /** The time over which they start, evenly spaced: one every `over / count`. */
  over: Duration
}

/** Thrown through a session's code by `s.abort()`, and by every action after it. */
export class SessionAborted extends Error {
  /** The id of the session that called `abort()`. */
  readonly sessionId: string

  constructor(sessionId: string, reason: string | undefined) {
    super(`session ${sessionId} aborted${reason === undefined ? '' : `: ${reason}`}`)
    this.name = 'SessionAborted'
    this.sessionId = sessionId
  }
}

/** Thrown through a child session's code when its parent stopped waiting for it. */
export class TaskCancelled extends Error {
  constructor(task: string) {
    super(`task "${task}" was cancelled after its await timed out`)
    this.name = 'TaskCancelled'
  }
}

/** Thrown through an iteration that outlived the scenario's `iterationTimeout`. */
export class IterationTimeout extends Error {
  constructor(ms: number) {
    super(`the iteration did not end within its iterationTimeout of ${ms}ms`)
    this.name = 'IterationTimeout'
  }
}

/** Thrown through a VU's code when `ramping-vus` takes the VU away and its `gracefulRampDown` has passed. */
export class RampedDown extends Error {
  constructor(vu: number) {
    super(`VU ${vu} was ramped down and did not finish its iteration within gracefulRampDown`)
    this.name = 'RampedDown'
  }
}

/** Default wait of `await`, `awaitAll`, `awaitSignal` and WebSocket receives: Chaperon's session timeout. */
export const DEFAULT_TIMEOUT_MS = 10_000

/** @internal A session's state that chaperon's own modules reach; not part of the API. */
export interface SessionInternals {
  readonly ctx: ScenarioContext
  readonly metrics: ScenarioMetrics
  /** Aborted by `s.abort()`, a cancelled task, or the parent's end; shared with nested runs. */
  readonly halt: AbortController
  readonly cookies: SessionCookies
  /** The session whose child this is, for signals. */
  readonly parent: Session | undefined
  /** Child tasks by name, oldest first; settled ones are removed when awaited. */
  readonly tasks: Map<string, ChildTask[]>
  readonly mailbox: Mailbox
  /** Shared with nested runs, so a scenario run with `s.run()` uses the same connections. */
  readonly shared: { ws: WsClient | undefined; abortSignal: AbortSignal | undefined; streams: Set<SseStream> }
  /** False for a nested run, whose WebSockets belong to the session that started it. */
  readonly ownsShared: boolean
  iteration: number
  iterationInTest: number
  children: number
  /** Set when the session has ended: its code returned and its tasks and WebSockets are done. */
  ended: boolean
}

/** @internal A forked child session and what it will resolve to. */
export interface ChildTask {
  readonly name: string
  readonly session: Session
  /** Resolves with what the task returned, or undefined when it failed; never rejects. */
  readonly promise: Promise<unknown>
}

/** @internal */
export const INTERNALS = Symbol('chaperon.session')
/** @internal */
export const LAG = Symbol('chaperon.lag')

/** @internal How a session is made: by executors, `s.async()` and `s.run()`. */
export interface SessionInit {
  id: string
  vu: number
  scenario: string
  metrics: ScenarioMetrics
  config: Readonly<Record<string, unknown>>
  cookies: SessionCookies
  parent?: Session | undefined
  halt?: AbortController | undefined
  shared?: SessionInternals['shared'] | undefined
  assigns?: Record<string, unknown> | undefined
}

/**
 * One virtual user's session: its identity, state, cookies, WebSockets and
 * child tasks, and every action it can take. Every action is measured. A VU
 * keeps its session, and so its `assigns` and cookies, across its iterations,
 * as a k6 VU keeps its variables; `s.abort()` ends it.
 */
export class Session {
  /** `<scenario>#<vu>` for a VU's session, `<parent id>/<task>:<n>` for a child task. */
  readonly id: string
  /** The VU number within its scenario, from 1. */
  readonly vu: number
  /** The id of the session that forked this one with `s.async()`. */
  readonly parentId: string | undefined
  /** The scenario running: the `scenarios` key, or a nested scenario's name inside `s.run()`. */
  readonly scenario: string
  /** Read-only configuration, deep-merged: load test, then scenario, then `scenarios` entry (and `s.run()`'s). */
  readonly config: Readonly<Record<string, unknown>>
  /** The session's own mutable state, kept across the VU's iterations; see `assign()`. */
  readonly assigns: Record<string, unknown>
  /** @internal */
  readonly [INTERNALS]: SessionInternals
  readonly #scope: RequestScope & { lagUs: number | undefined }
  /** Children and ramping-vus VUs can be halted from outside, so their requests race the halt. */
  readonly #raceHalt: boolean
  #log: SessionLog | undefined

  /** @internal Sessions are made by executors, `s.async()` and `s.run()`. */
  constructor(ctx: ScenarioContext, init: SessionInit) {
    this.id = init.id
    this.vu = init.vu
    this.parentId = init.parent?.id
    this.scenario = init.scenario
    this.config = init.config
    this.assigns = init.assigns ?? {}
    this[INTERNALS] = {
      ctx,
      metrics: init.metrics,
      halt: init.halt ?? new AbortController(),
      cookies: init.cookies,
      parent: init.parent,
      tasks: new Map(),
      mailbox: new Mailbox(),
      shared: init.shared ?? { ws: undefined, abortSignal: undefined, streams: new Set() },
      ownsShared: init.shared === undefined,
      iteration: 0,
      iterationInTest: 0,
      children: 0,
      ended: false,
    }
    // A VU that ramping-vus cuts off, or an iteration that outlives its iterationTimeout, is cut off
    // like a hard stop: its requests in flight are not recorded. Other halts let them finish.
    const signal = ctx.interruptible ? cutOffSignal(ctx.signal, this[INTERNALS].halt.signal) : ctx.signal
    this.#scope = { metrics: init.metrics, signal, inflight: ctx.inflight, cookies: init.cookies, lagUs: undefined }
    this.#raceHalt = init.parent !== undefined || ctx.interruptible
  }

  /** The number of the iteration this VU is running, from 0. */
  get iteration(): number {
    return this[INTERNALS].iteration
  }

  /**
   * The number of the running iteration within its scenario across the whole
   * run, from 0, unique across VUs, worker threads and the instances of a
   * split run (as k6's `exec.scenario.iterationInTest`). For an arrival-rate executor it is the
   * iteration's slot in the plan (a dropped iteration leaves its number out);
   * otherwise iterations are numbered in the order they start, the parts of
   * a split run taking their numbers from their own stripes.
   */
  get iterationInTest(): number {
    return this[INTERNALS].iterationInTest
  }

  /** @internal How late the running arrival-rate iteration started, in µs; see `RequestScope.lagUs`. */
  set [LAG](lagUs: number | undefined) {
    this.#scope.lagUs = lagUs
  }

  /** Aborted when the session ends early: `s.abort()`, a cancelled child task, or the load test cutting it off. */
  get abortSignal(): AbortSignal {
    const internals = this[INTERNALS]
    return (internals.shared.abortSignal ??= AbortSignal.any([internals.ctx.signal, internals.halt.signal]))
  }

  /** Logs prefixed with `<session id> [<parent id>] <scenario> |`. Only `warn` and `error` print unless `logLevel` or `CHAPERON_LOG_LEVEL` asks for more. */
  get log(): SessionLog {
    const parent = this.parentId === undefined ? '' : ` [${this.parentId}]`
    const { ctx } = this[INTERNALS]
    return (this.#log ??= new SessionLog(`${this.id}${parent} ${this.scenario} |`, ctx.logLevel, ctx.redactor))
  }

  /** The session's WebSocket connections: `await s.ws.connect('/chat')`. */
  get ws(): WsClient {
    const { ctx, metrics, shared, cookies } = this[INTERNALS]
    return (shared.ws ??= new WsClient({ baseUrl: ctx.baseUrl, signal: this.abortSignal, metrics, headers: ctx.wsHeaders, cookies, insecure: ctx.insecure }))
  }

  /**
   * A Server-Sent Events stream: iterate it with `for await`. It connects on
   * the first event asked for, reconnects as the HTML standard says (after the
   * server's `retry` time, sending `Last-Event-ID`), and ends when the loop
   * breaks, at `maxEvents` or `duration`, when the server answers 204, fails
   * the stream or its reconnections are spent, and when the session is cut off
   * (the loop then throws, as other actions do). Failures of the target are
   * recorded as errors, never thrown; `stream.error` says what ended it.
   * @example
   * for await (const event of s.sse('/prices', { maxEvents: 10, duration: '30s' })) {
   *   if (event.type === 'closing') break
   * }
   */
  sse(path: string, options?: SseOptions): SseStream {
    this.#check()
    const { ctx, metrics, cookies, shared } = this[INTERNALS]
    const checked = checkSseOptions(path, options, ctx.baseUrl)
    return new SseStream(checked, { headers: ctx.wsHeaders, insecure: ctx.insecure, cookies, metrics, series: sseSeries(metrics, checked.name), signal: this.abortSignal, dispatcher: ctx.client.dispatcher, version: ctx.client.version, open: shared.streams })
  }

  /** Merges `values` into `assigns`. */
  assign(values: Record<string, unknown>): this {
    Object.assign(this.assigns, values)
    return this
  }

  /**
   * The config value at a dotted path (`'db.url'`); throws `MissingConfigError`,
   * naming the key and the scenario, when it is not set.
   */
  require<T = unknown>(path: string): T {
    let value: unknown = this.config
    for (const part of path.split('.')) {
      value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[part] : undefined
    }
    if (value === undefined) throw new MissingConfigError(path, this.scenario)
    return value as T
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
    const halt = this[INTERNALS].halt.signal
    if (halt.aborted) return Promise.reject(halt.reason)
    const client = this[INTERNALS].ctx.client
    let sent: Promise<Response>
    try {
      sent = client.send(client.prepare(method, path, options), this.#scope)
    } catch (error) {
      // Bad options reject like any other failure of an awaited action.
      return Promise.reject(error)
    }
    // A child halted by its parent's abort or a timed-out await, or a VU ramped down past its
    // grace, stops waiting at once. The request runs on: a child's is recorded, as the target got
    // it; a ramped-down VU's is cut off like a hard stop's (its scope's signal aborts too).
    return this.#raceHalt ? untilHalted(sent, halt) : sent
  }

  /** Waits: `delay(250)`, `delay('1.5s')`, or a uniform random time `delay({ min: 50, max: 150 })`. */
  async delay(value: DelayValue): Promise<void> {
    const ms = delayMillis(value)
    const signal = this.abortSignal
    try {
      await sleep(ms, undefined, { signal })
    } catch (error) {
      throw signal.aborted ? signal.reason : error
    }
  }

  /**
   * Runs `fn` again and again until `duration` has passed, checked before each
   * turn, as Chaperon's `loop`. Resolves with the number of turns.
   */
  async loop(duration: Duration, fn: (turn: number) => unknown): Promise<number> {
    const end = performance.now() + parseDuration(duration, 'loop() duration')
    expectFunction(fn, 'loop(duration, fn)')
    let turn = 0
    while (performance.now() < end) {
      this.#check()
      await fn(turn++)
      if (turn % YIELD_EVERY === 0) await yieldToEventLoop()
    }
    return turn
  }

  /** Runs `fn` `n` times in turn; with `{ traced: name }` each turn is timed as `call_duration{name}`. */
  async repeat(n: number, fn: (turn: number) => unknown, options: RepeatOptions = {}): Promise<void> {
    expectInteger(n, 'repeat() count', 0, 5)
    expectFunction(fn, 'repeat(n, fn)')
    expectKnownKeys(expectObject(options, 'repeat() options', "{ traced: 'poll' }"), ['traced'], 'repeat() options')
    if (options.traced !== undefined && (typeof options.traced !== 'string' || options.traced === '')) throw invalid('repeat() traced', "a name such as 'poll'", options.traced)
    for (let turn = 0; turn < n; turn++) {
      this.#check()
      if (options.traced === undefined) await fn(turn)
      else await this.call(options.traced, () => fn(turn))
      if (turn % YIELD_EVERY === YIELD_EVERY - 1) await yieldToEventLoop()
    }
  }

  /**
   * Runs `fn`, and runs it again, up to `retries` more times after `delay`, when
   * it throws or resolves to a failed `Response`. The last failure is thrown
   * (or returned, for a response), as Chaperon's `retry_on_error`.
   */
  async retryOnError<T>(fn: () => T | Promise<T>, options: RetryOptions = {}): Promise<T> {
    expectFunction(fn, 'retryOnError(fn)')
    expectKnownKeys(expectObject(options, 'retryOnError() options', '{ retries: 3, delay: 100 }'), ['retries', 'delay'], 'retryOnError() options')
    const retries = expectInteger(options.retries ?? 3, 'retryOnError() retries', 0, 3)
    if (options.delay !== undefined) delayMillis(options.delay)
    for (let attempt = 0; ; attempt++) {
      this.#check()
      let failure: { error: unknown } | undefined
      let result: T | undefined
      try {
        result = await fn()
        if (!(result instanceof Response) || result.ok) return result
      } catch (error) {
        if (this.abortSignal.aborted || error instanceof ChaperonError) throw error
        failure = { error }
      }
      if (attempt >= retries) {
        if (failure !== undefined) throw failure.error
        return result as T
      }
      if (options.delay !== undefined) await this.delay(options.delay)
    }
  }

  /** Runs `fn` and times it as `call_duration{name}`; resolves with what `fn` returns. A throw is timed too, then rethrown. */
  async call<T>(name: string, fn: () => T | Promise<T>): Promise<T> {
    if (typeof name !== 'string' || name === '') throw invalid('call() name', "a name such as 'render'", name)
    expectFunction(fn, `call('${name}', fn)`)
    this.#check()
    const started = performance.now()
    try {
      return await fn()
    } finally {
      this[INTERNALS].metrics.recordCall(name, (performance.now() - started) * 1000)
    }
  }

  /**
   * Records `value` into the custom metric `name`, as Chaperon's `add_metric`:
   * into the metric declared with that name (`new Trend(name)` and the like),
   * or else into a time trend in milliseconds.
   */
  addMetric(name: string, value: number, tags?: Record<string, string>): void {
    if (typeof name !== 'string' || name === '') throw invalid('addMetric() name', "a metric name such as 'render_time'", name)
    if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(`addMetric('${name}') value`, 'a finite number', value)
    if (BUILTIN_METRICS[name] !== undefined) throw new ChaperonError('CHAPERON_METRIC_CONFLICT', `addMetric('${name}') would write into a built-in metric; give your metric another name, such as "my_${name}".`)
    const info = metricInfo(name)
    this[INTERNALS].metrics.recordCustom(name, info?.type ?? 'trend', value, tags)
  }

  /**
   * Ends the session: this and every later action throw `SessionAborted`, the
   * session's teardown is skipped, and the abort is counted in `session_aborts`.
   * The VU goes on with a new session in its next iteration.
   */
  abort(reason?: string): never {
    const halt = this[INTERNALS].halt
    if (!halt.signal.aborted) halt.abort(new SessionAborted(this.id, reason))
    throw halt.signal.reason
  }

  /**
   * Forks a child session that runs `fn` alongside this one. The child has its
   * own id and this session's id as its parent, shares the cookie jar and
   * config, and starts with a copy of `assigns`. Its metrics count in the run.
   * Tasks of one name form a list; `await(name)` takes the oldest.
   */
  async<T>(name: string, fn: (child: Session) => T | Promise<T>): this {
    this.#check()
    forkChild(this, name, 0, fn)
    return this
  }

  /**
   * Waits for the oldest unawaited task named `name` and resolves with what it
   * returned. A task that threw, or did not finish within the timeout, resolves
   * undefined and is recorded as a failed action (`TASK_TIMEOUT` for the latter).
   */
  async await(name: string, options: WaitOptions = {}): Promise<unknown> {
    this.#check()
    const [value] = await awaitTasks(this, name, 'first', timeoutMs(options, `await('${name}')`))
    return value
  }

  /** Waits for every unawaited task named `name`; resolves with their results in the order they were forked. */
  async awaitAll(name: string, options: WaitOptions = {}): Promise<unknown[]> {
    this.#check()
    return awaitTasks(this, name, 'all', timeoutMs(options, `awaitAll('${name}')`))
  }

  /**
   * Starts `count` child tasks named `name`, evenly spaced over `over`, without
   * waiting for them (Chaperon's `cc_spread`, which blocked; this does not).
   * Await them with `awaitAll(name)`, or let the end of `run` do it.
   */
  spread<T>(name: string, options: SpreadOptions, fn: (child: Session) => T | Promise<T>): this {
    this.#check()
    expectKnownKeys(expectObject(options, `spread('${name}') options`, "{ count: 10, over: '5s' }"), ['count', 'over'], `spread('${name}') options`)
    const count = expectInteger(options.count, `spread('${name}') count`, 1, 10)
    const overMs = parseDuration(options.over, `spread('${name}') over`)
    for (let i = 0; i < count; i++) forkChild(this, name, (i * overMs) / count, fn)
    return this
  }

  /** Sends `value` to every running child task named `task`; returns how many received it. */
  signal(task: string, value: unknown): number {
    this.#check()
    let delivered = 0
    for (const t of this[INTERNALS].tasks.get(task) ?? []) {
      if (t.session[INTERNALS].ended) continue
      t.session[INTERNALS].mailbox.deliver(value)
      delivered++
    }
    return delivered
  }

  /** Sends `value` to the session that forked this one. */
  signalParent(value: unknown): void {
    this.#check()
    const parent = this[INTERNALS].parent
    if (parent === undefined) {
      throw new ChaperonError('CHAPERON_NO_PARENT', `signalParent() was called in session ${this.id}, which is not a child task. Call it inside s.async(name, (child) => child.signalParent(value)).`)
    }
    parent[INTERNALS].mailbox.deliver(value)
  }

  /**
   * Waits for a signal sent to this session that equals `match` (deeply), or
   * for which `match(value)` is truthy, or any signal when `match` is left
   * out. Resolves with the signal's value; after the timeout it resolves
   * undefined and records a failed action (`SIGNAL_TIMEOUT`).
   */
  async awaitSignal(match?: SignalMatch, options: WaitOptions = {}): Promise<unknown> {
    this.#check()
    const ms = timeoutMs(options, 'awaitSignal()')
    const got = await this[INTERNALS].mailbox.take(match, ms, this.abortSignal)
    if (got !== undefined) return got.value
    this[INTERNALS].metrics.recordError('awaitSignal', 'SIGNAL_TIMEOUT', `no matching signal arrived within ${ms}ms`)
    return undefined
  }

  /**
   * Runs `other` (its init, run and teardown) nested in this session, with
   * `config` deep-merged over this session's config. It shares this session's
   * cookies and WebSockets, starts with empty `assigns`, and tags its metrics
   * with its own `scenario` name. Resolves with its `assigns`.
   */
  async run(other: Scenario, config?: Record<string, unknown>): Promise<Record<string, unknown>> {
    this.#check()
    return runNested(this, other, config)
  }

  #check(): void {
    const halt = this[INTERNALS].halt.signal
    if (halt.aborted) throw halt.reason
  }
}

// A loop whose turns never wait on I/O would otherwise starve timers and sockets, the hard stop's included.
const YIELD_EVERY = 64

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

function expectFunction(fn: unknown, where: string): void {
  if (typeof fn !== 'function') throw invalid(where, 'a function', fn)
}

/**
 * True for a halt that cuts a session off, as a hard stop does: its VU ramped
 * down, or its iteration timed out. Requests in flight are then cancelled and
 * child tasks that ignore it left behind; other halts let both finish.
 */
export function isCutOff(reason: unknown): boolean {
  return reason instanceof RampedDown || reason instanceof IterationTimeout
}

/** Aborted with the load test's stop, or with a halt that cuts the session off. */
function cutOffSignal(stop: AbortSignal, halt: AbortSignal): AbortSignal {
  const cut = new AbortController()
  halt.addEventListener(
    'abort',
    () => {
      if (isCutOff(halt.reason)) cut.abort(halt.reason)
    },
    { once: true },
  )
  return AbortSignal.any([stop, cut.signal])
}

function untilHalted<T>(promise: Promise<T>, halt: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    const onHalt = (): void => reject(halt.reason)
    halt.addEventListener('abort', onHalt, { once: true })
    promise.then(
      (value) => {
        halt.removeEventListener('abort', onHalt)
        resolve(value)
      },
      (error: unknown) => {
        halt.removeEventListener('abort', onHalt)
        reject(error)
      },
    )
  })
}

function timeoutMs(options: WaitOptions, where: string): number {
  expectKnownKeys(expectObject(options, `${where} options`, "{ timeout: '30s' }"), ['timeout'], `${where} options`)
  return options.timeout === undefined ? DEFAULT_TIMEOUT_MS : timerMs(parseDuration(options.timeout, `${where} timeout`))
}

function delayMillis(value: DelayValue): number {
  if (typeof value === 'object' && value !== null) {
    expectKnownKeys(expectObject(value, 'delay()', '{ min: 50, max: 150 }'), ['min', 'max'], 'delay()')
    const min = parseDuration(value.min, 'delay({ min })')
    const max = parseDuration(value.max, 'delay({ max })')
    if (max < min) throw new ChaperonError('CHAPERON_INVALID_OPTION', `delay({ min, max }) needs min ≤ max; got min ${min}ms and max ${max}ms.`)
    return timerMs(min + Math.random() * (max - min))
  }
  return timerMs(parseDuration(value, 'delay()'))
}
