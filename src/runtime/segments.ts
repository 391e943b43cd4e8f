import type { ResolvedLoadTest, ResolvedScenario } from './resolve-options.ts'

/**
 * Worker `index`'s part of `total` when it is split over `count` workers: the
 * parts differ by at most one and add up to `total` exactly.
 */
export function share(total: number, index: number, count: number): number {
  return Math.floor((total * (index + 1)) / count) - Math.floor((total * index) / count)
}

/**
 * The part of a load test that worker `index` of `count` runs: VUs, iterations
 * and stage targets split with `share`, arrival slots striped (slot i goes to
 * worker i % count), so the workers together run exactly the plan of one.
 * Scenarios with nothing left for this worker are dropped. VU numbers continue
 * from the workers before, so `s.vu` stays unique across workers.
 */
export function segmentOf(lt: ResolvedLoadTest, index: number, count: number): ResolvedLoadTest {
  const scenarios = lt.scenarios.flatMap((s) => {
    const part = segmentScenario(s, index, count)
    return part === undefined ? [] : [part]
  })
  const vusMax = scenarios.reduce((sum, s) => sum + s.vus, 0)
  return { ...lt, scenarios, vusMax, workers: 1, http: { ...lt.http, connections: Math.max(1, share(lt.http.connections, index, count)) } }
}

function segmentScenario(s: ResolvedScenario, index: number, count: number): ResolvedScenario | undefined {
  const own = partOf(s, index, count)
  if (own === undefined) return undefined
  let vuOffset = s.vuOffset
  for (let i = 0; i < index; i++) vuOffset += partOf(s, i, count)?.vus ?? 0
  return { ...own, vuOffset }
}

/** Worker `index`'s part of one scenario, before its VU numbers are offset. */
function partOf(s: ResolvedScenario, index: number, count: number): ResolvedScenario | undefined {
  if (s.arrival !== undefined) {
    // Every worker has slots to start, so each keeps at least one VU.
    const preAllocatedVUs = Math.max(1, share(s.arrival.preAllocatedVUs, index, count))
    const maxVUs = Math.max(preAllocatedVUs, share(s.arrival.maxVUs, index, count))
    return { ...s, vus: maxVUs, arrival: { ...s.arrival, preAllocatedVUs, maxVUs, stripe: { index, count } } }
  }
  if (s.ramp !== undefined) {
    const startVUs = share(s.ramp.startVUs, index, count)
    const stages = s.ramp.stages.map((st) => ({ ...st, target: share(st.target, index, count) }))
    const most = Math.max(startVUs, ...stages.map((st) => st.target))
    return most === 0 ? undefined : { ...s, vus: most, ramp: { ...s.ramp, startVUs, stages } }
  }
  const vus = share(s.vus, index, count)
  if (vus === 0) return undefined
  if (!s.sharedIterations) return { ...s, vus }
  const iterations = share(s.iterations, index, count)
  return iterations === 0 ? undefined : { ...s, vus, iterations }
}
