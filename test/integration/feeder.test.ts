import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { LoadTestResult } from '../../src/core/result.ts'
import type { Feeder } from '../../src/runtime/feeder/feeder.ts'
import type { LoadTestOptions } from '../../src/runtime/options.ts'
import { resolveLoadTestOptions } from '../../src/runtime/resolve-options.ts'
import { runLoadTest } from '../../src/runtime/run.ts'
import type { Scenario } from '../../src/runtime/scenario.ts'
import { series, total } from '../support/results.ts'

// The fixture module declares its feeders over CHAPERON_FEEDER_FIXTURE_DIR/rows.csv, in this
// process and again in every worker thread, which inherits the variable.
const dir = mkdtempSync(join(tmpdir(), 'chaperon-feeder-'))
const ROWS = 30
let fixtures: { uniqueRows: Feeder<{ id: string }>; takeUnique: Scenario; takeSequential: Scenario }

beforeAll(async () => {
  const lines = ['id,name', ...Array.from({ length: ROWS }, (_, i) => `${i},"user ${i}, the ${i}th"`)]
  writeFileSync(join(dir, 'rows.csv'), lines.join('\n'))
  process.env.CHAPERON_FEEDER_FIXTURE_DIR = dir
  // The fixture imports chaperon by its package name (its compiled types); these tests run the source.
  fixtures = (await import('../../fixtures/feeders/rows.ts')) as unknown as typeof fixtures
  // This process reads the file, once; then it is gone, so a worker thread that read it again would fail.
  expect(fixtures.uniqueRows.length).toBe(ROWS)
  unlinkSync(join(dir, 'rows.csv'))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** Runs `iterations` shared iterations of `scenario` on 4 VUs, in `env`'s segment, on `workers` threads. */
async function run(scenario: Scenario, iterations: number, workers: number, env: Record<string, string> = {}) {
  const options: LoadTestOptions = { workers, scenarios: { main: { scenario, executor: 'shared-iterations', vus: 4, iterations } } }
  return runLoadTest('t', resolveLoadTestOptions('t', options, env))
}

/** How many times each row was taken, by id. */
function takes(results: LoadTestResult[]): Map<string, number> {
  const counts = new Map<string, number>()
  for (const result of results) {
    for (const s of series(result, 'feeder_row')) counts.set(s.tags.row!, (counts.get(s.tags.row!) ?? 0) + total(result, 'feeder_row', { row: s.tags.row! }))
  }
  return counts
}

const everyRow = (times: number) => new Map(Array.from({ length: ROWS }, (_, i) => [String(i), times]))

describe('feeders on worker threads', () => {
  it('unique: 2 threads × 3 segments take every row once, from the rows the parent loaded', async () => {
    const results: LoadTestResult[] = []
    for (const segment of ['1/3', '2/3', '3/3']) {
      const { result, misuse } = await run(fixtures.takeUnique, ROWS, 2, { CHAPERON_SEGMENT: segment })
      expect(misuse).toBeUndefined()
      expect(total(result, 'iterations')).toBe(ROWS / 3)
      results.push(result)
    }
    expect(takes(results)).toEqual(everyRow(1))
  })

  it('unique: a whole run on 2 threads takes every row once', async () => {
    const { result, misuse } = await run(fixtures.takeUnique, ROWS, 2)
    expect(misuse).toBeUndefined()
    expect(takes([result])).toEqual(everyRow(1))
  })

  it('sequential: the threads count together, so each row comes round equally often', async () => {
    const { result, misuse } = await run(fixtures.takeSequential, 2 * ROWS, 2)
    expect(misuse).toBeUndefined()
    expect(takes([result])).toEqual(everyRow(2))
    // And the three segments of a split run go through the file as one machine would.
    const results = []
    for (const segment of ['1/3', '2/3', '3/3']) results.push((await run(fixtures.takeSequential, ROWS, 2, { CHAPERON_SEGMENT: segment })).result)
    expect(takes(results)).toEqual(everyRow(1))
  })

  it('unique: a segment that has used its rows stops the VUs that find none, and fails the test, saying why', async () => {
    // Half of 40 iterations for half of the 30 rows: 5 iterations too many.
    const { result, misuse } = await run(fixtures.takeUnique, 40, 2, { CHAPERON_SEGMENT: '1/2' })
    expect(misuse).toMatchObject({ code: 'CHAPERON_FEEDER', message: expect.stringContaining("{ mode: 'unique' }) has used the 15 of its 30 rows that segment 0:1/2 owns") })
    // Each VU that finds no row stops there, rather than going on through failed iterations: one failure a VU at most.
    const failures = total(result, 'errors', { error_code: 'CHAPERON_FEEDER' })
    expect(failures).toBeGreaterThanOrEqual(1)
    expect(failures).toBeLessThanOrEqual(4)
    expect(takes([result]).size).toBe(15)
    expect(result.status).toBe('failed')
  })

  it('unique under a duration executor: the VUs stop when the rows are used up, and do not spin', async () => {
    // On worker threads, which run the compiled chaperon the fixture's feeders come from.
    const options: LoadTestOptions = { workers: 2, scenarios: { main: { scenario: fixtures.takeUnique, executor: 'constant-vus', vus: 4, duration: '1s' } } }
    const { result, misuse } = await runLoadTest('t', resolveLoadTestOptions('t', options, {}))
    expect(misuse).toMatchObject({ code: 'CHAPERON_FEEDER' })
    expect(takes([result])).toEqual(everyRow(1))
    expect(total(result, 'errors', { error_code: 'CHAPERON_FEEDER' })).toBe(4)
    expect(total(result, 'iterations')).toBe(ROWS)
  })

  it('in the test\'s own thread too, the run takes the rows in turn', async () => {
    const { result, misuse } = await run(fixtures.takeUnique, ROWS, 1)
    expect(misuse).toBeUndefined()
    expect(takes([result])).toEqual(everyRow(1))
  })
})
