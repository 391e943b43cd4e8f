import { describe, expect, it } from 'vitest'
import { ArrivalPlan } from '../../src/runtime/executors/arrival-plan.ts'
import type { LoadTestOptions } from '../../src/runtime/options.ts'
import { resolveLoadTestOptions } from '../../src/runtime/resolve-options.ts'
import { scenario } from '../../src/runtime/scenario.ts'
import { segmentOf, share } from '../../src/runtime/segments.ts'

const s = scenario('s', async () => {})

function split(scenarios: LoadTestOptions['scenarios'], count: number) {
  const lt = resolveLoadTestOptions('t', { scenarios, workers: count })
  return Array.from({ length: count }, (_, i) => segmentOf(lt, i, count))
}

describe('share', () => {
  it('splits any total into parts that differ by at most one and add up exactly', () => {
    for (const count of [1, 2, 3, 7]) {
      for (const total of [0, 1, 2, 5, 10, 99, 1000]) {
        const parts = Array.from({ length: count }, (_, i) => share(total, i, count))
        expect(parts.reduce((a, b) => a + b, 0)).toBe(total)
        expect(Math.max(...parts) - Math.min(...parts)).toBeLessThanOrEqual(1)
      }
    }
  })
})

describe('segmentOf', () => {
  it('splits VUs, shared iterations and stage targets, numbering VUs apart', () => {
    const parts = split(
      {
        fixed: { scenario: s, executor: 'constant-vus', vus: 5, duration: '1s' },
        shared: { scenario: s, executor: 'shared-iterations', vus: 4, iterations: 9 },
        ramp: { scenario: s, executor: 'ramping-vus', startVUs: 0, stages: [{ duration: '1s', target: 7 }, { duration: '1s', target: 2 }] },
      },
      3,
    )
    const of = (key: string) => parts.map((p) => p.scenarios.find((x) => x.key === key))
    expect(of('fixed').map((x) => x?.vus)).toEqual([1, 2, 2])
    expect(of('fixed').map((x) => x?.vuOffset)).toEqual([0, 1, 3])
    expect(of('shared').map((x) => [x?.vus, x?.iterations])).toEqual([[1, 3], [1, 3], [2, 3]])
    expect(of('ramp').map((x) => x?.ramp?.stages.map((st) => st.target))).toEqual([[2, 0], [2, 1], [3, 1]])
    expect(of('ramp').map((x) => x?.vuOffset)).toEqual([0, 2, 4])
    expect(parts.map((p) => p.workers)).toEqual([1, 1, 1])
  })

  it('drops a scenario from a worker that has no part of it', () => {
    const parts = split({ one: { scenario: s, executor: 'per-vu-iterations', vus: 1, iterations: 5 } }, 2)
    expect(parts.map((p) => p.scenarios.length)).toEqual([0, 1])
    expect(parts[1]!.scenarios[0]).toMatchObject({ vus: 1, iterations: 5, vuOffset: 0 })
  })

  it('stripes arrival slots: the workers together start exactly the slots of one', () => {
    const parts = split({ open: { scenario: s, executor: 'ramping-arrival-rate', startRate: 3, preAllocatedVUs: 2, maxVUs: 10, stages: [{ duration: '2s', target: 50 }, { duration: '1s', target: 0 }] } }, 3)
    const all = (arrival: { startRate: number; stages: ReadonlyArray<{ durationMs: number; target: number }>; stripe?: { index: number; count: number } }) => {
      const plan = new ArrivalPlan(arrival.startRate, arrival.stages, arrival.stripe)
      const out: number[] = []
      for (let t = plan.next(); t !== undefined; t = plan.next()) out.push(t)
      return out
    }
    const whole = all(resolveLoadTestOptions('t', { scenarios: { open: { scenario: s, executor: 'ramping-arrival-rate', startRate: 3, preAllocatedVUs: 2, maxVUs: 10, stages: [{ duration: '2s', target: 50 }, { duration: '1s', target: 0 }] } } }).scenarios[0]!.arrival!)
    const striped = parts.flatMap((p) => all(p.scenarios[0]!.arrival!))
    expect(striped.sort((a, b) => a - b)).toEqual(whole)
    // Each worker keeps a VU pool of its own, at least one.
    expect(parts.map((p) => [p.scenarios[0]!.arrival!.preAllocatedVUs, p.scenarios[0]!.arrival!.maxVUs])).toEqual([[1, 3], [1, 3], [1, 4]])
    expect(parts.map((p) => p.scenarios[0]!.vuOffset)).toEqual([0, 3, 6])
  })
})
