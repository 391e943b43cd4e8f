import { ChaperonError } from './errors.ts'

/** A duration: milliseconds as a number, or a string such as `'250ms'`, `'10s'`, `'1m30s'`, `'2h'`. */
export type Duration = number | string

const UNIT_MS: Readonly<Record<string, number>> = { us: 0.001, µs: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 }
const PART = /(\d+(?:\.\d+)?)(us|µs|ms|s|m|h)/y

/**
 * Parses a duration into milliseconds. Strings are one or more `<number><unit>`
 * parts (`us ms s m h`), as in k6; a bare number is milliseconds. `what` names
 * the option in the error message.
 */
export function parseDuration(value: unknown, what: string): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0) return value
  } else if (typeof value === 'string' && value.length > 0 && value.length <= 64) {
    let total = 0
    PART.lastIndex = 0
    while (PART.lastIndex < value.length) {
      const at = PART.lastIndex
      const m = PART.exec(value)
      if (m === null || m.index !== at) {
        total = Number.NaN
        break
      }
      total += Number(m[1]) * UNIT_MS[m[2]!]!
    }
    if (Number.isFinite(total)) return total
  }
  throw new ChaperonError(
    'CHAPERON_INVALID_DURATION',
    `${what} must be a duration such as '250ms', '10s', '1m30s' or a number of milliseconds; got ${JSON.stringify(value) ?? String(value)}.`,
  )
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
