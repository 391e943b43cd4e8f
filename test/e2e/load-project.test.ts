import { existsSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { LoadTestResult } from '../../src/core/result.ts'
import { runFixtureProject } from './run-vitest.ts'

describe('vitest run on a load project', () => {
  it('exits 0 when every threshold holds, prints the summary and attaches the result', async () => {
    const run = await runFixtureProject('passing')
    expect(run.output).toContain('passes its thresholds')
    expect(run.exitCode).toBe(0)
    expect(run.output).toMatch(/✓ http_reqs\s+'count==100' count=100/)
    expect(run.output).toMatch(/pingers\s+GET \/products\s+100\b/)
    const [test] = run.report.testResults[0]!.assertionResults
    const result = test!.meta.chaperon as LoadTestResult
    expect(result.schemaVersion).toBe(1)
    expect(result.status).toBe('passed')
    expect(result.location).toMatchObject({ line: 8, column: 1 })
    expect(result.location!.file).toMatch(/passing\.load\.ts$/)
    const reqs = result.metrics.filter((m) => m.metric === 'http_reqs')
    expect(reqs.reduce((n, m) => n + (m.type === 'counter' ? m.value : 0), 0)).toBe(100)
    // The load project starts its workers with chaperon's Node flags.
    expect(run.report.testResults[0]!.assertionResults[1]).toMatchObject({ title: 'runs in a worker started with the load project flags', status: 'passed' })
  })

  it('exits 1 on a breached threshold, names it with its actual value and points at the loadTest() line', async () => {
    const run = await runFixtureProject('breached')
    expect(run.exitCode).toBe(1)
    expect(run.output).toContain('ThresholdsFailedError [CHAPERON_THRESHOLDS_FAILED]: 1 threshold failed in "misses its latency budget"')
    expect(run.output).toMatch(/✗ http_req_duration 'p\(95\)<1ms' p\(95\)=\d+(\.\d+)?ms/)
    // Vitest's code frame shows the user's loadTest() call.
    expect(run.output).toMatch(/breached\.load\.ts:8:1/)
    expect(run.output).toMatch(/ 8\| loadTest\('misses its latency budget'/)
    // The passing threshold is still reported in the summary.
    expect(run.output).toMatch(/✓ http_req_duration\s+'max<10s'/)
  })

  it('fails a file with a bad threshold expression before sending any load', async () => {
    const marker = join(mkdtempSync(join(tmpdir(), 'chaperon-marker-')), 'ran')
    const run = await runFixtureProject('bad-threshold', { CHAPERON_E2E_MARKER: marker })
    expect(run.exitCode).toBe(1)
    expect(run.output).toContain('CHAPERON_THRESHOLD_SYNTAX')
    expect(run.output).toContain('p95<<200')
    expect(run.output).toContain('p(95)<200')
    expect(existsSync(marker)).toBe(false)
  })

  it('honours .skip, .only and .todo', async () => {
    // CI=true makes Vitest refuse .only unless allowed.
    const run = await runFixtureProject('modifiers', {}, ['--allowOnly'])
    expect(run.exitCode).toBe(0)
    const titles = Object.fromEntries(run.report.testResults.flatMap((f) => f.assertionResults.map((t) => [t.title, t.status])))
    expect(titles).toEqual({
      runs: 'passed',
      'is skipped': 'skipped',
      'is still to be written': 'todo',
      'is the only one run': 'passed',
      'is left out by only': 'skipped',
    })
  })
})

describe('vitest run on a load project with worker threads', () => {
  it('merges the workers, refuses a scenario from the test file, and prints progress lines in CI', async () => {
    const run = await runFixtureProject('workers')
    expect(run.exitCode).toBe(1)
    const [merged, local, progress] = run.report.testResults[0]!.assertionResults
    expect(merged).toMatchObject({ title: 'runs on two worker threads', status: 'passed' })
    const result = merged!.meta.chaperon as LoadTestResult
    expect(result.thresholds.map((t) => t.display)).toEqual(['count=100', 'count=25', expect.stringMatching(/^p\(95\)=[\d.]+ms over 1s, worst \d+s–\d+s$/)])
    expect(local).toMatchObject({ title: 'cannot ship a scenario made in the test file', status: 'failed' })
    expect(local!.failureMessages.join('\n')).toMatch(/CHAPERON_WORKER_SCENARIO.*scenario 'local' is made in the test file itself/)
    expect(progress).toMatchObject({ title: 'shows its progress while it runs', status: 'passed' })
    // Not a terminal (CI=true): one plain line after 10 s, from the worker threads through the main process.
    expect(run.output).toMatch(/\[chaperon\] shows its progress while it runs 10\.\ds\/10\.5s VUs 2 \d+ req\/s p95 [\d.]+ms errors 0 dropped 0/)
  })
})
