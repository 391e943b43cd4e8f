import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
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
