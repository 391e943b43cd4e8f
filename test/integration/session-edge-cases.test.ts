// Edge cases of sessions, child tasks and WebSockets found in review: leaks, halts that must not
// stall, tags that must stay put, and input that must be a coded misuse rather than a crash.
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { describe, expect, it, vi } from 'vitest'
import type { LoadTestOptions } from '../../src/runtime/options.ts'
import { resolveLoadTestOptions } from '../../src/runtime/resolve-options.ts'
import { runLoadTest } from '../../src/runtime/run.ts'
import { scenario } from '../../src/runtime/scenario.ts'
import type { Session } from '../../src/runtime/session.ts'
import { once, series, total, useTarget } from '../support/results.ts'

const target = useTarget()
const run = target.run.bind(target)
const runRaw = (options: Omit<LoadTestOptions, 'baseUrl'>) => runLoadTest('t', resolveLoadTestOptions('t', { baseUrl: target.url, ...options }))

function forceGc(): () => void {
  setFlagsFromString('--expose-gc')
  return runInNewContext('gc') as () => void
}

describe('session edge cases', () => {
  // Node keeps an AbortSignal.any() with an abort listener alive as long as one of its sources
  // lives, and the scenario's stop signal lives for the whole run: a WsClient must drop its listener
  // when its session ends, or every child that touched child.ws stays in memory until the end.
  it('a child task that used s.ws can be garbage-collected once it ended, while the run goes on', async () => {
    const gc = forceGc()
    const clients: WeakRef<object>[] = []
    let alive = -1
    await run({
      scenarios: once(async (s) => {
        for (let i = 0; i < 20; i++) {
          s.async('ws-user', async (child) => {
            const ws = await child.ws.connect('/ws/echo')
            clients.push(new WeakRef(child.ws))
            await ws.close()
          })
        }
        await s.awaitAll('ws-user')
        // Still inside the run: the children have ended and nothing of ours refers to them.
        for (let i = 0; i < 5; i++) {
          await new Promise((resolve) => setTimeout(resolve, 20))
          gc()
        }
        alive = clients.filter((r) => r.deref() !== undefined).length
      }),
    })
    expect(clients).toHaveLength(20)
    expect(alive).toBe(0)
  })

  // A nested s.run() shares the outer session's WsClient; each connection takes the scenario tag of
  // the session that opened it, not of whichever touched s.ws first.
  it('WebSocket metrics of the outer session keep its own scenario tag after a nested run used s.ws', async () => {
    const sub = scenario('sub', async (n) => {
      const ws = await n.ws.connect('/ws/echo', { name: 'inner' })
      await ws.close()
    })
    const result = await run({
      scenarios: once(async (s) => {
        await s.run(sub)
        const ws = await s.ws.connect('/ws/echo', { name: 'outer' })
        await ws.close()
      }),
    })
    expect(series(result, 'ws_sessions', { name: 'inner' })[0]?.tags.scenario).toBe('sub')
    expect(series(result, 'ws_sessions', { name: 'outer' })[0]?.tags.scenario).toBe('main')
  })

  // An abort halts child tasks, including one waiting on an HTTP request, so the aborted iteration
  // neither stalls for the 10 s await default nor records a TASK_TIMEOUT.
  it('s.abort() with a child in a slow request records no error and does not stall 10 s', async () => {
    const started = performance.now()
    const result = await run({
      scenarios: once(async (s) => {
        s.async('slow', (child) => child.get('/delay', { query: { ms: 10_500 } }))
        await s.delay(50)
        s.abort('enough')
      }),
    })
    const elapsed = performance.now() - started
    expect(total(result, 'session_aborts')).toBe(1)
    expect(result.errors.map((e) => e.code)).toEqual([])
    expect(elapsed).toBeLessThan(5_000)
  }, 30_000)

  // Tasks forked by a nested init or teardown end with the nested run, not after the load test.
  it('child tasks forked in a nested teardown are awaited before the run ends', async () => {
    const sub = scenario({
      name: 'sub',
      run: () => {},
      teardown: (n) => {
        n.async('late', async (child) => {
          await child.delay(200)
          await child.get('/health', { name: 'late request' })
        })
      },
    })
    const result = await run({ scenarios: once((s) => s.run(sub).then(() => undefined)) })
    expect(total(result, 'http_reqs', { name: 'late request' })).toBe(1)
  })

  // A body JSON cannot hold (a BigInt, a cycle) is a bug in the test: a coded misuse, not a TypeError
  // counted as an ordinary error.
  it('a json body that cannot be serialised is a ChaperonError (misuse), not a TypeError', async () => {
    const { result, misuse } = await runRaw({
      scenarios: once(async (s) => {
        await s.post('/cart', { json: { id: 1n } })
      }),
    })
    expect(result.errors.map((e) => e.code)).not.toContain('TypeError')
    expect(misuse?.code).toBe('CHAPERON_INVALID_OPTION')
  })

  it('ws.send({ json }) that cannot be serialised is a ChaperonError (misuse), not a TypeError', async () => {
    const { result, misuse } = await runRaw({
      scenarios: once(async (s) => {
        const ws = await s.ws.connect('/ws/echo')
        try {
          ws.send({ json: { id: 1n } })
        } finally {
          await ws.close()
        }
      }),
    })
    expect(result.errors.map((e) => e.code)).not.toContain('TypeError')
    expect(misuse?.code).toBe('CHAPERON_INVALID_OPTION')
  })

  // Node fires a timer above 2^31-1 ms (~24.8 days) at once; such waits are capped instead.
  it('awaitSignal with a timeout above 24.8 days waits rather than timing out at once', async () => {
    let got: unknown = 'not set'
    const result = await run({
      scenarios: once(async (s: Session) => {
        s.async('pinger', async (child) => {
          await child.delay(100)
          child.signalParent('ping')
        })
        got = await s.awaitSignal('ping', { timeout: '600h' })
      }),
    })
    expect(got).toBe('ping')
    expect(result.errors.map((e) => e.code)).not.toContain('SIGNAL_TIMEOUT')
  })

  // Runtime timers come from node:timers, so a load file's vi.useFakeTimers() cannot freeze them.
  it('a ws.recv timeout fires under vi.useFakeTimers(), like every other runtime timer', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    try {
      const result = await run({
        scenarios: {
          main: {
            scenario: scenario('s', async (s) => {
              const ws = await s.ws.connect('/ws/echo')
              await ws.recv({ timeout: 100 })
              await ws.close()
            }),
            executor: 'per-vu-iterations',
            vus: 1,
            iterations: 1,
            maxDuration: '1s',
            gracefulStop: '200ms',
          },
        },
      })
      expect(result.errors.map((e) => e.code)).toContain('WS_RECV_TIMEOUT')
      expect(total(result, 'iterations')).toBe(1)
    } finally {
      vi.useRealTimers()
    }
  })

  // Catching SessionAborted does not undo an abort, in a child task as in a VU's session.
  it('a child task that catches its own abort() is still counted as aborted', async () => {
    let got: unknown = 'not set'
    const result = await run({
      scenarios: once(async (s) => {
        s.async('quitter', async (child) => {
          try {
            child.abort('done here')
          } catch {
            // swallowed, as a generic try/catch around several actions would
          }
          return 'finished'
        })
        got = await s.await('quitter')
      }),
    })
    expect(total(result, 'session_aborts')).toBe(1)
    expect(got).toBeUndefined()
  })
})

