import { performance } from 'node:perf_hooks'
import { clearTimeout, setTimeout } from 'node:timers'
import { deepFreeze, deepMerge, plainData } from '../core/config.ts'
import { timerMs } from '../core/duration.ts'
import { ChaperonError } from '../core/errors.ts'
import { slotAt } from '../core/segment.ts'
import { expectObject, invalid } from '../core/validate.ts'
import { SessionCookies } from './http/cookies.ts'
import { errorCodeOf } from './metrics/error-log.ts'
import { activeMetrics } from './metrics/user-metrics.ts'
import { isScenario, type Scenario } from './scenario.ts'
import { type ChildTask, DEFAULT_TIMEOUT_MS, INTERNALS, isCutOff, IterationTimeout, LAG, RampedDown, type ScenarioContext, Session, SessionAborted, TaskCancelled } from './session.ts'

/** How scenario code that threw is taken: the load test cut it off, it aborted, it was halted or timed out, or it failed. */
type Outcome = 'stopped' | 'aborted' | 'halted' | 'timeout' | 'error'

/**
 * Records what a session's code threw: errors count under `errors{action,
 * error_code}` and in the run's error list, an own `abort()` in
 * `session_aborts`; a hard stop or a halt passed down from a parent is silent.
 */
function settleThrown(s: Session, error: unknown, action: string): Outcome {
  const { ctx, metrics } = s[INTERNALS]
  if (ctx.signal.aborted) return 'stopped'
  if (error instanceof SessionAborted) {
    if (error.sessionId !== s.id) return 'halted'
    metrics.recordAbort()
    return 'aborted'
  }
  // Stopped from outside: a timed-out await cancelled it, or its VU was ramped down.
  if (error instanceof TaskCancelled || error instanceof RampedDown) return 'halted'
  if (error instanceof IterationTimeout) {
    // Counted once, by the iteration; its child tasks end with it silently.
    if (s[INTERNALS].parent !== undefined) return 'halted'
    metrics.recordError(action, 'ITERATION_TIMEOUT', `IterationTimeout: ${error.message}`, undefined)
    return 'timeout'
  }
  if (error instanceof ChaperonError) ctx.onMisuse(error)
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
  metrics.recordError(action, errorCodeOf(error), message, error instanceof Error ? error.stack : undefined)
  // A feeder with no row to give (used up, or its file unusable) gives none to the next iteration either: the VU stops.
  if (error instanceof ChaperonError && error.code === 'CHAPERON_FEEDER') return 'stopped'
  return 'error'
}

/** Forks a child task of `parent` that starts after `startDelayMs` and runs `fn`. */
export function forkChild<T>(parent: Session, name: string, startDelayMs: number, fn: (child: Session) => T | Promise<T>): void {
  if (typeof name !== 'string' || name === '') throw invalid('A task name', "a name such as 'poll'", name)
  if (typeof fn !== 'function') throw invalid(`async('${name}') fn`, 'a function (child) => { … }', fn)
  const p = parent[INTERNALS]
  const child = new Session(p.ctx, {
    id: `${parent.id}/${name}:${++p.children}`,
    vu: parent.vu,
    scenario: parent.scenario,
    metrics: p.metrics,
    config: parent.config,
    cookies: p.cookies,
    parent,
    assigns: { ...parent.assigns },
  })
  const c = child[INTERNALS]
  c.iteration = p.iteration
  c.iterationInTest = p.iterationInTest
  // A child ends with its parent.
  const onParentHalt = (): void => c.halt.abort(p.halt.signal.reason)
  p.halt.signal.addEventListener('abort', onParentHalt, { once: true })
  const promise = (async () => {
    try {
      if (startDelayMs > 0) await child.delay(startDelayMs)
      const value = await fn(child)
      // An abort the child caught still ends it, as it does a VU's session.
      if (c.halt.signal.aborted) throw c.halt.signal.reason
      return value
    } catch (error) {
      settleThrown(child, error, 'async')
      return undefined
    } finally {
      await endSession(child)
      p.halt.signal.removeEventListener('abort', onParentHalt)
    }
  })()
  const task: ChildTask = { name, session: child, promise }
  const list = p.tasks.get(name)
  if (list === undefined) p.tasks.set(name, [task])
  else list.push(task)
}

const TIMED_OUT = Symbol('timed out')

/**
 * Takes the oldest (`first`) or every (`all`) unawaited task named `name` and
 * waits for them together, at most `timeoutMs`. A task still running then is
 * cancelled and recorded as `TASK_TIMEOUT`; it resolves undefined.
 */
export async function awaitTasks(s: Session, name: string, which: 'first' | 'all', timeoutMs: number): Promise<unknown[]> {
  const { tasks, metrics } = s[INTERNALS]
  const list = tasks.get(name)
  if (list === undefined) {
    const known = [...tasks.keys()].map((k) => `"${k}"`).join(', ')
    throw new ChaperonError(
      'CHAPERON_UNKNOWN_TASK',
      `Session ${s.id} has no unawaited task named "${name}"${known === '' ? '' : ` (it has ${known})`}. Fork one first with s.async('${name}', fn) or s.spread('${name}', { count, over }, fn); each task is awaited once.`,
    )
  }
  const taken = which === 'first' ? list.splice(0, 1) : list.splice(0)
  if (list.length === 0) tasks.delete(name)
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(resolve, timeoutMs, TIMED_OUT)
  })
  try {
    const results = await Promise.all(taken.map((t) => Promise.race([t.promise, deadline])))
    return results.map((result, i) => {
      if (result !== TIMED_OUT) return result
      const task = taken[i]!
      task.session[INTERNALS].halt.abort(new TaskCancelled(task.name))
      metrics.recordError('await', 'TASK_TIMEOUT', `task "${task.name}" did not finish within ${timeoutMs}ms`)
      return undefined
    })
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Waits for an iteration's `running` code, at most `ms`: then the session is
 * halted, which cancels its requests in flight, and `IterationTimeout` is
 * thrown. Code that ignores the halt is left behind, its outcome ignored.
 */
async function within(s: Session, running: void | Promise<void>, ms: number): Promise<void> {
  const settled = Promise.resolve(running)
  // Left behind after a timeout, it may still reject; that is no longer anyone's error.
  settled.catch(() => {})
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new IterationTimeout(ms)
      s[INTERNALS].halt.abort(error)
      reject(error)
    }, timerMs(ms))
  })
  try {
    await Promise.race([settled, expired])
  } finally {
    clearTimeout(timer)
  }
}

/** Waits for every child task still unawaited, as Chaperon does when a session's run ends. */
async function awaitPending(s: Session): Promise<void> {
  const { tasks } = s[INTERNALS]
  while (tasks.size > 0) await Promise.all([...tasks.keys()].map((name) => awaitTasks(s, name, 'all', DEFAULT_TIMEOUT_MS)))
}

/** Ends a session: its pending tasks are awaited, and its WebSockets and Server-Sent Events streams closed. */
async function endSession(s: Session): Promise<void> {
  const internals = s[INTERNALS]
  // A session cut off (ramped down, timed out) has passed the cut on to its tasks; one that
  // ignores it is left behind, as the iteration was, rather than awaited for the await timeout.
  if (isCutOff(internals.halt.signal.reason)) internals.tasks.clear()
  else await awaitPending(s)
  if (internals.ownsShared) await Promise.all([internals.shared.ws?.end(), ...[...internals.shared.streams].map((stream) => stream.close())])
  internals.ended = true
}

/** `parent.run(other, config)`: runs `other` nested, sharing the parent's cookies, WebSockets and abort. */
export async function runNested(parent: Session, other: Scenario, config: Record<string, unknown> | undefined): Promise<Record<string, unknown>> {
  if (!isScenario(other)) throw invalid('s.run() scenario', "a scenario made with scenario('name', async (s) => { … })", other)
  const over = config === undefined ? {} : expectObject(config, `s.run('${other.name}') config`, '{ userId: 7 }')
  const p = parent[INTERNALS]
  const nested = new Session(p.ctx, {
    id: parent.id,
    vu: parent.vu,
    scenario: other.name,
    metrics: p.ctx.metricsFor(other.name),
    // Only the caller's config is copied: the rest is already the run's own frozen data.
    config: deepFreeze(deepMerge(deepMerge(parent.config, other.config), config === undefined ? {} : plainData(over, `s.run('${other.name}') config`))),
    cookies: p.cookies,
    parent: p.parent,
    halt: p.halt,
    shared: p.shared,
  })
  nested[INTERNALS].iteration = p.iteration
  nested[INTERNALS].iterationInTest = p.iterationInTest
  return activeMetrics.run(nested[INTERNALS].metrics, async () => {
    try {
      await other.init?.(nested)
      await other.run(nested)
      await awaitPending(nested)
      await other.teardown?.(nested)
    } finally {
      // Tasks forked by a step that threw, or by teardown, end with the nested run too.
      await awaitPending(nested)
    }
    return nested.assigns
  })
}

/**
 * One VU of a scenario: runs its session's `init` before the first iteration,
 * one `run` per iteration (awaiting the children it leaves running), and
 * `teardown` at the end. A session that aborts is replaced by a new one, with
 * a fresh cookie jar and `assigns`, at the next iteration.
 */
export class VirtualUser {
  readonly #ctx: ScenarioContext
  readonly #scenario: Scenario
  readonly #vu: number
  #session: Session | undefined

  constructor(ctx: ScenarioContext, scenario: Scenario, vu: number) {
    this.#ctx = ctx
    this.#scenario = scenario
    this.#vu = slotAt(ctx.vuSlots, vu - 1) + 1
  }

  /**
   * Runs one iteration; false once the load test has cut the scenario off.
   * `plannedAt` (a `performance.now()` time) is when an arrival-rate executor
   * meant it to start, and `slot` its place in the plan: latency is then also
   * recorded from there.
   */
  async iterate(iteration: number, plannedAt?: number, slot?: number): Promise<boolean> {
    const ctx = this.#ctx
    let s = this.#session
    if (s === undefined) {
      s = this.#session = new Session(ctx, { id: `${ctx.name}#${this.#vu}`, vu: this.#vu, scenario: ctx.name, metrics: ctx.metrics, config: ctx.config, cookies: new SessionCookies() })
      s[INTERNALS].iteration = iteration
      if (this.#scenario.init !== undefined) {
        try {
          await this.#scenario.init(s)
        } catch (error) {
          const outcome = settleThrown(s, error, 'init')
          await this.#drop()
          return outcome !== 'stopped'
        }
      }
    }
    const internals = s[INTERNALS]
    internals.iteration = iteration
    internals.iterationInTest = slot ?? ctx.nextIterationInTest()
    const started = performance.now()
    if (plannedAt !== undefined) s[LAG] = Math.max(0, started - plannedAt) * 1000
    let outcome: Outcome | undefined
    try {
      const timeoutMs = ctx.iterationTimeoutMs
      if (timeoutMs === undefined) await this.#scenario.run(s)
      else await within(s, this.#scenario.run(s), timeoutMs)
    } catch (error) {
      outcome = settleThrown(s, error, 'iteration')
    }
    // An abort the scenario caught still ends the session.
    const halt = internals.halt.signal
    if (outcome === undefined && halt.aborted) outcome = settleThrown(s, halt.reason, 'iteration')
    if (outcome === 'stopped') return false
    if (outcome === 'halted' || outcome === 'timeout') {
      // Ramped down past its grace or timed out: the iteration is cut off, not counted, and the
      // session ends. A timed-out VU goes on with a new session; a ramped-down one stops.
      await this.#drop()
      return outcome === 'timeout'
    }
    if (internals.tasks.size > 0) await awaitPending(s)
    // Signals nobody waited for by the end of the iteration would pile up for the session's life.
    internals.mailbox.clear()
    if (ctx.signal.aborted) return false
    const ended = performance.now()
    ctx.metrics.recordIteration((ended - started) * 1000, plannedAt === undefined ? undefined : (ended - Math.min(started, plannedAt)) * 1000)
    if (outcome === 'aborted') await this.#drop()
    return true
  }

  /** Cuts off the running iteration, as `ramping-vus` does to a VU still busy after its `gracefulRampDown`. */
  interrupt(): void {
    const halt = this.#session?.[INTERNALS].halt
    if (halt !== undefined && !halt.signal.aborted) halt.abort(new RampedDown(this.#vu))
  }

  /** Runs the session's teardown, unless it was cut off, and ends it. */
  async end(): Promise<void> {
    const s = this.#session
    if (s === undefined) return
    const teardown = this.#scenario.teardown
    if (teardown !== undefined && !s.abortSignal.aborted) {
      try {
        await teardown(s)
      } catch (error) {
        settleThrown(s, error, 'teardown')
      }
    }
    await this.#drop()
  }

  async #drop(): Promise<void> {
    const s = this.#session
    this.#session = undefined
    if (s !== undefined) await endSession(s)
  }
}
