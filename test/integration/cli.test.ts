// The built `chaperon` command, run as users run it: `node dist/cli/main.js` (build first: npm run build).
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'
import type { LoadTestResult } from '../../src/core/result.ts'
import { VERSION } from '../../src/core/version.ts'
import { fixedResult, fixedResults } from '../support/fixed-results.ts'

const MAIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url))

interface Exit {
  code: number | null
  stdout: string
  stderr: string
}

function chaperon(...args: string[]): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { cwd: dir, env: { ...process.env, NO_COLOR: '1' } })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

let dir: string
function write(name: string, value: unknown): string {
  const path = join(dir, name)
  mkdirSync(join(path, '..'), { recursive: true })
  writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value))
  return name
}

/** `fixedResult()` with budgets that hold against itself (`<=+0%`) or fail (`<-50%`). */
function withBudget(expression: string): LoadTestResult {
  const r = fixedResult()
  return { ...r, thresholds: [...r.thresholds, { key: 'http_reqs', expression, ok: true, actual: 480, display: 'count=480, not compared: no baseline', baseline: null, change: null }] }
}

beforeAll(() => {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build first`)
  dir = mkdtempSync(join(tmpdir(), 'chaperon-cli-'))
})

describe('chaperon', () => {
  it('prints its version and help', async () => {
    expect(await chaperon('--version')).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: '' })
    const help = await chaperon('--help')
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('chaperon compare <baseline> <current> [--markdown <file>]')
    expect(help.stdout).toContain('chaperon report <result>... --html <file>')
    expect(help.stdout).toContain('chaperon merge <result>... [--json <dir>]')
    expect((await chaperon('compare', '--help')).stdout).toBe(help.stdout)
  })

  it('exits 2 on wrong usage, with a hint', async () => {
    const none = await chaperon()
    expect(none.code).toBe(2)
    expect(none.stderr).toContain('Usage:')
    const typo = await chaperon('comapre', 'a', 'b')
    expect(typo).toMatchObject({ code: 2, stdout: '' })
    expect(typo.stderr).toBe('ChaperonError [CHAPERON_CLI_USAGE]: unknown command "comapre". Did you mean "compare"? Commands: compare, merge, report.\nRun chaperon --help for usage.\n')
    const unknown = await chaperon('compare', 'a.json', 'b.json', '--markdwn', 'x.md')
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain("ChaperonError [CHAPERON_CLI_USAGE]: chaperon compare: Unknown option '--markdwn'.")
    const one = await chaperon('compare', 'a.json')
    expect(one.code).toBe(2)
    expect(one.stderr).toContain('chaperon compare takes a baseline and a current result')
  })
})

describe('chaperon compare', () => {
  it('exits 0 when every budget holds, and prints the comparison', async () => {
    const base = write('base.json', fixedResult())
    const current = write('current.json', withBudget('count<=+0% baseline'))
    const run = await chaperon('compare', base, current)
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect(run.stdout).toContain('✗ shop under load  test/load/shop.load.ts:12')
    expect(run.stdout).toContain('baseline from the run of 2025-01-02T03:04:05.678Z')
    expect(run.stdout).toMatch(/http_reqs\s+✓ count<=\+0% baseline\s+480\s+480\s+\+0%/)
    expect(run.stdout).toMatch(/http_req_duration p\(95\)\s+762\.88ms\s+762\.88ms\s+\+0%/)
    expect(run.stdout).toContain('1 of 1 budget held.')
  })

  it('exits 1 when a budget fails, naming it', async () => {
    const run = await chaperon('compare', write('base.json', fixedResult()), write('worse.json', withBudget('count<-50% baseline')))
    expect(run.code).toBe(1)
    expect(run.stdout).toContain("1 of 1 budget failed:\n  ✗ http_reqs 'count<-50% baseline' count=480, baseline 480 (+0%)")
  })

  it('pairs the load tests of directories and writes the Markdown comment', async () => {
    const [shop, smoke] = fixedResults()
    write('main/shop.json', shop)
    write('main/smoke.json', smoke)
    write('pr/all.json', [withBudget('count<=+0% baseline'), smoke])
    const run = await chaperon('compare', 'main', 'pr', '--markdown', 'out/comment.md')
    expect(run.code).toBe(0)
    expect(run.stdout).toContain('Markdown written to out/comment.md')
    const md = readFileSync(join(dir, 'out/comment.md'), 'utf8')
    expect(md).toContain('Compared with the baseline in `main`.')
    expect(md).toContain('| `http_reqs` | ✓ `count<=+0% baseline` | 480 | 480 | +0% |')
    expect(md).toContain('### ✓ smoke — ping ✓')
  })

  it('exits 2 with a clear message for a missing file, another schema version, or not a result', async () => {
    const current = write('current.json', fixedResult())
    const missing = await chaperon('compare', 'nope.json', current)
    expect(missing).toMatchObject({ code: 2, stdout: '' })
    expect(missing.stderr).toMatch(/^ChaperonError \[CHAPERON_BASELINE\]: The baseline nope\.json does not exist\. Give a result file as the json reporter writes it/)
    const old = await chaperon('compare', write('v2.json', { ...fixedResult(), schemaVersion: 2 }), current)
    expect(old.code).toBe(2)
    expect(old.stderr).toBe(`ChaperonError [CHAPERON_BASELINE]: v2.json has schemaVersion 2, but chaperon ${VERSION} reads version 1. Write it again with chaperon ${VERSION}, or read it with the chaperon that wrote it.\n`)
    const bad = await chaperon('compare', write('b.json', fixedResult()), write('broken.json', '{"schemaVersion": 1,'))
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/^ChaperonError \[CHAPERON_RESULT_FILE\]: broken\.json is not valid JSON/)
  })
})

describe('chaperon report', () => {
  it('renders the HTML report from saved results', async () => {
    const [shop, smoke] = fixedResults()
    const run = await chaperon('report', write('r/shop.json', shop), write('r/smoke.json', smoke), '--html', 'site/report.html', '--title', 'Nightly')
    expect(run).toMatchObject({ code: 0, stderr: '' })
    expect(run.stdout).toMatch(/HTML report of 2 load tests written to .*site\/report\.html/)
    const html = readFileSync(join(dir, 'site/report.html'), 'utf8')
    expect(html.startsWith('<!doctype html>')).toBe(true)
    expect(html).toContain('<title>Nightly</title>')
    expect(html).toContain('shop under load')
  })

  it('exits 2 without --html or with an unreadable result', async () => {
    expect((await chaperon('report', write('s.json', fixedResult()))).stderr).toContain('chaperon report needs --html <file>')
    const run = await chaperon('report', 'missing.json', '--html', 'x.html')
    expect(run.code).toBe(2)
    expect(run.stderr).toMatch(/^ChaperonError \[CHAPERON_RESULT_FILE\]: The result missing\.json does not exist/)
    expect(existsSync(join(dir, 'x.html'))).toBe(false)
  })
})
