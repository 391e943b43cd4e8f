// The influxdb reporter against a real InfluxDB 1.x (started by test/support/influxdb.ts),
// and its HTTP client against a local node:http peer for retries, errors and the 2.x
// request shape (InfluxDB 2.x cannot run here: Debian ships only 1.x).
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Vitest } from 'vitest/node'
import { ChaperonError } from '../../src/core/errors.ts'
import { PROGRESS_SOCKET_ENV, type ProgressMessage } from '../../src/core/progress.ts'
import type { LoadTestResult } from '../../src/core/result.ts'
import { InfluxDbClient } from '../../src/reporters/influxdb-client.ts'
import { linesFromResult, linesFromSeconds, secondsFromTimeSeries } from '../../src/reporters/influxdb-line.ts'
import { InfluxDbReporter, type InfluxDbReporterOptions } from '../../src/reporters/influxdb-reporter.ts'
import { listenForProgress, progressSocketPath } from '../../src/reporters/progress.ts'
import { openProgress } from '../../src/runtime/progress-channel.ts'
import { resolveLoadTestOptions } from '../../src/runtime/resolve-options.ts'
import { runLoadTest } from '../../src/runtime/run.ts'
import { scenario } from '../../src/runtime/scenario.ts'
import { fixedResult } from '../support/fixed-results.ts'
import { influxdMissing, influxString, useInfluxDb } from '../support/influxdb.ts'
import { total, useTarget } from '../support/results.ts'

/** A name InfluxDB must get through escaping: spaces, a comma, an equals sign and quotes. */
const TEST_NAME = 'storefront, EU=1 "quoted"'
const REQUEST_NAME = 'GET /products?a=b, c'

/** A minimal Vitest for onInit: the logger, with the errors it printed. */
function fakeVitest(): { vitest: Vitest; errors: string[] } {
  const errors: string[] = []
  const logger = { error: (...args: unknown[]) => errors.push(args.join(' ')), log: () => {}, warn: () => {} }
  return { vitest: { logger, config: { root: process.cwd() } } as unknown as Vitest, errors }
}

/** What Vitest hands a reporter for a finished load test. */
function testCase(id: string, result: LoadTestResult): { id: string; meta: () => { chaperon: LoadTestResult } } {
  return { id, meta: () => ({ chaperon: result }) }
}

/** Lines per measurement, the count InfluxDB must hold for each. */
function countByMeasurement(lines: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const line of lines) {
    const measurement = line.match(/^(?:\\.|[^,\\ ])+/)![0]
    counts[measurement] = (counts[measurement] ?? 0) + 1
  }
  return counts
}

const missing = influxdMissing()

describe.skipIf(missing !== undefined)(`influxdb reporter against a real InfluxDB 1.x${missing === undefined ? '' : ` (skipped: ${missing})`}`, () => {
  const influx = useInfluxDb()
  const target = useTarget()
  let result: LoadTestResult

  beforeAll(async () => {
    const run = await target.run({
      scenarios: {
        shop: {
          scenario: scenario('shop', async (s) => {
            await s.get('/products', { name: REQUEST_NAME })
            await s.delay(150)
          }),
          executor: 'per-vu-iterations',
          vus: 4,
          iterations: 15,
        },
      },
      thresholds: { http_req_duration: ['p(95)<5000'], http_req_failed: ['rate<0.5'] },
    })
    result = { ...run, name: TEST_NAME }
  }, 60_000)

  async function scalar(db: string, q: string): Promise<number> {
    const [series] = await influx.query(db, q)
    return Number(series?.values[0]?.[1] ?? 0)
  }

  /** Every point of `test` in `db`, counted per measurement (SELECT * gives one row per point). */
  async function pointsByMeasurement(db: string, test: string): Promise<Record<string, number>> {
    const counts: Record<string, number> = {}
    for (const s of await influx.query(db, `SELECT * FROM /.*/ WHERE "test" = ${influxString(test)}`)) counts[s.name] = s.values.length
    return counts
  }

  it('writes a finished run whose InfluxQL counts equal the run\'s counts, creating the database', async () => {
    const db = 'chaperon_whole'
    const { vitest, errors } = fakeVitest()
    const reporter = new InfluxDbReporter({ url: influx.url, database: db, stream: false, run: 'it-1' })
    reporter.onInit(vitest)
    reporter.onTestCaseResult(testCase('whole-1', result))
    await reporter.onTestRunEnd()
    expect(errors).toEqual([])

    const lines = linesFromResult(result, { run: 'it-1' })
    expect(reporter.pointsWritten).toBe(lines.length)
    expect(await pointsByMeasurement(db, TEST_NAME)).toEqual(countByMeasurement(lines))

    const where = `WHERE "test" = ${influxString(TEST_NAME)} AND "run" = 'it-1'`
    const requests = total(result, 'http_reqs')
    expect(requests).toBe(60)
    expect(await scalar(db, `SELECT sum("value") FROM "http_reqs" ${where}`)).toBe(requests)
    const trendPoints = result.timeSeries.series.filter((s) => s.metric === 'http_req_duration').reduce((n, s) => n + s.points.length, 0)
    expect(trendPoints).toBeGreaterThan(1)
    expect(await scalar(db, `SELECT count("count") FROM "http_req_duration" ${where}`)).toBe(trendPoints)
    expect(await scalar(db, `SELECT sum("count") FROM "http_req_duration" ${where}`)).toBe(requests)
    expect(await scalar(db, `SELECT sum("value") FROM "chaperon_summary" ${where} AND "metric" = 'http_reqs'`)).toBe(requests)
    expect(await scalar(db, `SELECT count("ok") FROM "chaperon_threshold" ${where}`)).toBe(2)

    const names = await influx.query(db, `SHOW TAG VALUES FROM "http_reqs" WITH KEY = "name"`)
    expect(names[0]?.values).toEqual([['name', REQUEST_NAME]])
    const tests = await influx.query(db, `SHOW TAG VALUES FROM "http_reqs" WITH KEY = "test"`)
    expect(tests[0]?.values).toEqual([['test', TEST_NAME]])

    // Per-second points sit at startedAt + t·1000 ms (the query answers in epoch ms).
    const start = Date.parse(result.startedAt)
    const seconds = new Set(result.timeSeries.series.filter((s) => s.metric === 'http_reqs').flatMap((s) => s.points.map((p) => start + p.t * 1000)))
    const times = await influx.query(db, `SELECT "value" FROM "http_reqs" ${where}`)
    expect(new Set(times[0]?.values.map((row) => row[0]))).toEqual(seconds)
  })

  it('takes every line of the fixed result, escapes included', async () => {
    const db = 'chaperon_fixed'
    const fixed = fixedResult()
    const lines = linesFromResult(fixed, { env: 'staging' })
    await new InfluxDbClient({ url: influx.url, version: 1, database: db, batchSize: 7 }).write(lines)
    expect(await pointsByMeasurement(db, fixed.name)).toEqual(countByMeasurement(lines))
    const checks = await influx.query(db, `SHOW TAG VALUES FROM "checks" WITH KEY = "check"`)
    expect(checks[0]?.values.map((row) => row[1])).toEqual(['receipt has "id", "total"', 'status is 200'])
    expect(await scalar(db, `SELECT sum("value") FROM "http_reqs" WHERE "test" = ${influxString(fixed.name)}`)).toBe(480)
  })

  it('streams closed seconds during the run, then sends only the rest and the summary, never a point twice', async () => {
    const db = 'chaperon_stream'
    const { vitest, errors } = fakeVitest()
    const reporter = new InfluxDbReporter({ url: influx.url, database: db, flushInterval: '100ms' })
    reporter.onInit(vitest)
    expect(reporter.live).toBe(true)
    const seconds = secondsFromTimeSeries(result.timeSeries)
    expect(seconds.length).toBeGreaterThan(1)
    const last = seconds.at(-1)!
    const earlier = seconds.slice(0, -1)
    const live = (message: ProgressMessage): void => reporter.onLive(message)

    for (const { t, samples } of earlier) {
      live({ type: 'second', testId: 'stream-1', name: TEST_NAME, t, samples: [...samples] })
      live({ type: 'progress', testId: 'stream-1', name: TEST_NAME, elapsedMs: (t + 1) * 1000, totalMs: 3000, vus: 4, rps: 20, p95Ms: 3, errors: 0, dropped: 0 })
    }
    const streamed = linesFromSeconds(TEST_NAME, 0, earlier)
    const streamedReqs = earlier.flatMap((s) => s.samples).reduce((n, s) => n + (s.metric === 'http_reqs' && s.type === 'counter' ? s.point.value : 0), 0)
    // The timer sends them while the "test" still runs.
    await expect.poll(() => reporter.pointsWritten, { timeout: 10_000 }).toBe(streamed.length)
    expect(await scalar(db, `SELECT sum("value") FROM "http_reqs" WHERE "test" = ${influxString(TEST_NAME)}`).catch(() => 0)).toBe(streamedReqs)

    live({ type: 'second', testId: 'stream-1', name: TEST_NAME, t: last.t, samples: [...last.samples] })
    live({ type: 'end', testId: 'stream-1' })
    reporter.onTestCaseResult(testCase('stream-1', result))
    // A second that arrives after the result is already in it.
    live({ type: 'second', testId: 'stream-1', name: TEST_NAME, t: earlier[0]!.t, samples: [...earlier[0]!.samples] })
    await reporter.onTestRunEnd()
    expect(errors).toEqual([])

    const all = linesFromResult(result)
    expect(reporter.pointsWritten).toBe(all.length)
    expect(await pointsByMeasurement(db, TEST_NAME)).toEqual(countByMeasurement(all))
    expect(await scalar(db, `SELECT sum("value") FROM "http_reqs" WHERE "test" = ${influxString(TEST_NAME)}`)).toBe(total(result, 'http_reqs'))
  })

  it('streams a real run over the progress channel while it runs', async () => {
    const db = 'chaperon_live'
    const name = 'live run'
    const { vitest, errors } = fakeVitest()
    const reporter = new InfluxDbReporter({ url: influx.url, database: db, flushInterval: '200ms' })
    reporter.onInit(vitest)
    const server = await listenForProgress(progressSocketPath(), (message) => reporter.onLive(message))
    try {
      const sink = openProgress('live-1', name, { [PROGRESS_SOCKET_ENV]: server.path })!
      const writtenAtEachSecond: number[] = []
      const options = resolveLoadTestOptions(name, {
        baseUrl: target.url,
        scenarios: { steady: { scenario: scenario('steady', (s) => s.get('/products').then(() => s.delay(100))), executor: 'constant-vus', vus: 2, duration: '3s' } },
      })
      const { result } = await runLoadTest(name, options, undefined, {
        progress: (snapshot) => sink.update(snapshot),
        second: (t, samples) => {
          sink.second(t, samples)
          writtenAtEachSecond.push(reporter.pointsWritten)
        },
      })
      await sink.end()
      // Points were in InfluxDB before the test ended.
      expect(Math.max(...writtenAtEachSecond)).toBeGreaterThan(0)
      reporter.onTestCaseResult(testCase('live-1', result))
      await reporter.onTestRunEnd()
      expect(errors).toEqual([])

      const all = linesFromResult(result)
      expect(reporter.pointsWritten).toBe(all.length)
      expect(await pointsByMeasurement(db, name)).toEqual(countByMeasurement(all))
      expect(await scalar(db, `SELECT sum("value") FROM "http_reqs" WHERE "test" = 'live run'`)).toBe(total(result, 'http_reqs'))
      // The stream's start, estimated from when the first second arrived, is close to the result's.
      const [first] = await influx.query(db, `SELECT first("value") FROM "http_reqs" WHERE "test" = 'live run'`)
      expect(Math.abs(Number(first?.values[0]?.[0]) - Date.parse(result.startedAt))).toBeLessThan(500)
    } finally {
      await server.close()
    }
  })
})

/** A local HTTP peer standing in for InfluxDB: answers with `respond` and records each request. */
interface Peer {
  url: string
  requests: Array<{ method: string; path: string; headers: IncomingHttpHeaders; body: string; at: number }>
}

const peers: Server[] = []
afterEach(async () => {
  for (const server of peers.splice(0)) {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
})

async function startPeer(respond: (n: number) => { status: number; body?: string; headers?: Record<string, string> } | 'hang'): Promise<Peer> {
  const requests: Peer['requests'] = []
  const server = createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8').on('data', (chunk: string) => (body += chunk))
    req.on('end', () => {
      requests.push({ method: req.method!, path: req.url!, headers: req.headers, body, at: performance.now() })
      const answer = respond(requests.length)
      if (answer === 'hang') return
      res.writeHead(answer.status, answer.headers).end(answer.body)
    })
  })
  peers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests }
}

async function exportError(write: Promise<unknown>): Promise<ChaperonError> {
  const error = await write.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(ChaperonError)
  expect((error as ChaperonError).code).toBe('CHAPERON_EXPORT_FAILED')
  return error as ChaperonError
}

describe('influxdb client against a local HTTP peer', () => {
  it('retries a 503 with exponential backoff, then succeeds', async () => {
    const peer = await startPeer((n) => (n <= 2 ? { status: 503, body: '{"error":"busy"}' } : { status: 204 }))
    await new InfluxDbClient({ url: peer.url, version: 1, database: 'd', backoff: 40 }).write(['m v=1 1'])
    expect(peer.requests).toHaveLength(3)
    const [a, b, c] = peer.requests.map((r) => r.at)
    // Each wait is between half and all of 40·2^n ms.
    expect(b! - a!).toBeGreaterThanOrEqual(19)
    expect(c! - b!).toBeGreaterThanOrEqual(39)
    expect(peer.requests.every((r) => r.body === 'm v=1 1\n')).toBe(true)
  })

  it('after the last retry throws CHAPERON_EXPORT_FAILED naming the URL, status and body, never the token', async () => {
    const peer = await startPeer(() => ({ status: 503, body: '{"error":"engine overloaded"}' }))
    const client = new InfluxDbClient({ url: peer.url, version: 2, org: 'acme', bucket: 'load', token: 'tok-SECRET', backoff: 5 })
    const error = await exportError(client.write(['m v=1 1']))
    expect(peer.requests).toHaveLength(4)
    expect(error.message).toContain(`Writing to InfluxDB at ${peer.url}/api/v2/write?org=acme&bucket=load&precision=ms failed after 4 attempts: HTTP 503 Service Unavailable: {"error":"engine overloaded"}.`)
    expect(`${error.name} ${error.message} ${error.stack}`).not.toContain('tok-SECRET')
  })

  it('does not retry a 400, and shows InfluxDB\'s error', async () => {
    const peer = await startPeer(() => ({ status: 400, body: '{"error":"unable to parse \'m v=\': missing field value"}' }))
    const error = await exportError(new InfluxDbClient({ url: peer.url, version: 1, database: 'd', backoff: 5 }).write(['m v=']))
    expect(peer.requests).toHaveLength(1)
    expect(error.message).toMatch(/failed: HTTP 400 Bad Request: \{"error":"unable to parse 'm v=': missing field value"\}/)
  })

  it('retries a 429, a timeout and a refused connection', async () => {
    const limited = await startPeer((n) => (n === 1 ? { status: 429, headers: { 'retry-after': '0' } } : { status: 204 }))
    await new InfluxDbClient({ url: limited.url, version: 1, database: 'd', backoff: 5 }).write(['m v=1 1'])
    expect(limited.requests).toHaveLength(2)

    const silent = await startPeer(() => 'hang')
    const timeout = await exportError(new InfluxDbClient({ url: silent.url, version: 1, database: 'd', timeout: 100, retries: 1, backoff: 5 }).write(['m v=1 1']))
    expect(silent.requests).toHaveLength(2)
    expect(timeout.message).toMatch(/failed after 2 attempts: no answer within 100 ms \(timeout\)/)

    const closed = await startPeer(() => ({ status: 204 }))
    const deadUrl = closed.url
    const server = peers.pop()!
    await new Promise((resolve) => server.close(resolve))
    const refused = await exportError(new InfluxDbClient({ url: deadUrl, version: 1, database: 'd', retries: 1, backoff: 5 }).write(['m v=1 1']))
    expect(refused.message).toContain(`Writing to InfluxDB at ${deadUrl}/write?db=d&precision=ms failed after 2 attempts:`)
    expect(refused.message).toContain('ECONNREFUSED')
  })

  it('sends the 2.x request shape: /api/v2/write, org, bucket, precision and a Token header', async () => {
    const peer = await startPeer(() => ({ status: 204 }))
    await new InfluxDbClient({ url: `${peer.url}/`, version: 2, org: 'acme corp', bucket: 'load', token: 'tok' }).write(['a v=1 1', 'b v=2 2'])
    expect(peer.requests).toHaveLength(1)
    const [request] = peer.requests
    expect(request!.method).toBe('POST')
    expect(request!.path).toBe('/api/v2/write?org=acme+corp&bucket=load&precision=ms')
    expect(request!.headers['authorization']).toBe('Token tok')
    expect(request!.headers['content-type']).toBe('text/plain; charset=utf-8')
    expect(request!.body).toBe('a v=1 1\nb v=2 2\n')
  })

  it('sends 1.x credentials as basic auth, and batches of batchSize lines in order', async () => {
    const peer = await startPeer(() => ({ status: 204 }))
    await new InfluxDbClient({ url: peer.url, version: 1, database: 'load', username: 'ci', password: 'pw', batchSize: 2 }).write(['a v=1 1', 'a v=2 2', 'a v=3 3', 'a v=4 4', 'a v=5 5'])
    expect(peer.requests.map((r) => r.body)).toEqual(['a v=1 1\na v=2 2\n', 'a v=3 3\na v=4 4\n', 'a v=5 5\n'])
    expect(peer.requests.every((r) => r.path === '/write?db=load&precision=ms' && r.headers['authorization'] === `Basic ${Buffer.from('ci:pw').toString('base64')}`)).toBe(true)
  })
})

describe('influxdb reporter when writes fail', () => {
  const exitCode = process.exitCode
  afterEach(() => {
    process.exitCode = exitCode
  })

  function reporterFor(url: string, options: Partial<InfluxDbReporterOptions> = {}): { reporter: InfluxDbReporter; errors: string[] } {
    const { vitest, errors } = fakeVitest()
    const reporter = new InfluxDbReporter({ url, database: 'd', retries: 0, ...options })
    reporter.onInit(vitest)
    return { reporter, errors }
  }

  it('prints the error, fails the run with exit code 1, and does not throw', async () => {
    const peer = await startPeer(() => ({ status: 500, body: '{"error":"disk full"}' }))
    const { reporter, errors } = reporterFor(peer.url, { stream: false })
    const fixed = fixedResult()
    reporter.onTestCaseResult(testCase('f-1', fixed))
    await expect(reporter.onTestRunEnd()).resolves.toBeUndefined()
    expect(process.exitCode).toBe(1)
    expect(errors).toHaveLength(1)
    expect(errors[0]).toContain(`ChaperonError [CHAPERON_EXPORT_FAILED]: Writing to InfluxDB at ${peer.url}/write?db=d&precision=ms failed: HTTP 500 Internal Server Error: {"error":"disk full"}.`)
    expect(errors[0]).toContain(`The points of "${fixed.name}" were not written. The tests' verdicts are unchanged`)
  })

  it('after a failed streamed write stops streaming, and sends every point once the test ends', async () => {
    const peer = await startPeer((n) => (n === 1 ? { status: 500, body: '{"error":"restarting"}' } : { status: 204 }))
    const { reporter, errors } = reporterFor(peer.url, { flushInterval: '20ms' })
    const fixed = fixedResult()
    const [first, ...rest] = secondsFromTimeSeries(fixed.timeSeries)
    reporter.onLive({ type: 'second', testId: 'f-2', name: fixed.name, t: first!.t, samples: [...first!.samples] })
    await expect.poll(() => errors.length).toBe(1)
    expect(errors[0]).toContain('Streaming to InfluxDB stopped')
    for (const { t, samples } of rest) reporter.onLive({ type: 'second', testId: 'f-2', name: fixed.name, t, samples: [...samples] })
    reporter.onLive({ type: 'end', testId: 'f-2' })
    reporter.onTestCaseResult(testCase('f-2', fixed))
    await reporter.onTestRunEnd()
    expect(peer.requests).toHaveLength(2)
    const accepted = peer.requests[1]!.body.trimEnd().split('\n')
    // The same points as a whole write, only the timestamps count from when the stream began.
    expect(accepted).toHaveLength(linesFromResult(fixed).length)
    expect(new Set(accepted).size).toBe(accepted.length)
    expect(accepted.map((l) => l.replace(/ \d+$/, ''))).toEqual(linesFromResult(fixed).map((l) => l.replace(/ \d+$/, '')))
    expect(reporter.pointsWritten).toBe(accepted.length)
    expect(process.exitCode).toBe(1)
  })
})
