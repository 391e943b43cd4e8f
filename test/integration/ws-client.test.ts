// The WebSocket client against the bundled target's WebSocket routes, driven directly
// with a scope of its own (the session wiring is covered in ws-session.test.ts).
import { once } from 'node:events'
import { createServer, type Server, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { startTargetServer, type TargetServer } from '../../fixtures/servers/http.ts'
import { ErrorLog } from '../../src/runtime/metrics/error-log.ts'
import { SessionCookies } from '../../src/runtime/http/cookies.ts'
import { MetricsRegistry } from '../../src/runtime/metrics/registry.ts'
import { ScenarioMetrics } from '../../src/runtime/metrics/scenario-metrics.ts'
import { WsClient } from '../../src/runtime/ws/ws-client.ts'

let target: TargetServer

beforeAll(async () => {
  target = await startTargetServer()
})

afterAll(async () => {
  await target.close()
})

/** A WsClient on the target with its own metrics, and readers for what it recorded. */
function setup(baseUrl: string | null = target.url) {
  const registry = new MetricsRegistry()
  const errorLog = new ErrorLog()
  const metrics = new ScenarioMetrics(registry, { scenario: 't' }, errorLog)
  const controller = new AbortController()
  const ws = new WsClient({ baseUrl: baseUrl === null ? undefined : new URL(baseUrl), signal: controller.signal, metrics, headers: { 'user-agent': 'chaperon/test' }, cookies: new SessionCookies(), insecure: false })
  const results = () => registry.toResults()
  /** A counter's value, or a trend's sample count, summed over series whose tags include `tags`. */
  const count = (metric: string, tags: Record<string, string> = {}): number => {
    let n = 0
    for (const s of results()) {
      if (s.metric !== metric || !Object.entries(tags).every(([k, v]) => s.tags[k] === v)) continue
      n += s.type === 'counter' ? s.value : s.type === 'trend' ? s.trend.count : 0
    }
    return n
  }
  const errors = (code: string, action?: string) => count('errors', action === undefined ? { error_code: code } : { error_code: code, action })
  return { ws, controller, results, count, errors, errorLog }
}

async function post(path: string, body: string): Promise<unknown> {
  const res = await fetch(`${target.url}${path}`, { method: 'POST', body })
  expect(res.status).toBe(200)
  return res.json()
}

describe('s.ws connections', () => {
  it('receives in order: text as strings, binary as Buffers, JSON parsed on request', async () => {
    const { ws, count } = setup()
    const echo = await ws.connect('/ws/echo')
    expect(echo.ok).toBe(true)
    expect(echo.url).toBe(`${target.url.replace('http:', 'ws:')}/ws/echo`)
    echo.send('one')
    echo.send(new Uint8Array([1, 2, 3]))
    echo.send({ json: { n: 3, tags: ['a'] } })
    expect(() => echo.send({ json: 1, jsno: 2 } as never)).toThrow(expect.objectContaining({ code: 'CHAPERON_UNKNOWN_OPTION', message: expect.stringContaining('ws.send() has an unknown option "jsno". Did you mean "json"?') }))
    echo.send('two')
    expect(await echo.recv()).toBe('one')
    const bytes = await echo.recv()
    expect(Buffer.isBuffer(bytes)).toBe(true)
    expect([...(bytes as Buffer)]).toEqual([1, 2, 3])
    expect(await echo.recv({ json: true })).toEqual({ n: 3, tags: ['a'] })
    expect(await echo.recv()).toBe('two')
    await echo.close()

    const tags = { scenario: 't', name: '/ws/echo' }
    expect(count('ws_msgs_sent', tags)).toBe(4)
    expect(count('ws_msgs_received', tags)).toBe(4)
    expect(count('ws_sessions', tags)).toBe(1)
    expect(count('ws_connecting', tags)).toBe(1)
    expect(count('ws_recv_duration', tags)).toBe(4)
    expect(count('ws_session_duration', tags)).toBe(1)
    expect(count('errors')).toBe(0)
  })

  it('records a queued message as a 0 µs receive and a waited-for one as longer', async () => {
    const { ws, results, count } = setup()
    const echo = await ws.connect('/ws/echo', { name: 'timed' })
    echo.send('early')
    // Counted on arrival, so once it shows the message sits in the queue.
    await vi.waitFor(() => expect(count('ws_msgs_received')).toBe(1))
    expect(await echo.recv()).toBe('early')
    const pending = echo.recv()
    echo.send('late')
    expect(await pending).toBe('late')
    const trend = results().find((s) => s.metric === 'ws_recv_duration')
    if (trend?.type !== 'trend') throw new Error('no ws_recv_duration trend')
    expect(trend.trend.count).toBe(2)
    expect(trend.trend.min).toBe(0)
    expect(trend.trend.max).toBeGreaterThan(0)
    await echo.close()
  })

  it('keeps many queued messages in order', async () => {
    const { ws, count } = setup()
    const echo = await ws.connect('/ws/echo')
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 50; i++) echo.send(`${round}:${i}`)
      await vi.waitFor(() => expect(count('ws_msgs_received')).toBe(51 * round + 50))
      for (let i = 0; i < 25; i++) expect(await echo.recv()).toBe(`${round}:${i}`)
      echo.send(`${round}:tail`)
      for (let i = 25; i < 50; i++) expect(await echo.recv()).toBe(`${round}:${i}`)
      expect(await echo.recv()).toBe(`${round}:tail`)
    }
    await echo.close()
  })

  it('awaitRecv drops messages until one matches: a string, a predicate, or a JSON value', async () => {
    const { ws } = setup()
    const echo = await ws.connect('/ws/echo')
    for (const m of ['a', 'b', 'done', 'c', 'x-7', 'd']) echo.send(m)
    echo.send({ json: { type: 'noise' } })
    echo.send('not json')
    echo.send({ json: { type: 'ready', id: 1 } })
    echo.send('after')
    expect(await echo.awaitRecv('done')).toBe('done')
    expect(await echo.awaitRecv((m) => typeof m === 'string' && m.startsWith('x-'))).toBe('x-7')
    expect(await echo.awaitRecv({ type: 'ready', id: 1 }, { json: true })).toEqual({ type: 'ready', id: 1 })
    expect(await echo.recv()).toBe('after')
    await echo.close()
  })

  it('resolves undefined when no message comes in time and records WS_RECV_TIMEOUT', async () => {
    const { ws, errors, errorLog, count } = setup()
    const echo = await ws.connect('/ws/echo')
    expect(await echo.recv({ timeout: 200 })).toBeUndefined()
    expect(await echo.awaitRecv('never', { timeout: '200ms' })).toBeUndefined()
    expect(errors('WS_RECV_TIMEOUT', 'ws.recv')).toBe(1)
    expect(errors('WS_RECV_TIMEOUT', 'ws.awaitRecv')).toBe(1)
    expect(errorLog.toResults()).toContainEqual(expect.objectContaining({ action: 'ws.recv', code: 'WS_RECV_TIMEOUT', count: 1 }))
    expect(count('ws_recv_duration')).toBe(0)
    // The connection is still usable after a timeout.
    echo.send('still here')
    expect(await echo.recv()).toBe('still here')
    await echo.close()
  })

  it('serves concurrent receives oldest first, each with its own timeout', async () => {
    const { ws, errors } = setup()
    const echo = await ws.connect('/ws/echo')
    const first = echo.recv({ timeout: '5s' })
    const impatient = echo.recv({ timeout: 100 })
    const last = echo.awaitRecv('two', { timeout: '5s' })
    expect(await impatient).toBeUndefined()
    echo.send('one')
    echo.send('skipped')
    echo.send('two')
    expect(await first).toBe('one')
    expect(await last).toBe('two')
    expect(errors('WS_RECV_TIMEOUT')).toBe(1)
    await echo.close()
  })

  it('rejects an awaitRecv whose predicate throws, and goes on serving others', async () => {
    const { ws } = setup()
    const echo = await ws.connect('/ws/echo')
    const broken = echo.awaitRecv(() => {
      throw new Error('bad predicate')
    })
    echo.send('x')
    await expect(broken).rejects.toThrow('bad predicate')
    echo.send('y')
    expect(await echo.recv()).toBe('y')
    await echo.close()
  })

  it('records a message that is not JSON under WS_INVALID_JSON and resolves undefined', async () => {
    const { ws, errors } = setup()
    const echo = await ws.connect('/ws/echo')
    echo.send('{oops')
    expect(await echo.recv({ json: true })).toBeUndefined()
    expect(errors('WS_INVALID_JSON', 'ws.recv')).toBe(1)
    await echo.close()
  })

  it('sends the default and given headers, offers subprotocols and no compression unless asked', async () => {
    const { ws } = setup()
    const echo = await ws.connect('/ws/echo?room=1', { headers: { 'X-Token': 'abc' }, protocols: ['chat.v2', 'chat.v1'] })
    expect(echo.name).toBe('/ws/echo')
    expect(echo.protocol).toBe('chat.v2')
    echo.send('whoami')
    const seen = (await echo.recv({ json: true })) as { protocol: string; query: Record<string, string>; headers: Record<string, string> }
    expect(seen.protocol).toBe('chat.v2')
    expect(seen.query).toEqual({ room: '1' })
    expect(seen.headers['x-token']).toBe('abc')
    expect(seen.headers['user-agent']).toBe('chaperon/test')
    expect(seen.headers['sec-websocket-protocol']).toBe('chat.v2,chat.v1')
    expect(seen.headers['sec-websocket-extensions']).toBeUndefined()

    const deflate = await ws.connect('/ws/echo', { name: 'deflate', perMessageDeflate: true, headers: { 'user-agent': 'mine' } })
    deflate.send('whoami')
    const asked = (await deflate.recv({ json: true })) as { headers: Record<string, string> }
    expect(asked.headers['sec-websocket-extensions']).toContain('permessage-deflate')
    expect(asked.headers['user-agent']).toBe('mine')
    await ws.closeAll()
  })

  it('answers the server’s ping with a pong', async () => {
    const { ws } = setup()
    const echo = await ws.connect('/ws/echo?ping=1')
    // The server only says this once it has received the pong for its ping.
    expect(await echo.recv()).toBe('pong chaperon')
    await echo.close()
  })

  it('plays ping-pong', async () => {
    const { ws, count } = setup()
    const game = await ws.connect('/ws/ping-pong')
    for (let i = 0; i < 5; i++) {
      game.send('ping')
      expect(await game.recv()).toBe('pong')
    }
    await game.close()
    expect(count('ws_msgs_received', { name: '/ws/ping-pong' })).toBe(5)
  })

  it('relays broadcasts between connections and from HTTP POST /broadcast/:channel', async () => {
    const { ws, count } = setup()
    const alice = await ws.connect('/ws/broadcast?channel=room1', { name: 'alice' })
    const bob = await ws.connect('/ws/broadcast?channel=room1', { name: 'bob' })
    const other = await ws.connect('/ws/broadcast?channel=room2', { name: 'other' })
    alice.send('hi from alice')
    expect(await bob.recv()).toBe('hi from alice')
    expect(await alice.recv()).toBe('hi from alice')
    expect(await post('/broadcast/room1', 'news')).toEqual({ delivered: 2 })
    expect(await alice.recv()).toBe('news')
    expect(await ws.get('bob').recv()).toBe('news')
    expect(await other.recv({ timeout: 200 })).toBeUndefined()
    expect(count('ws_msgs_received', { name: 'alice' })).toBe(2)
    expect(count('ws_msgs_received', { name: 'bob' })).toBe(2)
    expect(count('ws_msgs_sent', { name: 'alice' })).toBe(1)
    await ws.closeAll()
    await vi.waitFor(async () => expect(await post('/broadcast/room1', 'nobody')).toEqual({ delivered: 0 }))
  })
})

describe('s.ws failures are data', () => {
  let silent: Server
  const held: Socket[] = []

  beforeAll(async () => {
    // Accepts TCP connections and never answers the upgrade.
    silent = createServer((socket) => void held.push(socket)).listen(0, '127.0.0.1')
    await once(silent, 'listening')
  })

  afterAll(async () => {
    for (const socket of held) socket.destroy()
    silent.close()
    await once(silent, 'close')
  })

  it('records a refused connect as ECONNREFUSED; the connection drops sends and receives nothing', async () => {
    const closed = createServer().listen(0, '127.0.0.1')
    await once(closed, 'listening')
    const { port } = closed.address() as { port: number }
    closed.close()
    await once(closed, 'close')

    const { ws, errors, count } = setup()
    const dead = await ws.connect(`ws://127.0.0.1:${port}/ws/echo`)
    expect(dead.ok).toBe(false)
    expect(dead.isOpen).toBe(false)
    expect(dead.error?.code).toBe('ECONNREFUSED')
    dead.send('lost')
    expect(await dead.recv()).toBeUndefined()
    expect(await dead.awaitRecv('x')).toBeUndefined()
    await dead.close()
    expect(errors('ECONNREFUSED', 'ws.connect')).toBe(1)
    expect(count('errors')).toBe(1)
    expect(count('ws_msgs_sent')).toBe(0)
    expect(count('ws_sessions')).toBe(0)
    expect(count('ws_session_duration')).toBe(0)
  })

  it('records an upgrade answered with 404 as WS_UNEXPECTED_RESPONSE with its status', async () => {
    const { ws, errors, errorLog } = setup()
    const missing = await ws.connect('/ws/nowhere')
    expect(missing.ok).toBe(false)
    expect(missing.error).toMatchObject({ code: 'WS_UNEXPECTED_RESPONSE', status: 404 })
    expect(errors('WS_UNEXPECTED_RESPONSE', 'ws.connect')).toBe(1)
    expect(errorLog.toResults()[0]?.message).toContain('HTTP 404')
    // A failed connection is still known by its name, so later code can look at it.
    expect(ws.get('/ws/nowhere')).toBe(missing)
  })

  it('records a handshake that takes too long as WS_CONNECT_TIMEOUT', async () => {
    const { ws, errors } = setup()
    const { port } = silent.address() as { port: number }
    const slow = await ws.connect(`ws://127.0.0.1:${port}/`, { timeout: 200 })
    expect(slow.error?.code).toBe('WS_CONNECT_TIMEOUT')
    expect(errors('WS_CONNECT_TIMEOUT', 'ws.connect')).toBe(1)
  })

  it('records a server close under a pending receive as WS_CLOSED, a dropped socket as WS_ABNORMAL_CLOSURE', async () => {
    const { ws, errors, count } = setup()
    const polite = await ws.connect('/ws/echo', { name: 'polite' })
    const waiting = polite.recv({ timeout: '5s' })
    polite.send('close')
    expect(await waiting).toBeUndefined()
    expect(polite.isOpen).toBe(false)
    expect(errors('WS_CLOSED', 'ws.recv')).toBe(1)
    polite.send('after close')
    expect(errors('WS_CLOSED', 'ws.send')).toBe(1)

    const rude = await ws.connect('/ws/echo', { name: 'rude' })
    rude.send('drop')
    await vi.waitFor(() => expect(rude.isOpen).toBe(false))
    expect(errors('WS_ABNORMAL_CLOSURE', 'ws.socket')).toBe(1)
    expect(count('ws_session_duration')).toBe(2)
  })

  it('cuts every socket off when the session is aborted, rejecting pending receives', async () => {
    const { ws, controller, count } = setup()
    const a = await ws.connect('/ws/broadcast?channel=abort', { name: 'a' })
    const b = await ws.connect('/ws/broadcast?channel=abort', { name: 'b' })
    const pending = a.recv({ timeout: '30s' })
    const reason = new Error('cut off')
    controller.abort(reason)
    await expect(pending).rejects.toBe(reason)
    expect(a.isOpen).toBe(false)
    expect(b.isOpen).toBe(false)
    await expect(b.recv()).rejects.toBe(reason)
    expect(() => b.send('x')).toThrow(reason)
    await expect(ws.connect('/ws/echo')).rejects.toBe(reason)
    // The server sees both sockets go.
    await vi.waitFor(async () => expect(await post('/broadcast/abort', 'anyone?')).toEqual({ delivered: 0 }))
    // Cut off by the load test, the sessions say nothing about the target.
    expect(count('ws_session_duration')).toBe(0)
    expect(count('errors')).toBe(0)
  })
})

describe('s.ws misuse throws', () => {
  it('names the known connections when get() is given an unknown name', async () => {
    const { ws } = setup()
    expect(() => ws.get('chat')).toThrow(expect.objectContaining({ code: 'CHAPERON_WS_UNKNOWN_CONNECTION' }))
    await ws.connect('/ws/echo', { name: 'chat-main' })
    expect(() => ws.get('chat-mian')).toThrow(/Did you mean "chat-main"\?.*Known: "chat-main"/)
    await ws.closeAll()
  })

  it('refuses a second open connection with the same name, and allows it once the first is closed', async () => {
    const { ws } = setup()
    const first = await ws.connect('/ws/echo')
    expect(ws.has('/ws/echo')).toBe(true)
    await expect(ws.connect('/ws/echo?again=1')).rejects.toMatchObject({ code: 'CHAPERON_WS_NAME_IN_USE' })
    await first.close()
    expect(ws.has('/ws/echo')).toBe(false)
    const second = await ws.connect('/ws/echo')
    expect(ws.get('/ws/echo')).toBe(second)
    await ws.closeAll()
    expect(second.isOpen).toBe(false)
  })

  it('checks URLs and options before connecting', async () => {
    const { ws } = setup()
    await expect(ws.connect('ftp://127.0.0.1/x')).rejects.toMatchObject({ code: 'CHAPERON_INVALID_URL' })
    await expect(ws.connect('/ws/echo', { nmae: 'x' } as never)).rejects.toThrow(/Did you mean "name"/)
    await expect(ws.connect('/ws/echo', { timeout: 0 })).rejects.toMatchObject({ code: 'CHAPERON_INVALID_OPTION' })
    await expect(ws.connect('/ws/echo', { protocols: ['bad protocol'] })).rejects.toMatchObject({ code: 'CHAPERON_INVALID_OPTION' })
    await expect(setup(null).ws.connect('/ws/echo')).rejects.toMatchObject({ code: 'CHAPERON_NO_TARGET' })
    const echo = await ws.connect(`${target.url}/ws/echo`)
    expect(echo.url.startsWith('ws://')).toBe(true)
    expect(() => echo.send(42 as never)).toThrow(/ws.send\(data\) must be/)
    await expect(echo.recv({ timeot: 1 } as never)).rejects.toThrow(/Did you mean "timeout"/)
    await expect(echo.close(1006)).rejects.toMatchObject({ code: 'CHAPERON_INVALID_OPTION' })
    await ws.closeAll()
  })
})
