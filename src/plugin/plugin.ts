import type { Plugin } from 'vite'
import type { Reporter, Vitest } from 'vitest/node'
import { ChaperonError, didYouMean } from '../core/errors.ts'
import { describeValue, expectKnownKeys, expectObject, invalid } from '../core/validate.ts'
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
import { cancelOnStopSignal } from './interrupt.ts'
import { mergedVerdict } from './merge-verdict.ts'

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
 * It also makes the first Ctrl-C (SIGINT or SIGTERM) of a run cancel it
 * gracefully: running load tests stop with their partial results, marked
 * `interrupted`, and every reporter writes them. A second one exits at once.
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
      vitest.config.reporters.push(...created, cancelOnStopSignal(vitest))
      // Merging the blobs of a split run's instances: judge the merged segments.
      if (vitest.config.mergeReports) vitest.config.reporters.push(mergedVerdict())
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
  const given = expectObject(options, 'chaperon() options', "{ reporters: ['summary'] }")
  expectKnownKeys(given, ['reporters'], 'chaperon()')
  const specs: unknown = given.reporters ?? ['summary']
  if (!Array.isArray(specs)) throw invalid('chaperon() reporters', "an array such as ['summary', ['json', { outputDir: 'results' }]]", specs)
  return specs.map((spec: unknown, i) => {
    const where = `chaperon() reporters[${i}]`
    if (Array.isArray(spec) && (spec.length === 0 || spec.length > 2)) throw invalid(where, "a reporter name, or [name, options] such as ['json', { outputDir: 'results' }]", spec)
    const [name, reporterOptions] = Array.isArray(spec) ? spec : [spec]
    if (typeof name !== 'string' || !Object.hasOwn(REPORTERS, name)) {
      throw new ChaperonError(
        'CHAPERON_INVALID_OPTION',
        `${where} names an unknown reporter ${describeValue(name)}.${typeof name === 'string' ? didYouMean(name, Object.keys(REPORTERS)) : ''} Known reporters: ${Object.keys(REPORTERS).join(', ')}.`,
      )
    }
    return REPORTERS[name as ReporterName](reporterOptions)
  })
}
