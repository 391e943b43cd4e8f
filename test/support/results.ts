// Helpers shared by the integration tests: run a load test in-process and read its result.
import { createServer, type AddressInfo } from 'node:net'
import { afterAll, beforeAll, expect } from 'vitest'
import { startTargetServer, type TargetServer } from '../../fixtures/servers/http.ts'
import type { LoadTestResult, SeriesResult } from '../../src/core/result.ts'
import type { LoadTestOptions } from '../../src/runtime/options.ts'
import { resolveLoadTestOptions } from '../../src/runtime/resolve-options.ts'
import { runLoadTest } from '../../src/runtime/run.ts'
import { type ScenarioFn, scenario } from '../../src/runtime/scenario.ts'

/** Runs a load test in-process and returns its result; fails the test on a misuse. */
export async function runResult(options: LoadTestOptions): Promise<LoadTestResult> {
  const { result, misuse } = await runLoadTest('t', resolveLoadTestOptions('t', options))
  expect(misuse).toBeUndefined()
  return result
}

/** One scenario `main` running `fn` with `vus` VUs for `iterations` iterations each. */
export function once(fn: ScenarioFn, vus = 1, iterations = 1): LoadTestOptions['scenarios'] {
  return { main: { scenario: scenario('s', fn), executor: 'per-vu-iterations', vus, iterations } }
}

/** Sum of a counter (or a rate's total / passes, or a trend's count) over the series matching `tags`. */
export function total(result: LoadTestResult, metric: string, tags: Record<string, string> = {}, field: 'value' | 'passes' | 'total' = 'value'): number {
  let n = 0
  for (const m of series(result, metric, tags)) {
    if (m.type === 'counter' && field === 'value') n += m.value
    else if (m.type === 'rate' && field !== 'value') n += m[field]
    else if (m.type === 'trend') n += m.trend.count
  }
  return n
}

/** The series of `metric` whose tags include `tags`. */
export function series(result: LoadTestResult, metric: string, tags: Record<string, string> = {}): SeriesResult[] {
  return result.metrics.filter((m) => m.metric === metric && Object.entries(tags).every(([k, v]) => m.tags[k] === v))
}

/**
 * Starts the bundled target server for the calling test file, and closes it
 * after. `url` is its base URL; `run` runs a load test against it.
 */
export function useTarget(): { readonly url: string; run(options: Omit<LoadTestOptions, 'baseUrl'> & { baseUrl?: string }): Promise<LoadTestResult> } {
  let target: TargetServer | undefined
  beforeAll(async () => {
    target = await startTargetServer()
  })
  afterAll(() => target?.close())
  return {
    get url() {
      if (target === undefined) throw new Error('the target server starts in beforeAll; use its url inside a test')
      return target.url
    },
    run(options) {
      return runResult({ baseUrl: this.url, ...options })
    },
  }
}

/** A port on 127.0.0.1 that was just free: bound, then closed, so nothing listens on it. */
export async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}
