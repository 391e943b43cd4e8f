import { describe, expect, it } from 'vitest'
import { isScenario, scenario, sequence } from '../../src/runtime/scenario.ts'

const run = async () => {}

describe('scenario()', () => {
  it('takes a name and a function, or a definition with init, run, teardown and config', () => {
    const plain = scenario('browse', run)
    expect(isScenario(plain)).toBe(true)
    expect(plain).toMatchObject({ name: 'browse', run, init: undefined, teardown: undefined, config: {} })
    const init = async () => {}
    const full = scenario({ name: 'shop', init, run, teardown: run, config: { page: 1 } })
    expect(full).toMatchObject({ name: 'shop', init, run, teardown: run, config: { page: 1 } })
    expect(Object.isFrozen(full)).toBe(true)
    expect(Object.isFrozen(full.config)).toBe(true)
  })

  it('rejects a bad definition with a coded error that shows the right form', () => {
    expect(() => scenario('', run)).toThrow(expect.objectContaining({ code: 'CHAPERON_INVALID_OPTION' }))
    expect(() => scenario('browse', undefined as never)).toThrow(/scenario\('browse', async \(s\) => \{ … \}\)/)
    expect(() => scenario({ name: 'shop' } as never)).toThrow(/scenario\('shop'\) run must be a function/)
    expect(() => scenario({ name: 'shop', run, teardwon: run } as never)).toThrow(
      expect.objectContaining({ code: 'CHAPERON_UNKNOWN_OPTION', message: expect.stringContaining('Did you mean "teardown"?') }),
    )
    expect(() => scenario({ name: 'shop', run, init: 'login' } as never)).toThrow(/init must be a function/)
    expect(() => scenario({ name: 'shop', run, config: [] } as never)).toThrow(/config must be an object/)
  })
})

describe('sequence()', () => {
  it('makes a scenario from a non-empty list of scenarios', () => {
    const a = scenario('a', run)
    expect(sequence('ab', [a, a])).toMatchObject({ name: 'ab' })
    expect(() => sequence('ab', [])).toThrow(/non-empty array of scenarios/)
    expect(() => sequence('ab', [a, run as never])).toThrow(/scenarios\[1\] must be a scenario/)
  })
})
