import { mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { LoadTestResult } from '../../src/core/result.ts'
import { runFixtureProject } from './run-vitest.ts'

/** What the fixture's reporters wrote into `out`. */
function outputs(out: string): { result: LoadTestResult; csv: string; html: string; comment: string } {
  const json = readdirSync(join(out, 'json'))
  expect(json).toHaveLength(1)
  const read = (path: string) => readFileSync(join(out, path), 'utf8')
  return { result: JSON.parse(read(join('json', json[0]!))) as LoadTestResult, csv: read('results.csv'), html: read('report.html'), comment: read('pr-comment.md') }
}

function httpReqs(result: LoadTestResult): number {
  return result.metrics.filter((m) => m.metric === 'http_reqs').reduce((n, m) => n + (m.type === 'counter' ? m.value : 0), 0)
}

describe('a load test stopped from outside keeps its partial result', () => {
  it('Ctrl-C: the run stops at once, every reporter writes the result marked interrupted, and Vitest exits 130', async () => {
    const out = mkdtempSync(join(tmpdir(), 'chaperon-interrupt-'))
    const run = await runFixtureProject('outputs', { CHAPERON_E2E_OUT: out }, ['interrupt.load.ts'], { signal: 'SIGINT', when: 'chaperon-e2e: load test started', afterMs: 1500 })
    expect(run.exitCode).toBe(130)
    expect(run.output).toContain('chaperon: SIGINT: cancelling the run')
    // A one-minute load test, stopped well before its end.
    expect(run.exitedAfterSignalMs).toBeLessThan(20_000)

    const { result, csv, html, comment } = outputs(out)
    expect(result.interrupted?.by).toBe('SIGINT')
    expect(result.interrupted!.atMs).toBeGreaterThan(1000)
    expect(result.durationMs).toBeLessThan(30_000)
    expect(result.status).toBe('failed')
    const requests = httpReqs(result)
    expect(requests).toBeGreaterThan(10)
    expect(csv).toMatch(new RegExp(`^runs until interrupted,http_reqs,counter,[^,]*,${requests},`, 'm'))
    expect(html).toContain('<strong>Interrupted</strong> (SIGINT)')
    expect(comment).toMatch(/Interrupted \(SIGINT\) after [\d.]+s/)
    expect(run.output).toMatch(/interrupted \(SIGINT\) after [\d.]+s/)
    // Vitest's own report carries the same partial result.
    const [test] = run.report.testResults[0]?.assertionResults ?? []
    expect((test?.meta.chaperon as LoadTestResult | undefined)?.interrupted?.by).toBe('SIGINT')
  })

  it("a Vitest timeout: the test fails with Vitest's timeout and its result, marked interrupted, is still reported", async () => {
    const out = mkdtempSync(join(tmpdir(), 'chaperon-timeout-'))
    const run = await runFixtureProject('outputs', { CHAPERON_E2E_OUT: out }, ['timeout.load.ts'])
    expect(run.exitCode).toBe(1)
    expect(run.output).toContain('Test timed out in 3000ms')
    const { result } = outputs(out)
    expect(result.interrupted?.by).toBe('timeout')
    expect(result.durationMs).toBeGreaterThan(2000)
    expect(result.durationMs).toBeLessThan(20_000)
    expect(httpReqs(result)).toBeGreaterThan(10)
    const [test] = run.report.testResults[0]?.assertionResults ?? []
    expect(test?.status).toBe('failed')
    expect((test?.meta.chaperon as LoadTestResult | undefined)?.interrupted?.by).toBe('timeout')
  })
})
