import { describe, expect, it } from 'vitest'
import { applyBaseline } from '../../src/core/baseline.ts'
import { ChaperonError } from '../../src/core/errors.ts'
import { decodeHistogram } from '../../src/core/histogram.ts'
import { mergeResults } from '../../src/core/merge.ts'
import type { LoadTestResult } from '../../src/core/result.ts'
import type { SourcedResult } from '../../src/core/result-files.ts'
import { parseSegment } from '../../src/core/segment.ts'
import { REQUESTS, runResult, slotsOf, VUS } from '../support/segment-results.ts'

const thirds = [1, 2, 3].map((i) => parseSegment(`${i}/3`))
const whole = runResult()

/** The three segments' results as files `seg-1.json` … of a directory. */
function segments(overrides: Array<Partial<LoadTestResult>> = []): SourcedResult[] {
  return thirds.map((segment, k) => ({ result: { ...runResult({ segment }), ...overrides[k] }, source: `results/seg-${k + 1}.json` }))
}

function mergeOne(inputs: readonly SourcedResult[], partial = false): LoadTestResult {
  const { results } = mergeResults(inputs, { partial })
  expect(results).toHaveLength(1)
  return results[0]!
}

function refusal(inputs: readonly SourcedResult[]): ChaperonError {
  try {
    mergeResults(inputs, {})
  } catch (e) {
    expect(e).toBeInstanceOf(ChaperonError)
    expect((e as ChaperonError).code).toBe('CHAPERON_MERGE')
    return e as ChaperonError
  }
  throw new Error('expected CHAPERON_MERGE, but the merge went through')
}

function threshold(result: LoadTestResult, key: string, expression: string) {
  const t = result.thresholds.find((x) => x.key === key && x.expression === expression)
  if (t === undefined) throw new Error(`no threshold ${key} ${expression}`)
  return t
}

describe('mergeResults', () => {
  it('splits the run into three shares that together hold every request', () => {
    const shares = thirds.map((s) => slotsOf(s).length)
    expect(shares.every((n) => n > 0 && n < REQUESTS)).toBe(true)
    expect(shares.reduce((a, b) => a + b)).toBe(REQUESTS)
  })

  it('adds up the metrics of the segments into exactly those of the single-machine run', () => {
    const merged = mergeOne(segments())
    expect(merged.metrics).toEqual(whole.metrics)
    const trend = merged.metrics.find((m) => m.metric === 'http_req_duration')!
    if (trend.type !== 'trend') throw new Error('http_req_duration is not a trend')
    expect(trend.trend.count).toBe(REQUESTS)
    expect(decodeHistogram(trend.trend.histogram).totalCount).toBe(REQUESTS)
    expect(merged.metrics.find((m) => m.metric === 'http_reqs')).toMatchObject({ value: REQUESTS })
    expect(merged.metrics.find((m) => m.metric === 'http_req_failed')).toMatchObject({ passes: REQUESTS / 20, total: REQUESTS })
    expect(merged.metrics.find((m) => m.metric === 'vus')).toMatchObject({ value: VUS, min: VUS, max: VUS })
  })

  it('merges the time series second by second into that of the single-machine run', () => {
    const merged = mergeOne(segments())
    expect(merged.timeSeries).toEqual(whole.timeSeries)
  })

  it('judges every threshold again on the whole', () => {
    const parts = segments()
    const merged = mergeOne(parts)
    expect(merged.thresholds).toEqual(whole.thresholds)
    // Each segment saw a third of the requests, at a third of the rate.
    for (const { result } of parts) {
      expect(threshold(result, 'http_reqs', `count==${REQUESTS}`).ok).toBe(false)
      expect(threshold(result, 'http_reqs', 'rate>=500 over 2s').ok).toBe(false)
      expect(result.status).toBe('passed')
    }
    expect(threshold(merged, 'http_reqs', `count==${REQUESTS}`)).toMatchObject({ ok: true, actual: REQUESTS })
    expect(threshold(merged, 'http_reqs', 'rate>=500 over 2s')).toMatchObject({ ok: true, actual: 600, display: 'rate=600/s over 2s, worst 0s–2s' })
    // The third segment's requests were the slow ones: it fails p(95)<250 on its own, the whole holds it.
    expect(parts.map(({ result }) => threshold(result, 'http_req_duration', 'p(95)<250').ok)).toEqual([true, true, false])
    expect(threshold(merged, 'http_req_duration', 'p(95)<250')).toMatchObject({ ok: true, actual: 233.215, display: 'p(95)=233.22ms' })
    expect(threshold(merged, 'http_req_duration', 'max<300')).toMatchObject({ ok: true, actual: 263.6 })
    expect(threshold(merged, 'http_req_duration', 'p(95)<+10% baseline')).toMatchObject({ ok: true, baseline: null, display: expect.stringContaining('not compared: no baseline') })
    expect(merged.status).toBe(whole.status)
  })

  it('sums the errors, and keeps the first stack', () => {
    const merged = mergeOne(segments())
    expect(merged.errors).toHaveLength(whole.errors.length)
    expect(merged.errors).toEqual(expect.arrayContaining(whole.errors))
    expect(merged.errors.find((e) => e.code === 'TypeError')).toMatchObject({ count: REQUESTS / 50, stack: expect.stringContaining('shop.load.ts:9:3') })
  })

  it('says what it merged, and takes the earliest start, the longest duration and the first segment\'s name and location', () => {
    const parts = segments([{ startedAt: '2025-03-04T05:06:07.400Z', durationMs: 5_000 }, { startedAt: '2025-03-04T05:06:07.100Z', durationMs: 5_300 }, {}])
    const merged = mergeOne([...parts].reverse())
    expect(merged.merged).toEqual({ segments: ['0:1/3', '1/3:2/3', '2/3:1'], sequence: '0,1/3,2/3,1', plan: parts[0]!.result.segment!.plan, missing: [] })
    expect(merged.segment).toBeUndefined()
    expect(merged.startedAt).toBe('2025-03-04T05:06:07.000Z')
    expect(merged.durationMs).toBe(5_300)
    expect(merged.location).toEqual(parts[0]!.result.location)
    expect(Object.keys(merged)).toEqual(['schemaVersion', 'name', 'location', 'startedAt', 'durationMs', 'status', 'scenarios', 'metrics', 'timeSeries', 'thresholds', 'errors', 'merged'])
  })

  it('fails when a segment failed, and keeps the earliest abort', () => {
    const aborted = (atMs: number) => ({ status: 'failed' as const, abortedBy: { key: 'http_req_duration', expression: 'max<300', display: 'max=301ms', atMs } })
    const merged = mergeOne(segments([{}, aborted(4_000), aborted(2_500)]))
    expect(merged.status).toBe('failed')
    expect(merged.abortedBy?.atMs).toBe(2_500)
    expect(mergeOne(segments([{ status: 'failed' }])).status).toBe('failed')
  })

  it('merges each load test separately', () => {
    const other = thirds.map((segment, k) => ({ result: runResult({ segment, name: 'checkout' }), source: `results/checkout-${k + 1}.json` }))
    const { results } = mergeResults([...segments(), ...other], {})
    expect(results.map((r) => r.name)).toEqual(['shop holds up', 'checkout'])
    expect(results.map((r) => r.metrics)).toEqual([whole.metrics, whole.metrics])
  })

  it('warns when the instances started more than a second apart', () => {
    expect(mergeResults(segments([{}, { startedAt: '2025-03-04T05:06:07.900Z' }]), {}).warnings).toEqual([])
    const { warnings } = mergeResults(segments([{}, { startedAt: '2025-03-04T05:06:10.500Z' }]), {})
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toContain('started up to 3.5s apart')
    expect(warnings[0]).toContain('results/seg-2.json at 2025-03-04T05:06:10.500Z')
    expect(warnings[0]).toContain('set CHAPERON_START_AT on every instance')
  })

  it('refuses segments of different plans', () => {
    const parts = segments()
    parts[2] = { ...parts[2]!, result: runResult({ segment: thirds[2]!, plan: '0ther0ther0ther0' }) }
    const error = refusal(parts)
    expect(error.message).toContain('different plans')
    expect(error.message).toContain('plan 0ther0ther0ther0 in results/seg-3.json')
    expect(error.message).toContain('results/seg-1.json, results/seg-2.json')
    expect(error.message).toContain('same commit and config')
  })

  it('refuses a segment given twice', () => {
    const parts = segments()
    const error = refusal([...parts, { ...parts[1]!, source: 'other-run/seg-2.json' }])
    expect(error.message).toContain('results/seg-2.json, other-run/seg-2.json all hold segment 1/3:2/3 of "shop holds up" of shop.load.ts')
    expect(error.message).toContain("merge each run's results separately")
  })

  it('refuses segments of different sequences', () => {
    const half = { result: runResult({ segment: parseSegment('2/2') }), source: 'results/half-2.json' }
    const error = refusal([...segments().slice(0, 2), half])
    expect(error.message).toContain('different sequences')
    expect(error.message).toContain('sequence 0,1/2,1 in results/half-2.json')
    expect(error.message).toContain('overlap')
  })

  it('refuses a whole run, alone or with segments', () => {
    const single = { result: whole, source: 'results/whole.json' }
    expect(refusal([single]).message).toContain('results/whole.json holds a whole run of "shop holds up" of shop.load.ts (it has no segment), so there is nothing to merge')
    const mixed = refusal([...segments(), single])
    expect(mixed.message).toContain('results/whole.json holds a whole run')
    expect(mixed.message).toContain('cannot be merged with the results in results/seg-1.json, results/seg-2.json, results/seg-3.json')
  })

  it('refuses a segment that cannot be read', () => {
    const parts = segments([{ segment: { segment: '2/3:1/3', sequence: '0,1/3,2/3,1', plan: 'x' } }])
    expect(refusal(parts).message).toContain('results/seg-1.json holds "shop holds up" of shop.load.ts with a segment that cannot be read')
  })

  it('refuses missing segments unless partial, which merges the rest and fails', () => {
    const parts = [segments()[0]!, segments()[2]!]
    const error = refusal(parts)
    expect(error.message).toContain('(results/seg-1.json, results/seg-3.json) cover 2 of the 3 segments of 0,1/3,2/3,1; missing: 1/3:2/3')
    expect(error.message).toContain('--partial')
    const merged = mergeOne(parts, true)
    expect(merged.merged).toMatchObject({ segments: ['0:1/3', '2/3:1'], missing: ['1/3:2/3'] })
    expect(merged.status).toBe('failed')
    expect(merged.metrics.find((m) => m.metric === 'http_reqs')).toMatchObject({ value: slotsOf(thirds[0]).length + slotsOf(thirds[2]).length })
  })

  it('leaves a segment passing when its budgets are judged on its share against a baseline', () => {
    const judged = applyBaseline(runResult({ segment: thirds[0]! }), whole)
    expect(judged.thresholds.filter((t) => !t.ok).map((t) => t.expression)).toContain(`count==${REQUESTS}`)
    expect(judged.status).toBe('passed')
  })
})
