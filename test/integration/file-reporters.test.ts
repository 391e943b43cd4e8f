// The `json` and `csv` reporters driven the way Vitest drives them (onInit,
// onTestRunStart, onTestCaseResult per test, onTestRunEnd), on results of real
// runs against the bundled target, writing into a temporary directory.
import { mkdtemp, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Ajv2020 } from 'ajv/dist/2020.js'
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { TestCase, Vitest } from 'vitest/node'
import type { LoadTestResult } from '../../src/core/result.ts'
import { CSV_COLUMNS, renderCsv } from '../../src/reporters/csv-render.ts'
import { CsvReporter } from '../../src/reporters/csv-reporter.ts'
import { resultFileStem } from '../../src/reporters/files.ts'
import { JsonReporter, renderJson } from '../../src/reporters/json-reporter.ts'
import { once, useTarget } from '../support/results.ts'

const target = useTarget()
const validate = new Ajv2020({ strict: true, allErrors: true }).compile(JSON.parse(await readFile(new URL('../../schema/load-test-result.schema.json', import.meta.url), 'utf8')))

let dir: string
let logged: string[]
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chaperon-file-reporters-'))
  logged = []
})
afterEach(() => rm(dir, { recursive: true, force: true }))

/** Just what the reporters use of Vitest: the root and the logger. */
function vitest(): Vitest {
  return { config: { root: dir }, logger: { error: (...args: unknown[]) => logged.push(args.join(' ')), log() {}, warn() {} } } as unknown as Vitest
}

/** A finished test as a reporter sees it; `result` undefined for a test that is not a load test. */
function testCase(id: string, result: LoadTestResult | undefined): TestCase {
  return { id, meta: () => (result === undefined ? {} : { chaperon: result }) } as unknown as TestCase
}

/** One run as Vitest reports it to `reporters`: the tests end in the order given. */
async function runReporters(reporters: Array<JsonReporter | CsvReporter>, results: Array<LoadTestResult | undefined>): Promise<void> {
  for (const r of reporters) r.onInit(vitest())
  for (const r of reporters) r.onTestRunStart()
  results.forEach((result, i) => reporters.forEach((r) => r.onTestCaseResult(testCase(`t${i}`, result))))
  await Promise.all(reporters.map((r) => r.onTestRunEnd()))
}

/** Every file under `root`, as paths relative to it. */
async function files(root: string): Promise<string[]> {
  return ((await readdir(root, { recursive: true, withFileTypes: true })) as Array<{ isFile(): boolean; parentPath: string; name: string }>)
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(root.length + 1))
    .sort()
}

let results: LoadTestResult[]
beforeAll(async () => {
  const run = await target.run({
    scenarios: once(
      async (s) => {
        await s.get('/products', { check: { 'is 200': (r) => r.status === 200 } })
        await s.post('/cart', { json: { id: 1 }, expect: 201 })
      },
      2,
      5,
    ),
  })
  // Two load tests of one run, as two test files would give them.
  results = [
    { ...run, name: 'shop, "checkout" — ✓', location: { file: '/repo/load/b.load.ts', line: 3, column: 1 } },
    { ...run, name: 'browse', location: { file: '/repo/load/a.load.ts', line: 10, column: 1 } },
  ]
})

describe('JsonReporter', () => {
  it('writes one schema-valid file per load test into outputDir, from Vitest root, creating it', async () => {
    await runReporters([new JsonReporter({ outputDir: 'out/deep/json' })], [results[0], undefined, results[1]])
    expect(logged).toEqual([])
    expect(await files(dir)).toEqual(results.map((r) => `out/deep/json/${resultFileStem(r)}.json`).sort())
    for (const r of results) {
      const text = await readFile(join(dir, 'out/deep/json', `${resultFileStem(r)}.json`), 'utf8')
      expect(text).toBe(renderJson(r))
      const back = JSON.parse(text) as LoadTestResult
      expect(validate(back), JSON.stringify(validate.errors)).toBe(true)
      expect(back).toEqual(JSON.parse(JSON.stringify(r)))
    }
  })

  it('writes to chaperon-results by default and to an absolute outputDir as given', async () => {
    await runReporters([new JsonReporter()], [results[1]])
    const absolute = join(dir, 'abs')
    await runReporters([new JsonReporter({ outputDir: absolute })], [results[1]])
    expect(await files(dir)).toEqual([`abs/${resultFileStem(results[1]!)}.json`, `chaperon-results/${resultFileStem(results[1]!)}.json`])
  })

  it('replaces an existing file by renaming a new one over it, leaving no temporary file', async () => {
    const path = join(dir, 'chaperon-results', `${resultFileStem(results[1]!)}.json`)
    await mkdir(join(dir, 'chaperon-results'))
    await writeFile(path, 'old')
    const before = await stat(path)
    await runReporters([new JsonReporter()], [results[1]])
    const after = await stat(path)
    // A new inode: the file was renamed into place, not rewritten where a reader could see half of it.
    expect(after.ino).not.toBe(before.ino)
    expect(await readFile(path, 'utf8')).toBe(renderJson(results[1]!))
    expect(await files(dir)).toEqual([`chaperon-results/${resultFileStem(results[1]!)}.json`])
  })

  it('reports a failed write through the logger and still writes the other files', async () => {
    // A directory where the first result's file should go: the rename onto it fails.
    const blocked = join(dir, 'chaperon-results', `${resultFileStem(results[0]!)}.json`)
    await mkdir(blocked, { recursive: true })
    await runReporters([new JsonReporter()], results)
    expect(logged).toHaveLength(1)
    expect(logged[0]).toContain('CHAPERON_EXPORT_FAILED')
    expect(logged[0]).toContain(`the 'json' reporter could not write the result of "${results[0]!.name}" to ${blocked}`)
    expect(await files(dir)).toEqual([`chaperon-results/${resultFileStem(results[1]!)}.json`])
    // A result that could not be written fails the run, whatever the tests said.
    expect(process.exitCode).toBe(1)
    process.exitCode = undefined
  })
})

describe('CsvReporter', () => {
  it('writes one CSV of every load test at the end of the run, one row per series, creating the directory', async () => {
    await runReporters([new CsvReporter({ outputFile: 'reports/load/run.csv' })], [results[0], undefined, results[1]])
    expect(logged).toEqual([])
    expect(await files(dir)).toEqual(['reports/load/run.csv'])
    const text = await readFile(join(dir, 'reports/load/run.csv'), 'utf8')
    const lines = text.split('\r\n')
    expect(lines.pop()).toBe('')
    expect(lines[0]).toBe(CSV_COLUMNS.join(','))
    expect(lines.length - 1).toBe(results[0]!.metrics.length + results[1]!.metrics.length)
    // In order of test file and line, whatever order the tests ended in.
    expect(text).toBe(renderCsv([results[1]!, results[0]!]))
    expect(lines[1]!.startsWith('browse,')).toBe(true)
    expect(lines.at(-1)!.startsWith('"shop, ""checkout"" — ✓",')).toBe(true)
  })

  it('writes chaperon-results/results.csv by default, atomically, and nothing for a run without load tests', async () => {
    const path = join(dir, 'chaperon-results', 'results.csv')
    await runReporters([new CsvReporter()], [undefined])
    expect(await files(dir)).toEqual([])
    await mkdir(join(dir, 'chaperon-results'))
    await writeFile(path, 'old')
    const before = await stat(path)
    await runReporters([new CsvReporter()], [results[0]])
    expect((await stat(path)).ino).not.toBe(before.ino)
    expect(await readFile(path, 'utf8')).toBe(renderCsv([results[0]!]))
    expect(await files(dir)).toEqual(['chaperon-results/results.csv'])
    // The next run starts afresh, and a run without load tests leaves the file as it was.
    await runReporters([new CsvReporter()], [results[1]])
    await runReporters([new CsvReporter()], [undefined])
    expect(await readFile(path, 'utf8')).toBe(renderCsv([results[1]!]))
  })

  it('reports a failed write through the logger, and the other reporters still write', async () => {
    await writeFile(join(dir, 'blocker'), 'a file, not a directory')
    const json = new JsonReporter({ outputDir: 'json' })
    await runReporters([new CsvReporter({ outputFile: 'blocker/results.csv' }), json], results)
    expect(logged).toHaveLength(1)
    expect(logged[0]).toContain(`ChaperonError [CHAPERON_EXPORT_FAILED]: the 'csv' reporter could not write the results of 2 load tests to ${join(dir, 'blocker', 'results.csv')}`)
    expect(await files(dir)).toEqual(['blocker', ...results.map((r) => `json/${resultFileStem(r)}.json`).sort()])
    expect(process.exitCode).toBe(1)
    process.exitCode = undefined
  })
})
