// The target fault matrix (issue #6): each way a target can fail, provoked for real
// on 127.0.0.1, becomes a failed request with one stable `error_code`; the run
// completes, and its counts are exact. docs/http.md#errors lists the codes.
import { type ChildProcessByStdio, spawn } from 'node:child_process'
import { once as onceEvent } from 'node:events'
import type { Readable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import type { LoadTestResult } from '../../src/core/result.ts'
import { createPalette } from '../../src/reporters/colors.ts'
import { renderSummary } from '../../src/reporters/summary-render.ts'
import type { Response } from '../../src/runtime/http/response.ts'
import type { LoadTestOptions } from '../../src/runtime/options.ts'
import type { Session } from '../../src/runtime/session.ts'
import { closedPort, once, runResult, series, total, useTarget } from '../support/results.ts'
import { startHttpsServer } from '../support/tls.ts'

const target = useTarget()

/** What a scenario saw of one response, and how long it took. */
interface Seen {
  status: number
  error: string | undefined
  ok: boolean
  bytes: number
  ms: number
}

/**
 * Runs `vus` VUs for `iterations` iterations each, every iteration sending the
 * requests of `send`, and returns the result with what each response looked like.
 * A fault of the target must never reach the scenario as an exception.
 */
async function run(
  send: (s: Session) => Promise<Response> | Promise<Response[]>,
  { vus = 1, iterations = 3, ...options }: { vus?: number; iterations?: number } & Omit<LoadTestOptions, 'scenarios'> = {},
): Promise<{ result: LoadTestResult; seen: Seen[]; ms: number }> {
  const seen: Seen[] = []
  const started = performance.now()
  const result = await runResult({
    baseUrl: target.url,
    ...options,
    scenarios: once(async (s) => {
      const sent = await send(s)
      for (const r of Array.isArray(sent) ? sent : [sent]) seen.push({ status: r.status, error: r.error, ok: r.ok, bytes: r.bytes, ms: r.timings.duration })
    }, vus, iterations),
  })
  expect(result.errors).toEqual([])
  expect(total(result, 'iterations')).toBe(vus * iterations)
  return { result, seen, ms: performance.now() - started }
}

/** Every one of `n` requests failed with no usable response and `code`, and was counted exactly once. */
function expectAllFailed(result: LoadTestResult, seen: Seen[], n: number, code: string): void {
  expect(seen).toHaveLength(n)
  for (const r of seen) expect(r).toMatchObject({ status: 0, error: code, ok: false })
  expect(total(result, 'http_reqs')).toBe(n)
  expect(total(result, 'http_reqs', { error_code: code, status: '0', expected_response: 'false' })).toBe(n)
  expect(total(result, 'http_req_failed', {}, 'total')).toBe(n)
  expect(total(result, 'http_req_failed', {}, 'passes')).toBe(n)
  expect(total(result, 'http_req_duration')).toBe(n)
}

describe('faults before a connection', () => {
  it('connection refused: a port bound then closed → ECONNREFUSED, nothing sent', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/`
    const { result, seen } = await run((s) => s.get(url, { name: 'refused' }), { vus: 2, iterations: 3 })
    expectAllFailed(result, seen, 6, 'ECONNREFUSED')
    expect(total(result, 'data_sent')).toBe(0)
    expect(total(result, 'data_received')).toBe(0)
  })

  it('DNS failure: a name under .invalid → ENOTFOUND, the same on every request', async () => {
    // RFC 6761 reserves .invalid: it never resolves, with or without a network, so no load leaves loopback.
    const { result, seen } = await run((s) => s.get('http://chaperon-fault.invalid/', { name: 'dns' }), { vus: 2, iterations: 3 })
    expectAllFailed(result, seen, 6, 'ENOTFOUND')
    expect(total(result, 'data_sent')).toBe(0)
  })
})

describe('faults of the connection', () => {
  it('reset before the headers → ECONNRESET', async () => {
    const { result, seen } = await run((s) => s.get('/reset'), { vus: 2, iterations: 3 })
    expectAllFailed(result, seen, 6, 'ECONNRESET')
    // The request went out before the reset came back.
    expect(total(result, 'data_sent')).toBeGreaterThan(0)
  })

  it('reset after the headers, mid-body → INCOMPLETE_RESPONSE, told apart from a reset before them', async () => {
    const { result, seen } = await run((s) => s.get('/fault/reset-after-headers?sent=100'), { vus: 2, iterations: 2 })
    expectAllFailed(result, seen, 4, 'INCOMPLETE_RESPONSE')
    // The headers and the 100 body bytes that came before the reset are counted as received.
    for (const r of seen) expect(r.bytes).toBe(100)
    expect(total(result, 'data_received')).toBeGreaterThan(4 * 100)
  })

  it('connection closed after the headers, body short of its content-length → INCOMPLETE_RESPONSE', async () => {
    const { result, seen } = await run((s) => s.get('/fault/close-after-headers?sent=10'), { vus: 1, iterations: 3 })
    expectAllFailed(result, seen, 3, 'INCOMPLETE_RESPONSE')
    for (const r of seen) expect(r.bytes).toBe(10)
  })
})

describe('timeouts', () => {
  // undici checks these timeouts on a clock that ticks every half second: a 1 s timeout
  // fires after 1 to about 2 s, never before 1 s.
  const TIMEOUT = { timeout: '1s' } as const

  it('headers timeout: an answer slower than the timeout → UND_ERR_HEADERS_TIMEOUT', async () => {
    const { result, seen, ms } = await run((s) => s.get('/delay?ms=5000', TIMEOUT), { vus: 2, iterations: 2 })
    expectAllFailed(result, seen, 4, 'UND_ERR_HEADERS_TIMEOUT')
    for (const r of seen) expect(r.ms).toBeGreaterThanOrEqual(950)
    // Two timeouts in a row per VU, never the server's five seconds.
    expect(ms).toBeLessThan(9_000)
  })

  it('body timeout: headers and part of the body, then a stall → UND_ERR_BODY_TIMEOUT', async () => {
    const { result, seen, ms } = await run((s) => s.get('/fault/hang-after-headers?sent=100', TIMEOUT), { vus: 2, iterations: 2 })
    expectAllFailed(result, seen, 4, 'UND_ERR_BODY_TIMEOUT')
    for (const r of seen) expect(r).toMatchObject({ bytes: 100 })
    for (const r of seen) expect(r.ms).toBeGreaterThanOrEqual(950)
    expect(ms).toBeLessThan(9_000)
  })

  it('hang: a target that never answers is bounded by the timeout → UND_ERR_HEADERS_TIMEOUT', async () => {
    const { result, seen, ms } = await run((s) => s.get('/hang', TIMEOUT), { vus: 2, iterations: 2 })
    expectAllFailed(result, seen, 4, 'UND_ERR_HEADERS_TIMEOUT')
    for (const r of seen) expect(r.ms).toBeGreaterThanOrEqual(950)
    expect(ms).toBeLessThan(9_000)
  })

  it('slow drip: a body trickled out longer than the timeout succeeds while each gap is shorter; a longer gap → UND_ERR_BODY_TIMEOUT', async () => {
    const { result, seen, ms } = await run(
      (s) =>
        Promise.all([
          // 12 × 16 bytes, one every 150 ms: 1.65 s in all, no gap near the 1 s timeout.
          s.get('/fault/drip?chunks=12&every=150&size=16', { ...TIMEOUT, name: 'drip ok' }),
          // The first 16 bytes at once, then a 5 s gap.
          s.get('/fault/drip?chunks=2&every=5000&size=16', { ...TIMEOUT, name: 'drip stalled' }),
        ]),
      { vus: 2, iterations: 1 },
    )
    const [ok, stalled] = [seen.filter((_, i) => i % 2 === 0), seen.filter((_, i) => i % 2 === 1)]
    for (const r of ok) {
      expect(r).toMatchObject({ status: 200, error: undefined, ok: true, bytes: 12 * 16 })
      // The timeout bounds each wait, not the whole body.
      expect(r.ms).toBeGreaterThanOrEqual(1_500)
    }
    for (const r of stalled) expect(r).toMatchObject({ status: 0, error: 'UND_ERR_BODY_TIMEOUT', ok: false, bytes: 16 })
    expect(total(result, 'http_reqs')).toBe(4)
    expect(total(result, 'http_req_failed', { name: 'drip ok' }, 'passes')).toBe(0)
    expect(total(result, 'http_req_failed', { name: 'drip stalled', error_code: 'UND_ERR_BODY_TIMEOUT' }, 'passes')).toBe(2)
    expect(total(result, 'http_req_failed', {}, 'passes')).toBe(2)
    expect(ms).toBeLessThan(6_000)
  })
})

describe('statuses', () => {
  it('1xx: 103 Early Hints and 102 Processing are skipped for the final 200; an unsolicited 100 Continue → MALFORMED_RESPONSE', async () => {
    const { result, seen } = await run(
      async (s) => [
        await s.get('/fault/informational?code=103', { name: '103' }),
        await s.get('/fault/informational?code=102', { name: '102' }),
        // undici refuses a 100 Continue the request did not ask for; chaperon never sends expect: 100-continue.
        await s.get('/fault/informational?code=100', { name: '100' }),
      ],
      { vus: 1, iterations: 2 },
    )
    expect(seen.filter((_, i) => i % 3 !== 2)).toEqual(Array(4).fill(expect.objectContaining({ status: 200, error: undefined, ok: true, bytes: 2 })))
    expect(seen.filter((_, i) => i % 3 === 2)).toEqual(Array(2).fill(expect.objectContaining({ status: 0, error: 'MALFORMED_RESPONSE', ok: false })))
    expect(total(result, 'http_reqs')).toBe(6)
    expect(total(result, 'http_reqs', { name: '103', status: '200', expected_response: 'true' })).toBe(2)
    expect(total(result, 'http_reqs', { name: '102', status: '200', expected_response: 'true' })).toBe(2)
    expect(total(result, 'http_reqs', { name: '100', status: '0', error_code: 'MALFORMED_RESPONSE' })).toBe(2)
    expect(total(result, 'http_req_failed', {}, 'passes')).toBe(2)
  })

  it('3xx: a success by default, returned as it is, not followed', async () => {
    const { result, seen } = await run(async (s) => [await s.get('/status/302'), await s.get('/status/304'), await s.get('/status/302', { expect: 200, name: 'strict' })], { vus: 1, iterations: 2 })
    expect(seen.map((r) => [r.status, r.ok, r.error])).toEqual(Array(2).fill([[302, true, undefined], [304, true, undefined], [302, false, undefined]]).flat())
    // Not followed: one request each, none to a location.
    expect(total(result, 'http_reqs')).toBe(6)
    expect(total(result, 'http_req_failed', {}, 'passes')).toBe(2)
    expect(total(result, 'http_reqs', { name: 'strict', status: '302', error_code: 'HTTP_302' })).toBe(2)
    expect(series(result, 'http_reqs', { name: 'GET /status/302' }).map((s) => s.tags['error_code'])).toEqual([undefined])
  })

  it('4xx and 5xx: failed, tagged HTTP_<status>, the response still returned; an expected one is a success without a code', async () => {
    const { result, seen } = await run(
      async (s) => [await s.get('/status/404'), await s.get('/status/503', { name: 'GET /status/503' }), await s.get('/status/404', { expect: 404, name: 'expected 404' })],
      { vus: 2, iterations: 2 },
    )
    expect(seen.map((r) => [r.status, r.ok, r.error])).toEqual(Array(4).fill([[404, false, undefined], [503, false, undefined], [404, true, undefined]]).flat())
    expect(total(result, 'http_reqs')).toBe(12)
    expect(total(result, 'http_reqs', { status: '404', error_code: 'HTTP_404', expected_response: 'false' })).toBe(4)
    expect(total(result, 'http_reqs', { status: '503', error_code: 'HTTP_503', expected_response: 'false' })).toBe(4)
    expect(total(result, 'http_req_failed', {}, 'passes')).toBe(8)
    expect(series(result, 'http_reqs', { name: 'expected 404' }).map((s) => [s.tags['status'], s.tags['error_code']])).toEqual([['404', undefined]])
    // A failed request always has a code, and only a failed one.
    for (const s of series(result, 'http_req_failed')) expect(s.type === 'rate' && (s.passes > 0) === (s.tags['error_code'] !== undefined)).toBe(true)
  })
})

describe('bodies', () => {
  it('malformed status line → MALFORMED_RESPONSE', async () => {
    const { result, seen } = await run((s) => s.get('/fault/malformed-status'), { vus: 2, iterations: 2 })
    expectAllFailed(result, seen, 4, 'MALFORMED_RESPONSE')
  })

  it('huge body: 50 MB streams through and is counted to the byte, kept or discarded', async () => {
    const size = 50_000_000
    let kept = 0
    const { result, seen } = await run(
      async (s) => {
        const r = await s.get(`/bytes/${size}`, { discardBody: s.iteration === 0 })
        if (s.iteration === 1) kept = r.text().length
        return r
      },
      { vus: 1, iterations: 2 },
    )
    expect(seen).toEqual(Array(2).fill(expect.objectContaining({ status: 200, error: undefined, ok: true, bytes: size })))
    expect(kept).toBe(size)
    expect(total(result, 'http_req_failed', {}, 'passes')).toBe(0)
    // The bodies exactly, plus a few hundred bytes of status lines and headers.
    const headers = total(result, 'data_received') - 2 * size
    expect(headers).toBeGreaterThan(0)
    expect(headers).toBeLessThan(2 * 500)
  })
})

describe('TLS', () => {
  it('a self-signed certificate → DEPTH_ZERO_SELF_SIGNED_CERT', async () => {
    const https = await startHttpsServer((_req, res) => res.end('secret'))
    try {
      const { result, seen } = await run((s) => s.get('/'), { baseUrl: https.url, vus: 2, iterations: 2 })
      expectAllFailed(result, seen, 4, 'DEPTH_ZERO_SELF_SIGNED_CERT')
    } finally {
      await https.close()
    }
  })
})

describe('a target killed mid-test', () => {
  let child: ChildProcessByStdio<null, Readable, null> | undefined
  afterAll(() => void child?.kill('SIGKILL'))

  /** Starts `node fixtures/servers/http.ts` on a free port and resolves with the URL it prints. */
  async function startChild(): Promise<string> {
    const script = fileURLToPath(new URL('../../fixtures/servers/http.ts', import.meta.url))
    child = spawn(process.execPath, [script], { env: { ...process.env, PORT: '0', HOST: '127.0.0.1' }, stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    for await (const chunk of child.stdout) {
      out += String(chunk)
      const url = /listening on (http:\/\/\S+)/.exec(out)?.[1]
      if (url !== undefined) return url
    }
    throw new Error(`the target exited before it listened: ${out}`)
  }

  it('by SIGKILL while a request is in flight: that one → ECONNRESET, the later ones → ECONNREFUSED; the run completes', async () => {
    const url = await startChild()
    const server = child!
    const exited = onceEvent(server, 'exit')
    const { result, seen } = await run(
      async (s) => {
        if (s.iteration !== 2) return s.get('/health', { name: 'health' })
        // Killed 300 ms into a 10 s answer: the kernel closes the process's sockets as it dies.
        setTimeout(() => server.kill('SIGKILL'), 300)
        const r = await s.get('/delay?ms=10000', { name: 'in flight' })
        // A connect while the dying process still holds its listening socket would be reset, not refused.
        await exited
        return r
      },
      { baseUrl: url, vus: 1, iterations: 6 },
    )
    expect(await exited).toEqual([null, 'SIGKILL'])
    // Sent once the process was gone.
    expect(seen.map((r) => r.error ?? r.status)).toEqual([200, 200, 'ECONNRESET', 'ECONNREFUSED', 'ECONNREFUSED', 'ECONNREFUSED'])
    expect(total(result, 'http_reqs')).toBe(6)
    expect(total(result, 'http_req_failed', {}, 'passes')).toBe(4)
    expect(total(result, 'http_reqs', { name: 'health', status: '200', expected_response: 'true' })).toBe(2)
    expect(total(result, 'http_reqs', { name: 'in flight', error_code: 'ECONNRESET' })).toBe(1)
    expect(total(result, 'http_reqs', { name: 'health', error_code: 'ECONNREFUSED' })).toBe(3)
  })
})

describe('the summary', () => {
  it('groups the failures of a run by error_code, most frequent first', async () => {
    const refused = `http://127.0.0.1:${await closedPort()}/`
    const { result } = await run(
      async (s) => [
        await s.get('/health'),
        await s.get('/status/503', { name: 'GET /status/503' }),
        await s.get('/reset'),
        ...(s.iteration < 2 ? [await s.get(refused, { name: 'refused' })] : []),
        ...(s.iteration < 1 ? [await s.get('/fault/malformed-status')] : []),
      ],
      { vus: 1, iterations: 3 },
    )
    expect(total(result, 'http_reqs')).toBe(12)
    const text = renderSummary(result, createPalette(false))
    const section = text.split('\n\n').find((part) => part.startsWith('  failed requests'))
    expect(section).toBe(
      [
        '  failed requests by error_code',
        '    3×  ECONNRESET          25.00%  GET /reset',
        '    3×  HTTP_503            25.00%  GET /status/503',
        '    2×  ECONNREFUSED        16.67%  refused',
        '    1×  MALFORMED_RESPONSE   8.33%  GET /fault/malformed-status',
      ].join('\n'),
    )
  })
})
