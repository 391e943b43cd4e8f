import { formatWithOptions } from 'node:util'
import { ChaperonError } from '../core/errors.ts'
import type { Redactor } from '../core/redact.ts'

/** How much `s.log` prints; each level includes the ones after it. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent'

export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent']

/** Under load, thousands of sessions log at once; only warnings and errors print unless asked. */
export const DEFAULT_LOG_LEVEL: LogLevel = 'warn'

/**
 * The level for a scenario: `CHAPERON_LOG_LEVEL` in the environment wins, so a
 * run can be made verbose without editing it; then the config's `logLevel`.
 */
export function resolveLogLevel(config: Readonly<Record<string, unknown>>, where: string): LogLevel {
  const env = process.env.CHAPERON_LOG_LEVEL
  if (env !== undefined && env !== '') return checkLevel(env, 'CHAPERON_LOG_LEVEL')
  return config.logLevel === undefined ? DEFAULT_LOG_LEVEL : checkLevel(config.logLevel, `${where}.config.logLevel`)
}

function checkLevel(value: unknown, where: string): LogLevel {
  if (typeof value === 'string' && (LOG_LEVELS as readonly string[]).includes(value)) return value as LogLevel
  throw new ChaperonError('CHAPERON_INVALID_OPTION', `${where} must be one of ${LOG_LEVELS.map((l) => `'${l}'`).join(', ')}; got ${JSON.stringify(value)}.`)
}

/**
 * A session's logger: each line starts with `<session id> [<parent id>] <scenario> |`.
 * Arguments are formatted as `console.log` formats them, then secrets are
 * redacted (docs/reliability.md).
 */
export class SessionLog {
  readonly #prefix: string
  readonly #rank: number
  readonly #redactor: Redactor

  constructor(prefix: string, level: LogLevel, redactor: Redactor) {
    this.#prefix = prefix
    this.#rank = LOG_LEVELS.indexOf(level)
    this.#redactor = redactor
  }

  debug(...args: unknown[]): void {
    if (this.#rank <= 0) console.debug(this.#line(args))
  }

  info(...args: unknown[]): void {
    if (this.#rank <= 1) console.info(this.#line(args))
  }

  warn(...args: unknown[]): void {
    if (this.#rank <= 2) console.warn(this.#line(args))
  }

  error(...args: unknown[]): void {
    if (this.#rank <= 3) console.error(this.#line(args))
  }

  #line(args: unknown[]): string {
    return this.#redactor.text(formatWithOptions({ colors: false }, this.#prefix, ...args))
  }
}
