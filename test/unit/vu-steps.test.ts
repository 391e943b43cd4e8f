import { describe, expect, it } from 'vitest'
import { vuSteps } from '../../src/runtime/executors/vu-steps.ts'

describe('vuSteps', () => {
  it('adds one VU each time the ramp reaches a whole number, and removes them the same way', () => {
    expect(vuSteps(0, [{ durationMs: 1000, target: 4 }, { durationMs: 500, target: 4 }, { durationMs: 1000, target: 2 }])).toEqual([
      { atMs: 0, vus: 0 },
      { atMs: 250, vus: 1 },
      { atMs: 500, vus: 2 },
      { atMs: 750, vus: 3 },
      { atMs: 1000, vus: 4 },
      { atMs: 2000, vus: 3 },
      { atMs: 2500, vus: 2 },
    ])
  })

  it('starts at startVUs and jumps at once for a stage of zero duration', () => {
    expect(vuSteps(3, [{ durationMs: 0, target: 10 }, { durationMs: 1000, target: 10 }, { durationMs: 0, target: 0 }])).toEqual([
      { atMs: 0, vus: 10 },
      { atMs: 1000, vus: 0 },
    ])
  })

  it('spaces a slow ramp exactly', () => {
    const steps = vuSteps(0, [{ durationMs: 30_000, target: 7 }])
    expect(steps.map((s) => s.vus)).toEqual([0, 1, 2, 3, 4, 5, 6, 7])
    steps.slice(1).forEach((s, i) => expect(s.atMs).toBeCloseTo(((i + 1) * 30_000) / 7, 9))
  })
})
