import { randomBytes } from 'node:crypto'
import { mkdir, rename, rm, writeFile } from 'node:fs/promises'
import { basename, dirname, extname } from 'node:path'
import type { LoadTestResult } from '../core/result.ts'

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
 * `storefront-load--storefront-holds-its-latency-budget`.
 */
export function resultFileStem(result: Pick<LoadTestResult, 'name' | 'location'>): string {
  const file = result.location === undefined ? 'load' : basename(result.location.file, extname(result.location.file))
  return `${slug(file)}--${slug(result.name)}`
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
