import { performance } from 'node:perf_hooks'
import { clearTimeout, setImmediate, setTimeout } from 'node:timers'
import type { HttpClient } from '../http/client.ts'
import { InflightRequests } from '../http/inflight.ts'
import type { MetricsRegistry } from '../metrics/registry.ts'
import { ScenarioMetrics } from '../metrics/scenario-metrics.ts'
import type { ResolvedScenario } from '../resolve-options.ts'
import { NEXT_ITERATION, type ScenarioContext, Session } from '../session.ts'

/** What a running scenario needs from its load test. */
export interface ScenarioDeps {
  client: HttpClient
  registry: MetricsRegistry
  /** Called with +1 when a VU starts and -1 when it ends. */
  onVuChange(delta: number): void
  /** Called when scenario code throws. */
  onError(scenario: string, error: unknown): void
}

/** Thrown into sessions that are cut off after the graceful stop. */
export class ScenarioStoppedError extends Error {
  constructor(scenario: string) {
    super(`scenario "${scenario}" was stopped after its graceful stop`)
    this.name = 'ScenarioStoppedError'
  }
}

// An iteration that never waits on I/O would otherwise starve timers and sockets.
const YIELD_EVERY = 64

/**
 * Runs `vus` VUs at once, each looping over the scenario until it has run
 * `iterations` times or `durationMs` has passed, then gives running iterations
 * `gracefulStopMs` before cutting them off. Serves `constant-vus` (unbounded
 * iterations), `per-vu-iterations` and Chaperon's `concurrency` (one iteration).
 *
 * Timers come from `node:timers` and the clock from `node:perf_hooks`, so a test
 * file's `vi.useFakeTimers()` cannot change the schedule.
 */
export async function runFixedVus(s: ResolvedScenario, deps: ScenarioDeps): Promise<void> {
  const controller = new AbortController()
  const inflight = new InflightRequests()
  const ctx: ScenarioContext = {
    name: s.key,
    client: deps.client,
    metrics: new ScenarioMetrics(deps.registry, s.tags),
    config: s.config,
    signal: controller.signal,
    inflight,
  }
  const end = performance.now() + s.durationMs
  const loops: Promise<void>[] = []
  for (let vu = 1; vu <= s.vus; vu++) loops.push(vuLoop(ctx, s, vu, end, deps))
  const all = Promise.all(loops)
  if (await settlesWithin(all, end + s.gracefulStopMs - performance.now())) return
  const reason = new ScenarioStoppedError(s.key)
  controller.abort(reason)
  inflight.abortAll(reason)
  // Scenario code that ignores the abort signal is left behind rather than hanging the test.
  await settlesWithin(all, 1000)
}

async function vuLoop(ctx: ScenarioContext, s: ResolvedScenario, vu: number, end: number, deps: ScenarioDeps): Promise<void> {
  deps.onVuChange(1)
  const session = new Session(ctx, vu)
  try {
    let now = performance.now()
    for (let i = 0; i < s.iterations && now < end && !ctx.signal.aborted; i++) {
      const started = now
      session[NEXT_ITERATION](i)
      try {
        await s.scenario.run(session)
      } catch (error) {
        if (ctx.signal.aborted) return
        deps.onError(s.key, error)
      }
      now = performance.now()
      ctx.metrics.recordIteration((now - started) * 1000)
      if (i % YIELD_EVERY === YIELD_EVERY - 1) await new Promise((resolve) => setImmediate(resolve))
    }
  } finally {
    deps.onVuChange(-1)
  }
}

/** Waits for `promise` at most `ms`; true when it settled in time. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(resolve, Math.max(0, ms), false)
  })
  try {
    return await Promise.race([promise.then(() => true), timeout])
  } finally {
    clearTimeout(timer)
  }
}
