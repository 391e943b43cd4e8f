import { ChaperonError, didYouMean } from './errors.ts'

/** True for `{}`-style objects, not arrays, class instances or null. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/** Throws CHAPERON_INVALID_OPTION unless `value` is a plain object. */
export function expectObject(value: unknown, where: string, example: string): Record<string, unknown> {
  if (!isPlainObject(value)) throw invalid(where, `an object such as ${example}`, value)
  return value
}

/**
 * Throws CHAPERON_UNKNOWN_OPTION for any key of `value` not in `allowed`, with
 * `hint(key)` when it knows where the key belongs, else a did-you-mean.
 */
export function expectKnownKeys(value: Record<string, unknown>, allowed: readonly string[], where: string, hint?: (key: string) => string | undefined): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      const why = hint?.(key)
      throw new ChaperonError(
        'CHAPERON_UNKNOWN_OPTION',
        `${where} has an unknown option "${key}".${why === undefined ? didYouMean(key, allowed) : ` ${why}`} Known options: ${allowed.join(', ')}.`,
      )
    }
  }
}

/** Throws CHAPERON_INVALID_OPTION unless `value` is an integer ≥ `min`, and below 2^53, where integers stop being exact. */
export function expectInteger(value: unknown, where: string, min: number, example: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    const expected = Number.isInteger(value) && (value as number) >= min ? `an integer of at most ${Number.MAX_SAFE_INTEGER}` : `an integer of at least ${min}`
    throw invalid(where, `${expected}, such as ${example}`, value)
  }
  return value
}

/** Throws CHAPERON_INVALID_OPTION unless `value` is true or false. */
export function expectBoolean(value: unknown, where: string): boolean {
  if (typeof value !== 'boolean') throw invalid(where, 'true or false', value)
  return value
}

/** `value` as JSON text; throws CHAPERON_INVALID_OPTION for what JSON cannot hold (a BigInt, a cycle, a function). */
export function toJson(value: unknown, where: string): string {
  let text: string | undefined
  try {
    text = JSON.stringify(value)
  } catch (error) {
    throw new ChaperonError('CHAPERON_INVALID_OPTION', `${where} cannot be sent as JSON: ${(error as Error).message}. Send plain data: objects, arrays, strings, finite numbers, booleans, null.`)
  }
  if (text === undefined) throw invalid(where, 'plain data that JSON can hold: objects, arrays, strings, numbers, booleans, null', value)
  return text
}

/** Throws CHAPERON_INVALID_OPTION unless `value` is an object of string values. */
export function expectStringRecord(value: unknown, where: string, example: string): Record<string, string> {
  const obj = expectObject(value, where, example)
  for (const [k, v] of Object.entries(obj)) {
    if (typeof v !== 'string') throw invalid(`${where}.${k}`, 'a string', v)
  }
  return obj as Record<string, string>
}

/** A CHAPERON_INVALID_OPTION error: "`where` must be `expected`; got `value`." */
export function invalid(where: string, expected: string, value: unknown): ChaperonError {
  return new ChaperonError('CHAPERON_INVALID_OPTION', `${where} must be ${expected}; got ${describeValue(value)}.`)
}

/** A short, quoted rendering of a user's value for error messages. */
export function describeValue(value: unknown): string {
  if (typeof value === 'function') return 'a function'
  if (typeof value === 'string') return value.length > 80 ? `${JSON.stringify(value.slice(0, 77))}... (${value.length} characters)` : JSON.stringify(value)
  if (value === undefined || typeof value === 'number' || typeof value === 'boolean' || value === null) return Object.is(value, -0) ? '-0' : String(value)
  if (typeof value === 'bigint') return `${value}n`
  if (typeof value === 'symbol') return String(value)
  if (Array.isArray(value)) return 'an array'
  try {
    const json = JSON.stringify(value)
    return json.length > 60 ? `${json.slice(0, 57)}...` : json
  } catch {
    return typeof value
  }
}
