import { ChaperonError } from './errors.ts'
import { describeValue } from './validate.ts'

/** A duration: milliseconds as a number, or a string such as `'250ms'`, `'10s'`, `'1m30s'`, `'2h'`. */
export type Duration = number | string

/**
 * Each unit in microseconds, as a power of ten to shift the decimal point by
 * and a whole factor, so that decimal parts convert exactly: `'1.005s'` is
 * `Number('1.005e6')` µs, not `1.005 * 1e6` (1004999.9999999999).
 */
const UNIT_US: ReadonlyMap<string, readonly [exponent: number, factor: number]> = new Map([
  ['us', [0, 1]],
  ['µs', [0, 1]],
  ['ms', [3, 1]],
  ['s', [6, 1]],
  ['m', [6, 60]],
  ['h', [6, 3600]],
])
const PART = /(\d+(?:\.\d+)?)(us|µs|ms|s|m|h)/y
/** Longer strings are never a duration someone meant; the cap also keeps the hints below cheap. */
const MAX_LENGTH = 64
/** Unit spellings from other tools, mapped to ours for the "write … instead" hint. */
const UNIT_ALIASES: ReadonlyMap<string, string> = new Map([
  ...['sec', 'secs', 'second', 'seconds'].map((u) => [u, 's'] as const),
  ...['min', 'mins', 'minute', 'minutes'].map((u) => [u, 'm'] as const),
  ...['hr', 'hrs', 'hour', 'hours'].map((u) => [u, 'h'] as const),
  ...['msec', 'msecs', 'millis', 'millisecond', 'milliseconds'].map((u) => [u, 'ms'] as const),
  ...['usec', 'usecs', 'microsecond', 'microseconds', 'μs'].map((u) => [u, 'us'] as const),
])

/**
 * Parses a duration into milliseconds. A number is milliseconds (finite, at
 * least 0). A string is one or more `<number><unit>` parts with no spaces,
 * units `us µs ms s m h`, as in k6 (`'250ms'`, `'1.5s'`, `'1m30s'`): no sign,
 * no exponent, no bare number. `what` names the option in the error message,
 * which suggests the right spelling of a near miss (`'10 s'`, `'1e3ms'`, `'2d'`).
 */
export function parseDuration(value: unknown, what: string): number {
  const ms = typeof value === 'number' ? (Number.isFinite(value) && value >= 0 ? value + 0 : undefined) : typeof value === 'string' ? parseText(value) : undefined
  if (ms !== undefined) return ms
  throw new ChaperonError(
    'CHAPERON_INVALID_DURATION',
    `${what} must be a duration such as '250ms', '10s', '1m30s' or a number of milliseconds; got ${describeValue(value)}.${hint(value)}`,
  )
}

/** The milliseconds of a duration string, or undefined when it is not one. */
function parseText(text: string): number | undefined {
  if (text.length === 0 || text.length > MAX_LENGTH) return undefined
  let us = 0
  PART.lastIndex = 0
  while (PART.lastIndex < text.length) {
    const at = PART.lastIndex
    const m = PART.exec(text)
    if (m === null || m.index !== at) return undefined
    const [exponent, factor] = UNIT_US.get(m[2]!)!
    us += Number(`${m[1]}e${exponent}`) * factor
  }
  // Whole microseconds add up exactly, so one rounding here gives the nearest double to the true value.
  const ms = us / 1000
  return Number.isFinite(ms) ? ms : undefined
}

/** What to write instead, for the mistakes people make: spaces, signs, exponents, other tools' units. */
function hint(value: unknown): string {
  if (typeof value === 'number') return value < 0 ? ' A duration cannot be negative.' : ' Write a finite number of milliseconds, or a string such as \'1h\'.'
  if (typeof value === 'bigint') return ` Write the number ${value} without the n.`
  if (typeof value !== 'string' || value === '') return ''
  if (value.length > MAX_LENGTH) return ` A duration string has at most ${MAX_LENGTH} characters.`
  if (/^\d+(?:\.\d+)?$/.test(value)) return ` A string needs a unit: write '${value}ms', or the number ${value}.`
  if (/^\s*-/.test(value)) return ' A duration cannot be negative.'
  const fixed = value
    .replace(/\s+/g, '')
    .replace(/^\+/, '')
    .replace(/(\d),(\d)/g, '$1.$2')
    .replace(/(?<!\d)\.(?=\d)/g, '0.')
    .replace(/(\d)\.(?!\d)/g, '$1')
    .replace(/\d+(?:\.\d+)?e[-+]?\d+/gi, (n) => (Number.isFinite(Number(n)) && !/e/i.test(String(Number(n))) ? String(Number(n)) : n))
    .replace(/(?<![\d.])(\d+)(?:days?|d)(?![a-z])/gi, (_, n: string) => `${Number(n) * 24}h`)
    .replace(/[a-zµμ]+/gi, (u) => UNIT_ALIASES.get(u.toLowerCase()) ?? u.toLowerCase())
  if (fixed !== value && parseText(fixed) !== undefined) return ` Write '${fixed}'.`
  return /\d$/.test(fixed) ? " Every number needs a unit, as in '1m30s'." : ''
}

/** Formats milliseconds for people: `850ms`, `12.5s`, `2m5s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${round(ms)}ms`
  if (ms < 60_000) return `${round(ms / 1000)}s`
  const m = Math.floor(ms / 60_000)
  const s = Math.round((ms - m * 60_000) / 1000)
  return s === 0 ? `${m}m` : `${m}m${s}s`
}

function round(n: number): number {
  return Math.round(n * 100) / 100
}

/** The longest delay Node's timers take; a longer one fires at once, so waits are capped here (24.8 days). */
export const MAX_TIMER_MS = 2 ** 31 - 1

/** `ms` capped to what a timer can wait. */
export function timerMs(ms: number): number {
  return ms > MAX_TIMER_MS ? MAX_TIMER_MS : ms
}
