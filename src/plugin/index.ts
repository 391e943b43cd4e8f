// The config-side API: what vitest.config.ts imports from 'chaperon/plugin'.
export { chaperon } from './plugin.ts'
export type { ChaperonPluginOptions, ReporterName, ReporterOptions, ReporterSpec } from './plugin.ts'
export { loadProject, LOAD_PROJECT_DEFAULTS, LOAD_WORKER_EXEC_ARGV } from './load-project.ts'
export type { LoadProjectOptions } from './load-project.ts'
