// Reporters and their pure render functions, for custom reporters and the CLI.
export { SummaryReporter } from './summary-reporter.ts'
export { renderSummary } from './summary-render.ts'
export { createPalette, useColors } from './colors.ts'
export type { Palette } from './colors.ts'
export { seriesFromResult, aggregate } from '../core/series.ts'
export type { Aggregate, Series } from '../core/series.ts'
export type { LoadTestResult } from '../core/result.ts'
