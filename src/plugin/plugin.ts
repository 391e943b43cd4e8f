import type { Plugin } from 'vite'
import type { Reporter, Vitest } from 'vitest/node'
import { ChaperonError, didYouMean } from '../core/errors.ts'
import type { ProgressMessage } from '../core/progress.ts'
import { listenForProgress, progressSocketPath } from '../reporters/progress.ts'
import { CsvReporter, type CsvReporterOptions, resolveCsvReporterOptions } from '../reporters/csv-reporter.ts'
import { GithubReporter, type GithubReporterOptions, resolveGithubReporterOptions } from '../reporters/github-reporter.ts'
import { HtmlReporter, type HtmlReporterOptions, resolveHtmlReporterOptions } from '../reporters/html-reporter.ts'
import { InfluxDbReporter, type InfluxDbReporterOptions, resolveInfluxDbReporterOptions } from '../reporters/influxdb-reporter.ts'
import { JsonReporter, type JsonReporterOptions, resolveJsonReporterOptions } from '../reporters/json-reporter.ts'
import { isLive } from '../reporters/live.ts'
import { resolveSummaryReporterOptions, SummaryReporter, type SummaryReporterOptions } from '../reporters/summary-reporter.ts'
import { PROGRESS_SOCKET_ENV } from '../core/progress.ts'

/** The options of each reporter chaperon ships, by name. */
export interface ReporterOptions {
  summary: SummaryReporterOptions
  json: JsonReporterOptions
  csv: CsvReporterOptions
  html: HtmlReporterOptions
  influxdb: InfluxDbReporterOptions
  github: GithubReporterOptions
}

/** The reporters chaperon ships. */
export type ReporterName = keyof ReporterOptions

/** A reporter by name, or with its options, such as `['summary', { progress: false }]`. */
export type ReporterSpec = { [N in ReporterName]: N | [N, ReporterOptions[N]?] }[ReporterName]

/** Options of the `chaperon()` Vite plugin. */
export interface ChaperonPluginOptions {
  /** chaperon's reporters to add beside Vitest's own. @default ['summary'] */
  reporters?: ReporterSpec[]
}

// Each checks a reporter's options when chaperon() is called and returns what creates the reporter.
const REPORTERS: Readonly<Record<ReporterName, (options: unknown) => () => Reporter>> = {
  summary: checked(resolveSummaryReporterOptions, SummaryReporter),
  json: checked(resolveJsonReporterOptions, JsonReporter),
  csv: checked(resolveCsvReporterOptions, CsvReporter),
  html: checked(resolveHtmlReporterOptions, HtmlReporter),
  influxdb: checked(resolveInfluxDbReporterOptions, InfluxDbReporter),
  github: checked(resolveGithubReporterOptions, GithubReporter),
}

/** Resolves a reporter's options now, so a mistake fails the config load, and makes the reporter later. */
function checked<O>(resolve: (options: unknown) => O, Reporter: new (options: O) => Reporter): (options: unknown) => () => Reporter {
  return (options) => {
    const resolved = resolve(options)
    return () => new Reporter(resolved)
  }
}

// One Vitest instance calls configureVitest once per project that has the plugin.
const configured = new WeakSet<Vitest>()

/**
 * The Vite plugin that adds chaperon's reporters to Vitest. Put it in the root
 * config's `plugins`; list `loadProject()` in `test.projects` to run load tests.
 *
 * When a reporter is live (the summary's progress line, InfluxDB streaming),
 * the plugin also opens the local socket that load tests in Vitest's workers
 * send their progress and metrics to, and passes its path to them in
 * `CHAPERON_PROGRESS_SOCKET`.
 */
export function chaperon(options: ChaperonPluginOptions = {}): Plugin {
  const reporters = resolveReporters(options)
  return {
    name: 'chaperon',
    configureVitest({ vitest }) {
      if (configured.has(vitest)) return
      configured.add(vitest)
      const created = reporters.map((create) => create())
      vitest.config.reporters.push(...created)
      const listeners = created.filter(isLive)
      if (listeners.length > 0) serveProgress(vitest, (message) => listeners.forEach((r) => r.onLive(message)))
    },
  }
}

/**
 * Opens the progress socket and points the workers Vitest starts later at it.
 * The path is set at once, before any worker can start; if listening fails,
 * workers just cannot connect and show no progress.
 */
function serveProgress(vitest: Vitest, onMessage: (message: ProgressMessage) => void): void {
  const path = progressSocketPath()
  const previous = process.env[PROGRESS_SOCKET_ENV]
  process.env[PROGRESS_SOCKET_ENV] = path
  const server = listenForProgress(path, onMessage).catch(() => undefined)
  vitest.onClose(async () => {
    // Give a Vitest that runs inside another one's worker its parent's socket back.
    if (previous === undefined) delete process.env[PROGRESS_SOCKET_ENV]
    else process.env[PROGRESS_SOCKET_ENV] = previous
    await (await server)?.close()
  })
}

function resolveReporters(options: ChaperonPluginOptions): Array<() => Reporter> {
  if (typeof options !== 'object' || options === null) {
    throw new ChaperonError('CHAPERON_INVALID_OPTION', `chaperon() takes an options object such as { reporters: ['summary'] }; got ${String(options)}.`)
  }
  for (const key of Object.keys(options)) {
    if (key !== 'reporters') throw new ChaperonError('CHAPERON_UNKNOWN_OPTION', `chaperon() has an unknown option "${key}".${didYouMean(key, ['reporters'])} Known options: reporters.`)
  }
  const specs: unknown = options.reporters ?? ['summary']
  if (!Array.isArray(specs)) {
    throw new ChaperonError('CHAPERON_INVALID_OPTION', `chaperon() reporters must be an array such as ['summary']; got ${JSON.stringify(specs)}.`)
  }
  return specs.map((spec: ReporterSpec) => {
    const [name, reporterOptions] = Array.isArray(spec) ? spec : [spec]
    if (!Object.hasOwn(REPORTERS, name)) {
      throw new ChaperonError('CHAPERON_INVALID_OPTION', `chaperon() reporters has an unknown reporter ${JSON.stringify(name)}.${didYouMean(String(name), Object.keys(REPORTERS))} Known reporters: ${Object.keys(REPORTERS).join(', ')}.`)
    }
    return REPORTERS[name](reporterOptions)
  })
}
