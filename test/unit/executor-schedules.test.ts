import { readFile } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it, vi } from 'vitest'
import { Redactor } from '../../src/core/redact.ts'
import { runArrivalRate } from '../../src/runtime/executors/arrival-rate.ts'
import { type Clock, realClock } from '../../src/runtime/executors/clock.ts'
import { pace } from '../../src/runtime/executors/pacer.ts'
import { runFixedVus, type ScenarioDeps } from '../../src/runtime/executors/fixed-vus.ts'
import { runRampingVus } from '../../src/runtime/executors/ramping-vus.ts'
import { HttpClient } from '../../src/runtime/http/client.ts'
import { ErrorLog } from '../../src/runtime/metrics/error-log.ts'
import { MetricsRegistry } from '../../src/runtime/metrics/registry.ts'
import { ScenarioMetrics } from '../../src/runtime/metrics/scenario-metrics.ts'
import type { ScenarioOptions } from '../../src/runtime/options.ts'
import { resolveLoadTestOptions } from '../../src/runtime/resolve-options.ts'
import { scenario } from '../../src/runtime/scenario.ts'
import { settle, VirtualClock } from '../support/virtual-clock.ts'

/** Virtual times to the nanosecond, so float noise in the schedule's arithmetic does not fail `toEqual`. */
const round = (ms: number): number => Math.round(ms * 1e6) / 1e6

/**
 * Runs executors on `clock` with real metrics and no target. `timed` is a
 * scenario whose iterations record `[ms, vu, iteration]` when they start and
 * take `iterationMs` of the clock's time; it stops waiting when its session is
 * cut off, unless `heedsStop` is false.
 */
function harness(clock: Clock, iterationMs: number | ((vu: number) => number), heedsStop = true) {
  const registry = new MetricsRegistry()
  const errorLog = new ErrorLog()
  const client = new HttpClient({ baseUrl: undefined, connections: 1, headers: {}, timeoutMs: 1000 })
  const starts: Array<[number, number, number]> = []
  const ends: Array<[number, number, number, string]> = []
  const vus: Array<[number, number]> = []
  let active = 0
  const timed = scenario('timed', async (s) => {
    starts.push([round(clock.now()), s.vu, s.iteration])
    await clock.sleep(typeof iterationMs === 'number' ? iterationMs : iterationMs(s.vu), heedsStop ? s.abortSignal : undefined)
    ends.push([round(clock.now()), s.vu, s.iteration, s.abortSignal.aborted ? (s.abortSignal.reason as Error).name : 'finished'])
    s.abortSignal.throwIfAborted()
  })
  const deps: ScenarioDeps = {
    context: (s, signal, inflight) => ({
      name: s.key,
      client,
      metrics: new ScenarioMetrics(registry, s.tags, errorLog),
      config: s.config,
      signal,
      inflight,
      baseUrl: undefined,
      wsHeaders: client.defaultHeaders,
      insecure: false,
      logLevel: s.logLevel,
      redactor: new Redactor({ keys: [], values: [] }),
      interruptible: s.executor === 'ramping-vus',
      vuSlots: s.stripe,
      nextIterationInTest: (() => {
        let n = 0
        return () => n++
      })(),
      metricsFor: () => {
        throw new Error('no nested scenarios here')
      },
      onMisuse: (error) => {
        throw error
      },
    }),
    onVuChange: (delta) => {
      active += delta
      vus.push([round(clock.now()), active])
    },
    abort: new AbortController().signal,
    clock,
  }
  /** Starts the executor of `options`, as `runLoadTest()` would. */
  const start = (options: ScenarioOptions, d: ScenarioDeps = deps): Promise<void> => {
    const s = resolveLoadTestOptions('schedules', { scenarios: { main: options } }).scenarios[0]!
    return s.arrival !== undefined ? runArrivalRate(s, s.arrival, d) : s.ramp !== undefined ? runRampingVus(s, s.ramp, d) : runFixedVus(s, d)
  }
  /** The total of counter `metric`, and that no iteration failed. */
  const count = (metric: string): number => {
    expect(errorLog.toResults()).toEqual([])
    let total = 0
    for (const series of registry.series()) if (series.metric === metric && series.type === 'counter') total += series.value
    return total
  }
  return { timed, starts, ends, vus, deps, start, count }
}

describe('fixed-VU executors on a virtual clock', () => {
  it('constant-vus starts every VU at startTime and loops until duration, letting the last iterations finish', async () => {
    const clock = new VirtualClock()
    const h = harness(clock, 300)
    await clock.run(h.start({ scenario: h.timed, executor: 'constant-vus', vus: 2, duration: '1s', startTime: '200ms' }))
    expect(h.starts).toEqual([200, 500, 800, 1100].flatMap((ms, i) => [[ms, 1, i], [ms, 2, i]]))
    expect(h.count('iterations')).toBe(8)
    expect(h.vus).toEqual([[200, 1], [200, 2], [1400, 1], [1400, 0]])
    expect(clock.now()).toBe(1400)
  })

  it('per-vu-iterations starts no iteration once maxDuration has passed', async () => {
    const clock = new VirtualClock()
    const h = harness(clock, 300)
    await clock.run(h.start({ scenario: h.timed, executor: 'per-vu-iterations', vus: 1, iterations: 10, maxDuration: '1s' }))
    expect(h.starts).toEqual([[0, 1, 0], [300, 1, 1], [600, 1, 2], [900, 1, 3]])
    expect(clock.now()).toBe(1200)
  })

  it('shared-iterations hands the next iteration to whichever VU is free first', async () => {
    const clock = new VirtualClock()
    const h = harness(clock, (vu) => (vu === 1 ? 100 : 250))
    await clock.run(h.start({ scenario: h.timed, executor: 'shared-iterations', vus: 2, iterations: 5 }))
    expect(h.starts).toEqual([[0, 1, 0], [0, 2, 0], [100, 1, 1], [200, 1, 2], [250, 2, 1]])
    expect(h.count('iterations')).toBe(5)
    expect(clock.now()).toBe(500)
  })
})

describe('gracefulStop on a virtual clock', () => {
  it('lets an iteration running at the end finish within gracefulStop', async () => {
    const clock = new VirtualClock()
    const h = harness(clock, 400)
    await clock.run(h.start({ scenario: h.timed, executor: 'constant-vus', duration: '1s', gracefulStop: '300ms' }))
    expect(h.ends).toEqual([[400, 1, 0, 'finished'], [800, 1, 1, 'finished'], [1200, 1, 2, 'finished']])
    expect(h.count('iterations')).toBe(3)
    expect(clock.now()).toBe(1200)
  })

  it('cuts off an iteration still running after gracefulStop, without counting it', async () => {
    const clock = new VirtualClock()
    const h = harness(clock, 400)
    await clock.run(h.start({ scenario: h.timed, executor: 'constant-vus', duration: '1s', gracefulStop: '100ms' }))
    expect(h.ends).toEqual([[400, 1, 0, 'finished'], [800, 1, 1, 'finished'], [1100, 1, 2, 'ScenarioStoppedError']])
    expect(h.count('iterations')).toBe(2)
    expect(h.vus.at(-1)).toEqual([1100, 0])
    expect(clock.now()).toBe(1100)
  })

  it('leaves scenario code that ignores the hard stop behind 1 s after it', async () => {
    const clock = new VirtualClock()
    const h = harness(clock, 5000, false)
    await clock.run(h.start({ scenario: h.timed, executor: 'constant-vus', duration: '1s', gracefulStop: '200ms' }))
    expect(h.ends).toEqual([])
    expect(clock.now()).toBe(2200)
  })

  it('applies to arrival-rate iterations too', async () => {
    const clock = new VirtualClock()
    const h = harness(clock, 800)
    await clock.run(h.start({ scenario: h.timed, executor: 'constant-arrival-rate', rate: 2, duration: '1s', preAllocatedVUs: 2, gracefulStop: '200ms' }))
    expect(h.ends).toEqual([[800, 2, 0, 'finished'], [1200, 1, 0, 'ScenarioStoppedError']])
    expect(h.count('iterations')).toBe(1)
    expect(clock.now()).toBe(1200)
  })
})

describe('arrival-rate executors on a virtual clock', () => {
  it('constant-arrival-rate starts iterations evenly from startTime', async () => {
    const clock = new VirtualClock()
    const h = harness(clock, 50)
    await clock.run(h.start({ scenario: h.timed, executor: 'constant-arrival-rate', rate: 10, duration: '1s', startTime: '500ms', preAllocatedVUs: 2 }))
    // The VU freed last is taken first, so with 50 ms iterations VU 2 takes every one.
    expect(h.starts).toEqual([500, 600, 700, 800, 900, 1000, 1100, 1200, 1300, 1400].map((ms, i) => [ms, 2, i]))
    expect(h.count('iterations')).toBe(10)
    expect(h.count('dropped_iterations')).toBe(0)
    expect(clock.now()).toBe(1450)
  })

  it('ramping-arrival-rate starts iteration i when the area under the rate reaches i', async () => {
    const clock = new VirtualClock()
    const h = harness(clock, 50)
    const stages = [{ duration: '1s', target: 10 }, { duration: '1s', target: 10 }, { duration: '1s', target: 0 }]
    await clock.run(h.start({ scenario: h.timed, executor: 'ramping-arrival-rate', startRate: 0, stages, preAllocatedVUs: 2 }))
    // 0→10/s over 1 s: 5t² iterations by t s; then 10/s; then 10→0/s: 10t - 5t² more.
    const rampUp = [0, 1, 2, 3, 4].map((i) => 1000 * Math.sqrt(i / 5))
    const steady = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => 1000 + 100 * i)
    const rampDown = [0, 1, 2, 3, 4].map((j) => 2000 + 1000 * (1 - Math.sqrt(1 - j / 5)))
    expect(h.starts.map(([ms]) => ms)).toEqual([...rampUp, ...steady, ...rampDown].map(round))
    expect(h.count('iterations')).toBe(20)
  })

  it('allocates VUs up to maxVUs and drops the iterations no VU is free for', async () => {
    const clock = new VirtualClock()
    const h = harness(clock, 250)
    await clock.run(h.start({ scenario: h.timed, executor: 'constant-arrival-rate', rate: 10, duration: '1s', preAllocatedVUs: 1, maxVUs: 2 }))
    // Due at 200, 500 and 800 ms, with both VUs busy.
    expect(h.starts).toEqual([[0, 1, 0], [100, 2, 0], [300, 1, 1], [400, 2, 1], [600, 1, 2], [700, 2, 2], [900, 1, 3]])
    expect(h.count('iterations')).toBe(7)
    expect(h.count('dropped_iterations')).toBe(3)
    expect(h.vus).toEqual([[0, 1], [100, 2], [1150, 0]])
  })
})

describe('arrival-rate pacing on a virtual clock', () => {
  // 1.5 iterations per ms: slots at 0, ⅔, 1⅓, 2, 2⅔ and 3⅓ ms.
  const slots = [0, 1, 2, 3, 4, 5].map((i) => round(i / 1.5))
  const fast = { executor: 'constant-arrival-rate', rate: 1500, duration: '4ms', preAllocatedVUs: 6 } as const

  it('timer pacing starts a slot due within 1 ms when it wakes, early', async () => {
    const clock = new VirtualClock()
    const h = harness(clock, 0)
    await clock.run(h.start({ scenario: h.timed, ...fast }))
    expect(h.starts.map(([ms]) => ms)).toEqual([0, 0, round(4 / 3), round(4 / 3), round(8 / 3), round(8 / 3)])
  })

  it('spin pacing starts every slot at its time, none early', async () => {
    const clock = new VirtualClock()
    const h = harness(clock, 0)
    await clock.run(h.start({ scenario: h.timed, ...fast, pacing: 'spin' as const }))
    expect(h.starts.map(([ms]) => ms)).toEqual(slots)
  })

  it('spin pacing sleeps until 2 ms before a slot and spins only from there', async () => {
    const clock = new VirtualClock()
    // [when, until] of each spin.
    const spins: Array<[number, number]> = []
    const spin = clock.spin.bind(clock)
    clock.spin = (at, signal) => {
      spins.push([round(clock.now()), round(at)])
      return spin(at, signal)
    }
    const h = harness(clock, 10)
    await clock.run(h.start({ scenario: h.timed, executor: 'constant-arrival-rate', rate: 10, duration: '300ms', preAllocatedVUs: 1, pacing: 'spin' }))
    expect(h.starts.map(([ms]) => ms)).toEqual([0, 100, 200])
    expect(spins).toEqual([[0, 0], [98, 100], [198, 200]])
  })
})

/** A clock the test sets by hand. Its timers fire only when the test says so: as timers do when the event loop is busy. */
class HeldClock implements Clock {
  time = 0
  readonly #timers: Array<{ at: number; fire: () => void }> = []

  now(): number {
    return this.time
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (ms <= 0 || signal?.aborted) return Promise.resolve()
    return new Promise((resolve) => {
      this.#timers.push({ at: this.time + ms, fire: resolve })
      signal?.addEventListener('abort', () => resolve(), { once: true })
    })
  }

  yield(): Promise<void> {
    return Promise.resolve()
  }

  spin(at: number, signal: AbortSignal): Promise<void> {
    return this.sleep(at - this.time, signal)
  }

  /** Fires the timers due by `until` (default: now). */
  fireDue(until = this.time): void {
    for (const timer of this.#timers.filter((t) => t.at <= until)) {
      this.#timers.splice(this.#timers.indexOf(timer), 1)
      timer.fire()
    }
  }
}


describe('arrival-rate slots started between timers', () => {
  it('starts a slot that fell due during busy I/O when the HTTP client calls pace(), in a microtask', async () => {
    const clock = new HeldClock()
    const h = harness(clock, 0)
    const done = h.start({ scenario: h.timed, executor: 'constant-arrival-rate', rate: 10, duration: '1s', preAllocatedVUs: 1, maxVUs: 10 })
    await settle()
    expect(h.starts).toEqual([[0, 1, 0]])
    // Slot 1 was due at 100 ms; the executor's timer for it has not fired.
    clock.time = 150
    await settle()
    expect(h.starts).toHaveLength(1)
    pace()
    expect(h.starts).toHaveLength(1)
    await settle()
    expect(h.starts).toEqual([[0, 1, 0], [150, 1, 1]])
    // Slot 2 (200 ms) is not due yet: pace() starts nothing early.
    pace()
    await settle()
    expect(h.starts).toHaveLength(2)
    clock.time = 1000
    clock.fireDue()
    await done
    expect(h.starts.map(([ms]) => ms)).toEqual([0, 150, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000])
    expect(h.count('iterations')).toBe(10)
  })

  it('starts a slot that fell due when an iteration ends, on the VU that just became free, not dropping it before', async () => {
    const clock = new HeldClock()
    const h = harness(clock, 50)
    const done = h.start({ scenario: h.timed, executor: 'constant-arrival-rate', rate: 10, duration: '200ms', preAllocatedVUs: 1, maxVUs: 1 })
    await settle()
    expect(h.starts).toEqual([[0, 1, 0]])
    // At 120 ms the first iteration ends (its 50 ms timer fires late), after slot 1 fell due at
    // 100 ms; the executor's own timer for slot 1 has not fired.
    clock.time = 120
    // Another request's response asks first, while VU 1 is busy and maxVUs is reached:
    // slot 1 waits for a VU rather than being dropped.
    pace()
    await settle()
    expect(h.starts).toEqual([[0, 1, 0]])
    clock.fireDue(50)
    await settle()
    expect(h.starts).toEqual([[0, 1, 0], [120, 1, 1]])
    clock.time = 1000
    clock.fireDue()
    await done
    expect(h.count('iterations')).toBe(2)
    expect(h.count('dropped_iterations')).toBe(0)
  })
})

describe('ramping-vus on a virtual clock', () => {
  // VUs 0→2 over 200 ms (one more at 100 and 200), 2 until 500, 2→0 over 200 ms (one fewer at 600 and 700).
  const stages = [{ duration: '200ms', target: 2 }, { duration: '300ms', target: 2 }, { duration: '200ms', target: 0 }]
  const starts = [[100, 1, 0], [200, 2, 0], [230, 1, 1], [330, 2, 1], [360, 1, 2], [460, 2, 2], [490, 1, 3], [590, 2, 3], [620, 1, 4]]

  it('starts and stops VUs as the target moves, and lets a VU taken away finish within gracefulRampDown', async () => {
    const clock = new VirtualClock()
    const h = harness(clock, 130)
    const done = h.start({ scenario: h.timed, executor: 'ramping-vus', startVUs: 0, stages, gracefulRampDown: '150ms' })
    await clock.advance(250)
    expect(h.starts).toEqual(starts.slice(0, 3))
    expect(h.vus).toEqual([[100, 1], [200, 2]])
    await clock.run(done)
    expect(h.starts).toEqual(starts)
    // VU 2, taken away at 600, finishes at 720; VU 1, taken away at the end (700), gets gracefulStop instead.
    expect(h.ends.slice(-2)).toEqual([[720, 2, 3, 'finished'], [750, 1, 4, 'finished']])
    expect(h.count('iterations')).toBe(9)
    expect(h.vus).toEqual([[100, 1], [200, 2], [720, 1], [750, 0]])
    expect(clock.now()).toBe(750)
  })

  it('cuts off the iteration of a VU still busy after gracefulRampDown, without counting it', async () => {
    const clock = new VirtualClock()
    const h = harness(clock, 130)
    await clock.run(h.start({ scenario: h.timed, executor: 'ramping-vus', startVUs: 0, stages, gracefulRampDown: '40ms' }))
    expect(h.starts).toEqual(starts)
    // VU 2 is cut off at 600 + 40; VU 1's iteration at the end outlives 700 + 40, as gracefulStop allows.
    expect(h.ends.slice(-2)).toEqual([[640, 2, 3, 'RampedDown'], [750, 1, 4, 'finished']])
    expect(h.count('iterations')).toBe(8)
    expect(h.vus).toEqual([[100, 1], [200, 2], [640, 1], [750, 0]])
  })

  it('keeps a VU brought back within gracefulRampDown running, without cutting it off later', async () => {
    const clock = new VirtualClock()
    const h = harness(clock, 150)
    // VU 2 is taken away at 100, in its first iteration, and brought back at 120: 140 must not cut it off.
    const back = [{ duration: '100ms', target: 1 }, { duration: '20ms', target: 2 }, { duration: '180ms', target: 2 }]
    await clock.run(h.start({ scenario: h.timed, executor: 'ramping-vus', startVUs: 2, stages: back, gracefulRampDown: '40ms' }))
    expect(h.starts).toEqual([[0, 1, 0], [0, 2, 0], [150, 1, 1], [150, 2, 1]])
    expect(h.ends.every(([, , , outcome]) => outcome === 'finished')).toBe(true)
    expect(h.vus).toEqual([[0, 1], [0, 2], [300, 1], [300, 0]])
  })
})

describe('the real clock', () => {
  it('spins until a time, letting timers and I/O run meanwhile', async () => {
    const at = performance.now() + 200
    let timerRan = -1
    let fileRead = -1
    setTimeout(() => (timerRan = performance.now()), 5)
    void readFile(new URL(import.meta.url)).then(() => (fileRead = performance.now()))
    await realClock.spin(at, new AbortController().signal)
    expect(performance.now()).toBeGreaterThanOrEqual(at)
    expect(timerRan).toBeGreaterThan(0)
    expect(timerRan).toBeLessThan(at)
    expect(fileRead).toBeGreaterThan(0)
    expect(fileRead).toBeLessThan(at)
  })

  it('stops spinning when its signal aborts', async () => {
    const abort = new AbortController()
    const t0 = performance.now()
    setTimeout(() => abort.abort(), 5)
    await realClock.spin(t0 + 60_000, abort.signal)
    expect(performance.now() - t0).toBeLessThan(5000)
  })

  it('keeps real time under vi.useFakeTimers()', async () => {
    vi.useFakeTimers()
    try {
      // The test's own clock stands still; the executor's goes on.
      const frozen = performance.now()
      const h = harness(realClock, 0)
      const real = scenario('real', () => sleep(20))
      const t0 = realClock.now()
      await h.start({ scenario: real, executor: 'constant-vus', duration: '100ms' }, { ...h.deps, clock: undefined })
      const elapsed = realClock.now() - t0
      expect(performance.now()).toBe(frozen)
      expect(elapsed).toBeGreaterThanOrEqual(100)
      expect(elapsed).toBeLessThan(2000)
      expect(h.count('iterations')).toBeGreaterThanOrEqual(2)
      expect(h.count('iterations')).toBeLessThanOrEqual(6)
    } finally {
      vi.useRealTimers()
    }
  })
})
