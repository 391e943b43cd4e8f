import { randomBytes } from 'node:crypto'
import { mkdir, rename, rm, writeFile } from 'node:fs/promises'
import { basename, dirname, extname, resolve } from 'node:path'
import type { Vitest } from 'vitest/node'
import { ChaperonError } from '../core/errors.ts'
import { parseSegment } from '../core/segment.ts'
import type { LoadTestResult } from '../core/result.ts'
import { invalid } from '../core/validate.ts'

/**
 * Writes `data` to `path` so that a reader never sees half a file: into a
 * temporary file beside it, then renamed over it. Creates the directories on
 * the way.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true })
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  try {
    await writeFile(temp, data)
    await rename(temp, path)
  } catch (error) {
    await rm(temp, { force: true })
    throw error
  }
}

/**
 * A file name (without extension) for one load test's result, stable across
 * runs and unique within a project: the test file's name and the test's
 * name, as lower-case words joined by `-`, e.g.
 * `storefront-load--storefront-holds-its-latency-budget`. A segment of a
 * split run adds which one (`--segment-2-of-3`), so the instances' files can
 * share a directory.
 */
export function resultFileStem(result: Pick<LoadTestResult, 'name' | 'location' | 'segment'>): string {
  const file = result.location === undefined ? 'load' : basename(result.location.file, extname(result.location.file))
  const stem = `${slug(file)}--${slug(result.name)}`
  if (result.segment === undefined) return stem
  const { index, count } = parseSegment(result.segment.segment, result.segment.sequence)
  return `${stem}--segment-${index + 1}-of-${count}`
}

/** Lower-case letters and digits, other runs of characters as one `-`, at most 80 characters. */
function slug(text: string): string {
  return (
    text
      .toLowerCase()
      .normalize('NFKD')
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 80)
      .replace(/-+$/, '') || 'test'
  )
}

/** Throws CHAPERON_INVALID_OPTION unless `value` is a non-empty path string. */
/** `path` taken from Vitest's root (`root` in the Vitest config), or from the working directory before Vitest is known. */
export function fromRoot(vitest: Pick<Vitest, 'config'> | undefined, path: string): string {
  return resolve(vitest?.config.root ?? process.cwd(), path)
}

export function expectPath(value: unknown, where: string, example: string): string {
  if (typeof value !== 'string' || value.trim() === '' || value.includes('\0')) throw invalid(where, `a non-empty path such as ${example}`, value)
  return value
}

/**
 * Prints a reporter's failed write as a CHAPERON_EXPORT_FAILED error through
 * Vitest's logger (stderr without one) instead of throwing, so one bad path
 * neither stops the run nor the other reporters' files.
 */
export function reportWriteFailure(vitest: Pick<Vitest, 'logger'> | undefined, reporter: string, path: string, what: string, cause: unknown): void {
  const reason = cause instanceof Error ? cause.message : String(cause)
  const error = new ChaperonError(
    'CHAPERON_EXPORT_FAILED',
    `the '${reporter}' reporter could not write ${what} to ${path}: ${reason}. Check that the directory is writable, or point the '${reporter}' reporter's options elsewhere.`,
    { cause },
  )
  const line = `${error.name}: ${error.message}`
  if (vitest === undefined) process.stderr.write(`${line}\n`)
  else vitest.logger.error(line)
  // The results were not all written: the run must not look clean.
  process.exitCode = 1
}
