// Where the feeders of a thread keep their data, and how a run hands it to its worker threads.
import type { Segment } from '../../core/segment.ts'
import { type FeederFormat, readRows } from './parse.ts'
import { type SharedTable, toTable } from './table.ts'

/** One data file that feeders read, as plain data that crosses to worker threads. */
export interface FeederFile {
  /** Its absolute path. */
  readonly path: string
  /** How it is parsed. */
  readonly format: FeederFormat
  /** The feeder as its user declared it, for messages: `feeder.csv('data/users.csv')`. */
  readonly where: string
  /** Its rows, once loaded: shared memory, which the worker threads read too. */
  table: SharedTable | undefined
  /** Why it could not be loaded, once that is known: every `next()` throws it, without reading the file again. */
  error?: Error | undefined
  /**
   * How many rows the file's sequential (entry 0) and unique (entry 1)
   * feeders have taken in this run: shared memory, so the threads of a
   * process count together.
   */
  readonly taken: BigInt64Array
}

/** The part of a split run this process runs, as feeders need it. */
export type FeederSegment = Pick<Segment, 'label' | 'stripe'>

interface FeederState {
  readonly files: Map<string, FeederFile>
  segment: FeederSegment | undefined
}

// Kept on globalThis, not in this module: a process may load two copies of chaperon (a test
// file's and its scenario module's), and both must find the same feeders.
const STATE = Symbol.for('chaperon.feeders')

function state(): FeederState {
  const g = globalThis as { [STATE]?: FeederState }
  return (g[STATE] ??= { files: new Map(), segment: undefined })
}

/** The entry of `path` read as `format`, registered on first use so that runs ship it to their workers. */
export function feederFile(path: string, format: FeederFormat, where: string): FeederFile {
  const { files } = state()
  const key = keyOf({ path, format })
  let file = files.get(key)
  if (file === undefined) files.set(key, (file = { path, format, where, table: undefined, taken: new BigInt64Array(new SharedArrayBuffer(16)) }))
  return file
}

/**
 * The rows of `file`, read and parsed on first use. A file that fails to
 * load keeps its error: it fails only the runs whose scenarios take from it,
 * each time, without reading the file again.
 */
export function tableOf(file: FeederFile): SharedTable {
  if (file.table !== undefined) return file.table
  if (file.error !== undefined) throw file.error
  try {
    file.table = toTable(readRows(file.path, file.format, file.where))
  } catch (error) {
    file.error = error as Error
    throw error
  }
  return file.table
}

/** The segment of a split run this process runs, if any: its rows are the ones unique and sequential feeders take. */
export function feederSegment(): FeederSegment | undefined {
  return state().segment
}

/**
 * Readies every feeder declared in this process for a run of `segment` (the
 * whole run: undefined): loads each file not yet loaded and puts every
 * feeder back at its first row, so each load test starts afresh. Returns
 * what the run ships to its worker threads: the files that loaded. A file
 * that does not load is not an error here, where the run may not use it:
 * its feeders throw CHAPERON_FEEDER when a scenario takes a row.
 */
export function startFeeders(segment: FeederSegment | undefined): FeederFile[] {
  const s = state()
  s.segment = segment
  const files: FeederFile[] = []
  for (const file of s.files.values()) {
    try {
      tableOf(file)
    } catch {
      continue
    }
    file.taken.fill(0n)
    files.push(file)
  }
  return files
}

/**
 * In a worker thread, before its scenario modules load: their feeders take
 * the parent's rows and counts, for the parent's `segment` of a split run.
 */
export function adoptFeeders(files: readonly FeederFile[], segment: FeederSegment | undefined): void {
  const s = state()
  for (const file of files) s.files.set(keyOf(file), file)
  s.segment = segment
}

function keyOf(file: Pick<FeederFile, 'path' | 'format'>): string {
  return `${file.format}:${file.path}`
}
