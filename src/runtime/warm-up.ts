import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { performance } from 'node:perf_hooks'
import { createHistogram, recordMicros } from '../core/histogram.ts'
import { trendPoint } from '../core/timeline.ts'
import { HttpClient } from './http/client.ts'
import { ErrorLog } from './metrics/error-log.ts'
import { MetricsRegistry } from './metrics/registry.ts'
import { resolveLoadTestOptions } from './resolve-options.ts'
import { runHere } from './run.ts'
import { scenario } from './scenario.ts'

/**
 * How the thread's request path is warmed: a `constant-arrival-rate` of
 * GETs against a sink in this thread. About 600 iterations, enough for V8 to
 * optimise the functions every request goes through, in about 0.4 s; a
 * warm-up that takes longer than `limitMs` (a starved machine) is cut off.
 */
const WARM_UP = { rate: 2000, durationMs: 300, vus: 20, limitMs: 2000, summaries: 40 } as const

const warmUpScenario = scenario('chaperon warm-up', async (s) => {
  await s.get('/')
})

let warmed: Promise<void> | undefined

/**
 * Warms this thread's request path once, before its first arrival-rate run.
 *
 * Node compiles code as it first runs, so a cold process takes several times
 * longer per request for its first few hundred: at thousands of iterations a
 * second, the first second of a run then starts hundreds of slots late and
 * piles up VUs. Before the first arrival-rate scenario of a thread, chaperon
 * therefore runs the same executor, session, HTTP client and metrics for
 * 0.3 s against a plain HTTP/1.1 sink it serves itself on 127.0.0.1, then
 * the per-second summaries (`warmSummaries`), and throws the measurements
 * away. Nothing is sent to the load test's target. Set `CHAPERON_WARM_UP=0` (or `false`) to skip it. A warm-up that fails
 * only means a colder start, so it never fails the load test.
 */
export function warmUpOnce(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  if (env.CHAPERON_WARM_UP === '0' || env.CHAPERON_WARM_UP === 'false') return Promise.resolve()
  warmed ??= warmUp().catch(() => {})
  return warmed
}

async function warmUp(): Promise<void> {
  const sink = await startSink()
  try {
    const baseUrl = `http://127.0.0.1:${sink.port}`
    const lt = resolveLoadTestOptions('chaperon warm-up', {
      baseUrl,
      scenarios: {
        warmUp: {
          scenario: warmUpScenario,
          executor: 'constant-arrival-rate',
          rate: WARM_UP.rate,
          duration: `${WARM_UP.durationMs}ms`,
          gracefulStop: '0s',
          preAllocatedVUs: WARM_UP.vus,
          maxVUs: 5 * WARM_UP.vus,
        },
      },
      // No environment: a segment or start time of the load test is not the warm-up's.
    }, {})
    const client = new HttpClient({ baseUrl: new URL(baseUrl), connections: WARM_UP.vus, headers: {}, timeoutMs: WARM_UP.limitMs })
    await runHere(lt, client, new MetricsRegistry(), new ErrorLog(), AbortSignal.timeout(WARM_UP.limitMs), performance.now(), () => {})
  } finally {
    await sink.close()
  }
  warmSummaries()
}

/**
 * The run closes each second by summarising and encoding every trend's
 * histogram, a dozen or so calls a second: too few for V8 to optimise them
 * for several seconds, while one unoptimised call on a histogram that spans
 * milliseconds to seconds takes up to 5 ms. So they are run here on such a
 * histogram until they are, about 35 ms.
 */
function warmSummaries(): void {
  const histogram = createHistogram()
  for (let us = 50; us < 5_000_000; us = Math.ceil(us * 1.01)) recordMicros(histogram, us)
  for (let i = 0; i < WARM_UP.summaries; i++) trendPoint(i, histogram)
}

/** An HTTP/1.1 sink on 127.0.0.1 that answers every request with `200 ok`. */
async function startSink(): Promise<{ port: number; close(): Promise<void> }> {
  const server = createServer((_req, res) => res.end('ok'))
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
