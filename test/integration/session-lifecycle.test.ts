import { performance } from 'node:perf_hooks'
import { describe, expect, it, vi } from 'vitest'
import { MissingConfigError } from '../../src/core/errors.ts'
import { resolveLoadTestOptions } from '../../src/runtime/resolve-options.ts'
import { runLoadTest } from '../../src/runtime/run.ts'
import { scenario, sequence } from '../../src/runtime/scenario.ts'
import { Counter, Gauge, Rate, Trend } from '../../src/runtime/metrics/user-metrics.ts'
import { once, series, total, useTarget } from '../support/results.ts'

const target = useTarget()
const run = target.run.bind(target)

describe('scenario lifecycle', () => {
  it('runs init once per session, run per iteration and teardown once, keeping teardown metrics', async () => {
    const calls: string[] = []
    const shop = scenario({
      name: 'shop',
      init: async (s) => {
        calls.push(`init ${s.vu}`)
        s.assign({ visits: 0 })
      },
      run: async (s) => {
        s.assign({ visits: (s.assigns.visits as number) + 1 })
        calls.push(`run ${s.vu}.${s.iteration}`)
      },
      teardown: async (s) => {
        calls.push(`teardown ${s.vu} after ${s.assigns.visits as number}`)
        await s.get('/health', { name: 'logout' })
      },
    })
    const result = await run({ scenarios: { main: { scenario: shop, executor: 'per-vu-iterations', vus: 2, iterations: 3 } } })
    for (const vu of [1, 2]) {
      expect(calls.filter((c) => c.startsWith(`init ${vu}`))).toHaveLength(1)
      expect(calls.filter((c) => c.startsWith(`run ${vu}.`))).toEqual([`run ${vu}.0`, `run ${vu}.1`, `run ${vu}.2`])
      expect(calls.filter((c) => c.startsWith(`teardown ${vu}`))).toEqual([`teardown ${vu} after 3`])
      expect(calls.indexOf(`init ${vu}`)).toBeLessThan(calls.indexOf(`run ${vu}.0`))
      expect(calls.indexOf(`teardown ${vu} after 3`)).toBeGreaterThan(calls.indexOf(`run ${vu}.2`))
    }
    expect(total(result, 'http_reqs', { name: 'logout', scenario: 'main' })).toBe(2)
    expect(total(result, 'iterations')).toBe(6)
  })

  it('records an init that throws and runs no iteration of that session', async () => {
    let runs = 0
    let inits = 0
    const broken = scenario({
      name: 'broken',
      init: () => {
        if (++inits === 1) throw new Error('no login')
      },
      run: () => {
        runs++
      },
    })
    const result = await run({ scenarios: { main: { scenario: broken, executor: 'per-vu-iterations', vus: 1, iterations: 3 } } })
    // The first session fails in init; the VU's next iteration starts a new session, which runs.
    expect(inits).toBe(2)
    expect(runs).toBe(2)
    expect(total(result, 'iterations')).toBe(2)
    expect(total(result, 'errors', { action: 'init', error_code: 'Error' })).toBe(1)
  })

  it('deep-merges config: load test, then scenario, then scenarios entry; frozen; require() reads paths', async () => {
    let seen: unknown
    let frozen = false
    const sc = scenario({
      name: 'cfg',
      config: { db: { host: 'scenario', port: 1 }, page: 1 },
      run: (s) => {
        seen = { ...s.config, url: `${s.require<string>('db.host')}:${s.require<number>('db.port')}` }
        try {
          ;(s.config as Record<string, unknown>).page = 2
        } catch {
          frozen = true
        }
      },
    })
    await run({
      config: { db: { host: 'suite', user: 'u' }, page: 0, region: 'eu' },
      scenarios: { main: { scenario: sc, executor: 'per-vu-iterations', config: { db: { port: 2 } } } },
    })
    expect(seen).toEqual({ db: { host: 'scenario', port: 2, user: 'u' }, page: 1, region: 'eu', url: 'scenario:2' })
    expect(frozen).toBe(true)
  })

  it('require() throws MissingConfigError naming the key and the scenario, which fails the run as a misuse', async () => {
    const sc = scenario('needs-db', (s) => {
      s.require('db.url')
    })
    const { result, misuse } = await runLoadTest('t', resolveLoadTestOptions('t', { baseUrl: target.url, scenarios: { main: { scenario: sc, executor: 'per-vu-iterations' } } }))
    expect(misuse).toBeInstanceOf(MissingConfigError)
    expect(misuse).toMatchObject({ code: 'CHAPERON_MISSING_CONFIG', key: 'db.url', scenario: 'main' })
    expect(misuse?.message).toContain('"db.url"')
    expect(misuse?.message).toContain('{ db: { url: … } }')
    expect(result.status).toBe('failed')
  })
})

describe('session helpers', () => {
  it('delays by a number, a duration string and a random range', async () => {
    let elapsed = 0
    await run({
      scenarios: once(async (s) => {
        const t0 = performance.now()
        await s.delay(30)
        await s.delay('30ms')
        await s.delay({ min: 30, max: '40ms' })
        elapsed = performance.now() - t0
      }),
    })
    expect(elapsed).toBeGreaterThanOrEqual(85)
    expect(elapsed).toBeLessThan(2000)
  })

  it('loops until the duration is up, checking before each turn', async () => {
    let turns = 0
    let elapsed = 0
    await run({
      scenarios: once(async (s) => {
        const t0 = performance.now()
        turns = await s.loop('200ms', async (turn) => {
          expect(turn).toBe(turns++)
          await s.get('/delay?ms=20')
        })
        elapsed = performance.now() - t0
      }),
    })
    expect(elapsed).toBeGreaterThanOrEqual(200)
    expect(turns).toBeGreaterThanOrEqual(3)
    expect(turns).toBeLessThanOrEqual(11)
  })

  it('repeats n times in order, traced as call_duration{name}', async () => {
    const order: number[] = []
    const result = await run({
      scenarios: once(async (s) => {
        await s.repeat(4, async (turn) => {
          order.push(turn)
          await s.get('/')
        }, { traced: 'poll' })
        await s.repeat(2, () => order.push(-1))
      }),
    })
    expect(order).toEqual([0, 1, 2, 3, -1, -1])
    expect(total(result, 'call_duration', { name: 'poll', scenario: 'main' })).toBe(4)
    expect(total(result, 'http_reqs')).toBe(4)
  })

  it('times calls as call_duration and passes their result through', async () => {
    let value: unknown
    const result = await run({
      scenarios: once(async (s) => {
        value = await s.call('render', async () => {
          await s.delay(20)
          return 42
        })
        await s.call('fails', () => Promise.reject(new Error('nope'))).catch(() => {})
      }),
    })
    expect(value).toBe(42)
    const [render] = series(result, 'call_duration', { name: 'render' })
    expect(render?.type === 'trend' && render.trend.min).toBeGreaterThanOrEqual(19)
    expect(total(result, 'call_duration', { name: 'fails' })).toBe(1)
  })

  it('retries on a throw or a failed response, up to retries, then gives the last failure', async () => {
    let attempts = 0
    let lastStatus = 0
    let thrown: unknown
    const result = await run({
      scenarios: once(async (s) => {
        const value = await s.retryOnError(async () => {
          if (++attempts < 3) throw new Error('flaky')
          return 'done'
        }, { retries: 5, delay: 5 })
        expect(value).toBe('done')
        lastStatus = (await s.retryOnError(() => s.get('/status/503'), { retries: 2 })).status
        thrown = await s.retryOnError(() => Promise.reject(new Error('down')), { retries: 1 }).catch((e: unknown) => e)
      }),
    })
    expect(attempts).toBe(3)
    expect(lastStatus).toBe(503)
    expect(total(result, 'http_reqs', { status: '503' })).toBe(3)
    expect(thrown).toMatchObject({ message: 'down' })
  })

  it('abort() skips later actions and teardown, counts the abort, and gives the VU a new session', async () => {
    const inits: number[] = []
    const seen: unknown[] = []
    let teardowns = 0
    let later: unknown
    const quitter = scenario({
      name: 'quitter',
      init: (s) => {
        inits.push(s.iteration)
      },
      run: async (s) => {
        seen.push(s.assigns.mark)
        s.assign({ mark: s.iteration })
        await s.get('/')
        if (s.iteration === 1) {
          try {
            s.abort('out of stock')
          } catch {
            later = await s.get('/products').catch((e: unknown) => e)
          }
        }
      },
      teardown: () => {
        teardowns++
      },
    })
    const result = await run({ scenarios: { main: { scenario: quitter, executor: 'per-vu-iterations', iterations: 3 } } })
    expect(later).toMatchObject({ name: 'SessionAborted', message: 'session main#1 aborted: out of stock' })
    expect(total(result, 'http_reqs', { name: 'GET /products' })).toBe(0)
    expect(total(result, 'session_aborts', { scenario: 'main' })).toBe(1)
    expect(total(result, 'errors')).toBe(0)
    expect(inits).toEqual([0, 2])
    expect(seen).toEqual([undefined, 0, undefined])
    expect(teardowns).toBe(1)
    expect(total(result, 'iterations')).toBe(3)
  })

  it('counts a throwing scenario under error_code with its stack, once per distinct error, and carries on', async () => {
    const result = await run({
      scenarios: once(
        async (s) => {
          await s.get('/')
          if (s.iteration % 2 === 0) throw new TypeError('cart is undefined')
          if (s.iteration === 3) throw Object.assign(new Error('payment declined'), { code: 'E_PAYMENT' })
        },
        1,
        6,
      ),
    })
    expect(total(result, 'iterations')).toBe(6)
    expect(total(result, 'http_reqs')).toBe(6)
    expect(total(result, 'errors', { action: 'iteration', error_code: 'TypeError' })).toBe(3)
    expect(total(result, 'errors', { action: 'iteration', error_code: 'E_PAYMENT' })).toBe(1)
    expect(result.errors).toHaveLength(2)
    const typeError = result.errors.find((e) => e.code === 'TypeError')
    expect(typeError).toMatchObject({ scenario: 'main', action: 'iteration', message: 'TypeError: cart is undefined', count: 3 })
    expect(typeError?.stack).toContain('session-lifecycle.test.ts')
  })

  it('records addMetric values and declared Trend, Counter, Rate and Gauge metrics, which thresholds can name', async () => {
    const cartSize = new Trend('test_cart_size')
    const renderTime = new Trend('test_render_time', true)
    const orders = new Counter('test_orders')
    const inStock = new Rate('test_in_stock')
    const queue = new Gauge('test_queue')
    const result = await run({
      thresholds: { test_cart_size: ['max<=4', 'avg>2.49', 'avg<2.51'], test_render_time: ['p(50)>=10'], test_orders: ['count==8'], test_in_stock: ['rate==0.5'], test_queue: ['value==3'] },
      scenarios: once(
        async (s) => {
          cartSize.add(s.iteration + 1, { shop: 'eu' })
          renderTime.add(10.5)
          orders.add(2)
          inStock.add(s.iteration % 2 === 0)
          queue.add(s.iteration)
          s.addMetric('test_cart_size', 2.5)
          s.addMetric('first_paint', 12.25)
        },
        1,
        4,
      ),
    })
    expect(result.thresholds.map((t) => [t.key, t.expression, t.ok])).toEqual([
      ['test_cart_size', 'max<=4', true],
      ['test_cart_size', 'avg>2.49', true],
      ['test_cart_size', 'avg<2.51', true],
      ['test_render_time', 'p(50)>=10', true],
      ['test_orders', 'count==8', true],
      ['test_in_stock', 'rate==0.5', true],
      ['test_queue', 'value==3', true],
    ])
    expect(total(result, 'test_cart_size', { shop: 'eu', scenario: 'main' })).toBe(4)
    const [paint] = series(result, 'first_paint')
    expect(paint).toMatchObject({ type: 'trend', tags: { scenario: 'main' }, trend: { count: 4, max: 12.25 } })
    expect(() => orders.add(1)).toThrow(expect.objectContaining({ code: 'CHAPERON_NO_SESSION' }))
    expect(() => new Counter('test_cart_size')).toThrow(expect.objectContaining({ code: 'CHAPERON_METRIC_CONFLICT' }))
    expect(() => new Trend('http_reqs')).toThrow(expect.objectContaining({ code: 'CHAPERON_METRIC_CONFLICT' }))
  })

  it('logs with the session prefix, quiet below warn unless the config or environment asks', async () => {
    const info = vi.spyOn(console, 'info').mockImplementation(() => {})
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    try {
      const talk = scenario('talk', (s) => {
        s.log.info('hello', 1)
        s.log.warn('careful')
      })
      await run({ scenarios: { main: { scenario: talk, executor: 'per-vu-iterations' } } })
      expect(info).not.toHaveBeenCalled()
      expect(warn).toHaveBeenCalledWith('main#1 main | careful')
      await run({ scenarios: { main: { scenario: talk, executor: 'per-vu-iterations', config: { logLevel: 'debug' } } } })
      expect(info).toHaveBeenCalledWith('main#1 main | hello 1')
      vi.stubEnv('CHAPERON_LOG_LEVEL', 'error')
      warn.mockClear()
      info.mockClear()
      await run({ scenarios: { main: { scenario: talk, executor: 'per-vu-iterations', config: { logLevel: 'debug' } } } })
      expect(info).not.toHaveBeenCalled()
      expect(warn).not.toHaveBeenCalled()
      vi.stubEnv('CHAPERON_LOG_LEVEL', 'loud')
      expect(() => resolveLoadTestOptions('t', { scenarios: { main: { scenario: talk, executor: 'per-vu-iterations' } } })).toThrow(/CHAPERON_LOG_LEVEL must be one of 'debug'/)
    } finally {
      vi.unstubAllEnvs()
      info.mockRestore()
      warn.mockRestore()
    }
  })
})

describe('composition', () => {
  it('runs a nested scenario with its own scenario tag, merged config, and returns its assigns', async () => {
    let nestedConfig: unknown
    let outer: unknown
    const login = scenario({
      name: 'login',
      config: { user: 'default', retries: 1 },
      run: async (s) => {
        nestedConfig = s.config
        await s.get('/', { name: 'login page' })
        s.assign({ token: `t-${s.require<string>('user')}` })
      },
    })
    const result = await run({
      config: { region: 'eu' },
      scenarios: once(async (s) => {
        const assigns = await s.run(login, { user: 'ada' })
        outer = { assigns, own: { ...s.assigns } }
        await s.get('/', { name: 'home' })
      }),
    })
    expect(nestedConfig).toEqual({ region: 'eu', user: 'ada', retries: 1 })
    expect(outer).toEqual({ assigns: { token: 't-ada' }, own: {} })
    expect(total(result, 'http_reqs', { name: 'login page', scenario: 'login' })).toBe(1)
    expect(total(result, 'http_reqs', { name: 'home', scenario: 'main' })).toBe(1)
  })

  it('sequence() passes each scenario its predecessors’ assigns as config', async () => {
    const seen: unknown[] = []
    const a = scenario('a', (s) => {
      seen.push({ ...s.config })
      s.assign({ user: 'ada' })
    })
    const b = scenario('b', (s) => {
      seen.push({ ...s.config })
      s.assign({ cart: [1, 2] })
    })
    const c = scenario('c', (s) => {
      seen.push({ ...s.config })
      s.assign({ paid: true })
    })
    let final: unknown
    await run({
      scenarios: once(async (s) => {
        await s.run(sequence('checkout', [a, b, c]))
        final = { ...s.assigns }
      }),
    })
    expect(seen).toEqual([{}, { user: 'ada' }, { user: 'ada', cart: [1, 2] }])
    expect(final).toEqual({})
  })
})
