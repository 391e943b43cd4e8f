// `chaperon merge`, run in-process on result files in a temporary directory.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { runCli } from '../../src/cli/cli.ts'
import type { LoadTestResult } from '../../src/core/result.ts'
import { checkResult } from '../../src/core/result-files.ts'
import { parseSegment } from '../../src/core/segment.ts'
import { renderJson } from '../../src/reporters/json-reporter.ts'
import { REQUESTS, runResult } from '../support/segment-results.ts'

const thirds = [1, 2, 3].map((i) => parseSegment(`${i}/3`))
const STEM = 'shop-load--shop-holds-up'

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'chaperon-merge-'))
})

/** Writes each result as the json reporter does, under `dir`; returns the directory they are in. */
function write(sub: string, results: readonly LoadTestResult[]): string {
  const path = join(dir, sub)
  mkdirSync(path, { recursive: true })
  results.forEach((r, k) => writeFileSync(join(path, `${STEM}--segment-${k + 1}-of-${results.length}.json`), renderJson(r)))
  return path
}

/** The three segments' results, each changed by `overrides[k]`. */
function segments(overrides: Array<Partial<LoadTestResult>> = []): LoadTestResult[] {
  return thirds.map((segment, k) => ({ ...runResult({ segment }), ...overrides[k] }))
}

/** Runs `chaperon merge args` in plain text, without a baseline from the environment, and with `env` set. */
async function mergeWith(env: Record<string, string | undefined>, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = ''
  let stderr = ''
  const io = { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) } }
  for (const [name, value] of Object.entries({ NO_COLOR: '1', CHAPERON_BASELINE: undefined, ...env })) vi.stubEnv(name, value)
  try {
    return { code: await runCli(['merge', ...args], io), stdout, stderr }
  } finally {
    vi.unstubAllEnvs()
  }
}

function merge(...args: string[]): ReturnType<typeof mergeWith> {
  return mergeWith({}, ...args)
}

function readMerged(path: string): LoadTestResult {
  return checkResult(JSON.parse(readFileSync(path, 'utf8')), path, 'CHAPERON_RESULT_FILE')
}

describe('chaperon merge', () => {
  it('merges a directory of segment results, prints the summary and writes the merged result and the HTML report', async () => {
    const out = join(dir, 'merged')
    const html = join(dir, 'site/report.html')
    const run = await merge(write('results', segments()), '--json', out, '--html', html, '--title', 'Split run')
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect(run.stdout).toContain('shop holds up  ✓ passed')
    expect(run.stdout).toMatch(new RegExp(`✓ http_reqs +'count==${REQUESTS}' count=${REQUESTS}`))
    expect(run.stdout).toContain('  merged from segments 0:1/3, 1/3:2/3, 2/3:1\n')
    expect(run.stdout).toContain(`1 merged result written to ${out}\n`)
    expect(run.stdout).toContain(`HTML report written to ${html}\n`)
    const merged = readMerged(join(out, `${STEM}.json`))
    expect(merged).toMatchObject({ status: 'passed', merged: { segments: ['0:1/3', '1/3:2/3', '2/3:1'], missing: [] } })
    expect(merged.segment).toBeUndefined()
    expect(merged.metrics.find((m) => m.metric === 'http_reqs')).toMatchObject({ value: REQUESTS })
    const page = readFileSync(html, 'utf8')
    expect(page.startsWith('<!doctype html>')).toBe(true)
    expect(page).toContain('<title>Split run</title>')
    expect(page).toContain('shop holds up')
  })

  it('exits 1 when the merged load test fails, and with --partial for the missing segments', async () => {
    const failed = await merge(write('failed', segments([{}, { status: 'failed' }])), '--json', join(dir, 'a'))
    expect(failed.code).toBe(1)
    expect(readMerged(join(dir, 'a', `${STEM}.json`)).status).toBe('failed')

    const [first, , third] = segments()
    const partial = await merge(write('two', [first!, third!]), '--partial', '--json', join(dir, 'b'))
    expect(partial.code).toBe(1)
    expect(partial.stdout).toContain('  merged from segments 0:1/3, 2/3:1; missing 1/3:2/3\n')
    expect(readMerged(join(dir, 'b', `${STEM}.json`)).merged?.missing).toEqual(['1/3:2/3'])
  })

  it('exits 2 naming the files when results cannot be merged, and writes nothing', async () => {
    const [first, , third] = segments()
    const results = write('two', [first!, third!])
    const missing = await merge(results, '--json', join(dir, 'out'))
    expect(missing.code).toBe(2)
    expect(missing.stdout).toBe('')
    expect(missing.stderr).toMatch(/^ChaperonError \[CHAPERON_MERGE\]: chaperon merge: the results of "shop holds up" of shop\.load\.ts \(.*segment-1-of-2\.json, .*segment-2-of-2\.json\) cover 2 of the 3 segments/)
    expect(missing.stderr).toContain('--partial')
    expect(existsSync(join(dir, 'out'))).toBe(false)

    const plans = await merge(write('plans', segments([{}, {}, { segment: { ...third!.segment!, plan: 'another' } }])), '--json', join(dir, 'out'))
    expect(plans.code).toBe(2)
    expect(plans.stderr).toMatch(/^ChaperonError \[CHAPERON_MERGE\]: chaperon merge: the results of "shop holds up" of shop\.load\.ts come from different plans \(plan 5eed5eed5eed5eed in .*segment-1-of-3\.json, .*segment-2-of-3\.json; plan another in .*segment-3-of-3\.json\)/)
  })

  it('exits 2 on wrong usage and unreadable input', async () => {
    const none = await merge()
    expect(none.code).toBe(2)
    expect(none.stderr).toContain('chaperon merge needs the result files or directories')
    const option = await merge(dir, '--jsn', 'x')
    expect(option.code).toBe(2)
    expect(option.stderr).toContain("ChaperonError [CHAPERON_CLI_USAGE]: chaperon merge: Unknown option '--jsn'.")
    const title = await merge(dir, '--title', 'x')
    expect(title.stderr).toContain('--title is the title of the HTML report; give --html <file> too')
    const absent = await merge(join(dir, 'nope'))
    expect(absent.code).toBe(2)
    expect(absent.stderr).toMatch(/^ChaperonError \[CHAPERON_RESULT_FILE\]: The result .*nope does not exist/)
    const baseline = await merge(write('results', segments()), '--baseline', join(dir, 'no-baseline'))
    expect(baseline.code).toBe(2)
    expect(baseline.stderr).toMatch(/^ChaperonError \[CHAPERON_BASELINE\]: The baseline .*no-baseline does not exist/)
  })

  it('judges budgets against --baseline', async () => {
    // A baseline run that was faster (a whole run of the first third's requests): the merged p(95) is 20% above it.
    const baseline = join(dir, 'baseline.json')
    const { segment: _, ...faster } = runResult({ segment: thirds[0]! })
    writeFileSync(baseline, renderJson({ ...faster, status: 'passed' }))
    const run = await merge(write('results', segments()), '--json', join(dir, 'out'), '--baseline', baseline)
    expect(run.code).toBe(1)
    expect(run.stdout).toMatch(/✗ http_req_duration +'p\(95\)<\+10% baseline' p\(95\)=233\.22ms, baseline 193\.66ms \(\+20\.4%\)/)
    expect(readMerged(join(dir, 'out', `${STEM}.json`)).status).toBe('failed')

    // A baseline that is itself a split run's segments is their merge: the same run, +0%.
    const split = await merge(write('results', segments()), '--json', join(dir, 'out'), '--baseline', write('split-baseline', segments()))
    expect(split.code).toBe(0)
    expect(split.stdout).toMatch(/✓ http_req_duration +'p\(95\)<\+10% baseline' p\(95\)=233\.22ms, baseline 233\.22ms \(\+0%\)/)
    // One segment alone is no baseline.
    const share = await merge(write('results', segments()), '--json', join(dir, 'out'), '--baseline', write('share-baseline', segments().slice(0, 1)))
    expect(share.code).toBe(2)
    expect(share.stderr).toContain('holds segments of a split run that cannot be merged into a baseline')

    // One from CHAPERON_BASELINE that cannot be read is reported, as in a run, and the budget is not compared.
    const fromEnv = await mergeWith({ CHAPERON_BASELINE: join(dir, 'gone') }, join(dir, 'results'), '--json', join(dir, 'out'))
    expect(fromEnv.code).toBe(0)
    expect(fromEnv.stderr).toMatch(/^ChaperonError \[CHAPERON_BASELINE\]: The baseline .*gone does not exist/)
    expect(fromEnv.stdout).toContain("'p(95)<+10% baseline' p(95)=233.22ms, not compared: no baseline")
  })

  it('writes what the github reporter writes with --github', async () => {
    const summary = join(dir, 'step-summary.md')
    writeFileSync(summary, '# earlier steps\n')
    const out = join(dir, 'out')
    const run = await mergeWith({ GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summary, GITHUB_WORKSPACE: '/ci/instance-0' }, write('results', segments()), '--json', out, '--github')
    expect(run.code).toBe(0)
    // The budget has no baseline to compare with: a warning at the loadTest() line of the first segment's checkout.
    expect(run.stdout).toContain('::warning file=load/shop.load.ts,line=7,col=1,title=chaperon%3A shop holds up::not compared with a baseline: http_req_duration')
    expect(readFileSync(summary, 'utf8')).toMatch(/^# earlier steps\n## chaperon: /)
    const comment = readFileSync(join(out, 'pr-comment.md'), 'utf8')
    expect(comment).toContain('<!-- chaperon:pr-comment -->')
    expect(comment).toContain('### ✓ shop holds up')
    expect(run.stdout).toContain(`PR comment written to ${join(out, 'pr-comment.md')}\n`)

    // Outside GitHub Actions only the PR comment is written.
    const local = await mergeWith({ GITHUB_ACTIONS: undefined, GITHUB_STEP_SUMMARY: summary }, join(dir, 'results'), '--json', join(dir, 'local'), '--github')
    expect(local.code).toBe(0)
    expect(local.stdout).not.toContain('::')
    expect(readFileSync(summary, 'utf8').match(/## chaperon: /g)).toHaveLength(1)
    expect(existsSync(join(dir, 'local', 'pr-comment.md'))).toBe(true)
  })
})
