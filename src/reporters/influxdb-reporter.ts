import type { Reporter, TestCase, Vitest } from 'vitest/node'
import { parseDuration } from '../core/duration.ts'
import { ChaperonError } from '../core/errors.ts'
import type { ProgressMessage } from '../core/progress.ts'
import type { LoadTestResult } from '../core/result.ts'
import { describeValue, expectBoolean, expectInteger, expectKnownKeys, expectObject, invalid } from '../core/validate.ts'
import { InfluxDbClient } from './influxdb-client.ts'
import { linesFromSeconds, RESERVED_TAGS, secondsFromTimeSeries, summaryLines } from './influxdb-line.ts'
import type { LiveReporter } from './live.ts'

/** Options of the `influxdb` reporter. */
export interface InfluxDbReporterOptions {
  /** The server's base URL, such as `'http://localhost:8086'`: http(s), without credentials or query. */
  url: string
  /**
   * 1 for InfluxDB 1.x (`/write`), 2 for InfluxDB 2.x and 3.x (`/api/v2/write`).
   * @default 1
   */
  version?: 1 | 2
  /**
   * 1.x: the database; created on the first write when it does not exist.
   * @default 'chaperon'
   */
  database?: string
  /** 1.x: user name, sent with `password` as HTTP basic auth. */
  username?: string
  /** 1.x: password. */
  password?: string
  /** 2.x: the organization. InfluxDB 2.x needs it; 3.x ignores it. */
  org?: string
  /** 2.x: the bucket (3.x: the database). Required with version 2. */
  bucket?: string
  /** 2.x: an API token that may write to the bucket. Required with version 2; read from `INFLUXDB_TOKEN` when not given. */
  token?: string
  /** Tags added to every point, such as `{ env: 'staging' }`. `test` and `metric` are chaperon's own. @default {} */
  tags?: Record<string, string>
  /** A `run` tag on every point, to tell runs of the same test apart (a CI build number, a git sha). */
  run?: string
  /**
   * Send each test's closed seconds while it runs, every `flushInterval`; the
   * rest and the summary are sent when the test ends. When false, everything
   * is sent when the test ends.
   * @default true
   */
  stream?: boolean
  /** How often streamed seconds are sent: `'5s'`, `'500ms'` or milliseconds. @default '5s' */
  flushInterval?: string | number
  /** Lines per HTTP request. @default 5000 */
  batchSize?: number
  /** How long one HTTP request may take before it is retried: `'10s'` or milliseconds. @default '10s' */
  timeout?: string | number
  /** Retries of a request after a 5xx, a 429, a network error or a timeout, with exponential backoff. @default 3 */
  retries?: number
}

/** The `influxdb` reporter's options with their defaults filled in; durations in milliseconds. */
export interface ResolvedInfluxDbReporterOptions {
  readonly url: string
  readonly version: 1 | 2
  readonly database: string | undefined
  readonly username: string | undefined
  readonly password: string | undefined
  readonly org: string | undefined
  readonly bucket: string | undefined
  readonly token: string | undefined
  readonly tags: Readonly<Record<string, string>>
  readonly run: string | undefined
  readonly stream: boolean
  readonly flushInterval: number
  readonly batchSize: number
  readonly timeout: number
  readonly retries: number
}

/** The defaults of the `influxdb` reporter's options. */
export const INFLUXDB_REPORTER_DEFAULTS = Object.freeze({
  version: 1,
  database: 'chaperon',
  tags: Object.freeze({}) as Readonly<Record<string, string>>,
  stream: true,
  flushInterval: '5s',
  batchSize: 5000,
  timeout: '10s',
  retries: 3,
} as const)

/** The environment variable the 2.x token is read from when the `token` option is not given. */
export const INFLUXDB_TOKEN_ENV = 'INFLUXDB_TOKEN'

const KNOWN = ['url', 'version', 'database', 'username', 'password', 'org', 'bucket', 'token', 'tags', 'run', 'stream', 'flushInterval', 'batchSize', 'timeout', 'retries']
const V1_ONLY = ['database', 'username', 'password']
const V2_ONLY = ['org', 'bucket', 'token']
const WHERE = "the 'influxdb' reporter"

/**
 * Checks the `influxdb` reporter's options and fills in the defaults; throws a
 * ChaperonError on a mistake. With version 2, a missing `token` is read from
 * `env.INFLUXDB_TOKEN`.
 */
export function resolveInfluxDbReporterOptions(options: unknown, env: NodeJS.ProcessEnv = process.env): ResolvedInfluxDbReporterOptions {
  const given = expectObject(options, `${WHERE}'s options`, "{ url: 'http://localhost:8086' }")
  expectKnownKeys(given, KNOWN, WHERE)
  const url = expectServerUrl(given['url'])
  const version = given['version'] ?? INFLUXDB_REPORTER_DEFAULTS.version
  if (version !== 1 && version !== 2) throw invalid(`${WHERE}'s version option`, '1 (InfluxDB 1.x) or 2 (InfluxDB 2.x and 3.x)', version)
  const text = (key: string): string | undefined => (given[key] === undefined ? undefined : expectText(given[key], key))
  const other = version === 1 ? V2_ONLY : V1_ONLY
  for (const key of other) {
    if (given[key] !== undefined) {
      const instead = version === 1 ? 'database, username and password' : 'org, bucket and token'
      throw new ChaperonError('CHAPERON_INVALID_OPTION', `${WHERE}'s ${key} option is for InfluxDB ${version === 1 ? '2.x' : '1.x'}, but version is ${version}. Set version: ${version === 1 ? 2 : 1}, or use ${instead}.`)
    }
  }
  let token = text('token')
  if (version === 2) {
    token ??= env[INFLUXDB_TOKEN_ENV] === '' ? undefined : env[INFLUXDB_TOKEN_ENV]
    if (given['bucket'] === undefined) throw new ChaperonError('CHAPERON_INVALID_OPTION', `${WHERE} needs a bucket with version 2, such as { version: 2, org: 'acme', bucket: 'load', token: process.env.INFLUXDB_TOKEN }.`)
    if (token === undefined) throw new ChaperonError('CHAPERON_INVALID_OPTION', `${WHERE} needs a token with version 2: set the token option or the ${INFLUXDB_TOKEN_ENV} environment variable.`)
  }
  const tags: Readonly<Record<string, string>> = given['tags'] === undefined ? INFLUXDB_REPORTER_DEFAULTS.tags : expectTags(given['tags'])
  const run = text('run')
  if (run !== undefined && tags['run'] !== undefined) throw new ChaperonError('CHAPERON_INVALID_OPTION', `${WHERE} got the run tag twice, as run and as tags.run; keep one.`)
  return Object.freeze({
    url,
    version,
    database: version === 1 ? (text('database') ?? INFLUXDB_REPORTER_DEFAULTS.database) : undefined,
    username: text('username'),
    password: given['password'] === undefined ? undefined : expectString(given['password'], 'password'),
    org: text('org'),
    bucket: text('bucket'),
    token,
    tags,
    run,
    stream: given['stream'] === undefined ? INFLUXDB_REPORTER_DEFAULTS.stream : expectBoolean(given['stream'], `${WHERE}'s stream option`),
    flushInterval: positiveDuration(given['flushInterval'] ?? INFLUXDB_REPORTER_DEFAULTS.flushInterval, 'flushInterval', "'5s'"),
    batchSize: given['batchSize'] === undefined ? INFLUXDB_REPORTER_DEFAULTS.batchSize : expectInteger(given['batchSize'], `${WHERE}'s batchSize option`, 1, 5000),
    timeout: positiveDuration(given['timeout'] ?? INFLUXDB_REPORTER_DEFAULTS.timeout, 'timeout', "'10s'"),
    retries: given['retries'] === undefined ? INFLUXDB_REPORTER_DEFAULTS.retries : expectInteger(given['retries'], `${WHERE}'s retries option`, 0, 3),
  })
}

function expectServerUrl(value: unknown): string {
  const where = `${WHERE}'s url option`
  if (value === undefined) throw new ChaperonError('CHAPERON_INVALID_OPTION', `${WHERE} needs a url, such as { url: 'http://localhost:8086' }.`)
  let parsed: URL | undefined
  try {
    parsed = typeof value === 'string' ? new URL(value) : undefined
  } catch {
    parsed = undefined
  }
  if (parsed === undefined || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    throw new ChaperonError('CHAPERON_INVALID_URL', `${where} must be an http(s) URL such as 'http://localhost:8086'; got ${describeValue(value)}.`)
  }
  if (parsed.username !== '' || parsed.password !== '') {
    throw new ChaperonError('CHAPERON_INVALID_URL', `${where} must not hold credentials; use the username and password options (1.x) or token (2.x) instead.`)
  }
  if (parsed.search !== '' || parsed.hash !== '') {
    throw new ChaperonError('CHAPERON_INVALID_URL', `${where} must be the server's base URL without a query, such as 'http://localhost:8086'; set database, or org and bucket, as options. Got ${describeValue(value)}.`)
  }
  return parsed.href.replace(/\/+$/, '')
}

function expectString(value: unknown, key: string): string {
  if (typeof value !== 'string') throw invalid(`${WHERE}'s ${key} option`, 'a string', value)
  return value
}

function expectText(value: unknown, key: string): string {
  if (typeof value !== 'string' || value === '') throw invalid(`${WHERE}'s ${key} option`, 'a non-empty string', value)
  return value
}

function expectTags(value: unknown): Readonly<Record<string, string>> {
  const tags = expectObject(value, `${WHERE}'s tags option`, "{ env: 'staging' }")
  for (const [key, tagValue] of Object.entries(tags)) {
    if (RESERVED_TAGS.includes(key)) throw new ChaperonError('CHAPERON_INVALID_OPTION', `${WHERE}'s tags option cannot set "${key}": chaperon sets it on every point. Name the tag otherwise.`)
    if (typeof tagValue !== 'string' || key === '' || tagValue === '') throw invalid(`${WHERE}'s tags.${key}`, 'a non-empty string (InfluxDB cannot store an empty tag)', tagValue)
  }
  return Object.freeze({ ...(tags as Record<string, string>) })
}

function positiveDuration(value: unknown, key: string, example: string): number {
  const ms = parseDuration(value, `${WHERE}'s ${key} option`)
  if (ms <= 0) throw invalid(`${WHERE}'s ${key} option`, `a duration above zero, such as ${example}`, value)
  return ms
}

/** What the reporter knows of one load test it has heard of. */
interface TestState {
  name: string
  /** The start every point of the test counts from, fixed when first heard of, so a second sent again overwrites itself. */
  startMs: number
  /** Seconds InfluxDB has accepted. */
  sent: Set<number>
  /** True once its result arrived: later seconds are already in it. */
  ended: boolean
}

/** Lines of one closed second waiting for the next flush. */
interface Chunk {
  testId: string
  t: number
  lines: string[]
}

/**
 * Writes each load test's metrics to InfluxDB as line protocol (see
 * `docs/influxdb.md`). With `stream` on, it is live: the chaperon plugin passes
 * it each closed second of each running test, which it sends every
 * `flushInterval` and when the test ends; when the test's result arrives it
 * sends the seconds not yet accepted and the summary, so each point is written
 * once. With `stream` off, it sends each result whole when its test ends.
 *
 * A write that fails after its retries does not throw: the reporter prints the
 * CHAPERON_EXPORT_FAILED error through Vitest's logger and sets
 * `process.exitCode = 1`, so the run fails while the tests' verdicts and the
 * other reporters' output stay as they are. After a failed streamed write it
 * stops streaming; each test's end still sends everything not yet accepted.
 */
export class InfluxDbReporter implements Reporter, LiveReporter {
  /** The resolved options. */
  readonly options: ResolvedInfluxDbReporterOptions
  readonly #client: InfluxDbClient
  readonly #tags: Readonly<Record<string, string>>
  readonly #tests = new Map<string, TestState>()
  #buffer: Chunk[] = []
  #timer: NodeJS.Timeout | undefined
  #queue: Promise<void> = Promise.resolve()
  #streamFailed = false
  #flushQueued = false
  #written = 0
  #vitest: Pick<Vitest, 'logger'> | undefined

  constructor(options: InfluxDbReporterOptions | ResolvedInfluxDbReporterOptions) {
    this.options = resolveInfluxDbReporterOptions(options)
    const { url, version, database, username, password, org, bucket, token, batchSize, timeout, retries } = this.options
    this.#client = new InfluxDbClient({ url, version, database, username, password, org, bucket, token, batchSize, timeout, retries })
    this.#tags = this.options.run === undefined ? this.options.tags : { ...this.options.tags, run: this.options.run }
  }

  /** Whether it streams, and so needs the live channel. */
  get live(): boolean {
    return this.options.stream
  }

  /** Lines InfluxDB has accepted since the reporter was created. */
  get pointsWritten(): number {
    return this.#written
  }

  onInit(vitest: Vitest): void {
    this.#vitest = vitest
  }

  /** Buffers a closed second as lines, and flushes when a test ends; ignored when `stream` is off. */
  onLive(message: ProgressMessage): void {
    if (!this.options.stream) return
    if (message.type === 'end') {
      this.#flush()
      return
    }
    if (message.type !== 'second' || this.#streamFailed) return
    const test = this.#test(message.testId, message.name, () => startedAtOf(message) ?? Date.now() - (message.t + 1) * 1000)
    if (test.ended || test.sent.has(message.t)) return
    this.#buffer.push({ testId: message.testId, t: message.t, lines: linesFromSeconds(test.name, test.startMs, [message], this.#tags) })
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.#flush(), this.options.flushInterval)
      this.#timer.unref()
    }
  }

  /** Sends what is left of a finished load test: its seconds not yet accepted and its summary. */
  onTestCaseResult(testCase: Pick<TestCase, 'id' | 'meta'>): void {
    const result = testCase.meta().chaperon
    if (result === undefined) return
    const test = this.#test(testCase.id, result.name, () => Date.parse(result.startedAt))
    test.ended = true
    // Its buffered seconds are sent from the result instead, in the same write as the summary.
    this.#buffer = this.#buffer.filter((chunk) => chunk.testId !== testCase.id)
    this.#enqueue(async () => {
      const seconds = secondsFromTimeSeries(result.timeSeries).filter(({ t }) => !test.sent.has(t))
      const lines = [...linesFromSeconds(result.name, test.startMs, seconds, this.#tags), ...summaryLines(result, this.#tags, test.startMs)]
      try {
        await this.#client.write(lines)
        this.#written += lines.length
      } catch (error) {
        this.#report(error, result)
      }
    })
  }

  /** Sends what is buffered and waits for every write. */
  async onTestRunEnd(): Promise<void> {
    clearInterval(this.#timer)
    this.#timer = undefined
    this.#flush()
    await this.#queue
    // Kept until now so that a second arriving after its test's result is dropped. A watch-mode
    // rerun (same test ids) starts afresh; a test that never sent its result keeps what was streamed.
    this.#tests.clear()
    this.#streamFailed = false
  }

  #test(testId: string, name: string, start: () => number): TestState {
    let test = this.#tests.get(testId)
    if (test === undefined) this.#tests.set(testId, (test = { name, startMs: Math.round(start()), sent: new Set(), ended: false }))
    return test
  }

  #flush(): void {
    if (this.#buffer.length === 0 || this.#flushQueued) return
    // One flush waits in the queue at a time and takes the buffer when its turn comes,
    // so a slow InfluxDB gets fewer, larger writes rather than a growing queue.
    this.#flushQueued = true
    this.#enqueue(async () => {
      this.#flushQueued = false
      const chunks = this.#buffer
      this.#buffer = []
      if (chunks.length === 0) return
      const lines = chunks.flatMap((chunk) => chunk.lines)
      try {
        await this.#client.write(lines)
        this.#written += lines.length
        for (const chunk of chunks) this.#tests.get(chunk.testId)?.sent.add(chunk.t)
      } catch (error) {
        // The seconds are not marked sent, so each test's end sends them again at the same timestamps.
        this.#streamFailed = true
        this.#buffer = []
        clearInterval(this.#timer)
        this.#timer = undefined
        this.#report(error, undefined)
      }
    })
  }

  /** Runs writes one at a time, in order, so a test's end sees which of its seconds were accepted. */
  #enqueue(write: () => Promise<void>): void {
    this.#queue = this.#queue.then(write)
  }

  #report(error: unknown, result: LoadTestResult | undefined): void {
    process.exitCode = 1
    const what = result === undefined ? 'Streaming to InfluxDB stopped; each test sends its data again when it ends.' : `The points of "${result.name}" were not written.`
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
    const text = `${message}\n${what} The tests' verdicts are unchanged; the run fails (exit code 1) because the export failed.`
    if (this.#vitest === undefined) process.stderr.write(`${text}\n`)
    else this.#vitest.logger.error(text)
  }
}

/** The start of the test a live message carries, if the runtime sends it (`startedAt`, ISO or epoch ms). */
function startedAtOf(message: ProgressMessage): number | undefined {
  if (!('startedAt' in message)) return undefined
  const value: unknown = message.startedAt
  const ms = typeof value === 'string' ? Date.parse(value) : typeof value === 'number' ? value : Number.NaN
  return Number.isFinite(ms) ? ms : undefined
}
