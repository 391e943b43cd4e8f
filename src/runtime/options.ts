import type { Duration } from '../core/duration.ts'
import type { Thresholds } from '../core/thresholds.ts'
import type { BasicAuth } from './http/request-options.ts'
import type { Scenario } from './scenario.ts'

/** Options every executor takes. */
export interface CommonScenarioOptions {
  /** The scenario the VUs run, made with `scenario()`. */
  scenario: Scenario
  /**
   * How long running iterations may go on after the executor's end before they are cut off.
   * @default '30s'
   */
  gracefulStop?: Duration
  /** Tags added to every metric this scenario records. */
  tags?: Record<string, string>
  /** Read-only configuration for the sessions, deep-merged over the load test's `config`. */
  config?: Record<string, unknown>
  /** How long after the load test starts this scenario starts. @default '0s' */
  startTime?: Duration
  /**
   * The longest one iteration may run. An iteration still running then is cut
   * off: its requests in flight are cancelled, it counts in
   * `errors{action:iteration, error_code:ITERATION_TIMEOUT}`, and the VU goes on
   * with a new session. Without it, an iteration that never ends holds its VU
   * until the executor's end plus `gracefulStop`.
   */
  iterationTimeout?: Duration
}

/** A fixed number of VUs loop over the scenario for a duration (k6 `constant-vus`). */
export interface ConstantVusOptions extends CommonScenarioOptions {
  executor: 'constant-vus'
  /** VUs running at once. @default 1 */
  vus?: number
  /** How long to start new iterations. */
  duration: Duration
}

/** The number of looping VUs moves through `stages` (k6 `ramping-vus`). */
export interface RampingVusOptions extends CommonScenarioOptions {
  executor: 'ramping-vus'
  /** VUs at the start. @default 1 */
  startVUs?: number
  /** Each stage moves the VU count linearly to `target` over `duration`. */
  stages: Array<{ duration: Duration; target: number }>
  /** How long a VU that is taken away may finish its iteration before it is cut off. @default '30s' */
  gracefulRampDown?: Duration
}

/** Each VU runs the scenario a fixed number of times (k6 `per-vu-iterations`). */
export interface PerVuIterationsOptions extends CommonScenarioOptions {
  executor: 'per-vu-iterations'
  /** VUs running at once. @default 1 */
  vus?: number
  /** Iterations each VU runs. @default 1 */
  iterations?: number
  /** The longest the executor may run before it stops starting iterations. @default '10m' */
  maxDuration?: Duration
}

/** VUs share a fixed number of iterations: each takes the next one until all are taken (k6 `shared-iterations`). */
export interface SharedIterationsOptions extends CommonScenarioOptions {
  executor: 'shared-iterations'
  /** VUs running at once. @default 1 */
  vus?: number
  /** Iterations shared by all VUs. @default 1 */
  iterations?: number
  /** The longest the executor may run before it stops starting iterations. @default '10m' */
  maxDuration?: Duration
}

/** Options both arrival-rate executors take. */
export interface ArrivalRateCommonOptions extends CommonScenarioOptions {
  /** The time `rate`, `startRate` and stage targets count iterations per. @default '1s' */
  timeUnit?: Duration
  /** VUs made before the start, ready to take iterations. */
  preAllocatedVUs: number
  /** The most VUs; more are made while iterations are due and none is free. @default preAllocatedVUs */
  maxVUs?: number
  /**
   * How the executor waits for its next iteration.
   *
   * - `'timer'` sleeps on a timer and starts every iteration due within 1 ms
   *   when it wakes, so iterations start up to 1 ms early. A sleeping thread
   *   also waits for the system to wake it: a fraction of a millisecond on a
   *   quiet machine, a few at the p99 on a busy or virtual one.
   * - `'spin'` sleeps until 2 ms before each iteration, then turns the event
   *   loop (I/O goes on as usual) until the iteration is due, and starts it
   *   then, never early. A wake-up later than those 2 ms still makes a start
   *   late, but at high rates the thread never sleeps, so only its own busy
   *   turns do. The thread is kept busy: from about 500 iterations per second
   *   per thread on it uses a whole core, which a target on the same machine
   *   no longer has.
   *
   * Lateness never hides latency either way: `*_latency_corrected` count from
   * the planned start.
   * @default 'timer'
   */
  pacing?: 'timer' | 'spin'
}

/**
 * Starts `rate` iterations per `timeUnit`, evenly spaced, whatever the target's
 * speed (k6 `constant-arrival-rate`). An iteration that finds no free VU, with
 * `maxVUs` all busy, is dropped and counted in `dropped_iterations`.
 */
export interface ConstantArrivalRateOptions extends ArrivalRateCommonOptions {
  executor: 'constant-arrival-rate'
  /** Iterations started per `timeUnit`. */
  rate: number
  /** How long to start iterations. */
  duration: Duration
}

/** Like `constant-arrival-rate`, with the rate moving linearly through `stages` (k6 `ramping-arrival-rate`). */
export interface RampingArrivalRateOptions extends ArrivalRateCommonOptions {
  executor: 'ramping-arrival-rate'
  /** Iterations per `timeUnit` at the start. @default 0 */
  startRate?: number
  /** Each stage moves the rate linearly to `target` over `duration`. */
  stages: Array<{ duration: Duration; target: number }>
}

/** Chaperon's form: `concurrency` sessions start at once and run the scenario once each. */
export interface ConcurrencyOptions extends CommonScenarioOptions {
  executor?: undefined
  /** Sessions started at once. */
  concurrency: number
  /** The longest the sessions may run. @default '10m' */
  maxDuration?: Duration
}

/** One entry of `loadTest({ scenarios })`, discriminated on `executor`. */
export type ScenarioOptions =
  | ConstantVusOptions
  | RampingVusOptions
  | PerVuIterationsOptions
  | SharedIterationsOptions
  | ConstantArrivalRateOptions
  | RampingArrivalRateOptions
  | ConcurrencyOptions

/** HTTP settings for every request of a load test. */
export interface HttpOptions {
  /** Headers sent with every request; a request's own headers win. */
  headers?: Record<string, string>
  /**
   * The most connections per origin. Defaults to the most VUs that can run at once,
   * so no VU waits for another's connection.
   */
  connections?: number
  /** Default request timeout, for the response headers and for each wait on the body. @default '60s' */
  timeout?: Duration
  /**
   * Basic authentication for every request: sends `authorization: Basic …`.
   * A request's own `auth`, or an `authorization` header (here or on the request), wins.
   */
  auth?: BasicAuth
  /**
   * Skip TLS certificate verification, for targets with self-signed or expired
   * certificates. Never for a target whose identity matters. @default false
   */
  insecure?: boolean
  /**
   * The HTTP version to speak. `1` is HTTP/1.1 only, even to servers that
   * offer HTTP/2. `2` offers HTTP/2 in the TLS handshake (the server may
   * still choose HTTP/1.1) and speaks h2c on `http://` URLs. The `proto` tag
   * says which protocol each response came over (docs/http.md).
   * @default 1
   */
  version?: 1 | 2
}

/**
 * An msw request handler, as `http.get('/products', resolver)` makes it:
 * `mock` and `dryRun()` take a list of them. msw WebSocket handlers
 * (`ws.link(url).addEventListener(…)`) may be in the list too, and are left
 * out: dry runs do not mock WebSockets.
 */
export type MockHandler = { readonly info: unknown; run(...args: never[]): unknown } | { readonly kind: 'websocket' }

/** What `loadTest(name, options)` takes. */
export interface LoadTestOptions {
  /** Joined to every request path that has no scheme. */
  baseUrl?: string
  /** The scenarios, by name; they run in parallel, each with its own executor. */
  scenarios: Record<string, ScenarioOptions>
  /** Pass/fail criteria, keyed by metric (`metric{tag:value}` for a subset). */
  thresholds?: Thresholds
  /** Read-only configuration for every session. */
  config?: Record<string, unknown>
  /** HTTP settings. */
  http?: HttpOptions
  /**
   * More names whose values are secrets, beyond `authorization`,
   * `proxy-authorization`, `cookie`, `set-cookie` and `password`: headers, query
   * parameters, JSON fields and config keys (any case), such as
   * `['x-api-key', 'password']`. Their values are replaced by `[REDACTED]` in
   * `s.log` output, in recorded errors and in every report (docs/reliability.md).
   */
  redact?: string[]
  /**
   * Worker threads to spread the load over: `'auto'` for one per core, or a
   * number. VUs, iterations and arrival slots are split between them, and
   * their histograms and counters merged exactly. With more than one, every
   * scenario must be exported from a module other than the test file
   * (docs/workers.md).
   * @default 1
   */
  workers?: 'auto' | number
  /**
   * Makes the load test a dry run: msw `handlers` answer every HTTP request
   * and Server-Sent Events stream of its scenarios, none of them leaves the
   * process (WebSockets are not mocked), and each scenario runs
   * one VU for one iteration. Checks and thresholds are judged as usual. The
   * way to unit-test a scenario (docs/dry-run.md).
   */
  mock?: readonly MockHandler[]
}
