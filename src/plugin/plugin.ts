import type { Plugin } from 'vite'
import type { Reporter, Vitest } from 'vitest/node'
import { ChaperonError, didYouMean } from '../core/errors.ts'
import { SummaryReporter } from '../reporters/summary-reporter.ts'

/** The reporters chaperon ships. */
export type ReporterName = 'summary'

/** A reporter by name, or with its options. */
export type ReporterSpec = ReporterName | [ReporterName, Record<string, never>?]

/** Options of the `chaperon()` Vite plugin. */
export interface ChaperonPluginOptions {
  /** chaperon's reporters to add beside Vitest's own. @default ['summary'] */
  reporters?: ReporterSpec[]
}

const REPORTERS: Readonly<Record<ReporterName, () => Reporter>> = {
  summary: () => new SummaryReporter(),
}

// One Vitest instance calls configureVitest once per project that has the plugin.
const configured = new WeakSet<Vitest>()

/**
 * The Vite plugin that adds chaperon's reporters to Vitest. Put it in the root
 * config's `plugins`; list `loadProject()` in `test.projects` to run load tests.
 */
export function chaperon(options: ChaperonPluginOptions = {}): Plugin {
  const reporters = resolveReporters(options)
  return {
    name: 'chaperon',
    configureVitest({ vitest }) {
      if (configured.has(vitest)) return
      configured.add(vitest)
      vitest.config.reporters.push(...reporters.map((create) => create()))
    },
  }
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
    const name = Array.isArray(spec) ? spec[0] : spec
    const create = REPORTERS[name]
    if (create === undefined) {
      throw new ChaperonError('CHAPERON_INVALID_OPTION', `chaperon() reporters has an unknown reporter ${JSON.stringify(name)}.${didYouMean(String(name), Object.keys(REPORTERS))} Known reporters: ${Object.keys(REPORTERS).join(', ')}.`)
    }
    return create
  })
}
