// The test-file API: what `*.load.ts` files import from 'chaperon'.
export { loadTest } from './runtime/load-test.ts'
export type { LoadTestAPI, LoadTestFn } from './runtime/load-test.ts'
export { scenario } from './runtime/scenario.ts'
export type { Scenario, ScenarioFn } from './runtime/scenario.ts'
export { Session } from './runtime/session.ts'
export type { DelayValue } from './runtime/session.ts'
export { Response } from './runtime/http/response.ts'
export type { ResponseTimings } from './runtime/http/response.ts'
export type { ExpectedStatuses, QueryValue, RequestOptions, StatusRange } from './runtime/http/request-options.ts'
export type {
  CommonScenarioOptions,
  ConcurrencyOptions,
  ConstantVusOptions,
  HttpOptions,
  LoadTestOptions,
  PerVuIterationsOptions,
  ScenarioOptions,
} from './runtime/options.ts'
export type { Thresholds, ThresholdObject } from './core/thresholds.ts'
export type { Duration } from './core/duration.ts'
export { ChaperonError, ThresholdsFailedError } from './core/errors.ts'
export type { ChaperonErrorCode } from './core/errors.ts'
export { SCHEMA_VERSION } from './core/result.ts'
export type { LoadTestResult, MetricType, ScenarioErrorResult, ScenarioResult, SeriesResult, Tags, ThresholdResult, TrendSummary } from './core/result.ts'

export { TARGET_URL_KEY } from './core/provided-context.ts'
