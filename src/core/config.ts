import { ChaperonError } from './errors.ts'
import { isPlainObject } from './validate.ts'

/** `over` deep-merged onto `base`: plain objects merge key by key, anything else in `over` replaces. */
export function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base }
  for (const [key, value] of Object.entries(over)) {
    const prev = out[key]
    out[key] = isPlainObject(prev) && isPlainObject(value) ? deepMerge(prev, value) : value
  }
  return out
}

/** Freezes plain objects and arrays all the way down, so session config cannot be changed by accident. */
export function deepFreeze<T>(value: T): Readonly<T> {
  if (Array.isArray(value) || isPlainObject(value)) {
    for (const v of Object.values(value as object)) deepFreeze(v)
    Object.freeze(value)
  }
  return value
}

/** A deep copy of `config`; config crosses into sessions (and worker threads) by copy, so it must be plain data. */
export function plainData(config: Record<string, unknown>, where: string): Record<string, unknown> {
  try {
    return structuredClone(config)
  } catch (error) {
    throw new ChaperonError('CHAPERON_INVALID_OPTION', `${where} must hold plain data (objects, arrays, strings, numbers, booleans, dates): ${(error as Error).message.replace(/\.$/, '')}. Move functions into the scenario itself.`)
  }
}
