import type { Tags } from '../../core/result.ts'
import { addSample, type MetricsRegistry, normalizeTags } from './registry.ts'

/** The series one HTTP request outcome records into, found once per tag set. */
export interface HttpSeries {
  reqs: ReturnType<MetricsRegistry['counter']>
  duration: ReturnType<MetricsRegistry['trend']>
  waiting: ReturnType<MetricsRegistry['trend']>
  receiving: ReturnType<MetricsRegistry['trend']>
  failed: ReturnType<MetricsRegistry['rate']>
  sent: ReturnType<MetricsRegistry['counter']>
  received: ReturnType<MetricsRegistry['counter']>
}

/** What one finished request contributes to the metrics. */
export interface HttpSample {
  name: string
  method: string
  /** 0 when no response arrived. */
  status: number
  /** Set when no response arrived (`ECONNREFUSED`, `UND_ERR_HEADERS_TIMEOUT`, …). */
  errorCode: string | undefined
  failed: boolean
  extraTags: Record<string, string> | undefined
  durationUs: number
  waitingUs: number
  receivingUs: number
  bytesSent: number
  bytesReceived: number
}

/**
 * The metrics of one scenario: the registry plus the scenario's tags, with the
 * per-tag-set series cached so a request costs one map lookup.
 */
export class ScenarioMetrics {
  readonly registry: MetricsRegistry
  readonly tags: Tags
  readonly #http = new Map<string, HttpSeries>()
  readonly #checks = new Map<string, ReturnType<MetricsRegistry['rate']>>()
  readonly iterations: ReturnType<MetricsRegistry['counter']>
  readonly iterationDuration: ReturnType<MetricsRegistry['trend']>

  constructor(registry: MetricsRegistry, tags: Tags) {
    this.registry = registry
    this.tags = tags
    this.iterations = registry.counter('iterations', tags)
    this.iterationDuration = registry.trend('iteration_duration', tags)
  }

  recordHttp(sample: HttpSample): void {
    const key = `${sample.name}\0${sample.method}\0${sample.status}\0${sample.failed ? 1 : 0}\0${sample.errorCode ?? ''}${sample.extraTags === undefined ? '' : `\0${JSON.stringify(sample.extraTags)}`}`
    let s = this.#http.get(key)
    if (s === undefined) {
      s = this.#createHttpSeries(sample)
      this.#http.set(key, s)
    }
    s.reqs.value++
    addSample(s.duration, sample.durationUs)
    addSample(s.waiting, sample.waitingUs)
    addSample(s.receiving, sample.receivingUs)
    s.failed.total++
    if (sample.failed) s.failed.passes++
    s.sent.value += sample.bytesSent
    s.received.value += sample.bytesReceived
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

  recordIteration(durationUs: number): void {
    this.iterations.value++
    addSample(this.iterationDuration, durationUs)
  }

  #createHttpSeries(sample: HttpSample): HttpSeries {
    const tags = normalizeTags({
      ...sample.extraTags,
      ...this.tags,
      name: sample.name,
      method: sample.method,
      status: String(sample.status),
      expected_response: String(!sample.failed),
      error_code: sample.errorCode,
    })
    const r = this.registry
    return {
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
