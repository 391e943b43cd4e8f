/**
 * Reading saved `LoadTestResult`s: for baselines, `chaperon compare` and
 * `chaperon report`. A file that cannot be used is a one-line message with a
 * stable code, never a crash.
 */

import { readdir, readFile, stat } from 'node:fs/promises'
import { extname, join } from 'node:path'
import type { Baselines } from './baseline.ts'
import { ChaperonError } from './errors.ts'
import { mergeSplitRuns } from './merge.ts'
import { type LoadTestResult, SCHEMA_VERSION } from './result.ts'
import { isPlainObject } from './validate.ts'
import { VERSION } from './version.ts'

/** The code of a problem: `CHAPERON_BASELINE` for a baseline, `CHAPERON_RESULT_FILE` for any other result. */
export type ResultFileCode = 'CHAPERON_BASELINE' | 'CHAPERON_RESULT_FILE'

/** Results read from files, and a coded error for each file that could not be used. */
export interface ReadResults {
  results: LoadTestResult[]
  problems: ChaperonError[]
}

/** A result and the file it was read from. */
export interface SourcedResult {
  result: LoadTestResult
  /** The file, as found under the path given. */
  source: string
}

const FORM = 'Give a result file as the json reporter writes it (chaperon-results/<test>.json), a directory of them, or Vitest\'s JSON report'

/**
 * Reads the results in `path`: a JSON file, or every `*.json` file under a
 * directory. A file may hold one `LoadTestResult`, an array of them, or a
 * Vitest JSON report whose tests carry results in `meta.chaperon`. A missing
 * path, an empty directory or a bad file becomes a problem, coded `code`.
 */
export async function readResults(path: string, code: ResultFileCode): Promise<ReadResults> {
  const { results, problems } = await readSourcedResults(path, code)
  return { results: results.map((r) => r.result), problems }
}

/** As {@link readResults}, with the file each result was read from. */
export async function readSourcedResults(path: string, code: ResultFileCode): Promise<{ results: SourcedResult[]; problems: ChaperonError[] }> {
  const what = code === 'CHAPERON_BASELINE' ? 'baseline' : 'result'
  let files: string[]
  try {
    const info = await stat(path)
    files = info.isDirectory() ? (await readdir(path, { recursive: true })).filter((f) => extname(f) === '.json').sort().map((f) => join(path, f)) : [path]
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : `cannot be read (${(error as Error).message})`
    return { results: [], problems: [new ChaperonError(code, `The ${what} ${path} ${why}. ${FORM}.`)] }
  }
  if (files.length === 0) return { results: [], problems: [new ChaperonError(code, `The ${what} directory ${path} holds no *.json files. ${FORM}.`)] }
  const results: SourcedResult[] = []
  const problems: ChaperonError[] = []
  for (const file of files) {
    try {
      results.push(...parseResults(await readFile(file, 'utf8'), file, code).map((result) => ({ result, source: file })))
    } catch (error) {
      problems.push(error instanceof ChaperonError ? error : new ChaperonError(code, `The ${what} file ${file} cannot be read: ${(error as Error).message}.`))
    }
  }
  return { results, problems }
}

/**
 * Reads the baselines at `path` (see {@link readResults}); problems become one
 * line each. The segments of a split run are merged into the baseline of the
 * whole (a segment alone is no baseline).
 */
export async function readBaselines(path: string): Promise<Baselines> {
  const { results, problems } = await readResults(path, 'CHAPERON_BASELINE')
  // A baseline from a split run is its segments: merged, they are the baseline; a share alone is none.
  const merged = mergeSplitRuns(results)
  return {
    source: path,
    results: merged.results.filter((r) => r.segment === undefined),
    problems: [...problems, ...merged.problems.map((p) => new ChaperonError('CHAPERON_BASELINE', `${path} holds segments of a split run that cannot be merged into a baseline: ${p.message}`))].map(problemLine),
  }
}

/** A coded error as one line: `ChaperonError [CODE]: message`. */
export function problemLine(error: ChaperonError): string {
  return `${error.name}: ${error.message}`
}

/** The results in one file's text; throws a coded error naming `file` when it holds none, or a malformed one. */
export function parseResults(text: string, file: string, code: ResultFileCode): LoadTestResult[] {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw new ChaperonError(code, `${file} is not valid JSON (${(error as Error).message}). ${FORM}.`)
  }
  if (isPlainObject(value) && Array.isArray(value['testResults'])) {
    const found = vitestReportResults(value['testResults'])
    if (found.length === 0) throw new ChaperonError(code, `${file} is a Vitest JSON report without load test results (no test has meta.chaperon). ${FORM}.`)
    return found.map((r, i) => checkResult(r, `${file} (load test ${i + 1})`, code))
  }
  if (Array.isArray(value)) return value.map((r, i) => checkResult(r, `${file}[${i}]`, code))
  return [checkResult(value, file, code)]
}

function vitestReportResults(files: unknown[]): unknown[] {
  const out: unknown[] = []
  for (const f of files) {
    if (!isPlainObject(f) || !Array.isArray(f['assertionResults'])) continue
    for (const t of f['assertionResults']) {
      if (isPlainObject(t) && isPlainObject(t['meta']) && t['meta']['chaperon'] !== undefined) out.push(t['meta']['chaperon'])
    }
  }
  return out
}

/**
 * `value` as a `LoadTestResult`, after checking its `schemaVersion` and the
 * fields every reader relies on; throws a coded error that names `where` and
 * what is wrong.
 */
export function checkResult(value: unknown, where: string, code: ResultFileCode): LoadTestResult {
  const bad = (why: string) => new ChaperonError(code, `${where} is not a chaperon result: ${why}. ${FORM}.`)
  if (!isPlainObject(value)) throw bad('it is not an object')
  const version = value['schemaVersion']
  if (version === undefined) throw bad('it has no schemaVersion')
  if (version !== SCHEMA_VERSION) {
    throw new ChaperonError(
      code,
      `${where} has schemaVersion ${JSON.stringify(version)}, but chaperon ${VERSION} reads version ${SCHEMA_VERSION}. Write it again with chaperon ${VERSION}, or read it with the chaperon that wrote it.`,
    )
  }
  const expect = (field: string, ok: (v: unknown) => boolean, wanted: string) => {
    if (!ok(value[field])) throw bad(`${field} must be ${wanted}`)
  }
  expect('name', (v) => typeof v === 'string', 'a string')
  expect('startedAt', (v) => typeof v === 'string', 'a string')
  expect('durationMs', (v) => typeof v === 'number' && Number.isFinite(v) && v >= 0, 'a number of ms')
  expect('status', (v) => v === 'passed' || v === 'failed', "'passed' or 'failed'")
  expect('scenarios', Array.isArray, 'an array')
  expect('errors', Array.isArray, 'an array')
  expect('timeSeries', (v) => isPlainObject(v) && Array.isArray(v['series']), 'an object with a series array')
  expect('metrics', (v) => Array.isArray(v) && v.every(isSeries), 'an array of series ({ metric, type, tags, … })')
  expect('thresholds', (v) => Array.isArray(v) && v.every(isThreshold), 'an array of { key, expression, ok, actual, display }')
  if (value['location'] !== undefined) expect('location', (v) => isPlainObject(v) && typeof v['file'] === 'string' && typeof v['line'] === 'number', 'an object { file, line, column }')
  return value as unknown as LoadTestResult
}

function isSeries(s: unknown): boolean {
  if (!isPlainObject(s) || typeof s['metric'] !== 'string' || !isPlainObject(s['tags'])) return false
  switch (s['type']) {
    case 'trend':
      return isPlainObject(s['trend']) && typeof s['trend']['histogram'] === 'string'
    case 'counter':
      return typeof s['value'] === 'number'
    case 'rate':
      return typeof s['passes'] === 'number' && typeof s['total'] === 'number'
    case 'gauge':
      return typeof s['value'] === 'number' && typeof s['min'] === 'number' && typeof s['max'] === 'number'
    default:
      return false
  }
}

function isThreshold(t: unknown): boolean {
  return isPlainObject(t) && typeof t['key'] === 'string' && typeof t['expression'] === 'string' && typeof t['ok'] === 'boolean' && (t['actual'] === null || typeof t['actual'] === 'number') && typeof t['display'] === 'string'
}
