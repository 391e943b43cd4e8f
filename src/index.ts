// The test-file API: what `*.load.ts` files import from 'chaperon'.
export { loadTest } from './runtime/load-test.ts'
export type { LoadTestAPI, LoadTestFn } from './runtime/load-test.ts'
export { scenario, sequence } from './runtime/scenario.ts'
export type { Scenario, ScenarioDefinition, ScenarioFn } from './runtime/scenario.ts'
export { Session, SessionAborted } from './runtime/session.ts'
export type { DelayValue, RepeatOptions, RetryOptions, SpreadOptions, WaitOptions } from './runtime/session.ts'
export type { SessionLog, LogLevel } from './runtime/session-log.ts'
export type { SignalMatch } from './runtime/session-signals.ts'
export { Counter, Gauge, Rate, Trend } from './runtime/metrics/user-metrics.ts'
export { dryRun } from './runtime/dry-run.ts'
export type { DryRunOptions } from './runtime/dry-run.ts'
export { feeder } from './runtime/feeder/feeder.ts'
export type { Feeder, FeederMode, FeederOptions } from './runtime/feeder/feeder.ts'
export type { SseError, SseEvent, SseStream } from './runtime/sse/sse-stream.ts'
export type { SseOptions } from './runtime/sse/sse-options.ts'
export type { WsClient, WsConnectOptions } from './runtime/ws/ws-client.ts'
export type { WsConnectError, WsConnection, WsMessage, WsSendData } from './runtime/ws/ws-connection.ts'
export { Response } from './runtime/http/response.ts'
export type { ResponseTimings } from './runtime/http/response.ts'
export type { BasicAuth, ExpectedStatuses, QueryValue, RequestOptions, StatusRange } from './runtime/http/request-options.ts'
export type {
  ArrivalRateCommonOptions,
  CommonScenarioOptions,
  ConcurrencyOptions,
  ConstantArrivalRateOptions,
  ConstantVusOptions,
  HttpOptions,
  LoadTestOptions,
  MockHandler,
  PerVuIterationsOptions,
  RampingArrivalRateOptions,
  RampingVusOptions,
  ScenarioOptions,
  SharedIterationsOptions,
} from './runtime/options.ts'
export type { Thresholds, ThresholdObject } from './core/thresholds.ts'
export type { Duration } from './core/duration.ts'
export { ChaperonError, MissingConfigError, ThresholdsFailedError } from './core/errors.ts'
export type { ChaperonErrorCode } from './core/errors.ts'
export { SCHEMA_VERSION } from './core/result.ts'
export type { Interruption, LoadTestResult, MergeInfo, MetricType, ScenarioErrorResult, ScenarioResult, SegmentInfo, SeriesResult, Tags, ThresholdResult, TrendSummary } from './core/result.ts'
export type { CounterPoint, GaugePoint, RatePoint, SeriesTimeline, TimeSeries, TrendPoint } from './core/timeline.ts'

export { TARGET_HTTPS_URL_KEY, TARGET_URL_KEY } from './core/provided-context.ts'
