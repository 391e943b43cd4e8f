import { ChaperonError } from '../core/errors.ts'
import type { LoadTestResult } from '../core/result.ts'
import { problemLine, type ResultFileCode, readSourcedResults, type SourcedResult } from '../core/result-files.ts'
import { writeFileAtomic } from '../reporters/files.ts'

/** Where a command writes: the process's streams, or buffers in tests. */
export interface CliIo {
  stdout: { write(text: string): unknown }
  stderr: { write(text: string): unknown }
}

/** Exit codes: 0 done, 1 a budget failed, 2 wrong usage or input that cannot be read. */
export const EXIT = Object.freeze({ ok: 0, failed: 1, usage: 2 })

/** A CHAPERON_CLI_USAGE error. */
export function usage(message: string): ChaperonError {
  return new ChaperonError('CHAPERON_CLI_USAGE', message)
}

/** node:util parseArgs's errors (an unknown option, a missing value) as usage errors. */
export function argsError(command: string, error: unknown): ChaperonError {
  const message = error instanceof Error ? error.message.replace(/\. To specify a positional argument.*$/s, '').replace(/\.$/, '') : String(error)
  return usage(`chaperon ${command}: ${message}.`)
}

/**
 * The results in every path, in order; undefined after printing one line per
 * file that cannot be used, so the command exits 2 naming them all at once.
 */
export async function readAll(paths: readonly string[], code: ResultFileCode, io: CliIo): Promise<LoadTestResult[] | undefined> {
  return (await readAllSourced(paths, code, io))?.map((r) => r.result)
}

/** As {@link readAll}, with the file each result was read from. */
export async function readAllSourced(paths: readonly string[], code: ResultFileCode, io: CliIo): Promise<SourcedResult[] | undefined> {
  const read = await Promise.all(paths.map((p) => readSourcedResults(p, code)))
  const problems = read.flatMap((r) => r.problems)
  for (const p of problems) io.stderr.write(`${problemLine(p)}\n`)
  return problems.length > 0 ? undefined : read.flatMap((r) => r.results)
}

/** Writes an output file; a failure is a CHAPERON_EXPORT_FAILED error that names the path. */
export async function writeOutput(path: string, text: string, option: string): Promise<void> {
  try {
    await writeFileAtomic(path, text)
  } catch (cause) {
    throw new ChaperonError('CHAPERON_EXPORT_FAILED', `Cannot write ${path}: ${cause instanceof Error ? cause.message : String(cause)}. Give ${option} a path in a directory that can be written to.`, { cause })
  }
}
