import { createHash } from 'node:crypto'
import { scale, type Stripe } from '../core/segment.ts'
import type { ResolvedLoadTest, ResolvedScenario } from './resolve-options.ts'

/**
 * The part of a load test that owns `stripe` of its slots (a segment of a
 * split run, one worker thread's share of it, or both): VUs and shared
 * iterations become the number of slots below them that the stripe owns,
 * `ramping-vus` runs the stripe's VU numbers on the whole run's steps, and
 * arrival-rate executors start only the stripe's slots.
 * The parts of a plan therefore run exactly the plan of one, VU numbers
 * included. Scenarios with nothing left for this part are dropped.
 */
export function segmentOf(lt: ResolvedLoadTest, stripe: Stripe): ResolvedLoadTest {
  const scenarios = lt.scenarios.flatMap((s) => {
    const part = partOf(s, stripe)
    return part === undefined ? [] : [{ ...part, stripe }]
  })
  const vusMax = scenarios.reduce((sum, s) => sum + s.vus, 0)
  return { ...lt, scenarios, vusMax, workers: 1, http: { ...lt.http, connections: Math.max(1, scale(stripe, lt.http.connections)) } }
}

/** `stripe`'s part of one scenario. */
function partOf(s: ResolvedScenario, stripe: Stripe): ResolvedScenario | undefined {
  if (s.arrival !== undefined) {
    // Every part has slots to start, so each keeps at least one VU.
    const preAllocatedVUs = Math.max(1, scale(stripe, s.arrival.preAllocatedVUs))
    const maxVUs = Math.max(preAllocatedVUs, scale(stripe, s.arrival.maxVUs))
    return { ...s, vus: maxVUs, arrival: { ...s.arrival, preAllocatedVUs, maxVUs } }
  }
  if (s.ramp !== undefined) {
    // The part follows the whole run's steps (stripeSteps); `vus` is the most it runs at once.
    const vus = scale(stripe, s.vus)
    return vus === 0 ? undefined : { ...s, vus }
  }
  if (s.sharedIterations) {
    // A part with iterations to run keeps at least one VU to run them.
    const iterations = scale(stripe, s.iterations)
    return iterations === 0 ? undefined : { ...s, vus: Math.max(1, scale(stripe, s.vus)), iterations }
  }
  const vus = scale(stripe, s.vus)
  return vus === 0 ? undefined : { ...s, vus }
}

/**
 * A digest of what a load test plans to do, the same on every instance of a
 * split run from the same code and config: its scenarios and executors, its
 * thresholds and its HTTP options (header names, not values). Worker counts,
 * secrets and `baseUrl` are left out: instances may reach one service by
 * different addresses.
 */
export function planDigest(lt: ResolvedLoadTest): string {
  const plan = {
    scenarios: lt.scenarios.map(({ scenario, stripe: _, logLevel: __, ...s }) => ({ ...s, scenario: scenario.name })),
    thresholds: lt.thresholds.map((t) => [t.key, t.expression]),
    http: { ...lt.http, headers: Object.keys(lt.http.headers).sort(), authorization: lt.http.authorization !== undefined },
  }
  return createHash('sha256').update(JSON.stringify(plan, sortedKeys)).digest('hex').slice(0, 16)
}

/** A JSON.stringify replacer that writes object keys sorted, so equal plans give equal text. */
function sortedKeys(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value
  return Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
}
