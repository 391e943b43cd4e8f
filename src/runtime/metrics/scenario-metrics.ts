import type { MetricType, Tags } from '../../core/result.ts'
import { statusErrorCode } from '../http/error-codes.ts'
import type { ErrorLog } from './error-log.ts'
import { type MetricsRegistry, normalizeTags, recordTrend, setGauge } from './registry.ts'

/** The series one HTTP request outcome records into, found once per tag set. */
export interface HttpSeries {
  tags: Tags
  /** Made on first use: only arrival-rate executors correct latency. */
  corrected: ReturnType<MetricsRegistry['trend']> | undefined
  reqs: ReturnType<MetricsRegistry['counter']>
  duration: ReturnType<MetricsRegistry['trend']>
  waiting: ReturnType<MetricsRegistry['trend']>
  receiving: ReturnType<MetricsRegistry['trend']>
  failed: ReturnType<MetricsRegistry['rate']>
  sent: ReturnType<MetricsRegistry['counter']>
  received: ReturnType<MetricsRegistry['counter']>
}

/**
 * The protocol a response came over, as k6 names it: the `proto` tag of the
 * `http_*` series. A request that got no response has none.
 */
export type HttpProto = 'HTTP/1.1' | 'HTTP/2.0'

/** What identifies a request's series besides its outcome. */
export interface RequestIdentity {
  name: string
  method: string
  /** The request's own extra tags. */
  tags: Record<string, string> | undefined
}

/**
 * The metrics of one scenario: the registry plus the scenario's tags, with the
 * per-tag-set series cached so a request costs a few map lookups and no allocation.
 */
export class ScenarioMetrics {
  readonly registry: MetricsRegistry
  readonly tags: Tags
  // name → method → (status·2+failed)·3+proto: strings the caller reuses hash once, so this is three cheap lookups.
  readonly #http = new Map<string, Map<string, Map<number, HttpSeries>>>()
  // Requests with an error code or their own tags, keyed in full.
  readonly #httpOther = new Map<string, HttpSeries>()
  readonly #checks = new Map<string, ReturnType<MetricsRegistry['rate']>>()
  readonly #errors = new Map<string, ReturnType<MetricsRegistry['counter']>>()
  readonly #errorLog: ErrorLog
  readonly #calls = new Map<string, ReturnType<MetricsRegistry['trend']>>()
  readonly #custom = new Map<string, ReturnType<MetricsRegistry[MetricType]>>()
  #iterationCorrected: ReturnType<MetricsRegistry['trend']> | undefined
  #dropped: ReturnType<MetricsRegistry['counter']> | undefined
  readonly iterations: ReturnType<MetricsRegistry['counter']>
  readonly iterationDuration: ReturnType<MetricsRegistry['trend']>

  constructor(registry: MetricsRegistry, tags: Tags, errorLog: ErrorLog) {
    this.registry = registry
    this.tags = tags
    this.#errorLog = errorLog
    this.iterations = registry.counter('iterations', tags)
    this.iterationDuration = registry.trend('iteration_duration', tags)
  }

  /**
   * Records one finished request. Times are microseconds; `status` is 0 when no
   * response arrived; `proto` is undefined when no response began.
   */
  recordHttp(req: RequestIdentity, proto: HttpProto | undefined, status: number, errorCode: string | undefined, failed: boolean, durationUs: number, waitingUs: number, bytesSent: number, bytesReceived: number, lagUs?: number): void {
    const s = this.#httpSeries(req, proto, status, errorCode, failed)
    // Arrival-rate iterations that started late: the request's latency counted from when it should have been sent.
    if (lagUs !== undefined) recordTrend((s.corrected ??= this.registry.trend('http_req_latency_corrected', s.tags)), durationUs + lagUs)
    s.reqs.value++
    recordTrend(s.duration, durationUs)
    recordTrend(s.waiting, waitingUs)
    recordTrend(s.receiving, durationUs - waitingUs)
    s.failed.total++
    if (failed) s.failed.passes++
    s.sent.value += bytesSent
    s.received.value += bytesReceived
  }

  /** Records one named check on a request named `name`. */
  recordCheck(name: string, check: string, ok: boolean): void {
    const key = `${name}\0${check}`
    let s = this.#checks.get(key)
    if (s === undefined) {
      s = this.registry.rate('checks', normalizeTags({ ...this.tags, name, check }))
      this.#checks.set(key, s)
    }
    s.total++
    if (ok) s.passes++
  }

  /**
   * Records a failed session action (scenario code that threw, a timeout, a
   * WebSocket error): counted in `errors{action, error_code}` and kept once per
   * distinct message, with its stack, for the summary.
   */
  recordError(action: string, code: string, message: string, stack?: string): void {
    const key = `${action}\0${code}`
    let s = this.#errors.get(key)
    if (s === undefined) {
      s = this.registry.counter('errors', normalizeTags({ ...this.tags, action, error_code: code }))
      this.#errors.set(key, s)
    }
    s.value++
    this.#errorLog.record(this.tags.scenario ?? '', action, code, message, stack)
  }

  /** Records one traced call, `call_duration{name}`. */
  recordCall(name: string, durationUs: number): void {
    let s = this.#calls.get(name)
    if (s === undefined) {
      s = this.registry.trend('call_duration', normalizeTags({ ...this.tags, name }))
      this.#calls.set(name, s)
    }
    recordTrend(s, durationUs)
  }

  /** Counts a session ended by `s.abort()`. */
  recordAbort(): void {
    this.registry.counter('session_aborts', this.tags).value++
  }

  /**
   * Records a value of a custom metric. Trends keep thousandths of the value,
   * so a time trend's milliseconds land as microseconds like the built-in ones.
   */
  recordCustom(name: string, type: MetricType, value: number, tags: Record<string, string> | undefined): void {
    const key = tags === undefined ? name : `${name}\0${JSON.stringify(tags)}`
    let s = this.#custom.get(key)
    if (s === undefined) {
      s = this.registry[type](name, normalizeTags({ ...tags, ...this.tags }))
      this.#custom.set(key, s)
    }
    switch (s.type) {
      case 'trend':
        recordTrend(s, value * 1000)
        break
      case 'counter':
        s.value += value
        break
      case 'rate':
        s.total++
        if (value !== 0) s.passes++
        break
      case 'gauge':
        setGauge(s, value)
        break
    }
  }

  recordIteration(durationUs: number, correctedUs?: number): void {
    this.iterations.value++
    recordTrend(this.iterationDuration, durationUs)
    if (correctedUs !== undefined) recordTrend((this.#iterationCorrected ??= this.registry.trend('iteration_latency_corrected', this.tags)), correctedUs)
  }

  /** Counts an arrival-rate iteration that could not start: no VU was free and `maxVUs` were all busy. */
  recordDropped(): void {
    ;(this.#dropped ??= this.registry.counter('dropped_iterations', this.tags)).value++
  }

  #httpSeries(req: RequestIdentity, proto: HttpProto | undefined, status: number, errorCode: string | undefined, failed: boolean): HttpSeries {
    if (errorCode !== undefined || req.tags !== undefined) {
      const key = `${req.name}\0${req.method}\0${proto ?? ''}\0${status}\0${failed}\0${errorCode ?? ''}\0${JSON.stringify(req.tags ?? {})}`
      let s = this.#httpOther.get(key)
      if (s === undefined) this.#httpOther.set(key, (s = this.#createHttpSeries(req, proto, status, errorCode, failed)))
      return s
    }
    let byMethod = this.#http.get(req.name)
    if (byMethod === undefined) this.#http.set(req.name, (byMethod = new Map()))
    let byStatus = byMethod.get(req.method)
    if (byStatus === undefined) byMethod.set(req.method, (byStatus = new Map()))
    const key = (status * 2 + (failed ? 1 : 0)) * 3 + (proto === 'HTTP/1.1' ? 1 : proto === 'HTTP/2.0' ? 2 : 0)
    let s = byStatus.get(key)
    if (s === undefined) byStatus.set(key, (s = this.#createHttpSeries(req, proto, status, errorCode, failed)))
    return s
  }

  #createHttpSeries(req: RequestIdentity, proto: HttpProto | undefined, status: number, errorCode: string | undefined, failed: boolean): HttpSeries {
    const tags = normalizeTags({
      ...req.tags,
      ...this.tags,
      name: req.name,
      method: req.method,
      proto,
      status: String(status),
      expected_response: String(!failed),
      // A failed request always has a code: the transport's, else its unexpected status's.
      error_code: errorCode ?? (failed ? statusErrorCode(status) : undefined),
    })
    const r = this.registry
    return {
      tags,
      corrected: undefined,
      reqs: r.counter('http_reqs', tags),
      duration: r.trend('http_req_duration', tags),
      waiting: r.trend('http_req_waiting', tags),
      receiving: r.trend('http_req_receiving', tags),
      failed: r.rate('http_req_failed', tags),
      sent: r.counter('data_sent', tags),
      received: r.counter('data_received', tags),
    }
  }
}
