import { isAbsolute, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ChaperonError, didYouMean } from '../../core/errors.ts'
import { scale, slotAt, WHOLE } from '../../core/segment.ts'
import { describeValue, isPlainObject } from '../../core/validate.ts'
import type { FeederFormat } from './parse.ts'
import { type FeederFile, feederFile, feederSegment, tableOf } from './registry.ts'
import { rowAt, rowCount } from './table.ts'

/**
 * How a feeder hands out its rows:
 * - `'sequential'`: in file order, starting over at the first row after the last;
 * - `'random'`: a row picked at random each time, any row any number of times;
 * - `'unique'`: each row at most once per load test, across its VUs, worker
 *   threads and the machines of a split run; `next()` throws once they are used up.
 */
export type FeederMode = 'sequential' | 'random' | 'unique'

/** Options of `feeder.csv()` and `feeder.json()`. */
export interface FeederOptions {
  /**
   * How rows are handed out.
   * @default 'sequential'
   */
  mode?: FeederMode
}

const MODES: readonly FeederMode[] = ['sequential', 'random', 'unique']

/**
 * Rows of test data read from a file once per process and shared by every
 * VU and worker thread (docs/feeders.md). Made by `feeder.csv()` or
 * `feeder.json()` at the top of a module; scenarios take rows with `next()`.
 */
export class Feeder<Row extends object = Record<string, string>> {
  /** The file's absolute path. */
  readonly path: string
  /** How rows are handed out. */
  readonly mode: FeederMode
  readonly #format: FeederFormat
  /** The path as given, quoted for messages. */
  readonly #shown: string
  /** The file's entry, registered now so that a run started after this ships it to its worker threads. */
  readonly #file: FeederFile

  /** Use `feeder.csv()` or `feeder.json()`. */
  constructor(format: FeederFormat, path: string | URL, options: FeederOptions = {}) {
    this.#format = format
    this.#shown = describeValue(path instanceof URL ? path.href : path)
    const where = `feeder.${format}(${this.#shown})`
    this.path = absolutePath(path, where, format)
    this.mode = modeOf(options, where)
    this.#file = feederFile(this.path, format, where)
  }

  /** How many rows the file holds; reads the file if no run has yet. */
  get length(): number {
    return rowCount(tableOf(this.#file))
  }

  /**
   * The next row, a frozen object: CSV values are strings keyed by the
   * header line; JSON rows are the array's objects. Throws CHAPERON_FEEDER
   * when the file cannot be read, and in `unique` mode when this run (or
   * this machine's segment of it) has used up its rows — which fails the
   * iteration and the load test.
   */
  next(): Readonly<Row> {
    const file = this.#file
    const table = tableOf(file)
    const count = rowCount(table)
    if (this.mode === 'random') return rowAt(table, Math.floor(Math.random() * count))
    // The k-th row this machine takes is the k-th slot of its segment's stripe, as the k-th
    // iteration is: the machines of a split run go through the rows as one machine would.
    const k = Number(Atomics.add(file.taken, this.mode === 'sequential' ? 0 : 1, 1n))
    const stripe = feederSegment()?.stripe ?? WHOLE
    if (this.mode === 'sequential') {
      // Past its last row, each machine starts over within its own share (all rows when it owns none).
      const own = scale(stripe, count)
      return rowAt(table, own === 0 ? slotAt(stripe, k) % count : slotAt(stripe, k % own))
    }
    const slot = slotAt(stripe, k)
    if (slot >= count) throw this.#usedUp(count)
    return rowAt(table, slot)
  }

  #usedUp(count: number): ChaperonError {
    const where = `feeder.${this.#format}(${this.#shown}, { mode: 'unique' })`
    const fix = `Give the file more rows, run at most as many iterations as there are rows (a shared-iterations executor with iterations: ${count}), or use mode: 'sequential' to start over at the first row.`
    const segment = feederSegment()
    if (segment === undefined) return new ChaperonError('CHAPERON_FEEDER', `${where} has used all its ${count} rows: a unique feeder gives each row once per load test. ${fix}`)
    return new ChaperonError(
      'CHAPERON_FEEDER',
      `${where} has used the ${scale(segment.stripe, count)} of its ${count} rows that segment ${segment.label} owns: a unique feeder gives each row once per load test, and the segments of a split run share the rows out as they share the iterations. ${fix}`,
    )
  }
}

/**
 * Declares a feeder: test data read from a file, shared by every VU and
 * worker thread of the process. Call it at the top of a module; the same
 * file and mode declared twice are one feeder, with one position.
 *
 * A string path is relative to the working directory (where `vitest` was
 * started, whatever `--root` says); pass `new URL('./users.csv', import.meta.url)`
 * for a path relative to the module.
 *
 * ```ts
 * export const users = feeder.csv('data/users.csv', { mode: 'unique' })
 *
 * export const login = scenario('login', async (s) => {
 *   const user = users.next()
 *   await s.post('/login', { json: { name: user.name, password: user.password } })
 * })
 * ```
 */
export const feeder = Object.freeze({
  /** A feeder of a CSV file's lines, each an object of strings keyed by the header line. */
  csv<Row extends object = Record<string, string>>(path: string | URL, options?: FeederOptions): Feeder<Row> {
    return new Feeder<Row>('csv', path, options)
  },
  /** A feeder of a JSON file's array of objects. */
  json<Row extends object = Record<string, unknown>>(path: string | URL, options?: FeederOptions): Feeder<Row> {
    return new Feeder<Row>('json', path, options)
  },
})

function absolutePath(path: unknown, where: string, format: FeederFormat): string {
  if (path instanceof URL) {
    if (path.protocol !== 'file:') throw new ChaperonError('CHAPERON_FEEDER', `${where}: feeders read local files; write a file: URL, such as new URL('./data.${format}', import.meta.url).`)
    return fileURLToPath(path)
  }
  if (typeof path !== 'string' || path === '') throw new ChaperonError('CHAPERON_FEEDER', `${where}: the path must be a file path such as 'data/users.${format}', or a file: URL; got ${describeValue(path)}.`)
  return isAbsolute(path) ? path : resolve(path)
}

function modeOf(options: unknown, where: string): FeederMode {
  if (!isPlainObject(options)) throw new ChaperonError('CHAPERON_FEEDER', `${where}: options must be an object such as { mode: 'unique' }; got ${describeValue(options)}.`)
  for (const key of Object.keys(options)) {
    if (key !== 'mode') throw new ChaperonError('CHAPERON_FEEDER', `${where} has an unknown option "${key}".${didYouMean(key, ['mode'])} Its only option is mode: ${MODES.map((m) => `'${m}'`).join(', ')}.`)
  }
  const mode = options.mode ?? 'sequential'
  if (!MODES.includes(mode as FeederMode)) {
    throw new ChaperonError('CHAPERON_FEEDER', `${where}: mode must be 'sequential', 'random' or 'unique'; got ${describeValue(mode)}.${typeof mode === 'string' ? didYouMean(mode, MODES) : ''}`)
  }
  return mode as FeederMode
}
