import { performance } from 'node:perf_hooks'
import { clearTimeout, setTimeout } from 'node:timers'
import { isDeepStrictEqual } from 'node:util'
import type { ScenarioMetrics } from '../metrics/scenario-metrics.ts'
import { MessageQueue } from './message-queue.ts'
import type { WsMessage } from './ws-connection.ts'
import type { WsSeries } from './ws-metrics.ts'
import { NOT_JSON, parseJson, type WaitOptions, waitOptions } from './ws-wait.ts'

type Action = 'ws.recv' | 'ws.awaitRecv'

/** A pending receive, linked into its inbox's list. */
interface Waiter {
  action: Action
  /** Undefined: any message will do. */
  match: ((value: unknown) => unknown) | undefined
  json: boolean
  /** performance.now() when it began to wait for a frame. */
  startedAt: number
  timeoutMs: number
  resolve: (value: unknown) => void
  reject: (reason: unknown) => void
  prev: Waiter | undefined
  next: Waiter | undefined
}

/** What a message is to a receive: its value, not wanted (`SKIP`), or not JSON (`BAD`, recorded). */
const SKIP = Symbol('skip')
const BAD = Symbol('bad')
const NOOP = (): void => {}

// One shared executor instead of a closure per receive: a pending receive allocates its promise and little else.
let filling: Waiter | undefined
function takeResolvers(resolve: (value: unknown) => void, reject: (reason: unknown) => void): void {
  filling!.resolve = resolve
  filling!.reject = reject
}

/**
 * The receiving side of one connection: messages queue in arrival order and
 * receives take them, or wait for them, oldest receive first. Under load every
 * message passes through here, so it is built not to allocate: the waiting
 * receives form an intrusive list, one timer serves them all and is re-armed
 * only when it fires, and a settled waiter is reused for the next receive.
 */
export class Inbox {
  readonly #name: string
  readonly #metrics: ScenarioMetrics
  readonly #series: WsSeries
  readonly #queue = new MessageQueue<WsMessage>()
  #head: Waiter | undefined
  #tail: Waiter | undefined
  #spare: Waiter | undefined
  #timer: NodeJS.Timeout | undefined
  #timerDue = 0

  constructor(name: string, metrics: ScenarioMetrics, series: WsSeries) {
    this.#name = name
    this.#metrics = metrics
    this.#series = series
  }

  /**
   * A receive: settled from the queue at once, else when a wanted message
   * arrives or the timeout passes. Undefined when it would have to wait on a
   * connection that is not open: the caller decides what that means.
   */
  wait(action: Action, match: unknown, options: WaitOptions | undefined, open: boolean): Promise<unknown> | undefined {
    let timeoutMs: number
    let json: boolean
    let test: Waiter['match']
    try {
      ;({ timeoutMs, json } = waitOptions(options, action))
      test = predicate(match, json)
      for (let message = this.#queue.shift(); message !== undefined; message = this.#queue.shift()) {
        const value = this.#accept(action, test, json, message)
        if (value === SKIP) continue
        if (value === BAD) return Promise.resolve(undefined)
        this.#series.recvDone(0)
        return Promise.resolve(value)
      }
    } catch (error) {
      return Promise.reject(error)
    }
    if (!open) return undefined
    const waiter = this.#spare ?? { action, match: test, json, startedAt: 0, timeoutMs, resolve: NOOP, reject: NOOP, prev: undefined, next: undefined }
    this.#spare = undefined
    waiter.action = action
    waiter.match = test
    waiter.json = json
    waiter.timeoutMs = timeoutMs
    waiter.startedAt = performance.now()
    filling = waiter
    const promise = new Promise(takeResolvers)
    filling = undefined
    this.#push(waiter)
    this.#arm(waiter.startedAt + timeoutMs)
    return promise
  }

  /** A message arrived: to the oldest receive that wants it, else into the queue. */
  deliver(message: WsMessage): void {
    if (this.#head === undefined) {
      this.#queue.push(message)
      return
    }
    const now = performance.now()
    // A message that no waiting receive wants has been looked at by an awaitRecv and is dropped.
    for (let waiter: Waiter | undefined = this.#head; waiter !== undefined; waiter = waiter.next) {
      let value: unknown
      try {
        value = this.#accept(waiter.action, waiter.match, waiter.json, message)
      } catch (error) {
        this.#remove(waiter)
        waiter.reject(error)
        return
      }
      if (value === SKIP) continue
      this.#remove(waiter)
      if (value === BAD) waiter.resolve(undefined)
      else {
        this.#series.recvDone((now - waiter.startedAt) * 1000)
        waiter.resolve(value)
      }
      this.#recycle(waiter)
      return
    }
  }

  /** The connection closed: every waiting receive resolves `undefined`, after `onEach(action)`. */
  closeAll(onEach: (action: Action) => void): void {
    clearTimeout(this.#timer)
    for (let waiter = this.#head; waiter !== undefined; waiter = waiter.next) {
      onEach(waiter.action)
      waiter.resolve(undefined)
    }
    this.#head = this.#tail = undefined
  }

  /** The session was cut off: every waiting receive rejects with `reason`. */
  abortAll(reason: unknown): void {
    clearTimeout(this.#timer)
    for (let waiter = this.#head; waiter !== undefined; waiter = waiter.next) waiter.reject(reason)
    this.#head = this.#tail = undefined
  }

  #accept(action: Action, test: Waiter['match'], json: boolean, message: WsMessage): unknown {
    let value: unknown = message
    if (json) {
      value = parseJson(message)
      if (value === NOT_JSON) {
        if (test !== undefined) return SKIP
        this.#metrics.recordError(action, 'WS_INVALID_JSON', `a message on ${this.#name} is not JSON: ${preview(message)}`)
        return BAD
      }
    }
    if (test !== undefined && !test(value)) return SKIP
    return value
  }

  #arm(deadline: number): void {
    if (this.#timer !== undefined && this.#timerDue <= deadline) return
    clearTimeout(this.#timer)
    this.#timerDue = deadline
    this.#timer = setTimeout(this.#expire, Math.max(1, Math.ceil(deadline - performance.now())))
  }

  /** The timer fired: receives past their deadline resolve `undefined`; the timer moves on to the next deadline. */
  readonly #expire = (): void => {
    this.#timer = undefined
    const now = performance.now()
    let next = Number.POSITIVE_INFINITY
    for (let waiter: Waiter | undefined = this.#head; waiter !== undefined; ) {
      const following = waiter.next
      const deadline = waiter.startedAt + waiter.timeoutMs
      if (deadline > now) next = Math.min(next, deadline)
      else {
        this.#remove(waiter)
        const what = waiter.match === undefined ? 'no message' : 'no matching message'
        this.#metrics.recordError(waiter.action, 'WS_RECV_TIMEOUT', `${what} arrived on ${this.#name} within ${waiter.timeoutMs}ms`)
        waiter.resolve(undefined)
        this.#recycle(waiter)
      }
      waiter = following
    }
    if (next !== Number.POSITIVE_INFINITY) this.#arm(next)
  }

  #push(waiter: Waiter): void {
    waiter.prev = this.#tail
    waiter.next = undefined
    if (this.#tail === undefined) this.#head = waiter
    else this.#tail.next = waiter
    this.#tail = waiter
  }

  #remove(waiter: Waiter): void {
    if (waiter.prev === undefined) this.#head = waiter.next
    else waiter.prev.next = waiter.next
    if (waiter.next === undefined) this.#tail = waiter.prev
    else waiter.next.prev = waiter.prev
  }

  /** Keeps a settled waiter for the next receive; its old promise no longer listens to it. */
  #recycle(waiter: Waiter): void {
    waiter.resolve = waiter.reject = NOOP
    waiter.match = undefined
    waiter.prev = waiter.next = undefined
    this.#spare = waiter
  }
}

function predicate(match: unknown, json: boolean): Waiter['match'] {
  if (match === undefined || typeof match === 'function') return match as Waiter['match']
  if (json) return (value) => isDeepStrictEqual(value, match)
  return (message) => message === match
}

function preview(message: WsMessage): string {
  const text = typeof message === 'string' ? message : `<${message.length} bytes>`
  return text.length > 60 ? `${text.slice(0, 60)}…` : text
}
