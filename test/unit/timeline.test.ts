import { setImmediate } from 'node:timers'
import { describe, expect, it } from 'vitest'
import { BUILTIN_METRICS } from '../../src/core/builtin-metrics.ts'
import { ChaperonError } from '../../src/core/errors.ts'
import { createHistogram, decodeHistogram, percentile, recordMicros } from '../../src/core/histogram.ts'
import { evaluateThresholds, parseThresholds } from '../../src/core/thresholds.ts'
import { type IntervalSample, TimelineBuilder } from '../../src/core/timeline.ts'
import { MetricsRegistry, recordTrend, setGauge } from '../../src/runtime/metrics/registry.ts'
import { secondCloser } from '../../src/runtime/ticker.ts'

const lookup = (name: string) => BUILTIN_METRICS[name]

/** Closes second `t` of `registry` with every trend summarised at once. */
const tick = (registry: MetricsRegistry, t: number): IntervalSample[] => registry.close(t).map((part) => (typeof part === 'function' ? part() : part))

/** A registry that recorded `perSecond[t]` request durations (ms) in second t, closed into a one-source timeline. */
function recorded(perSecond: number[][], tags = {}): TimelineBuilder {
  const registry = new MetricsRegistry()
  const timeline = new TimelineBuilder(1)
  perSecond.forEach((durations, t) => {
    for (const ms of durations) {
      recordTrend(registry.trend('http_req_duration', tags), ms * 1000)
      registry.counter('http_reqs', tags).value++
    }
    timeline.add(0, t, tick(registry, t))
  })
  timeline.end(0)
  return timeline
}

describe('MetricsRegistry.close', () => {
  it('emits what changed in each second and keeps the totals whole', () => {
    const registry = new MetricsRegistry()
    const trend = registry.trend('http_req_duration', { name: 'a' })
    const reqs = registry.counter('http_reqs', { name: 'a' })
    const failed = registry.rate('http_req_failed', { name: 'a' })
    const vus = registry.gauge('vus', {})
    for (const ms of [10, 20, 30]) recordTrend(trend, ms * 1000)
    reqs.value += 3
    failed.total += 3
    failed.passes += 1
    setGauge(vus, 5)
    setGauge(vus, 2)
    const first = tick(registry, 0)
    expect(first.find((s) => s.metric === 'http_reqs')?.point).toEqual({ t: 0, value: 3 })
    expect(first.find((s) => s.metric === 'http_req_failed')?.point).toEqual({ t: 0, passes: 1, total: 3 })
    expect(first.find((s) => s.metric === 'vus')?.point).toEqual({ t: 0, value: 2, min: 2, max: 5 })
    const point = first.find((s) => s.metric === 'http_req_duration')!.point as Extract<IntervalSample, { type: 'trend' }>['point']
    expect(point).toMatchObject({ t: 0, count: 3, min: 10, max: 30 })
    expect(decodeHistogram(point.histogram).totalCount).toBe(3)

    recordTrend(trend, 40_000)
    reqs.value++
    const second = tick(registry, 1)
    // Only the growth: one request, one duration; the rate did not move, the gauge holds its value.
    expect(second.map((s) => s.metric).sort()).toEqual(['http_req_duration', 'http_reqs', 'vus'])
    expect(second.find((s) => s.metric === 'http_reqs')?.point).toEqual({ t: 1, value: 1 })
    expect(second.find((s) => s.metric === 'vus')?.point).toEqual({ t: 1, value: 2, min: 2, max: 2 })
    expect(second.find((s) => s.metric === 'http_req_duration')?.point).toMatchObject({ count: 1, min: 40, max: 40 })
    // The totals were never reset.
    expect(trend.histogram.totalCount).toBe(4)
    expect(reqs.value).toBe(4)
  })

  it('cuts a trend at close(): what is recorded before its point is computed belongs to the next second', () => {
    const registry = new MetricsRegistry()
    const trend = registry.trend('http_req_duration', {})
    recordTrend(trend, 10_000)
    const parts = registry.close(0)
    expect(parts).toHaveLength(1)
    expect(typeof parts[0]).toBe('function')
    recordTrend(trend, 500_000)
    const closed = (parts[0] as () => IntervalSample)()
    expect(closed.point).toMatchObject({ t: 0, count: 1, max: 10 })
    expect(tick(registry, 1)[0]!.point).toMatchObject({ t: 1, count: 1, max: 500 })
    // The closed histogram is reset and reused: an empty second has no trend point.
    expect(tick(registry, 2)).toEqual([])
    recordTrend(trend, 7_000)
    expect(tick(registry, 3)[0]!.point).toMatchObject({ t: 3, count: 1, min: 7, max: 7 })
  })
})

describe('secondCloser', () => {
  it('hands the seconds over in order, none before its trends are summarised', async () => {
    const registry = new MetricsRegistry()
    const handed: Array<[number, string[]]> = []
    const seconds = secondCloser(registry, (t, samples) => handed.push([t, samples.map((s) => `${s.metric}:${s.type === 'trend' ? s.point.count : ''}`).sort()]))
    recordTrend(registry.trend('a', {}), 1000)
    recordTrend(registry.trend('b', {}), 1000)
    registry.counter('c', {}).value++
    seconds.close(0)
    recordTrend(registry.trend('a', {}), 2000)
    recordTrend(registry.trend('a', {}), 3000)
    seconds.close(1)
    expect(handed).toEqual([])
    await seconds.drained()
    expect(handed).toEqual([
      [0, ['a:1', 'b:1', 'c:']],
      [1, ['a:2']],
    ])
  })

  it('lets timers and I/O have turns while it summarises a second of many trends', async () => {
    const registry = new MetricsRegistry()
    for (let i = 0; i < 200; i++) recordTrend(registry.trend('http_req_duration', { name: `r${i}` }), 1000 + i)
    let turns = 0
    let turnsBeforeHandover = -1
    let spinning = true
    const spin = (): void => {
      turns++
      if (spinning) setImmediate(spin)
    }
    setImmediate(spin)
    const seconds = secondCloser(registry, (_t, samples) => {
      turnsBeforeHandover = turns
      expect(samples).toHaveLength(200)
    })
    seconds.close(0)
    await seconds.drained()
    spinning = false
    expect(turnsBeforeHandover).toBeGreaterThan(1)
  })

  it('goes on handing seconds over after onSecond threw, and rejects drained() with the first error', async () => {
    const registry = new MetricsRegistry()
    const handed: number[] = []
    const seconds = secondCloser(registry, (t) => {
      if (t === 0) throw new Error('reporter broke')
      handed.push(t)
    })
    registry.counter('c', {}).value++
    seconds.close(0)
    registry.counter('c', {}).value++
    seconds.close(1)
    await expect(seconds.drained()).rejects.toThrow('reporter broke')
    expect(handed).toEqual([1])
  })
})

describe('TimelineBuilder', () => {
  it('merges the sources of a second exactly, once every source has reported it', () => {
    const timeline = new TimelineBuilder(2)
    const registries = [new MetricsRegistry(), new MetricsRegistry()]
    const all = createHistogram()
    let v = 1
    for (const [i, r] of registries.entries()) {
      for (let n = 0; n < 500 + i * 300; n++, v += 7) {
        recordTrend(r.trend('http_req_duration', {}), v)
        recordMicros(all, v)
      }
      r.counter('http_reqs', {}).value += 10 * (i + 1)
      setGauge(r.gauge('vus', {}), 3 + i)
    }
    expect(timeline.add(0, 0, tick(registries[0]!, 0))).toEqual([])
    const [final] = timeline.add(1, 0, tick(registries[1]!, 0))
    expect(final!.t).toBe(0)
    const byMetric = new Map(final!.samples.map((s) => [s.metric, s.point]))
    expect(byMetric.get('http_reqs')).toEqual({ t: 0, value: 30 })
    // vus counts per worker, so the workers' values add up.
    expect(byMetric.get('vus')).toEqual({ t: 0, value: 7, min: 7, max: 7 })
    const merged = decodeHistogram((byMetric.get('http_req_duration') as { histogram: string }).histogram)
    expect(merged.totalCount).toBe(all.totalCount)
    for (const p of [50, 90, 99, 99.9]) expect(percentile(merged, p)).toBe(percentile(all, p))
    expect(timeline.toTimeSeries().series.map((s) => s.metric)).toEqual(['http_req_duration', 'http_reqs', 'vus'])
  })

  it('finalises the seconds of a source that ended, and keeps points in time order', () => {
    const timeline = new TimelineBuilder(2)
    const r = new MetricsRegistry()
    for (const t of [0, 1, 2]) {
      r.counter('iterations', {}).value++
      timeline.add(0, t, tick(r, t))
    }
    expect(timeline.toTimeSeries().series).toEqual([])
    const finals = timeline.end(1)
    expect(finals.map((f) => f.t)).toEqual([0, 1, 2])
    expect(timeline.toTimeSeries().series[0]!.points).toEqual([{ t: 0, value: 1 }, { t: 1, value: 1 }, { t: 2, value: 1 }])
  })
})

describe('windowed thresholds', () => {
  it('parses "over <window>" into whole seconds', () => {
    const [t] = parseThresholds({ http_req_duration: ['p(95)<200 over 10s'] }, lookup)
    expect(t).toMatchObject({ expression: 'p(95)<200 over 10s', aggregation: 'p', percentile: 95, op: '<', target: 200, windowSec: 10 })
    expect(parseThresholds({ http_reqs: ['rate>5 over 1m'] }, lookup)[0]!.windowSec).toBe(60)
  })

  it.each(['p(95)<200 over 500ms', 'p(95)<200 over 1.5s', 'p(95)<200 over soon', 'p(95)<200 over 0s'])('rejects %j with a coded error', (expression) => {
    let error: unknown
    try {
      parseThresholds({ http_req_duration: [expression] }, lookup)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(ChaperonError)
    expect((error as ChaperonError).code).toBe('CHAPERON_THRESHOLD_SYNTAX')
    expect((error as ChaperonError).message).toMatch(/over 10s/)
  })

  it('fails when one window breaks the limit even though the whole run holds it', () => {
    // 20 seconds at 50 ms, except seconds 8 to 10 at 400 ms: 15 % of the run, so its p(80) is fast,
    // while the 10 s windows that hold all three slow seconds (30 %) have a slow p(80).
    const seconds = Array.from({ length: 20 }, (_, t) => Array.from({ length: 10 }, () => (t >= 8 && t <= 10 ? 400 : 50)))
    const timeline = recorded(seconds).toTimeSeries().series
    const [whole, windowed, wide] = evaluateThresholds(
      parseThresholds({ http_req_duration: ['p(80)<100', 'p(80)<100 over 10s', 'p(80)<100 over 20s'] }, lookup),
      [],
      20,
      lookup,
      timeline,
    )
    expect(whole!.ok).toBe(false) // no series given: the whole-run form has no samples
    // HDR keeps three significant digits, but each second's exact maximum caps its top bucket: 400 ms reads back as 400 ms.
    expect(windowed!.ok).toBe(false)
    expect(windowed!.actual).toBeCloseTo(400, 0)
    expect(windowed!.display).toBe('p(80)=400ms over 10s, worst 1s–11s')
    expect(wide!.ok).toBe(true)
    expect(wide!.actual).toBeCloseTo(50, 1)
  })

  it('reports the worst passing window, and rates per second of the window', () => {
    // 10 requests a second, 30 in second 4.
    const seconds = Array.from({ length: 8 }, (_, t) => Array.from({ length: t === 4 ? 30 : 10 }, () => 5))
    const timeline = recorded(seconds).toTimeSeries().series
    const [low, high, count] = evaluateThresholds(
      parseThresholds({ http_reqs: ['rate>=10 over 2s', 'rate<20 over 2s', 'count<=40 over 2s'] }, lookup),
      [],
      8,
      lookup,
      timeline,
    )
    expect(low).toMatchObject({ ok: true, actual: 10 })
    expect(high).toMatchObject({ ok: false, actual: 20 })
    expect(high!.display).toBe('rate=20/s over 2s, worst 3s–5s')
    expect(count).toMatchObject({ ok: true, actual: 40 })
  })

  it('judges a run shorter than the window as one window, and a metric without samples as failed', () => {
    const timeline = recorded([[10, 20], [30]]).toTimeSeries().series
    const [short, missing] = evaluateThresholds(
      parseThresholds({ http_req_duration: ['max<35 over 10s'], iteration_duration: ['p(95)<1 over 5s'] }, lookup),
      [],
      1.5,
      lookup,
      timeline,
    )
    expect(short!.ok).toBe(true)
    expect(short!.actual).toBeCloseTo(30, 1)
    expect(short!.display).toBe('max=30ms over 10s, worst 0s–2s')
    expect(missing).toMatchObject({ ok: false, actual: null })
  })

  it('evaluates only the windows from a given second on', () => {
    const seconds = [[500], [500], [5], [5], [5]]
    const timeline = recorded(seconds).toTimeSeries().series
    const parsed = parseThresholds({ http_req_duration: ['max<100 over 2s'] }, lookup)
    expect(evaluateThresholds(parsed, [], 5, lookup, timeline)[0]!.ok).toBe(false)
    const later = evaluateThresholds(parsed, [], 5, lookup, timeline, 2)[0]!
    expect(later.ok).toBe(true)
    expect(later.actual).toBeCloseTo(5, 1)
  })
})
