import { extname } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { TestProjectInlineConfiguration } from 'vitest/config'
import { expectInteger, expectKnownKeys, expectObject, invalid } from '../core/validate.ts'

/** Options of `loadProject()`. */
export interface LoadProjectOptions {
  /** Globs of load test files. @default ['**\/*.load.ts'] */
  include?: string[]
  /** Globs to leave out. @default Vitest's default excludes */
  exclude?: string[]
  /**
   * Start chaperon's bundled target server before the load tests and provide
   * its URL as `inject('chaperon:targetUrl')`, and its HTTPS one (HTTP/2 and
   * HTTP/1.1, a self-signed certificate) as `inject('chaperon:targetHttpsUrl')`.
   * @default false
   */
  target?: boolean
  /** Timeout of a load test whose own duration is unknown, in ms. @default 1_800_000 (30 min) */
  testTimeout?: number
}

/** The defaults of `loadProject()`. */
export const LOAD_PROJECT_DEFAULTS = Object.freeze({
  include: Object.freeze(['**/*.load.ts']),
  target: false,
  testTimeout: 30 * 60_000,
})

/**
 * Node flags of the processes that run load tests.
 *
 * - `--no-allocation-site-pretenuring`: V8 "pretenures" objects made where
 *   many long-lived ones were made before. While a thousand sessions connect,
 *   that marks allocation sites that later make a short-lived object per
 *   message, whose garbage then piles up in the old generation until a full
 *   collection. Without it, 1,000 WebSocket sessions peak at about 200 MB
 *   instead of 240–370 MB, and no slower.
 * - `--max-semi-space-size=16`: a load test allocates at a steady high rate,
 *   and Node 24 grows its young generation for that, step by step up to
 *   128 MB, which RSS keeps. Capped at 16 MB semi-spaces, a 10-minute soak at
 *   2,000 requests/s grows 3 % in RSS after its first minute instead of 62 %,
 *   at the same throughput.
 *
 * Both are measured in bench/README.md.
 */
export const LOAD_WORKER_EXEC_ARGV: readonly string[] = Object.freeze(['--no-allocation-site-pretenuring', '--max-semi-space-size=16'])

const KNOWN = ['include', 'exclude', 'target', 'testTimeout'] as const
// The global setup sits beside this file, compiled (.js) or not (.ts).
const GLOBAL_SETUP = fileURLToPath(new URL(`./global-setup${extname(fileURLToPath(import.meta.url))}`, import.meta.url))

/**
 * The Vitest project that runs load tests, named `load`. List it in
 * `test.projects` yourself and run it with `vitest run --project load`.
 *
 * Load tests run one file at a time in the forks pool (with
 * {@link LOAD_WORKER_EXEC_ARGV}), never retried, with timeouts long enough for
 * their schedules, and with task locations so reports can point at each
 * `loadTest()` line.
 */
export function loadProject(options: LoadProjectOptions = {}): TestProjectInlineConfiguration {
  expectKnownKeys(expectObject(options, 'loadProject() options', "{ include: ['load/**/*.load.ts'] }"), KNOWN, 'loadProject() options')
  for (const key of ['include', 'exclude'] as const) {
    const globs: unknown = options[key]
    if (globs !== undefined && (!Array.isArray(globs) || globs.some((g) => typeof g !== 'string'))) throw invalid(`loadProject() ${key}`, "an array of globs such as ['load/**/*.load.ts']", globs)
  }
  if (options.target !== undefined && typeof options.target !== 'boolean') throw invalid('loadProject() target', 'true or false', options.target)
  if (options.testTimeout !== undefined) expectInteger(options.testTimeout, 'loadProject() testTimeout', 1, 1_800_000)
  return {
    extends: true,
    test: {
      name: 'load',
      include: [...(options.include ?? LOAD_PROJECT_DEFAULTS.include)],
      ...(options.exclude === undefined ? {} : { exclude: options.exclude }),
      pool: 'forks',
      execArgv: [...LOAD_WORKER_EXEC_ARGV],
      fileParallelism: false,
      retry: 0,
      testTimeout: options.testTimeout ?? LOAD_PROJECT_DEFAULTS.testTimeout,
      hookTimeout: 120_000,
      includeTaskLocation: true,
      ...((options.target ?? LOAD_PROJECT_DEFAULTS.target) ? { globalSetup: [GLOBAL_SETUP] } : {}),
    },
  }
}
