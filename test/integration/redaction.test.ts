import { describe, expect, it, vi } from 'vitest'
import type { IntervalSample } from '../../src/core/timeline.ts'
import { resolveLoadTestOptions } from '../../src/runtime/resolve-options.ts'
import { runLoadTest } from '../../src/runtime/run.ts'
import { scenario } from '../../src/runtime/scenario.ts'
import { useTarget } from '../support/results.ts'

const target = useTarget()
const TOKEN = 'tok_live_4f9a2c'

describe('secrets', () => {
  it('are taken out of s.log lines, recorded errors, misuse errors, tags and the per-second samples streamed to live reporters', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    try {
      const samples: IntervalSample[] = []
      const leaky = scenario('leaky', async (s) => {
        const echo = await s.get('/echo', { name: `GET /echo ${TOKEN}`, headers: { 'x-api-key': 'k_1234567' } })
        s.log.warn(echo.json())
        if (s.iteration === 0) throw new Error(`refused: ${echo.text()}`)
        await s.get('/echo', { timeout: TOKEN as never })
      })
      const options = resolveLoadTestOptions('t', {
        baseUrl: target.url,
        http: { headers: { authorization: `Bearer ${TOKEN}` } },
        redact: ['X-Api-Key'],
        scenarios: { main: { scenario: leaky, executor: 'per-vu-iterations', iterations: 2 } },
      })
      const { result, misuse } = await runLoadTest('t', options, undefined, { second: (_, s) => samples.push(...s) })

      const logged = warn.mock.calls.map((args) => args.join(' ')).join('\n')
      expect(logged).toContain("authorization: '[REDACTED]'")
      expect(logged).toContain("'x-api-key': '[REDACTED]'")
      expect(result.errors.map((e) => e.message).join('\n')).toContain('"authorization":"[REDACTED]"')
      expect(misuse?.code).toBe('CHAPERON_INVALID_DURATION')
      expect(misuse?.message).toContain('[REDACTED]')
      for (const text of [logged, JSON.stringify(result), JSON.stringify(samples), misuse!.message, misuse!.stack!]) {
        expect(text).not.toContain(TOKEN)
        expect(text).not.toContain('k_1234567')
      }
      expect(samples.some((s) => s.tags['name'] === 'GET /echo [REDACTED]')).toBe(true)
    } finally {
      warn.mockRestore()
    }
  })

  it('are named in redact as header, parameter or key names', () => {
    const options = (redact: unknown) => ({ redact, scenarios: { main: { scenario: scenario('s', () => {}), executor: 'per-vu-iterations' } } }) as never
    expect(() => resolveLoadTestOptions('t', options('password'))).toThrow(expect.objectContaining({ code: 'CHAPERON_INVALID_OPTION', message: expect.stringContaining("redact must be an array of header, parameter or config key names such as ['x-api-key', 'password']") }))
    expect(() => resolveLoadTestOptions('t', options(['a b']))).toThrow(expect.objectContaining({ code: 'CHAPERON_INVALID_OPTION' }))
    expect(resolveLoadTestOptions('t', options(['X-Api-Key'])).redact.keys).toEqual(['x-api-key'])
    const badUrl = { baseUrl: 'ftp://alice:hunter2-secret@host', scenarios: { main: { scenario: scenario('s', () => {}), executor: 'per-vu-iterations' } } } as never
    expect(() => resolveLoadTestOptions('t', badUrl)).toThrow('got "ftp://alice:[REDACTED]@host".')
  })
})
