import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseSegment, scale, segmentLabels, slotAt, splitStripe, type Stripe, WHOLE } from '../../src/core/segment.ts'
import { ArrivalPlan } from '../../src/runtime/executors/arrival-plan.ts'
import type { LoadTestOptions } from '../../src/runtime/options.ts'
import { type ResolvedScenario, resolveLoadTestOptions } from '../../src/runtime/resolve-options.ts'
import { scenario } from '../../src/runtime/scenario.ts'
import { planDigest, segmentOf } from '../../src/runtime/segments.ts'
import { stripeSteps, type VuStep, vuSteps } from '../../src/runtime/executors/vu-steps.ts'

const s = scenario('s', async () => {})

/** The owner of each of the first `n` slots, by index into `stripes`; throws when a slot has two. */
function owners(stripes: readonly Stripe[], n: number): number[] {
  const out = new Array<number>(n).fill(-1)
  stripes.forEach((stripe, k) => {
    for (let i = 0; slotAt(stripe, i) < n; i++) {
      const slot = slotAt(stripe, i)
      if (out[slot] !== -1) throw new Error(`slot ${slot} has two owners`)
      out[slot] = k
    }
  })
  return out
}

/** Every segment of a sequence given as boundaries. */
function segmentsOf(sequence: string) {
  return segmentLabels(sequence).map((label) => parseSegment(label, sequence))
}

describe('parseSegment', () => {
  it('reads i/n as the i-th of n equal parts, counted from 1', () => {
    expect(parseSegment('2/3')).toMatchObject({ label: '1/3:2/3', sequence: '0,1/3,2/3,1', index: 1, count: 3, stripe: { cycle: 3, positions: [1] } })
    expect(parseSegment('1/1')).toMatchObject({ label: '0:1', count: 1, stripe: WHOLE })
  })

  it('reads from:to within a sequence, in fractions or decimals, filling in 0 and 1', () => {
    expect(parseSegment('0.25:0.5', '0,1/4,2/4,1')).toMatchObject({ label: '1/4:1/2', sequence: '0,1/4,1/2,1', index: 1, count: 3 })
    expect(parseSegment('1/3:1', '1/3')).toMatchObject({ sequence: '0,1/3,1', index: 1 })
    // Without a sequence, the segment's own boundaries and 0 and 1 make it.
    expect(parseSegment('1/4:3/4')).toMatchObject({ sequence: '0,1/4,3/4,1', index: 1, count: 3 })
  })

  it('deals the slots of unequal segments as k6 does: the largest due segment takes each', () => {
    const segments = segmentsOf('0,1/4,1/2,1')
    expect(owners(segments.map((x) => x.stripe), 8).join('')).toBe('20212021')
    expect(segments.map((x) => x.stripe.positions)).toEqual([[1], [3], [0, 2]])
  })

  it.each([
    ['0/3', undefined, '1/3 is the first'],
    ['4/3', undefined, 'one of 1/3 … 3/3'],
    ['x', undefined, 'Write i/n'],
    ['1/2', '0,1/2,1', 'unset CHAPERON_SEGMENT_SEQUENCE'],
    ['1/3:1/3', undefined, 'is empty'],
    ['1/4:3/4', '0,1/4,1/2,3/4,1', 'Write one of 0:1/4, 1/4:1/2, 1/2:3/4, 3/4:1'],
    ['0:3/2', undefined, 'not a fraction from 0 to 1'],
    ['0:1/2', '0,1/2,1/3,1', 'must rise'],
    ['0:1/99991', '0,1/99991,1/99989,1', 'smaller denominators'],
  ])('refuses CHAPERON_SEGMENT=%s (sequence %s) saying what to write', (value, sequence, says) => {
    expect(() => parseSegment(value, sequence)).toThrow(expect.objectContaining({ code: 'CHAPERON_INVALID_SEGMENT', message: expect.stringContaining(says) }))
  })

  it('gives every slot exactly one segment, for any sequence', () => {
    const sequence = fc.uniqueArray(fc.integer({ min: 1, max: 23 }), { minLength: 0, maxLength: 5 }).chain((cuts) =>
      fc.integer({ min: 24, max: 60 }).map((d) => ['0', ...cuts.sort((a, b) => a - b).map((c) => `${c}/${d}`), '1'].join(',')),
    )
    fc.assert(
      fc.property(sequence, fc.integer({ min: 0, max: 500 }), (seq, total) => {
        const stripes = segmentsOf(seq).map((x) => x.stripe)
        expect(owners(stripes, total + 1).every((o) => o >= 0)).toBe(true)
        expect(stripes.reduce((sum, st) => sum + scale(st, total), 0)).toBe(total)
      }),
      { numRuns: 200 },
    )
  })
})

describe('splitStripe', () => {
  it('deals a segment over worker threads without touching the other segments', () => {
    const segments = segmentsOf('0,1/4,1/2,1')
    const parts = segments.flatMap((seg) => [0, 1, 2].map((w) => splitStripe(seg.stripe, w, 3)))
    const owner = owners(parts, 96)
    // Every slot is someone's, and each worker's slots are its segment's.
    owner.forEach((o, slot) => expect(owners(segments.map((x) => x.stripe), 96)[slot]).toBe(Math.floor(o / 3)))
    expect(splitStripe(WHOLE, 1, 3)).toEqual({ cycle: 3, positions: [1] })
  })
})

describe('segmentOf', () => {
  const split = (scenarios: LoadTestOptions['scenarios'], sequence: string) => {
    const lt = resolveLoadTestOptions('t', { scenarios }, {})
    return segmentsOf(sequence).map((seg) => segmentOf(lt, seg.stripe))
  }

  it('scales VUs and shared iterations so the parts add up exactly', () => {
    const parts = split(
      {
        fixed: { scenario: s, executor: 'constant-vus', vus: 5, duration: '1s' },
        shared: { scenario: s, executor: 'shared-iterations', vus: 4, iterations: 9 },
      },
      '0,1/3,2/3,1',
    )
    const of = (key: string) => parts.map((p) => p.scenarios.find((x) => x.key === key))
    expect(of('fixed').map((x) => x?.vus)).toEqual([2, 2, 1])
    expect(of('shared').map((x) => [x?.vus, x?.iterations])).toEqual([[2, 3], [1, 3], [1, 3]])
    expect(parts.map((p) => p.workers)).toEqual([1, 1, 1])
  })

  it('keeps every shared iteration when there are fewer VUs than parts, each part with one VU at least', () => {
    const parts = split({ shared: { scenario: s, executor: 'shared-iterations', vus: 1, iterations: 6 } }, '0,1/3,2/3,1')
    expect(parts.map((p) => [p.scenarios[0]?.vus, p.scenarios[0]?.iterations])).toEqual([[1, 2], [1, 2], [1, 2]])
  })

  it('runs ramping-vus on the whole run\'s steps: at every step the parts together run the whole run\'s VUs', () => {
    const ramp = { scenario: s, executor: 'ramping-vus', startVUs: 0, stages: [{ duration: '10s', target: 10 }, { duration: '5s', target: 3 }] } as const
    const lt = resolveLoadTestOptions('t', { scenarios: { ramp: { ...ramp, stages: [...ramp.stages] } } }, {})
    const whole = vuSteps(0, lt.scenarios[0]!.ramp!.stages)
    const parts = segmentsOf('0,1/4,1/2,1').flatMap((seg) => [0, 1].map((w) => segmentOf(lt, splitStripe(seg.stripe, w, 2)).scenarios[0]!))
    const at = (steps: readonly VuStep[], ms: number) => steps.filter((st) => st.atMs <= ms).at(-1)?.vus ?? 0
    for (const step of whole) {
      expect(parts.reduce((n, p) => n + at(stripeSteps(vuSteps(0, p.ramp!.stages), p.stripe), step.atMs), 0), `at ${step.atMs}ms`).toBe(step.vus)
    }
    // VU 3 starts, on the part that owns it, when the whole run reaches 3 VUs.
    const third = parts.find((p) => slotAt(p.stripe, 0) === 2)!
    expect(stripeSteps(vuSteps(0, third.ramp!.stages), third.stripe)[1]).toEqual({ atMs: 3000, vus: 1 })
    expect(parts.reduce((n, p) => n + p.vus, 0)).toBe(10)
  })

  it('numbers the VUs of the parts apart: together exactly 1 … vus', () => {
    const parts = split({ fixed: { scenario: s, executor: 'constant-vus', vus: 10, duration: '1s' } }, '0,1/4,1/2,1')
    const numbers = parts.flatMap((p) => Array.from({ length: p.scenarios[0]!.vus }, (_, k) => slotAt(p.scenarios[0]!.stripe, k) + 1))
    expect(numbers.sort((a, b) => a - b)).toEqual(Array.from({ length: 10 }, (_, k) => k + 1))
  })

  it('drops a scenario from a part that has none of it', () => {
    const parts = split({ one: { scenario: s, executor: 'per-vu-iterations', vus: 1, iterations: 5 } }, '0,1/2,1')
    expect(parts.map((p) => p.scenarios.length)).toEqual([1, 0])
    expect(parts[0]!.scenarios[0]).toMatchObject({ vus: 1, iterations: 5 })
  })

  it('stripes arrival slots: segments split over workers together start exactly the slots of one', () => {
    const open: LoadTestOptions['scenarios'][string] = { scenario: s, executor: 'ramping-arrival-rate', startRate: 3, preAllocatedVUs: 2, maxVUs: 10, stages: [{ duration: '2s', target: 50 }, { duration: '1s', target: 0 }] }
    const all = ({ arrival, stripe }: ResolvedScenario) => {
      const plan = new ArrivalPlan(arrival!.startRate, arrival!.stages, stripe)
      const out: number[] = []
      for (let t = plan.next(); t !== undefined; t = plan.next()) out.push(t)
      return out
    }
    const lt = resolveLoadTestOptions('t', { scenarios: { open } }, {})
    const whole = all(lt.scenarios[0]!)
    const parts = segmentsOf('0,1/4,1/2,1').flatMap((seg) => [0, 1].map((w) => segmentOf(lt, splitStripe(seg.stripe, w, 2))))
    expect(parts.flatMap((p) => all(p.scenarios[0]!)).sort((a, b) => a - b)).toEqual(whole)
    // Each part keeps a VU pool of its own, at least one.
    expect(parts.map((p) => p.scenarios[0]!.arrival!.preAllocatedVUs)).toEqual([1, 1, 1, 1, 1, 1])
    expect(parts.reduce((n, p) => n + p.scenarios[0]!.arrival!.maxVUs, 0)).toBe(10)
  })
})

describe('planDigest', () => {
  const options = (vus: number): LoadTestOptions => ({
    scenarios: { main: { scenario: s, executor: 'constant-vus', vus, duration: '1s' } },
    thresholds: { http_reqs: ['count>0'] },
    http: { headers: { authorization: 'Bearer secret-token' } },
  })

  it('is the same for the same plan on every instance, whatever the worker count or segment', () => {
    const a = resolveLoadTestOptions('t', options(3), { CHAPERON_SEGMENT: '1/3' })
    const b = resolveLoadTestOptions('t', { ...options(3), workers: 2 }, { CHAPERON_SEGMENT: '3/3' })
    expect(planDigest(a)).toBe(planDigest(b))
    expect(planDigest(a)).toMatch(/^[0-9a-f]{16}$/)
  })

  it('differs when the plan differs', () => {
    expect(planDigest(resolveLoadTestOptions('t', options(3), {}))).not.toBe(planDigest(resolveLoadTestOptions('t', options(4), {})))
  })
})

describe('CHAPERON_SEGMENT and CHAPERON_START_AT', () => {
  const opts: LoadTestOptions = { scenarios: { main: { scenario: s, executor: 'constant-vus', vus: 3, duration: '1s' } } }

  it('are read from the environment', () => {
    const startAt = Date.now() + 60_000
    const lt = resolveLoadTestOptions('t', opts, { CHAPERON_SEGMENT: '1/4:3/4', CHAPERON_SEGMENT_SEQUENCE: '0,1/4,3/4,1', CHAPERON_START_AT: String(startAt) })
    expect(lt.segment?.label).toBe('1/4:3/4')
    expect(lt.startAt).toBe(startAt)
    expect(resolveLoadTestOptions('t', opts, { CHAPERON_SEGMENT: '' })).toMatchObject({ segment: undefined, startAt: undefined })
  })

  it.each([
    ['soon', 'epoch milliseconds'],
    [String(Math.floor(Date.now() / 1000)), 'looks like seconds'],
    [String(Date.now() + 2 * 86_400_000), 'more than a day ahead'],
  ])('refuses CHAPERON_START_AT=%s', (value, says) => {
    expect(() => resolveLoadTestOptions('t', opts, { CHAPERON_START_AT: value })).toThrow(expect.objectContaining({ code: 'CHAPERON_INVALID_OPTION', message: expect.stringContaining(says) }))
  })
})
