import { describe, expect, it } from 'vitest'
import { formatDuration, parseDuration } from '../../src/core/duration.ts'
import { ChaperonError } from '../../src/core/errors.ts'

describe('parseDuration', () => {
  it.each([
    ['250ms', 250],
    ['10s', 10_000],
    ['1m30s', 90_000],
    ['1.5s', 1500],
    ['2h', 7_200_000],
    ['500us', 0.5],
    [1200, 1200],
    [0, 0],
  ])('%s is %d ms', (input, ms) => {
    expect(parseDuration(input, 'duration')).toBe(ms)
  })

  it.each(['', '10', 's', '10 s', '-1s', '1x', '1s ', 'Infinity', -5, Number.NaN, Number.POSITIVE_INFINITY, null, {}])(
    'rejects %j with a coded error naming the option',
    (input) => {
      const error = (() => {
        try {
          parseDuration(input, 'scenarios.a.duration')
        } catch (e) {
          return e
        }
      })()
      expect(error).toBeInstanceOf(ChaperonError)
      expect(error).toMatchObject({ code: 'CHAPERON_INVALID_DURATION' })
      expect((error as Error).message).toContain('scenarios.a.duration')
      expect((error as Error).message).toContain("'10s'")
    },
  )
})

describe('formatDuration', () => {
  it.each([
    [850, '850ms'],
    [12_500, '12.5s'],
    [125_000, '2m5s'],
    [120_000, '2m'],
  ])('%d ms is %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text)
  })
})
