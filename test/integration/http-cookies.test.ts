import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTargetServer } from '../../fixtures/servers/http.ts'
import type { LoadTestResult } from '../../src/core/result.ts'
import { SessionCookies } from '../../src/runtime/http/cookies.ts'
import type { LoadTestOptions } from '../../src/runtime/options.ts'
import type { Session } from '../../src/runtime/session.ts'
import { once, runResult, total } from '../support/results.ts'
import { type HttpsServer, startHttpsServer } from '../support/tls.ts'

let target: Awaited<ReturnType<typeof startTargetServer>>
let secure: HttpsServer
let localhost: string
beforeAll(async () => {
  target = await startTargetServer()
  localhost = `http://localhost:${target.port}`
  // Just enough of a site over TLS: /set sets the Set-Cookie given in ?c=, /cookies echoes the cookie header.
  secure = await startHttpsServer((req, res) => {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1')
    if (url.pathname === '/set') res.setHeader('set-cookie', url.searchParams.getAll('c'))
    res.writeHead(200, { 'content-type': 'text/plain' })
    res.end(req.headers.cookie ?? '')
  })
})
afterAll(async () => {
  await Promise.all([target.close(), secure.close()])
})

async function run(fn: (s: Session) => Promise<void>, options: Partial<LoadTestOptions> = {}, vus = 1, iterations = 1): Promise<LoadTestResult> {
  const result = await runResult({ baseUrl: target.url, scenarios: once(fn, vus, iterations), ...options })
  expect(result.errors).toEqual([])
  return result
}

async function cookiesAt(s: Session, url: string): Promise<Record<string, string>> {
  return (await s.get(url)).json<{ cookies: Record<string, string> }>().cookies
}

describe('SessionCookies', () => {
  it('makes no jar until a cookie arrives', () => {
    const jar = new SessionCookies()
    expect(jar.active).toBe(false)
    expect(jar.header('http://127.0.0.1/')).toBeUndefined()
    expect(jar.header('http://127.0.0.1/', 'mine=1')).toBe('mine=1')
    jar.store('http://127.0.0.1/', 'a=1; Path=/')
    expect(jar.active).toBe(true)
    expect(jar.header('http://127.0.0.1/x')).toBe('a=1')
    jar.clear()
    expect(jar.header('http://127.0.0.1/x')).toBeUndefined()
  })

  it('keeps and sends a Secure cookie over https only, except for loopback hosts, which count as secure', () => {
    const jar = new SessionCookies()
    jar.store('https://shop.example.com/', ['sid=1; Secure; Path=/', 'theme=dark; Path=/'])
    expect(jar.header('https://shop.example.com/')).toBe('sid=1; theme=dark')
    expect(jar.header('http://shop.example.com/')).toBe('theme=dark')
    jar.store('http://shop.example.com/', 'plain=1; Secure; Path=/')
    expect(jar.header('https://shop.example.com/')).toBe('sid=1; theme=dark')
    // tough-cookie follows the "potentially trustworthy origin" rule browsers use for localhost.
    jar.store('http://127.0.0.1/', 'local=1; Secure; Path=/')
    expect(jar.header('http://127.0.0.1/')).toBe('local=1')
    jar.store('http://localhost/', 'named=1; Secure; Path=/')
    expect(jar.header('http://localhost/')).toBe('named=1')
  })

  it('drops what a target may not set, without throwing', () => {
    const jar = new SessionCookies()
    jar.store('http://shop.example.com/', ['bad=1; Domain=example.org', 'tld=1; Domain=com', 'not a cookie', 'ok=1'])
    expect(jar.header('http://shop.example.com/')).toBe('ok=1')
    expect(jar.header('http://example.org/')).toBeUndefined()
  })

  it('puts the request’s own cookies first and does not repeat a name they set', () => {
    const jar = new SessionCookies()
    jar.store('http://h.test/', ['a=jar', 'b=jar'])
    expect(jar.header('http://h.test/', 'a=mine; c=3')).toBe('a=mine; c=3; b=jar')
  })
})

describe('the cookie jar of a session', () => {
  it('round-trips /set-cookie and /cookies, several cookies at once, and the cart cookie', async () => {
    const seen: unknown[] = []
    await run(async (s) => {
      await s.get('/set-cookie?name=flavour&value=oat%20meal')
      seen.push(await cookiesAt(s, '/cookies'))
      await s.get('/set-cookie?name=a&value=1&name=b&value=2')
      seen.push(await cookiesAt(s, '/cookies'))
      for (let i = 0; i < 3; i++) seen.push((await s.post('/cart', { json: { id: i }, expect: 201 })).json<{ items: number }>().items)
    })
    expect(seen).toEqual([{ flavour: 'oat meal' }, { flavour: 'oat meal', a: '1', b: '2' }, 1, 2, 3])
  })

  it('keeps a cookie to the host that set it (127.0.0.1 and localhost are different hosts)', async () => {
    const seen: unknown[] = []
    await run(async (s) => {
      await s.get('/set-cookie?name=ip&value=1')
      await s.get(`${localhost}/set-cookie?name=named&value=1`)
      // A Domain naming another host is refused, whoever asks.
      await s.get('/set-cookie?name=foreign&value=1&domain=localhost')
      seen.push(await cookiesAt(s, '/cookies'), await cookiesAt(s, `${localhost}/cookies`))
    })
    expect(seen).toEqual([{ ip: '1' }, { named: '1' }])
  })

  it('sends a cookie only under its Path', async () => {
    const seen: unknown[] = []
    await run(async (s) => {
      await s.get('/set-cookie?name=deep&value=1&path=/cookies/a')
      for (const path of ['/cookies/a', '/cookies/a/b', '/cookies', '/cookies/ab']) seen.push(await cookiesAt(s, path))
    })
    expect(seen).toEqual([{ deep: '1' }, { deep: '1' }, {}, {}])
  })

  it('deletes a cookie on Max-Age=0 or a past Expires, and forgets one whose Max-Age ran out', async () => {
    const seen: unknown[] = []
    await run(async (s) => {
      await s.get('/set-cookie?name=a&value=1&name=b&value=2&name=c&value=3')
      await s.get('/set-cookie?name=a&value=&maxAge=0')
      await s.get(`/set-cookie?name=b&value=&expires=${encodeURIComponent(new Date(86_400_000).toUTCString())}`)
      await s.get('/set-cookie?name=short&value=1&maxAge=1')
      seen.push(await cookiesAt(s, '/cookies'))
      await s.delay('1.5s')
      seen.push(await cookiesAt(s, '/cookies'))
    })
    expect(seen).toEqual([{ c: '3', short: '1' }, { c: '3' }])
  })

  it('sends Secure cookies over https, and to loopback over http too', async () => {
    const seen: string[] = []
    await run(
      async (s) => {
        await s.get(`${secure.url}/set?c=${encodeURIComponent('sid=s; Secure; Path=/')}&c=plain%3Dp%3B%20Path%3D%2F`)
        seen.push((await s.get(`${secure.url}/cookies`)).text())
        seen.push(Object.entries(await cookiesAt(s, '/cookies')).join(' '))
      },
      { http: { insecure: true } },
    )
    // Cookies ignore ports: the http target on the same host gets them, the Secure one included, because 127.0.0.1 is loopback.
    expect(seen).toEqual(['sid=s; plain=p', 'sid,s plain,p'])
  })

  it('merges the jar with a cookie header the request or the load test sets, their values winning', async () => {
    const seen: unknown[] = []
    await run(
      async (s) => {
        await s.get('/set-cookie?name=flavour&value=oat&name=size&value=2')
        seen.push((await s.get('/echo', { headers: { Cookie: 'flavour=mine; extra=1' } })).json<{ headers: { cookie: string } }>().headers.cookie)
        seen.push((await s.get('/echo')).json<{ headers: { cookie: string } }>().headers.cookie)
      },
      { http: { headers: { cookie: 'suite=1' } } },
    )
    expect(seen).toEqual(['flavour=mine; extra=1; size=2', 'suite=1; flavour=oat; size=2'])
  })

  it('counts the cookie header in data_sent', async () => {
    const result = await run(async (s) => {
      await s.get('/cookies', { name: 'before' })
      await s.get('/set-cookie?name=flavour&value=oat')
      await s.get('/cookies', { name: 'after' })
    })
    expect(total(result, 'data_sent', { name: 'after' }) - total(result, 'data_sent', { name: 'before' })).toBe('cookie: flavour=oat\r\n'.length)
  })

  it('carries cookies across the requests and iterations of one VU, never to another VU', async () => {
    const seen: string[] = []
    await run(
      async (s) => {
        const before = (await cookiesAt(s, '/cookies')).visit ?? 'none'
        seen.push(`vu${s.vu} iteration ${s.iteration} saw ${before}`)
        await s.get(`/set-cookie?name=visit&value=${s.vu}-${s.iteration}`)
      },
      {},
      2,
      3,
    )
    expect(seen.sort()).toEqual([
      'vu1 iteration 0 saw none',
      'vu1 iteration 1 saw 1-0',
      'vu1 iteration 2 saw 1-1',
      'vu2 iteration 0 saw none',
      'vu2 iteration 1 saw 2-0',
      'vu2 iteration 2 saw 2-1',
    ])
  })
})
