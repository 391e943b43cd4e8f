// The entry of a worker thread that runs part of a load test (see workers.ts):
// it takes the parent's feeders, loads the scenarios from their modules, waits
// for the common start, runs its part and streams its metrics to the parent
// second by second.
import { performance } from 'node:perf_hooks'
import { pathToFileURL } from 'node:url'
import { parentPort, workerData } from 'node:worker_threads'
import { ChaperonError } from '../core/errors.ts'
import { realClock } from './executors/clock.ts'
import { adoptFeeders } from './feeder/registry.ts'
import { ErrorLog } from './metrics/error-log.ts'
import { MetricsRegistry } from './metrics/registry.ts'
import type { ResolvedLoadTest } from './resolve-options.ts'
import { openClient, runHere } from './run.ts'
import { isScenario, type Scenario } from './scenario.ts'
import type { FromWorker, ScenarioRef, ShippedError, ToWorker, WorkerData } from './workers.ts'

const port = parentPort!
const send = (m: FromWorker): void => port.postMessage(m)
const { lt: shipped, feeders } = workerData as WorkerData
// Before the scenario modules load, so that the feeders they declare find the parent's rows.
adoptFeeders(feeders, shipped.segment)

let lt: ResolvedLoadTest
try {
  const scenarios = new Map<string, Scenario>()
  for (const s of shipped.scenarios) {
    const key = `${s.scenario.file}\0${s.scenario.name}`
    if (!scenarios.has(key)) scenarios.set(key, await load(s.scenario, s.key))
  }
  lt = {
    ...shipped,
    baseUrl: shipped.baseUrl === undefined ? undefined : new URL(shipped.baseUrl),
    scenarios: shipped.scenarios.map((s) => ({ ...s, scenario: scenarios.get(`${s.scenario.file}\0${s.scenario.name}`)! })),
  }
} catch (error) {
  send({ type: 'failed', error: shipError(error) })
  process.exit(1)
}

const client = await openClient(lt)
const abort = new AbortController()
port.on('message', (m: ToWorker) => {
  if (m.type === 'start') void run(m.startAt)
  else abort.abort(new Error(m.message))
})
send({ type: 'ready' })

async function run(startAt: number): Promise<void> {
  const t0 = startAt - performance.timeOrigin
  await realClock.sleep(t0 - performance.now(), abort.signal)
  const errorLog = new ErrorLog()
  const misuse = await runHere(lt, client, new MetricsRegistry(), errorLog, abort.signal, t0, (t, samples) => send({ type: 'second', t, samples }))
  send({ type: 'done', errors: errorLog.toResults(), ...(misuse === undefined ? {} : { misuse: shipError(misuse) }) })
  port.close()
}

/** The scenario `ref` names: the export of its module that is a scenario of that name. */
async function load(ref: ScenarioRef, key: string): Promise<Scenario> {
  const mod = (await import(pathToFileURL(ref.file).href)) as Record<string, unknown>
  const found = Object.values(mod).filter((v): v is Scenario => isScenario(v) && v.name === ref.name)
  const unique = [...new Set(found)]
  if (unique.length === 1) return unique[0]!
  throw new ChaperonError(
    'CHAPERON_WORKER_SCENARIO',
    unique.length === 0
      ? `scenarios.${key}: ${ref.file} does not export scenario '${ref.name}', so worker threads cannot load it. Export it: export const … = scenario('${ref.name}', …) (docs/workers.md).`
      : `scenarios.${key}: ${ref.file} exports ${unique.length} different scenarios named '${ref.name}'; give each its own name so worker threads can tell them apart.`,
  )
}

function shipError(error: unknown): ShippedError {
  if (error instanceof ChaperonError) return { code: error.code, message: error.message, ...(error.stack === undefined ? {} : { stack: error.stack }) }
  if (error instanceof Error) return { message: error.stack ?? error.message }
  return { message: String(error) }
}
