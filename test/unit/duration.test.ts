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
    ['500µs', 0.5],
    [1200, 1200],
    [0, 0],
    // Exact, not 1004.9999999999999 and 252000.00000000003 as a float product gives.
    ['1.005s', 1005],
    ['0.07h', 252_000],
    ['2.3ms', 2.3],
    ['1.5us', 0.0015],
    ['1h0.5m1.25s', 3_631_250],
  ])('%s is %d ms', (input, ms) => {
    expect(parseDuration(input, 'duration')).toBe(ms)
  })

  it('reads -0 as 0', () => {
    expect(Object.is(parseDuration(-0, 'duration'), 0)).toBe(true)
  })

  it.each([
    '', '10', 's', '10 s', '-1s', '1x', '1s ', ' 5s', 'Infinity', '1e3s', '0x10ms', '.5s', '5.s', '+5s', '1d', '500μs', '1m30', '1S', `${'1s'.repeat(32)}1s`,
    -5, Number.NaN, Number.POSITIVE_INFINITY, null, {}, 10n, Symbol('s'),
  ])(
    'rejects %o with a coded error naming the option',
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

  it.each([
    ['10 s', "Write '10s'."],
    ['1h 30m', "Write '1h30m'."],
    ['1e3ms', "Write '1000ms'."],
    ['+5s', "Write '5s'."],
    ['.5s', "Write '0.5s'."],
    ['1,5s', "Write '1.5s'."],
    ['2d', "Write '48h'."],
    ['10sec', "Write '10s'."],
    ['5 minutes', "Write '5m'."],
    ['10MS', "Write '10ms'."],
    ['500μs', "Write '500us'."],
    ['250', "A string needs a unit: write '250ms', or the number 250."],
    ['1m30', 'Every number needs a unit'],
    ['-1s', 'A duration cannot be negative.'],
    [-1, 'A duration cannot be negative.'],
    [Number.NaN, 'Write a finite number of milliseconds'],
    [10n, 'Write the number 10 without the n.'],
    ['1'.repeat(65), 'at most 64 characters'],
  ])('says what to write instead of %o', (input, hint) => {
    expect(() => parseDuration(input, 'd')).toThrow(hint)
  })
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
