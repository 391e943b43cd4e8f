import { spawn } from 'node:child_process'
import { connect } from 'node:net'
import { once } from 'node:events'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTargetServer } from '../../fixtures/servers/http.ts'
import type { TargetServer } from '../../fixtures/servers/http.ts'
import { isLoopback } from '../../src/target/http-server.ts'

let target: TargetServer

beforeAll(async () => {
  target = await startTargetServer()
})

afterAll(async () => {
  await target.close()
})

function get(path: string, init?: RequestInit): Promise<Response> {
  return fetch(`${target.url}${path}`, init)
}

/** What a raw HTTP/1.1 client gets for `GET path`: every byte until the connection ends, and how it ended. */
async function raw(path: string, { method = 'GET', idleMs }: { method?: string; idleMs?: number } = {}): Promise<{ text: string; error: string | undefined; ms: number }> {
  const socket = connect(target.port, '127.0.0.1')
  const started = performance.now()
  socket.write(`${method} ${path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`)
  const chunks: Buffer[] = []
  let error: string | undefined
  let idle: NodeJS.Timeout | undefined
  const quiet = (): void => {
    if (idleMs === undefined) return
    clearTimeout(idle)
    idle = setTimeout(() => socket.destroy(), idleMs)
  }
  socket.on('data', (chunk: Buffer) => {
    chunks.push(chunk)
    quiet()
  })
  socket.on('error', (e: NodeJS.ErrnoException) => (error = e.code))
  quiet()
  // Not events.once(), which rejects on the 'error' a reset emits first.
  await new Promise((resolve) => socket.on('close', resolve))
  clearTimeout(idle)
  return { text: Buffer.concat(chunks).toString('latin1'), error, ms: performance.now() - started }
}

/** The status line, headers and body of a raw response text. */
function parts(text: string): { head: string; body: string } {
  const end = text.indexOf('\r\n\r\n')
  return { head: text.slice(0, end), body: text.slice(end + 4) }
}

async function elapsedMs(path: string): Promise<number> {
  const start = performance.now()
  const res = await get(path)
  await res.text()
  expect(res.status).toBe(200)
  return performance.now() - start
}

describe('target server', () => {
  it('binds 127.0.0.1 on a free port', () => {
    expect(target.port).toBeGreaterThan(0)
    expect(target.url).toBe(`http://127.0.0.1:${target.port}`)
  })

  it('answers / and /health', async () => {
    for (const path of ['/', '/health']) {
      const res = await get(path)
      expect(res.status).toBe(200)
      expect(await res.text()).toBe('ok')
    }
  })

  it('lists products and finds one by id', async () => {
    const list = (await (await get('/products')).json()) as { id: number; name: string; price: number }[]
    expect(list).toHaveLength(10)
    expect(list[0]).toEqual({ id: 1, name: expect.any(String), price: expect.any(Number) })

    const one = await get('/products/3')
    expect(await one.json()).toMatchObject({ id: 3 })
    expect((await get('/products/99')).status).toBe(404)
  })

  it('counts cart items per cart cookie', async () => {
    const post = (cookie?: string) =>
      get('/cart', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
        body: JSON.stringify({ id: 1 }),
      })
    const first = await post()
    expect(first.status).toBe(201)
    expect(await first.json()).toEqual({ ok: true, items: 1 })
    const cookie = first.headers.getSetCookie()[0]?.split(';')[0]
    expect(cookie).toMatch(/^cart=/)

    const second = await post(cookie)
    expect(await second.json()).toEqual({ ok: true, items: 2 })
    expect((await get('/cart', { method: 'POST', body: 'not json' })).status).toBe(400)
    expect((await get('/cart')).status).toBe(405)
  })

  it('delays by a fixed or a random time', async () => {
    const fixed = await elapsedMs('/delay?ms=200')
    expect(fixed).toBeGreaterThanOrEqual(190)
    expect(fixed).toBeLessThan(5_000)

    const random = await elapsedMs('/delay?min=50&max=100')
    expect(random).toBeGreaterThanOrEqual(45)
    expect(random).toBeLessThan(5_000)

    expect((await get('/delay?ms=-1')).status).toBe(400)
    expect((await get('/delay?min=100&max=50')).status).toBe(400)
    // An empty value is a mistake, not 0.
    const empty = await get('/delay?ms=')
    expect(empty.status).toBe(400)
    expect(await empty.text()).toBe("ms must be an integer from 0 to 60000, got ''")
  })

  it('answers the status asked for, clamped to 200–599', async () => {
    expect((await get('/status/503')).status).toBe(503)
    expect((await get('/status/204')).status).toBe(204)
    const teapot = await get('/status/418?body=short%20and%20stout')
    expect(teapot.status).toBe(418)
    expect(await teapot.text()).toBe('short and stout')
    expect((await get('/status/100')).status).toBe(200)
    expect((await get('/status/999')).status).toBe(599)
    expect((await get('/status/abc')).status).toBe(400)
  })

  it('sends exactly n bytes', async () => {
    for (const n of [0, 1, 100_000]) {
      const res = await get(`/bytes/${n}`)
      expect(res.headers.get('content-length')).toBe(String(n))
      expect((await res.arrayBuffer()).byteLength).toBe(n)
    }
    expect((await get(`/bytes/${60 * 1024 * 1024}`)).status).toBe(400)
  })

  it('builds a JSON document of the asked size', async () => {
    const body = (await (await get('/json?size=25')).json()) as { items: unknown[] }
    expect(body.items).toHaveLength(25)
    expect(((await (await get('/json')).json()) as { items: unknown[] }).items).toHaveLength(10)
  })

  it('echoes method, path, query, headers and body', async () => {
    const res = await get('/echo?a=1&b=two', { method: 'PUT', headers: { 'x-test': 'yes' }, body: 'hello' })
    expect(await res.json()).toMatchObject({
      method: 'PUT',
      path: '/echo',
      query: { a: '1', b: 'two' },
      headers: { 'x-test': 'yes' },
      body: 'hello',
    })
  })

  it('sets a cookie and reports the cookies it receives', async () => {
    const set = await get('/set-cookie?name=flavour&value=oat%20meal')
    expect(set.headers.getSetCookie()).toEqual(['flavour=oat%20meal; Path=/'])

    const res = await get('/cookies', { headers: { cookie: 'flavour=oat%20meal; size=2' } })
    expect(await res.json()).toEqual({ cookies: { flavour: 'oat meal', size: '2' } })
    expect((await get('/set-cookie?name=bad%20name')).status).toBe(400)
  })

  it('stalls its whole event loop on POST /stall, not only the request', async () => {
    // The server runs in this process, so its busy wait shows up as this process's event-loop delay.
    const loop = monitorEventLoopDelay({ resolution: 10 })
    loop.enable()
    // It measures from its previous sample, so it needs one before the stall and one after.
    await new Promise((resolve) => setTimeout(resolve, 30))
    const started = performance.now()
    const res = await get('/stall?ms=300', { method: 'POST' })
    const elapsed = performance.now() - started
    await new Promise((resolve) => setTimeout(resolve, 50))
    loop.disable()
    expect(res.status).toBe(200)
    expect(await res.text()).toBe('stalled 300 ms')
    expect(elapsed).toBeGreaterThanOrEqual(295)
    expect(loop.max / 1e6).toBeGreaterThanOrEqual(250)

    expect((await get('/stall?ms=10001', { method: 'POST' })).status).toBe(400)
    expect((await get('/stall?ms=-1', { method: 'POST' })).status).toBe(400)
    const get405 = await get('/stall?ms=0')
    expect(get405.status).toBe(405)
    expect(get405.headers.get('allow')).toBe('POST')
  })

  it('resets the connection on /reset', async () => {
    await expect(get('/reset')).rejects.toThrow(TypeError)
  })

  it('never answers /hang', async () => {
    await expect(get('/hang', { signal: AbortSignal.timeout(300) })).rejects.toMatchObject({ name: 'TimeoutError' })
  })

  it('resets after the headers and part of the body on /fault/reset-after-headers', async () => {
    const { text, error } = await raw('/fault/reset-after-headers?sent=100')
    const { head, body } = parts(text)
    expect(head).toMatch(/^HTTP\/1\.1 200 OK\r\n/)
    expect(head).toContain('content-length: 1024')
    expect(body).toHaveLength(100)
    expect(error).toBe('ECONNRESET')
  })

  it('closes normally after the headers and part of the body on /fault/close-after-headers', async () => {
    const { text, error } = await raw('/fault/close-after-headers?sent=10')
    expect(parts(text).head).toContain('content-length: 1024')
    expect(parts(text).body).toHaveLength(10)
    expect(error).toBeUndefined()
    expect(parts((await raw('/fault/close-after-headers?sent=0')).text).body).toBe('')
  })

  it('sends the headers and part of the body, then nothing, on /fault/hang-after-headers', async () => {
    // The raw client gives up after 300 ms of silence; the server would wait for ever.
    const { text, ms } = await raw('/fault/hang-after-headers', { idleMs: 300 })
    expect(parts(text).head).toContain('content-length: 1024')
    expect(parts(text).body).toHaveLength(512)
    expect(ms).toBeGreaterThanOrEqual(290)
  })

  it('drips a body, one chunk every so often, on /fault/drip', async () => {
    const start = performance.now()
    const res = await get('/fault/drip?chunks=4&every=100&size=8')
    expect(res.headers.get('content-length')).toBe('32')
    expect((await res.arrayBuffer()).byteLength).toBe(32)
    // Three gaps of 100 ms between four chunks.
    expect(performance.now() - start).toBeGreaterThanOrEqual(290)
    expect((await (await get('/fault/drip')).arrayBuffer()).byteLength).toBe(160)
    expect((await get('/fault/drip?chunks=1001')).status).toBe(400)
    expect((await get(`/fault/drip?size=${64 * 1024 + 1}`)).status).toBe(400)
  })

  it('sends a malformed status line on /fault/malformed-status', async () => {
    expect(await raw('/fault/malformed-status')).toMatchObject({ text: 'HTTP/1.1 2OO OK\r\ncontent-length: 2\r\n\r\nok', error: undefined })
  })

  it('sends a 1xx interim response before the final 200 on /fault/informational', async () => {
    const early = (await raw('/fault/informational')).text
    expect(early).toMatch(/^HTTP\/1\.1 103 Early Hints\r\nLink: <\/products>; rel=preload; as=fetch\r\n\r\nHTTP\/1\.1 200 OK\r\n/)
    expect(early.endsWith('\r\n\r\nok')).toBe(true)
    expect((await raw('/fault/informational?code=100')).text).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK\r\n/)
    expect((await raw('/fault/informational?code=102')).text).toMatch(/^HTTP\/1\.1 102 Processing\r\n\r\nHTTP\/1\.1 200 OK\r\n/)
    // fetch skips the interim response, as a client should.
    const res = await get('/fault/informational')
    expect([res.status, await res.text()]).toEqual([200, 'ok'])
    expect((await get('/fault/informational?code=101')).status).toBe(400)
  })

  it('checks the parameters and the method of the fault routes', async () => {
    expect((await get('/fault/reset-after-headers?sent=1024')).status).toBe(400)
    expect((await get('/fault/close-after-headers?sent=-1')).status).toBe(400)
    const post = await get('/fault/drip', { method: 'POST' })
    expect([post.status, post.headers.get('allow')]).toEqual([405, 'GET, HEAD'])
    expect((await get('/fault/nothing-like-this')).status).toBe(404)
    expect((await get('/fault')).status).toBe(404)
  })

  it('answers 404 for unknown paths', async () => {
    expect((await get('/nowhere')).status).toBe(404)
    expect((await get('/products/1/extra')).status).toBe(404)
  })
})

describe('target server address', () => {
  it.each(['127.0.0.1', '127.0.0.2', '::1', 'localhost'])('listens on the loopback address %s', async (host) => {
    const server = await startTargetServer({ host })
    try {
      expect(server.url).toBe(`http://${host.includes(':') ? `[${host}]` : host}:${server.port}`)
      expect((await fetch(`${server.url}/health`)).status).toBe(200)
    } finally {
      await server.close()
    }
  })

  it.each(['0.0.0.0', '::', '192.168.1.10', '10.0.0.1', 'example.com', ''])('refuses to listen on %j, naming 127.0.0.1 instead', async (host) => {
    const refused = startTargetServer({ host })
    await expect(refused).rejects.toThrow(`The target server listens on loopback only, got host '${host}'. Use '127.0.0.1'`)
    await expect(refused).rejects.toMatchObject({ code: 'CHAPERON_INVALID_OPTION' })
  })

  it('knows loopback in all its spellings', () => {
    expect(['127.0.0.1', '127.255.255.254', '::1', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', 'LOCALHOST'].filter(isLoopback)).toHaveLength(6)
    expect(['128.0.0.1', '::2', '::', '0.0.0.0', 'localhost.example.com', '127.0.0.1.nip.io', '[::1]'].filter(isLoopback)).toEqual([])
  })

  it('refuses a non-loopback HOST when run on its own, with the same message and exit code 1', async () => {
    const script = new URL('../../fixtures/servers/http.ts', import.meta.url)
    const child = spawn(process.execPath, [fileURLToPath(script)], { env: { ...process.env, PORT: '0', HOST: '0.0.0.0' }, stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => (stderr += String(chunk)))
    const [code] = await once(child, 'exit')
    expect(code).toBe(1)
    expect(stderr).toContain("The target server listens on loopback only, got host '0.0.0.0'. Use '127.0.0.1'")
  })
})

describe('target server close()', () => {
  it('returns while requests hang, destroying their sockets', async () => {
    const server = await startTargetServer()
    const hungFetch = fetch(`${server.url}/hang`).then(
      () => 'answered',
      () => 'failed',
    )
    // A raw socket that has been answered once and then sent a hanging request,
    // so the server has certainly seen the connection before close() runs.
    const socket = connect(server.port, '127.0.0.1')
    // Destroying a socket can reach the client as a reset; only its closing matters here.
    socket.on('error', () => {})
    socket.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n')
    await once(socket, 'data')
    socket.write('GET /hang HTTP/1.1\r\nHost: x\r\n\r\n')
    const socketClosed = new Promise((resolve) => socket.on('close', resolve))

    const start = performance.now()
    await server.close()
    expect(performance.now() - start).toBeLessThan(2_000)
    await socketClosed
    expect(await hungFetch).toBe('failed')
  })
})
