import { describe, expect, it } from 'vitest'
import { createHistogram, decodeHistogram, encodeHistogram, HIGHEST_TRACKABLE_US, minValue, percentile, quickSummary, recordMicros, summarize } from '../../src/core/histogram.ts'
import { aggregate, seriesFromResult, type Series } from '../../src/core/series.ts'

describe('histograms', () => {
  it('records integer microseconds and reads percentiles within 3 significant digits', () => {
    const h = createHistogram()
    for (let ms = 1; ms <= 1000; ms++) recordMicros(h, ms * 1000)
    const s = summarize(h)
    expect(s.count).toBe(1000)
    expect(s.min).toBeCloseTo(1, 2)
    expect(s.max).toBeCloseTo(1000, 0)
    expect(s.mean).toBeCloseTo(500.5, 0)
    for (const [key, expected] of [['p50', 500], ['p90', 900], ['p99', 990], ['p99.9', 999]] as const) {
      expect(Math.abs(s.percentiles[key]! - expected) / expected).toBeLessThan(0.001)
    }
  })

  it('rounds fractions and clamps values outside the trackable range instead of throwing', () => {
    const h = createHistogram()
    recordMicros(h, 0.4)
    recordMicros(h, -5)
    recordMicros(h, HIGHEST_TRACKABLE_US * 10)
    expect(h.totalCount).toBe(3)
    expect(h.getValueAtPercentile(0)).toBe(0)
    expect(h.maxValue).toBeGreaterThanOrEqual(HIGHEST_TRACKABLE_US * 0.999)
  })

  it('never reports a percentile above the exact maximum', () => {
    const h = createHistogram()
    for (let i = 0; i < 100; i++) recordMicros(h, 92_001)
    // HDR would report the top of 92 001's bucket for p99; the summary caps it at the real max.
    expect(h.getValueAtPercentile(99)).toBeGreaterThan(92_001)
    expect(percentile(h, 99)).toBe(92_001)
    expect(summarize(h).percentiles.p99).toBe(summarize(h).max)
  })

  it('summarises an empty histogram as zeros', () => {
    const s = summarize(createHistogram())
    expect(s).toMatchObject({ count: 0, min: 0, max: 0, mean: 0, stdev: 0 })
    expect(s.percentiles.p99).toBe(0)
  })

  it('survives encoding and merges exactly: merged percentiles equal one histogram fed every sample', () => {
    const a = createHistogram()
    const b = createHistogram()
    const all = createHistogram()
    for (let i = 0; i < 5000; i++) {
      const v = Math.floor(((i * 7919) % 100_000) + 100)
      recordMicros(i % 3 === 0 ? a : b, v)
      recordMicros(all, v)
    }
    const series: Series[] = [
      { metric: 'http_req_duration', type: 'trend', tags: { name: 'a' }, histogram: decodeHistogram(encodeHistogram(a)) },
      { metric: 'http_req_duration', type: 'trend', tags: { name: 'b' }, histogram: decodeHistogram(encodeHistogram(b)) },
    ]
    const merged = aggregate(series, 'http_req_duration')
    expect(merged?.type).toBe('trend')
    if (merged?.type !== 'trend') return
    expect(merged.histogram.totalCount).toBe(5000)
    for (const p of [50, 90, 99, 99.9, 100]) expect(merged.histogram.getValueAtPercentile(p)).toBe(all.getValueAtPercentile(p))
  })

  it('aggregates only the series whose tags match the filter', () => {
    const series = seriesFromResult({
      metrics: [
        { metric: 'http_reqs', type: 'counter', tags: { name: 'a', status: '200' }, value: 3 },
        { metric: 'http_reqs', type: 'counter', tags: { name: 'a', status: '500' }, value: 2 },
        { metric: 'http_reqs', type: 'counter', tags: { name: 'b', status: '200' }, value: 7 },
        { metric: 'http_req_failed', type: 'rate', tags: { name: 'a' }, passes: 1, total: 4 },
        { metric: 'http_req_failed', type: 'rate', tags: { name: 'b' }, passes: 3, total: 4 },
      ],
    })
    expect(aggregate(series, 'http_reqs', { name: 'a' })).toEqual({ type: 'counter', value: 5 })
    expect(aggregate(series, 'http_reqs', { status: '200' })).toEqual({ type: 'counter', value: 10 })
    expect(aggregate(series, 'http_req_failed')).toEqual({ type: 'rate', passes: 4, total: 8 })
    expect(aggregate(series, 'http_reqs', { name: 'c' })).toBeUndefined()
  })

  it('summarises in one pass exactly as the per-percentile calls do', () => {
    const shapes = [
      (i: number) => 200 + ((i * 7919) % 3000), // spread over ms
      (i: number) => (i % 100 === 0 ? 1_500_000 : 900 + (i % 13)), // a tail
      () => 0, // all zero
      (i: number) => i, // 0, 1, 2, …
    ]
    for (const shape of shapes) {
      for (const n of [1, 2, 7, 100, 5001]) {
        const h = createHistogram()
        for (let i = 0; i < n; i++) recordMicros(h, shape(i))
        const ps = [0.1, 50, 90, 95, 99, 99.9, 100]
        const q = quickSummary(h, ps)
        expect(q.count).toBe(n)
        expect(q.min).toBe(minValue(h))
        expect(q.max).toBe(h.maxValue)
        expect(q.mean).toBeCloseTo(h.mean, 9)
        expect(q.at).toEqual(ps.map((p) => percentile(h, p)))
      }
    }
    expect(quickSummary(createHistogram(), [50])).toEqual({ count: 0, min: 0, mean: 0, max: 0, at: [0] })
  })
})
