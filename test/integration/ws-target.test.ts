// The target server's WebSocket routes, seen by a bare `ws` client.
import { once } from 'node:events'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RawData, WebSocket } from 'ws'
import { startTargetServer, type TargetServer } from '../../fixtures/servers/http.ts'

let target: TargetServer

beforeAll(async () => {
  target = await startTargetServer()
})

afterAll(async () => {
  await target.close()
})

async function open(path: string): Promise<WebSocket> {
  const ws = new WebSocket(`${target.url.replace('http:', 'ws:')}${path}`)
  await once(ws, 'open')
  return ws
}

function next(ws: WebSocket): Promise<{ data: RawData; isBinary: boolean }> {
  return new Promise((resolve) => ws.once('message', (data: RawData, isBinary: boolean) => resolve({ data, isBinary })))
}

/** The HTTP status an upgrade of `path` is answered with. */
async function upgradeStatus(path: string): Promise<number> {
  const ws = new WebSocket(`${target.url.replace('http:', 'ws:')}${path}`)
  ws.on('error', () => {})
  const [, res] = (await once(ws, 'unexpected-response')) as [unknown, { statusCode: number; resume(): void }]
  res.resume()
  ws.terminate()
  return res.statusCode
}

describe('target server WebSocket routes', () => {
  it('echoes text as text and binary as binary', async () => {
    const ws = await open('/ws/echo')
    let reply = next(ws)
    ws.send('hello')
    expect(await reply).toEqual({ data: Buffer.from('hello'), isBinary: false })
    reply = next(ws)
    ws.send(Buffer.from([0, 255]))
    expect(await reply).toEqual({ data: Buffer.from([0, 255]), isBinary: true })
    ws.close()
  })

  it('answers the upgrade of an unknown path with 404 and a bad channel with 400', async () => {
    expect(await upgradeStatus('/ws/unknown')).toBe(404)
    expect(await upgradeStatus('/products')).toBe(404)
    expect(await upgradeStatus(`/ws/broadcast?channel=${'x'.repeat(201)}`)).toBe(400)
  })

  it('publishes POST /broadcast/:channel to the channel’s clients only', async () => {
    const publish = (channel: string, body: string) => fetch(`${target.url}/broadcast/${channel}`, { method: 'POST', body })
    expect(await (await publish('empty', 'x')).json()).toEqual({ delivered: 0 })
    expect((await fetch(`${target.url}/broadcast/empty`)).status).toBe(405)
    const a = await open('/ws/broadcast?channel=a%20b')
    const b = await open('/ws/broadcast')
    const got = next(a)
    expect(await (await publish('a%20b', 'to a')).json()).toEqual({ delivered: 1 })
    expect(String((await got).data)).toBe('to a')
    const fromB = next(b)
    b.send('to default')
    expect(String((await fromB).data)).toBe('to default')
    a.close()
    b.close()
  })

  it('closes its WebSocket clients when the server closes', async () => {
    const own = await startTargetServer()
    const ws = new WebSocket(`${own.url.replace('http:', 'ws:')}/ws/echo`)
    await once(ws, 'open')
    const closed = once(ws, 'close')
    await own.close()
    const [code] = (await closed) as [number]
    expect([1001, 1006]).toContain(code)
  })
})
