import { performance } from 'node:perf_hooks'
import { describe, expect, it } from 'vitest'
import { resolveLoadTestOptions } from '../../src/runtime/resolve-options.ts'
import { runLoadTest } from '../../src/runtime/run.ts'
import { scenario } from '../../src/runtime/scenario.ts'
import type { Session } from '../../src/runtime/session.ts'
import { once, total, useTarget } from '../support/results.ts'

const target = useTarget()
const run = target.run.bind(target)

describe('child tasks', () => {
  it('forks children with their own ids and the parent id, whose metrics count in the run', async () => {
    const ids: unknown[] = []
    let results: unknown
    const result = await run({
      config: { shop: 'eu' },
      scenarios: once(async (s) => {
        s.assign({ user: 'ada' })
        for (const n of [1, 2, 3]) {
          s.async('fetch', async (child) => {
            ids.push({ id: child.id, parent: child.parentId, vu: child.vu, config: child.config, user: child.assigns.user })
            await child.get(`/products/${n}`, { name: 'product' })
            return n * 10
          })
        }
        results = [await s.await('fetch'), ...(await s.awaitAll('fetch'))]
      }),
    })
    expect(results).toEqual([10, 20, 30])
    expect(ids).toEqual(
      [1, 2, 3].map((n) => ({ id: `main#1/fetch:${n}`, parent: 'main#1', vu: 1, config: { shop: 'eu' }, user: 'ada' })),
    )
    expect(total(result, 'http_reqs', { name: 'product', scenario: 'main' })).toBe(3)
  })

  it('shares the cookie jar between a session, its children and its nested runs', async () => {
    const seen: unknown[] = []
    await run({
      scenarios: once(async (s) => {
        await s.get('/set-cookie?name=parent&value=1')
        s.async('child', async (child) => {
          seen.push((await child.get('/cookies')).json())
          await child.get('/set-cookie?name=child&value=2')
        })
        await s.await('child')
        await s.run(
          scenario('nested', async (n) => {
            seen.push((await n.get('/cookies')).json())
          }),
        )
      }),
    })
    expect(seen).toEqual([{ cookies: { parent: '1' } }, { cookies: { parent: '1', child: '2' } }])
  })

  it('awaits children still running when run ends, inside the iteration', async () => {
    let childDone = 0
    const result = await run({
      scenarios: once(async (s) => {
        s.async('slow', async (child) => {
          await child.get('/delay?ms=150')
          childDone = performance.now()
        })
      }),
    })
    expect(childDone).toBeGreaterThan(0)
    expect(total(result, 'http_reqs')).toBe(1)
    const iteration = result.metrics.find((m) => m.metric === 'iteration_duration')
    expect(iteration?.type === 'trend' && iteration.trend.min).toBeGreaterThanOrEqual(140)
  })

  it('records a timed-out await as TASK_TIMEOUT, resolves undefined and cancels the child', async () => {
    let value: unknown = 'unset'
    let afterTimeout = false
    const result = await run({
      scenarios: once(async (s) => {
        s.async('stuck', async (child) => {
          await child.delay(400)
          afterTimeout = true
          await child.get('/never-sent')
        })
        value = await s.await('stuck', { timeout: '100ms' })
      }),
    })
    expect(value).toBeUndefined()
    expect(total(result, 'errors', { action: 'await', error_code: 'TASK_TIMEOUT' })).toBe(1)
    expect(result.errors).toContainEqual(expect.objectContaining({ action: 'await', code: 'TASK_TIMEOUT', message: 'task "stuck" did not finish within 100ms' }))
    expect(afterTimeout).toBe(false)
    expect(total(result, 'http_reqs')).toBe(0)
    expect(result.status).toBe('passed')
  })

  it('counts a child that throws under action async and resolves its await undefined', async () => {
    let value: unknown = 'unset'
    const result = await run({
      scenarios: once(async (s) => {
        s.async('broken', () => {
          throw new RangeError('bad page')
        })
        value = await s.await('broken')
      }),
    })
    expect(value).toBeUndefined()
    expect(total(result, 'errors', { action: 'async', error_code: 'RangeError' })).toBe(1)
  })

  it('fails the run when awaiting a task name that was never forked', async () => {
    const sc = scenario('s', async (s) => {
      await s.await('nothing')
    })
    const { misuse } = await runLoadTest('t', resolveLoadTestOptions('t', { baseUrl: target.url, scenarios: { main: { scenario: sc, executor: 'per-vu-iterations' } } }))
    expect(misuse).toMatchObject({ code: 'CHAPERON_UNKNOWN_TASK' })
  })

  it('spreads count children evenly over the interval without blocking the parent', async () => {
    const starts: number[] = []
    let returnedAfter = Number.POSITIVE_INFINITY
    let t0 = 0
    const result = await run({
      scenarios: once(async (s) => {
        t0 = performance.now()
        s.spread('wave', { count: 5, over: '500ms' }, async (child) => {
          starts.push(performance.now() - t0)
          await child.get('/')
        })
        returnedAfter = performance.now() - t0
        await s.awaitAll('wave')
      }),
    })
    expect(returnedAfter).toBeLessThan(50)
    expect(starts).toHaveLength(5)
    // Planned at 0, 100, 200, 300 and 400 ms; timers only fire late, and generously so on a busy machine.
    starts.forEach((at, i) => {
      expect(at).toBeGreaterThanOrEqual(i * 100 - 1)
      expect(at).toBeLessThan(i * 100 + 400)
    })
    expect(total(result, 'http_reqs')).toBe(5)
  })
})

describe('signals', () => {
  it('signals children by task name and the parent, keeping signals that arrive before the wait', async () => {
    const log: unknown[] = []
    const result = await run({
      scenarios: once(async (s) => {
        for (const n of [1, 2]) {
          s.async('listener', async (child: Session) => {
            child.signalParent({ ready: n })
            const value = await child.awaitSignal((v: unknown) => typeof v === 'string' && v.startsWith('go'))
            log.push(`${n} got ${String(value)}`)
          })
        }
        // Both ready signals, matched deeply, whichever order they come in.
        await s.awaitSignal({ ready: 1 })
        await s.awaitSignal({ ready: 2 })
        expect(s.signal('listener', 'ignored')).toBe(2)
        expect(s.signal('listener', 'go!')).toBe(2)
        await s.awaitAll('listener')
        expect(s.signal('listener', 'late')).toBe(0)
      }),
    })
    expect(log.sort()).toEqual(['1 got go!', '2 got go!'])
    expect(total(result, 'errors')).toBe(0)
  })

  it('records a signal wait that times out as SIGNAL_TIMEOUT and resolves undefined', async () => {
    let value: unknown = 'unset'
    const result = await run({
      scenarios: once(async (s) => {
        value = await s.awaitSignal('never', { timeout: 50 })
      }),
    })
    expect(value).toBeUndefined()
    expect(total(result, 'errors', { action: 'awaitSignal', error_code: 'SIGNAL_TIMEOUT' })).toBe(1)
  })

  it('rejects signalParent() outside a child task as a misuse', async () => {
    const sc = scenario('s', (s) => {
      s.signalParent('hi')
    })
    const { misuse } = await runLoadTest('t', resolveLoadTestOptions('t', { baseUrl: target.url, scenarios: { main: { scenario: sc, executor: 'per-vu-iterations' } } }))
    expect(misuse).toMatchObject({ code: 'CHAPERON_NO_PARENT' })
  })
})
