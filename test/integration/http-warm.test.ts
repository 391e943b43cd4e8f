import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addPacer } from '../../src/runtime/executors/pacer.ts'
import { scenario } from '../../src/runtime/scenario.ts'
import { runResult, total } from '../support/results.ts'

// Counts connections, and how many were open when the first request arrived.
let connections = 0
let atFirstRequest: number | undefined
const server = createServer((_req, res) => {
  atFirstRequest ??= connections
  res.end('ok')
})
server.on('connection', () => connections++)
let url = ''
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

describe('warm connections', () => {
  it('opens preAllocatedVUs connections before an arrival-rate scenario starts, and the pool uses them', async () => {
    const ping = scenario('ping', async (s) => {
      await s.get('/')
    })
    const result = await runResult({
      baseUrl: url,
      scenarios: { open: { scenario: ping, executor: 'constant-arrival-rate', rate: 20, duration: '500ms', preAllocatedVUs: 4 } },
    })
    expect(total(result, 'http_reqs')).toBe(10)
    expect(total(result, 'http_req_failed', {}, 'passes')).toBe(0)
    expect(atFirstRequest).toBe(4)
    // A request every 50 ms needs one connection at a time: the warm ones served them all.
    expect(connections).toBe(4)
  })
})

describe('arrival slots between timers', () => {
  it('lets due arrival slots start as the client writes each request and as each response ends', async () => {
    let asked = 0
    const remove = addPacer({
      due: () => {
        asked++
        return false
      },
      catchUp: () => {},
    })
    const twice = scenario('twice', async (s) => {
      await s.get('/')
      await s.get('/')
    })
    try {
      await runResult({ baseUrl: url, scenarios: { one: { scenario: twice, executor: 'shared-iterations', vus: 1, iterations: 1 } } })
    } finally {
      remove()
    }
    expect(asked).toBe(4)
  })
})
