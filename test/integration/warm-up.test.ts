import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { scenario } from '../../src/runtime/scenario.ts'
import { warmUpOnce } from '../../src/runtime/warm-up.ts'
import { runResult, total } from '../support/results.ts'

// The module keeps whether this thread was warmed, so the tests run in this order, in this file only.

let targetRequests = 0
const target = createServer((_req, res) => {
  targetRequests++
  res.end('ok')
})
let url = ''
beforeAll(async () => {
  await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(target.address() as AddressInfo).port}`
})
afterAll(() => new Promise<void>((resolve) => target.close(() => resolve())))

/** The origins of the requests undici creates while `run` runs. */
async function originsDuring(run: () => Promise<unknown>): Promise<string[]> {
  const origins: string[] = []
  const onCreate = (message: unknown): void => {
    origins.push(String((message as { request: { origin: string } }).request.origin))
  }
  subscribe('undici:request:create', onCreate)
  try {
    await run()
  } finally {
    unsubscribe('undici:request:create', onCreate)
  }
  return origins
}

const ping = scenario('ping', async (s) => {
  await s.get('/')
})

describe('the generator warm-up', () => {
  it('is skipped with CHAPERON_WARM_UP=0 or false', async () => {
    expect(await originsDuring(() => warmUpOnce({ CHAPERON_WARM_UP: '0' }))).toEqual([])
    expect(await originsDuring(() => warmUpOnce({ CHAPERON_WARM_UP: 'false' }))).toEqual([])
  })

  it('does not run for closed models', async () => {
    const origins = await originsDuring(() => runResult({ baseUrl: url, scenarios: { closed: { scenario: ping, executor: 'shared-iterations', vus: 2, iterations: 4 } } }))
    expect(origins).toEqual(Array(4).fill(url))
    targetRequests = 0
  })

  it('runs once per thread before the first arrival-rate scenario, against a sink of its own, never the target', async () => {
    const origins = await originsDuring(() =>
      runResult({ baseUrl: url, scenarios: { open: { scenario: ping, executor: 'constant-arrival-rate', rate: 20, duration: '500ms', preAllocatedVUs: 2 } } }),
    )
    const sinks = [...new Set(origins.filter((o) => o !== url))]
    expect(sinks).toHaveLength(1)
    expect(sinks[0]).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    // 2,000/s for 0.3 s, give or take the slots a busy machine drops; all before the run's first request.
    const firstToTarget = origins.indexOf(url)
    expect(firstToTarget).toBeGreaterThan(100)
    expect(origins.slice(0, firstToTarget).every((o) => o === sinks[0])).toBe(true)
    expect(origins.slice(firstToTarget)).toEqual(Array(10).fill(url))
    expect(targetRequests).toBe(10)

    // Warm now: a second run and a direct call send nothing but the run's own requests.
    const again = await originsDuring(async () => {
      await warmUpOnce()
      const result = await runResult({ baseUrl: url, scenarios: { open: { scenario: ping, executor: 'constant-arrival-rate', rate: 20, duration: '500ms', preAllocatedVUs: 2 } } })
      expect(total(result, 'http_reqs')).toBe(10)
    })
    expect(again).toEqual(Array(10).fill(url))
  })
})
