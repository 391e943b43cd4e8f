import { availableParallelism } from 'node:os'
import { deepFreeze, deepMerge, plainData } from '../core/config.ts'
import { parseDuration } from '../core/duration.ts'
import { ChaperonError } from '../core/errors.ts'
import { parseSegment, SEGMENT_ENV, type Segment, SEQUENCE_ENV, type Stripe, WHOLE } from '../core/segment.ts'
import type { Tags } from '../core/result.ts'
import { type RedactionSettings, Redactor, secretValues } from '../core/redact.ts'
import { type ParsedThreshold, parseThresholds } from '../core/thresholds.ts'
import { expectBoolean, expectInteger, expectKnownKeys, expectObject, expectStringRecord, invalid } from '../core/validate.ts'
import { basicAuthorization } from './http/request-options.ts'
import { normalizeTags } from './metrics/registry.ts'
import { knownMetricNames, metricInfo } from './metrics/user-metrics.ts'
import type { LoadTestOptions, MockHandler } from './options.ts'
import { isScenario, type Scenario } from './scenario.ts'
import { type LogLevel, resolveLogLevel } from './session-log.ts'
import type { ArrivalRateSettings } from './executors/arrival-rate.ts'
import type { RampingVusSettings } from './executors/ramping-vus.ts'

/** A scenario entry with defaults applied and every field checked. */
export interface ResolvedScenario {
  /** The key in `scenarios`. */
  key: string
  executor: 'constant-vus' | 'ramping-vus' | 'per-vu-iterations' | 'shared-iterations' | 'constant-arrival-rate' | 'ramping-arrival-rate' | 'concurrency'
  scenario: Scenario
  vus: number
  /** Iterations per VU, or shared by all VUs for `shared-iterations`; Infinity for `constant-vus`. */
  iterations: number
  /** True when the VUs share `iterations` rather than each running them all. */
  sharedIterations: boolean
  /** When the executor starts, from the start of the load test. */
  startTimeMs: number
  /**
   * The part of the whole plan this process runs (a segment of a split run,
   * a worker thread's share, or `WHOLE`). Its k-th VU is `s.vu`
   * `slotAt(stripe, k - 1) + 1`, so the parts of a split run number their VUs
   * apart (the whole plan numbers them 1, 2, 3, …); an arrival-rate executor
   * starts only the stripe's slots, and `ramping-vus` runs at each step the
   * stripe's share of the whole run's VUs.
   */
  stripe: Stripe
  /** The plan and VU pool of an arrival-rate executor; `vus` is then its `maxVUs`. */
  arrival: ArrivalRateSettings | undefined
  /** The stages of `ramping-vus`; `vus` is then the most VUs any stage asks for. */
  ramp: RampingVusSettings | undefined
  /** When the executor stops starting iterations, from its start. */
  durationMs: number
  gracefulStopMs: number
  /** The longest one iteration may run, if limited. */
  iterationTimeoutMs: number | undefined
  tags: Tags
  config: Readonly<Record<string, unknown>>
  /** What `s.log` prints. */
  logLevel: LogLevel
}

/** Load test options with defaults applied and every field checked. */
export interface ResolvedLoadTest {
  baseUrl: URL | undefined
  scenarios: ResolvedScenario[]
  /** The most VUs that can run at once: the sum over scenarios. */
  vusMax: number
  thresholds: ParsedThreshold[]
  /** Worker threads to run on; 1 runs in the calling thread. */
  workers: number
  http: {
    headers: Record<string, string>
    connections: number
    timeoutMs: number
    /** The `authorization` header value of `http.auth`. */
    authorization: string | undefined
    insecure: boolean
    /** 2 offers HTTP/2 (ALPN), falling back to HTTP/1.1. */
    version: 1 | 2
  }
  /** The names and known values kept out of logs, errors and reports. */
  redact: RedactionSettings
  /** The part of a split run this instance runs (`CHAPERON_SEGMENT`); undefined for the whole run. */
  segment: Segment | undefined
  /** When the run is to start, in epoch ms (`CHAPERON_START_AT`), so the instances of a split run start together. */
  startAt: number | undefined
  /** The msw handlers of a dry run (`mock`); undefined for a real run. */
  mock: readonly MockHandler[] | undefined
}

/** The defaults of every optional setting. */
export const DEFAULTS = Object.freeze({
  gracefulStop: '30s',
  startTime: '0s',
  timeUnit: '1s',
  pacing: 'timer',
  maxDuration: '10m',
  vus: 1,
  iterations: 1,
  httpTimeout: '60s',
})

const TOP_KEYS = ['baseUrl', 'scenarios', 'thresholds', 'config', 'http', 'workers', 'redact', 'mock'] as const
const HTTP_KEYS = ['headers', 'connections', 'timeout', 'auth', 'insecure', 'version'] as const
const COMMON_KEYS = ['scenario', 'executor', 'gracefulStop', 'tags', 'config', 'startTime', 'iterationTimeout'] as const
const EXECUTOR_KEYS: Readonly<Record<ResolvedScenario['executor'], readonly string[]>> = {
  'constant-vus': ['vus', 'duration'],
  'ramping-vus': ['startVUs', 'stages', 'gracefulRampDown'],
  'per-vu-iterations': ['vus', 'iterations', 'maxDuration'],
  'shared-iterations': ['vus', 'iterations', 'maxDuration'],
  'constant-arrival-rate': ['rate', 'timeUnit', 'duration', 'preAllocatedVUs', 'maxVUs', 'pacing'],
  'ramping-arrival-rate': ['startRate', 'timeUnit', 'stages', 'preAllocatedVUs', 'maxVUs', 'pacing'],
  concurrency: ['concurrency', 'maxDuration'],
}
const EXECUTORS = ['constant-vus', 'ramping-vus', 'per-vu-iterations', 'shared-iterations', 'constant-arrival-rate', 'ramping-arrival-rate'] as const

/**
 * Checks a `loadTest()` options object and applies defaults. Runs when the test
 * file is collected, so a mistake fails the file before any request is sent.
 */
export function resolveLoadTestOptions(testName: string, input: LoadTestOptions, env: NodeJS.ProcessEnv = process.env): ResolvedLoadTest {
  const where = `loadTest("${testName}")`
  const options = expectObject(input, `${where} options`, "{ scenarios: { main: { scenario, executor: 'constant-vus', vus: 10, duration: '30s' } } }")
  expectKnownKeys(options, TOP_KEYS, `${where} options`, topLevelHint)
  const config = options.config === undefined ? {} : expectObject(options.config, `${where} config`, "{ userCount: 10 }")
  const scenariosInput = expectObject(options.scenarios, `${where} scenarios`, "{ main: { scenario: browse, executor: 'constant-vus', vus: 10, duration: '30s' } }")
  const scenarios = Object.entries(scenariosInput).map(([key, value]) => {
    if (key.trim() === '') throw invalid(`${where} scenarios`, 'keys that name each scenario, such as { browse: { … } }', key)
    return resolveScenario(`${where} scenarios.${key}`, key, value, config)
  })
  if (scenarios.length === 0) throw invalid(`${where} scenarios`, "at least one scenario, such as { main: { scenario: browse, executor: 'constant-vus', vus: 10, duration: '30s' } }", scenariosInput)

  const http = options.http === undefined ? {} : expectObject(options.http, `${where} http`, "{ timeout: '10s' }")
  expectKnownKeys(http, HTTP_KEYS, `${where} http`)
  const vusMax = scenarios.reduce((sum, s) => sum + s.vus, 0)
  const headers = http.headers === undefined ? {} : expectStringRecord(http.headers, `${where} http.headers`, "{ authorization: 'Bearer …' }")
  const authorization = http.auth === undefined ? undefined : basicAuthorization(http.auth, `${where} http.auth`)
  const redactKeys = resolveRedact(`${where} redact`, options.redact)
  return {
    baseUrl: options.baseUrl === undefined ? undefined : resolveBaseUrl(`${where} baseUrl`, options.baseUrl),
    scenarios,
    vusMax,
    thresholds: resolveThresholds(where, options.thresholds),
    workers: resolveWorkers(`${where} workers`, options.workers),
    http: {
      headers,
      connections: http.connections === undefined ? vusMax : expectInteger(http.connections, `${where} http.connections`, 1, 100),
      // 0 would be no timeout at all to undici.
      timeoutMs: positiveDuration(http.timeout ?? DEFAULTS.httpTimeout, `${where} http.timeout`, "'60s'"),
      authorization,
      insecure: http.insecure === undefined ? false : expectBoolean(http.insecure, `${where} http.insecure`),
      version: resolveHttpVersion(`${where} http.version`, http.version),
    },
    // Each scenario's config is the load test's merged with its own, so both are searched.
    redact: { keys: redactKeys, values: secretValues(redactKeys, headers, [config, ...scenarios.map((s) => s.config)], authorization) },
    segment: env[SEGMENT_ENV] === undefined || env[SEGMENT_ENV] === '' ? undefined : parseSegment(env[SEGMENT_ENV], env[SEQUENCE_ENV]),
    startAt: resolveStartAt(env[START_AT_ENV]),
    mock: options.mock === undefined ? undefined : resolveMock(`${where} mock`, options.mock),
  }
}

function resolveHttpVersion(where: string, value: unknown): 1 | 2 {
  if (value === undefined) return 1
  if (value === 1 || value === 2) return value
  throw invalid(where, '1 (HTTP/1.1) or 2 (HTTP/2: negotiated over https, h2c over http)', value)
}

/**
 * msw request handlers, as `http.get(path, resolver)` makes them. WebSocket
 * handlers (`ws.link(url).addEventListener(…)`) may be among them, as in a
 * project's shared handler list, and are left out: dry runs do not mock
 * WebSockets.
 */
function resolveMock(where: string, value: unknown): readonly MockHandler[] {
  const example = "an array of msw request handlers, such as [http.get('/products', () => HttpResponse.json([]))]"
  if (!Array.isArray(value)) throw invalid(where, example, value)
  const handlers: MockHandler[] = []
  value.forEach((h: unknown, i) => {
    const handler = typeof h === 'object' && h !== null ? (h as { kind?: unknown; info?: unknown; run?: unknown }) : undefined
    if (handler?.kind === 'websocket') return
    if (handler === undefined || !('info' in handler) || typeof handler.run !== 'function') throw invalid(`${where}[${i}]`, 'an msw request handler, such as http.get(…)', h)
    handlers.push(h as MockHandler)
  })
  return handlers
}

/** The env var with the epoch ms at which every instance of a split run starts. */
const START_AT_ENV = 'CHAPERON_START_AT'

// A start further ahead than this is a mistake rather than a plan.
const MAX_START_AHEAD_MS = 24 * 3_600_000

/** `CHAPERON_START_AT` as epoch ms: an integer, in milliseconds, at most a day ahead. */
function resolveStartAt(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined
  const where = `${START_AT_ENV}=${value}`
  const ms = Number(value)
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(ms)) throw new ChaperonError('CHAPERON_INVALID_OPTION', `${where} is not a time: give the start in epoch milliseconds, as in ${START_AT_ENV}=$(( $(date +%s) * 1000 + 60000 )) for a minute from now.`)
  if (ms < 1e12) throw new ChaperonError('CHAPERON_INVALID_OPTION', `${where} looks like seconds: give epoch milliseconds (${ms * 1000}).`)
  if (ms - Date.now() > MAX_START_AHEAD_MS) throw new ChaperonError('CHAPERON_INVALID_OPTION', `${where} is more than a day ahead (${new Date(ms).toISOString()}); give a start within the next 24 hours.`)
  return ms
}

function resolveScenario(where: string, key: string, input: unknown, baseConfig: Record<string, unknown>): ResolvedScenario {
  const o = expectObject(input, where, "{ scenario: browse, executor: 'constant-vus', vus: 10, duration: '30s' }")
  const scenario = o.scenario
  if (!isScenario(scenario)) throw invalid(`${where}.scenario`, "a scenario made with scenario('name', async (s) => { … })", scenario)
  let executor: ResolvedScenario['executor']
  if (o.executor === undefined) {
    if (o.concurrency === undefined) {
      throw new ChaperonError('CHAPERON_INVALID_OPTION', `${where} needs an executor: write executor: 'constant-vus' (with vus and duration), executor: 'per-vu-iterations' (with vus and iterations), or concurrency: 10 (Chaperon's form).`)
    }
    executor = 'concurrency'
  } else if ((EXECUTORS as readonly unknown[]).includes(o.executor)) {
    executor = o.executor as ResolvedScenario['executor']
  } else {
    throw invalid(`${where}.executor`, `one of ${EXECUTORS.map((e) => `'${e}'`).join(', ')} (or leave it out and give concurrency: N)`, o.executor)
  }
  expectKnownKeys(o, [...COMMON_KEYS, ...EXECUTOR_KEYS[executor]], where, (key) => belongsTo(key, executor))
  // The load test's config, then the scenario's own, then this entry's: the more specific wins.
  const merged = deepMerge(deepMerge(baseConfig, scenario.config), o.config === undefined ? {} : expectObject(o.config, `${where}.config`, '{ userCount: 10 }'))
  const config = deepFreeze(plainData(merged, `${where}.config`))
  const common = {
    key,
    executor,
    scenario,
    gracefulStopMs: parseDuration(o.gracefulStop ?? DEFAULTS.gracefulStop, `${where}.gracefulStop`),
    startTimeMs: parseDuration(o.startTime ?? DEFAULTS.startTime, `${where}.startTime`),
    iterationTimeoutMs: o.iterationTimeout === undefined ? undefined : positiveDuration(o.iterationTimeout, `${where}.iterationTimeout`, "'30s'"),
    sharedIterations: executor === 'shared-iterations',
    stripe: WHOLE,
    arrival: undefined,
    ramp: undefined,
    tags: normalizeTags({ ...(o.tags === undefined ? {} : expectStringRecord(o.tags, `${where}.tags`, "{ team: 'checkout' }")), scenario: key }),
    config,
    logLevel: resolveLogLevel(config, where),
  }
  switch (executor) {
    case 'constant-vus':
      if (o.duration === undefined) throw invalid(`${where}.duration`, "a duration such as '30s' (constant-vus runs for a duration)", undefined)
      return { ...common, vus: expectInteger(o.vus ?? DEFAULTS.vus, `${where}.vus`, 1, 10), iterations: Number.POSITIVE_INFINITY, durationMs: parseDuration(o.duration, `${where}.duration`) }
    case 'per-vu-iterations':
    case 'shared-iterations':
      return {
        ...common,
        vus: expectInteger(o.vus ?? DEFAULTS.vus, `${where}.vus`, 1, 10),
        iterations: expectInteger(o.iterations ?? DEFAULTS.iterations, `${where}.iterations`, 1, 100),
        durationMs: parseDuration(o.maxDuration ?? DEFAULTS.maxDuration, `${where}.maxDuration`),
      }
    case 'ramping-vus': {
      const ramp = resolveRamp(where, o)
      const most = Math.max(ramp.startVUs, ...ramp.stages.map((st) => st.target))
      return { ...common, vus: Math.max(1, most), iterations: Number.POSITIVE_INFINITY, durationMs: ramp.stages.reduce((sum, st) => sum + st.durationMs, 0), ramp }
    }
    case 'constant-arrival-rate':
    case 'ramping-arrival-rate': {
      const arrival = resolveArrival(where, executor, o)
      const durationMs = arrival.stages.reduce((sum, stage) => sum + stage.durationMs, 0)
      return { ...common, vus: arrival.maxVUs, iterations: Number.POSITIVE_INFINITY, durationMs, arrival }
    }
    case 'concurrency':
      return { ...common, vus: expectInteger(o.concurrency, `${where}.concurrency`, 1, 100), iterations: 1, durationMs: parseDuration(o.maxDuration ?? DEFAULTS.maxDuration, `${where}.maxDuration`) }
  }
}

/** `[{ duration, target }]`, non-empty, each `target` checked by `target`. */
function resolveStages(where: string, value: unknown, example: number, target: (value: unknown, at: string) => number): Array<{ durationMs: number; target: number }> {
  const stage = `{ duration: '30s', target: ${example} }`
  if (!Array.isArray(value) || value.length === 0) throw invalid(where, `a non-empty array of stages such as [${stage}, { duration: '1m', target: ${example} }]`, value)
  return value.map((entry: unknown, i) => {
    const at = `${where}[${i}]`
    const st = expectObject(entry, at, stage)
    expectKnownKeys(st, ['duration', 'target'], at)
    return { durationMs: parseDuration(st.duration, `${at}.duration`), target: target(st.target, `${at}.target`) }
  })
}

/** The stages of `ramping-vus`. */
function resolveRamp(where: string, o: Record<string, unknown>): RampingVusSettings {
  return {
    startVUs: o.startVUs === undefined ? DEFAULTS.vus : expectInteger(o.startVUs, `${where}.startVUs`, 0, 1),
    stages: resolveStages(`${where}.stages`, o.stages, 20, (target, at) => expectInteger(target, at, 0, 20)),
    gracefulRampDownMs: parseDuration(o.gracefulRampDown ?? DEFAULTS.gracefulStop, `${where}.gracefulRampDown`),
  }
}

/** The rate plan and VU pool of an arrival-rate executor; rates become iterations per ms. */
function resolveArrival(where: string, executor: 'constant-arrival-rate' | 'ramping-arrival-rate', o: Record<string, unknown>): ArrivalRateSettings {
  const unitMs = positiveDuration(o.timeUnit ?? DEFAULTS.timeUnit, `${where}.timeUnit`, "'1s' or '1m'")
  const rate = (value: unknown, at: string): number => {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw invalid(at, 'a number of iterations per timeUnit, at least 0, such as 50', value)
    return value / unitMs
  }
  const preAllocatedVUs = expectInteger(o.preAllocatedVUs, `${where}.preAllocatedVUs`, 1, 10)
  const maxVUs = o.maxVUs === undefined ? preAllocatedVUs : expectInteger(o.maxVUs, `${where}.maxVUs`, 1, 100)
  if (maxVUs < preAllocatedVUs) throw invalid(`${where}.maxVUs`, `at least preAllocatedVUs (${preAllocatedVUs})`, maxVUs)
  const pacing = o.pacing ?? DEFAULTS.pacing
  if (pacing !== 'timer' && pacing !== 'spin') throw invalid(`${where}.pacing`, "'timer' (the default) or 'spin'", o.pacing)
  if (executor === 'constant-arrival-rate') {
    if (o.duration === undefined) throw invalid(`${where}.duration`, "a duration such as '30s' (constant-arrival-rate runs for a duration)", undefined)
    const perMs = rate(o.rate, `${where}.rate`)
    if (perMs === 0) throw invalid(`${where}.rate`, 'more than 0 iterations per timeUnit, such as 50', o.rate)
    return { startRate: perMs, stages: [{ durationMs: parseDuration(o.duration, `${where}.duration`), target: perMs }], preAllocatedVUs, maxVUs, pacing }
  }
  const stages = resolveStages(`${where}.stages`, o.stages, 100, rate)
  return { startRate: o.startRate === undefined ? 0 : rate(o.startRate, `${where}.startRate`), stages, preAllocatedVUs, maxVUs, pacing }
}

/** A duration above zero. */
function positiveDuration(value: unknown, where: string, example: string): number {
  const ms = parseDuration(value, where)
  if (ms <= 0) throw invalid(where, `a duration above zero such as ${example}`, value)
  return ms
}

function resolveThresholds(where: string, input: unknown): ParsedThreshold[] {
  let parsed: ParsedThreshold[]
  try {
    parsed = parseThresholds(input ?? {}, metricInfo, knownMetricNames())
  } catch (error) {
    if (error instanceof ChaperonError) error.message = `${where} thresholds: ${error.message}`
    throw error
  }
  return parsed
}

const SCENARIO_KEYS: ReadonlySet<string> = new Set([...COMMON_KEYS, ...Object.values(EXECUTOR_KEYS).flat()])

/** Where a key written at the top of the options belongs, for the unknown-option message. */
function topLevelHint(key: string): string | undefined {
  if ((HTTP_KEYS as readonly string[]).includes(key)) return `It belongs in http: { ${key}: … }.`
  if (!SCENARIO_KEYS.has(key)) return undefined
  const owner = (Object.keys(EXECUTOR_KEYS) as Array<ResolvedScenario['executor']>).find((e) => EXECUTOR_KEYS[e].includes(key))
  if (owner === 'concurrency') return `It belongs in a scenario: scenarios: { main: { scenario, ${key}: … } }.`
  if (owner !== undefined) return `It belongs in a scenario: scenarios: { main: { scenario, executor: '${owner}', ${key}: … } }.`
  return `It belongs in a scenario entry: scenarios: { main: { ${key}: … } }.`
}

/** Where an option another executor takes belongs, for the unknown-option message. */
function belongsTo(key: string, executor: ResolvedScenario['executor']): string | undefined {
  const owner = (Object.keys(EXECUTOR_KEYS) as Array<ResolvedScenario['executor']>).find((e) => e !== executor && EXECUTOR_KEYS[e].includes(key))
  if (owner === undefined) return undefined
  return `It belongs to ${owner === 'concurrency' ? "Chaperon's form { scenario, concurrency: N } (without executor)" : `executor: '${owner}'`}.`
}

/** Names of secrets, lower-cased. */
function resolveRedact(where: string, value: unknown): string[] {
  if (value === undefined) return []
  if (!Array.isArray(value) || value.some((k) => typeof k !== 'string' || !/^[\w.$-]+$/.test(k))) {
    throw invalid(where, "an array of header, parameter or config key names such as ['x-api-key', 'password']", value)
  }
  return value.map((k: string) => k.toLowerCase())
}

/** `'auto'` is one worker per core. */
function resolveWorkers(where: string, value: unknown): number {
  if (value === undefined) return 1
  if (value === 'auto') return availableParallelism()
  if (typeof value !== 'number') throw invalid(where, "'auto' (one per core) or a number of worker threads such as 4", value)
  return expectInteger(value, where, 1, 4)
}

function resolveBaseUrl(where: string, value: unknown): URL {
  if (typeof value === 'string' && URL.canParse(value)) {
    const url = new URL(value)
    if (url.protocol === 'http:' || url.protocol === 'https:') return url
  }
  // A URL's password stays out of the message, as out of everything else.
  const got = new Redactor({ keys: [], values: [] }).text(JSON.stringify(value) ?? String(value))
  throw new ChaperonError('CHAPERON_INVALID_URL', `${where} must be an http(s) URL such as 'http://127.0.0.1:3000'; got ${got}.`)
}
