import { describe, expect, it } from 'vitest'
import { ArrivalPlan } from '../../src/runtime/executors/arrival-plan.ts'

function offsets(plan: ArrivalPlan, max = 100_000): number[] {
  const out: number[] = []
  for (let t = plan.next(); t !== undefined && out.length < max; t = plan.next()) out.push(t)
  return out
}

describe('ArrivalPlan', () => {
  it('spaces a constant rate evenly from zero, ending before the duration', () => {
    // 5 per second for 2 s: 10 iterations, every 200 ms.
    const starts = offsets(new ArrivalPlan(5 / 1000, [{ durationMs: 2000, target: 5 / 1000 }]))
    expect(starts).toHaveLength(10)
    starts.forEach((t, i) => expect(t).toBeCloseTo(i * 200, 9))
  })

  it('follows the area under a linear ramp exactly', () => {
    // 0 → 10 per second over 2 s: 10 iterations.
    const starts = offsets(new ArrivalPlan(0, [{ durationMs: 2000, target: 10 / 1000 }]))
    expect(starts).toHaveLength(10)
    // rate(t) = t/200000 per ms, so count(t) = t²/400000 and iteration i starts at √(400000·i).
    starts.forEach((t, i) => expect(t).toBeCloseTo(Math.sqrt(400_000 * i), 6))
    // Ever closer together as the rate climbs.
    for (let i = 2; i < starts.length; i++) expect(starts[i]! - starts[i - 1]!).toBeLessThan(starts[i - 1]! - starts[i - 2]!)
  })

  it('carries the count across stages, including a ramp down and a pause at zero', () => {
    const plan = new ArrivalPlan(10 / 1000, [
      { durationMs: 1000, target: 10 / 1000 }, // 10 iterations at 0, 100, …, 900
      { durationMs: 1000, target: 0 }, // 5 more while the rate falls to 0
      { durationMs: 1000, target: 0 }, // none
      { durationMs: 1000, target: 4 / 1000 }, // 2 more while it climbs to 4/s
    ])
    const starts = offsets(plan)
    expect(starts).toHaveLength(17)
    starts.slice(0, 10).forEach((t, i) => expect(t).toBeCloseTo(i * 100, 9))
    // Falling stage: count(t) = 10 + 0.01·t − t²/200000; the 11th iteration (i = 10) starts at t = 0 of it.
    expect(starts[10]).toBeCloseTo(1000, 9)
    expect(starts.slice(10, 15).every((t) => t >= 1000 && t < 2000)).toBe(true)
    expect(starts.slice(15).every((t) => t >= 3000 && t < 4000)).toBe(true)
    // Rising 0 → 4/s over 1 s: count(t) = t²/500000 after 3000; iteration 15 at 3000, 16 at 3000 + √500000.
    expect(starts[15]).toBeCloseTo(3000, 9)
    expect(starts[16]).toBeCloseTo(3000 + Math.sqrt(500_000), 6)
    expect(plan.next()).toBeUndefined()
  })

  it('gives the same total as rate × duration for high rates', () => {
    const starts = offsets(new ArrivalPlan(5, [{ durationMs: 30_000, target: 5 }]), 200_000)
    expect(starts).toHaveLength(150_000)
    expect(starts.at(-1)).toBeCloseTo(29_999.8, 6)
  })

  it('splits into stripes whose union is exactly the unsplit plan', () => {
    const stages = [
      { durationMs: 1500, target: 40 / 1000 },
      { durationMs: 1000, target: 0 },
    ]
    const whole = offsets(new ArrivalPlan(5 / 1000, stages))
    const stripes = [0, 1, 2].map((index) => offsets(new ArrivalPlan(5 / 1000, stages, { cycle: 3, positions: [index] })))
    expect(stripes.map((s) => s.length)).toEqual([0, 1, 2].map((index) => whole.filter((_, i) => i % 3 === index).length))
    expect(stripes.flat().sort((a, b) => a - b)).toEqual(whole)
    expect(stripes[1]![0]).toBe(whole[1])
  })
})
