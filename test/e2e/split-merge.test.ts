import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'
import { createHistogram, recordMicros, summarize } from '../../src/core/histogram.ts'
import type { LoadTestResult, TrendSummary } from '../../src/core/result.ts'
import { aggregate, seriesFromResult } from '../../src/core/series.ts'
import { startTargetServer } from '../../fixtures/servers/http.ts'
import { runFixtureProject, type VitestRun } from './run-vitest.ts'

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url))
const TEST = 'split-load--split-and-merged'

/** What one process did, line by line from its samples file: scenario, iteration in the run, request µs. */
interface Sample {
  scenario: string
  iteration: number
  micros: number
}

/** The samples of each process that wrote to `dir`. */
function samplesByProcess(dir: string): Sample[][] {
  return readdirSync(dir).map((f) =>
    readFileSync(join(dir, f), 'utf8')
      .trim()
      .split('\n')
      .map((line) => {
        const [scenario, iteration, micros] = line.split(' ')
        return { scenario: scenario!, iteration: Number(iteration), micros: Number(micros) }
      }),
  )
}

function samples(dir: string): Sample[] {
  return samplesByProcess(dir).flat()
}

function readResult(file: string): LoadTestResult {
  return JSON.parse(readFileSync(file, 'utf8')) as LoadTestResult
}

/** The summary of every `metric` sample whose series matches `tags`, merged from the result's histograms. */
function trendOf(result: LoadTestResult, metric: string, tags: Record<string, string> = {}): TrendSummary {
  const a = aggregate(seriesFromResult(result), metric, tags)
  if (a?.type !== 'trend') throw new Error(`no ${metric} in the result`)
  return summarize(a.histogram)
}

function countOf(result: LoadTestResult, metric: string, tags: Record<string, string> = {}): number | undefined {
  const a = aggregate(seriesFromResult(result), metric, tags)
  return a?.type === 'counter' ? a.value : undefined
}

/** The summary of one histogram fed every sample's µs, as http_req_duration records them. */
function summaryOf(list: readonly Sample[]): TrendSummary {
  const h = createHistogram()
  for (const s of list) recordMicros(h, s.micros)
  return summarize(h)
}

function slots(list: readonly Sample[], scenario: string): number[] {
  return list.filter((s) => s.scenario === scenario).map((s) => s.iteration).sort((a, b) => a - b)
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i)

function merge(...args: string[]): { status: number | null; output: string } {
  const run = spawnSync(process.execPath, [CLI, 'merge', ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } })
  return { status: run.status, output: run.stdout + run.stderr }
}

describe('one load test run whole, and split over three processes (two threads each) and merged', () => {
  const dir = mkdtempSync(join(tmpdir(), 'chaperon-split-'))
  const whole = { out: join(dir, 'whole'), samples: join(dir, 'whole-samples') }
  const split = { out: join(dir, 'split'), samples: join(dir, 'split-samples') }
  const blobs = join(dir, 'blobs')
  let wholeRun: VitestRun
  let segmentRuns: VitestRun[]
  let startAt: number
  let merged: { status: number | null; output: string }

  beforeAll(async () => {
    for (const d of [whole.samples, split.samples]) mkdirSync(d)
    // One target for every run, as the machines of a split run load one service.
    const target = await startTargetServer()
    wholeRun = await runFixtureProject('split', { CHAPERON_E2E_OUT: whole.out, CHAPERON_E2E_SAMPLES: whole.samples, TARGET_URL: target.url })
    // The three instances start together, as on three machines.
    startAt = Date.now() + 8000
    segmentRuns = await Promise.all(
      [1, 2, 3].map((i) =>
        runFixtureProject(
          'split',
          { CHAPERON_E2E_OUT: split.out, CHAPERON_E2E_SAMPLES: split.samples, TARGET_URL: target.url, CHAPERON_SEGMENT: `${i}/3`, CHAPERON_START_AT: String(startAt), VITEST_BLOB_LABEL: `segment-${i}` },
          // Each also writes Vitest's blob report, for vitest --merge-reports.
          ['--reporter=blob', `--outputFile.blob=${join(blobs, `blob-${i}.json`)}`],
        ),
      ),
    )
    await target.close()
    merged = merge(split.out, '--json', join(dir, 'merged'), '--html', join(dir, 'merged', 'report.html'))
  })

  it('runs each segment as a passing test that judges only its share', () => {
    expect(wholeRun.exitCode, wholeRun.output).toBe(0)
    for (const run of segmentRuns) {
      expect(run.exitCode, run.output).toBe(0)
      expect(run.output).toMatch(/segment \d\/3:|segment 0:1\/3/)
    }
    const files = readdirSync(split.out).sort()
    expect(files).toEqual([1, 2, 3].map((i) => `${TEST}--segment-${i}-of-3.json`))
    const parts = files.map((f) => readResult(join(split.out, f)))
    expect(parts.map((p) => p.segment?.segment)).toEqual(['0:1/3', '1/3:2/3', '2/3:1'])
    expect(new Set(parts.map((p) => p.segment?.plan)).size).toBe(1)
    // A third of the iterations fails count==360 on each share, yet the segment passed.
    for (const p of parts) {
      expect(p.status).toBe('passed')
      expect(p.thresholds.find((t) => t.expression === 'count==360')?.ok).toBe(false)
      // CHAPERON_START_AT: every instance started at the agreed moment.
      expect(Date.parse(p.startedAt)).toBeGreaterThanOrEqual(startAt - 5)
      expect(Date.parse(p.startedAt)).toBeLessThan(startAt + 1000)
    }
  })

  it('merges into exactly the counts of the whole run, and passes the thresholds', () => {
    expect(merged.status, merged.output).toBe(0)
    const result = readResult(join(dir, 'merged', `${TEST}.json`))
    const single = readResult(join(whole.out, `${TEST}.json`))
    expect(result.merged).toMatchObject({ segments: ['0:1/3', '1/3:2/3', '2/3:1'], missing: [] })
    expect(result.status).toBe('passed')
    expect(result.thresholds.every((t) => t.ok)).toBe(true)
    for (const [metric, tags] of [['iterations', {}], ['http_reqs', {}], ['http_reqs', { scenario: 'open' }], ['http_reqs', { scenario: 'shared' }], ['iterations', { scenario: 'shared' }]] as const) {
      expect(countOf(result, metric, tags), `${metric} ${JSON.stringify(tags)}`).toBe(countOf(single, metric, tags))
    }
    expect(countOf(single, 'iterations')).toBe(360)
    expect(countOf(single, 'dropped_iterations')).toBeUndefined()
    expect(countOf(result, 'dropped_iterations')).toBeUndefined()
    expect(readdirSync(join(dir, 'merged')).sort()).toEqual(['report.html', `${TEST}.json`])
  })

  it('starts exactly the arrival slots of the whole run, each once, and numbers the shared iterations the same', () => {
    const all = samples(split.samples)
    // Iteration numbers in the run (iterationInTest) are the arrival slots of the plan.
    expect(slots(all, 'open')).toEqual(range(300))
    expect(slots(samples(whole.samples), 'open')).toEqual(range(300))
    expect(slots(all, 'shared')).toEqual(range(60))
    expect(slots(samples(whole.samples), 'shared')).toEqual(range(60))
    // Three processes, each with a third of the slots, striped through the plan.
    const perProcess = samplesByProcess(split.samples).map((list) => slots(list, 'open'))
    expect(perProcess.map((p) => p.length)).toEqual([100, 100, 100])
    expect(perProcess.map((p) => p[1]! - p[0]!)).toEqual([3, 3, 3])
  })

  it('gives the percentiles of one histogram fed every sample', () => {
    const result = readResult(join(dir, 'merged', `${TEST}.json`))
    const all = samples(split.samples)
    expect(trendOf(result, 'http_req_duration')).toEqual(summaryOf(all))
    for (const scenario of ['open', 'shared']) {
      const fed = summaryOf(all.filter((s) => s.scenario === scenario))
      expect(trendOf(result, 'http_req_duration', { scenario })).toEqual(fed)
      // The summary merge wrote, histogram included.
      const written = result.metrics.filter((m) => m.metric === 'http_req_duration' && m.tags['scenario'] === scenario)
      expect(written).toHaveLength(1)
      expect(written[0]).toMatchObject({ type: 'trend', trend: fed })
    }
  })

  it('refuses to merge when a segment is missing, and with --partial merges what is there and fails', () => {
    const two = join(dir, 'two')
    mkdirSync(two)
    for (const i of [1, 2]) spawnSync('cp', [join(split.out, `${TEST}--segment-${i}-of-3.json`), two])
    const refused = merge(two, '--json', join(dir, 'refused'))
    expect(refused.status).toBe(2)
    expect(refused.output).toContain('CHAPERON_MERGE')
    expect(refused.output).toContain('2/3:1')
    const partial = merge(two, '--partial', '--json', join(dir, 'partial'))
    expect(partial.status).toBe(1)
    expect(readResult(join(dir, 'partial', `${TEST}.json`))).toMatchObject({ status: 'failed', merged: { missing: ['2/3:1'] } })
  })

  it('judges the merged segments in vitest --merge-reports of the instances\' blobs', async () => {
    const out = join(dir, 'merge-reports')
    const run = await runFixtureProject('split', { CHAPERON_E2E_OUT: out }, [`--merge-reports=${blobs}`])
    expect(run.exitCode, run.output).toBe(0)
    expect(run.output).toContain('merged from segments 0:1/3, 1/3:2/3, 2/3:1')
    expect(run.output).toContain('chaperon: the merged segments of 1 load test passed.')
    // The json reporter writes each instance's result, and the merged one.
    expect(readdirSync(out).sort()).toEqual([`${TEST}--segment-1-of-3.json`, `${TEST}--segment-2-of-3.json`, `${TEST}--segment-3-of-3.json`, `${TEST}.json`])
    expect(readResult(join(out, `${TEST}.json`))).toMatchObject({ status: 'passed', merged: { missing: [] } })

    const two = join(dir, 'two-blobs')
    mkdirSync(two)
    for (const i of [1, 2]) spawnSync('cp', [join(blobs, `blob-${i}.json`), two])
    const missing = await runFixtureProject('split', { CHAPERON_E2E_OUT: join(dir, 'merge-reports-two') }, [`--merge-reports=${two}`])
    expect(missing.exitCode, missing.output).toBe(1)
    expect(missing.output).toContain('CHAPERON_MERGE')
    expect(missing.output).toContain('1 load test could not be merged')
  })
})
