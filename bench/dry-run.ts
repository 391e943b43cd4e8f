// Dry run: how long does a dry run of the storefront example take? The load
// test of examples/storefront.dry.load.ts (its scenarios, `mock` handlers and
// thresholds) runs through the runtime as loadTest() runs it
// (resolveLoadTestOptions, then runLoadTest), RUNS times in this process. The
// first run is timed from the start of this process, so it includes Node's
// start-up and importing chaperon, msw and the scenarios; the runs after it
// are warm. Then `vitest run --project load examples/storefront.dry.load.ts`
// runs VITEST_RUNS times, each timed from spawn to exit, for what a user waits
// for from the command line: mostly Vitest's own start-up.
//
//   npm run bench:dry-run [-- --json]
//   RUNS=20 VITEST_RUNS=3   (defaults; VITEST_RUNS=0 skips Vitest)
//
// The bar (issue #8): a dry run of the storefront example finishes in under
// one second of wall time, judged on every run in this process (the cold
// first one included) and on the test's own duration in each Vitest run. The
// time from process start to the first result, and each Vitest process's wall
// time, are reported beside it, not judged: they are mostly Node's, Vitest's
// and the imports' start-up. The last line is one JSON document; the exit
// code is 1 when the bar fails.
import { readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { resolveLoadTestOptions } from '../dist/runtime/resolve-options.js'
import { runLoadTest } from '../dist/runtime/run.js'
import { buy, shop } from '../examples/scenarios/storefront.ts'
import { storefrontHandlers } from '../examples/scenarios/storefront.mocks.ts'
import { fixed, loadAverage, machine, median, rootDir, runCommand, say } from './common.ts'

// Read before anything else runs: Node's start-up and the imports above, from process start.
const importedAtMs = performance.now()

const RUNS = Number(process.env.RUNS || 20)
const VITEST_RUNS = Number(process.env.VITEST_RUNS ?? 3)
if (!Number.isInteger(RUNS) || RUNS < 1 || RUNS > 1000) throw new Error(`RUNS must be an integer from 1 to 1000, got '${process.env.RUNS}'`)
if (!Number.isInteger(VITEST_RUNS) || VITEST_RUNS < 0 || VITEST_RUNS > 50) throw new Error(`VITEST_RUNS must be an integer from 0 to 50, got '${process.env.VITEST_RUNS}'`)
const BAR_MS = 1000
const NAME = 'storefront scenarios run end to end against mocks'

/** One dry run of the storefront load test, as examples/storefront.dry.load.ts declares it; resolves with its wall time in ms. */
async function dryRunOnce(): Promise<number> {
  const start = performance.now()
  const { result, misuse } = await runLoadTest(
    NAME,
    resolveLoadTestOptions(NAME, {
      baseUrl: 'http://storefront.invalid',
      mock: storefrontHandlers,
      scenarios: {
        shoppers: { scenario: shop, executor: 'constant-vus', vus: 20, duration: '5s' },
        buyers: { scenario: buy, executor: 'constant-arrival-rate', rate: 50, timeUnit: '1s', duration: '5s', preAllocatedVUs: 5, maxVUs: 50 },
      },
      thresholds: { http_reqs: ['count==4'], http_req_failed: ['rate==0'], checks: ['rate==1'], errors: ['count==0'] },
    }),
  )
  const ms = performance.now() - start
  // A run that fails its thresholds did not run the example as written: its time would mean nothing.
  if (misuse !== undefined || result.status !== 'passed') throw new Error(`the dry run failed: ${misuse?.message ?? JSON.stringify(result.thresholds.filter((t) => !t.ok))}`)
  return ms
}

/** `vitest run` of the dry-run example in a fresh process: its wall time, and the test's own duration as Vitest reports it. */
async function vitestOnce(): Promise<{ wallMs: number; testMs: number }> {
  const report = join(tmpdir(), `chaperon-dry-run-bench-${process.pid}.json`)
  let spawnedAt = 0
  await runCommand(process.execPath, [join(rootDir, 'node_modules/vitest/vitest.mjs'), 'run', '--project', 'load', 'examples/storefront.dry.load.ts', '--reporter=json', `--outputFile=${report}`], {
    timeoutMs: 120_000,
    onStart: (at) => (spawnedAt = at),
  })
  const wallMs = performance.now() - spawnedAt
  const json = JSON.parse(readFileSync(report, 'utf8')) as { testResults: Array<{ assertionResults: Array<{ title: string; status: string; duration: number }> }> }
  rmSync(report, { force: true })
  const test = json.testResults.flatMap((f) => f.assertionResults).find((t) => t.title === NAME)
  if (test?.status !== 'passed') throw new Error(`vitest run of examples/storefront.dry.load.ts did not pass "${NAME}"`)
  return { wallMs, testMs: test.duration }
}

const loadBefore = loadAverage()
say(`dry run of the storefront example (examples/storefront.dry.load.ts): ${RUNS} runs in this process, ${VITEST_RUNS} vitest runs`)
say(`load average before: ${loadBefore}`)
say()

const firstRunMs = await dryRunOnce()
const firstFromStartMs = performance.now()
say(`first run, counted from process start: ${fixed(firstFromStartMs)} ms (Node start-up and imports ${fixed(importedAtMs)} ms, the run ${fixed(firstRunMs)} ms)`)
const warm: number[] = []
for (let i = 1; i < RUNS; i++) warm.push(await dryRunOnce())
const stats = (values: number[]) => (values.length === 0 ? null : { min: Math.min(...values), median: median(values), max: Math.max(...values) })
const warmStats = stats(warm)
if (warmStats !== null) say(`warm runs (${warm.length}): min ${fixed(warmStats.min)} ms, median ${fixed(warmStats.median)} ms, max ${fixed(warmStats.max)} ms`)

const vitest: Array<{ wallMs: number; testMs: number }> = []
for (let i = 0; i < VITEST_RUNS; i++) vitest.push(await vitestOnce())
const vitestWall = stats(vitest.map((v) => v.wallMs))
const vitestTest = stats(vitest.map((v) => v.testMs))
if (vitestWall !== null && vitestTest !== null) {
  say(`vitest run --project load examples/storefront.dry.load.ts (${vitest.length}): wall min ${fixed(vitestWall.min)} ms, median ${fixed(vitestWall.median)} ms, max ${fixed(vitestWall.max)} ms`)
  say(`  of which the test itself, as Vitest times it: min ${fixed(vitestTest.min)} ms, median ${fixed(vitestTest.median)} ms, max ${fixed(vitestTest.max)} ms`)
}

const slowest = Math.max(firstRunMs, ...warm, ...vitest.map((v) => v.testMs))
const passed = slowest < BAR_MS
say()
say(`bar: every dry run under ${BAR_MS} ms of wall time (in this process, the first included, and the test in each Vitest run): slowest ${fixed(slowest)} ms ${passed ? '✓' : '✗'}`)
say(`verdict: ${passed ? 'PASS' : 'FAIL'}`)
say(`machine: ${machine.cpu}, ${machine.cores} cores, node ${machine.node}, ${machine.platform}; load average before ${loadBefore}, at the end ${loadAverage()}`)

const json = {
  bench: 'dry-run',
  machine,
  settings: { runs: RUNS, vitestRuns: VITEST_RUNS, barMs: BAR_MS },
  loadAverage: { before: loadBefore, end: loadAverage() },
  first: { fromProcessStartMs: firstFromStartMs, importsMs: importedAtMs, runMs: firstRunMs },
  warm: warmStats,
  vitest: vitest.length === 0 ? null : { wallMs: vitestWall, testMs: vitestTest, runs: vitest },
  verdict: { slowestMs: slowest, passed },
}
// One JSON line at the end, as the other benches print; with --json, stdout carries only it.
process.stdout.write(`${JSON.stringify(json)}\n`)
process.exitCode = passed ? 0 : 1
