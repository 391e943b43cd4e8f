import type { ScenarioErrorResult } from '../../core/result.ts'

// Distinct errors kept per load test; the rest are counted under one entry per scenario.
const MAX_ERROR_KINDS = 50

/** The distinct errors of one run, each kept once with its first stack and a count. */
export class ErrorLog {
  readonly #entries = new Map<string, ScenarioErrorResult>()

  record(scenario: string, action: string, code: string, message: string, stack: string | undefined): void {
    let key = keyOf(scenario, action, code, message)
    let entry = this.#entries.get(key)
    if (entry === undefined && this.#entries.size >= MAX_ERROR_KINDS) {
      key = `${scenario}\0other`
      entry = this.#entries.get(key)
      if (entry === undefined) {
        entry = { scenario, action: 'other', code: 'OTHER', message: `more than ${MAX_ERROR_KINDS} distinct errors; the rest are counted here`, count: 0 }
        this.#entries.set(key, entry)
      }
    }
    if (entry === undefined) {
      entry = { scenario, action, code, message, ...(stack === undefined ? {} : { stack }), count: 0 }
      this.#entries.set(key, entry)
    }
    entry.count++
  }

  /** Adds the errors another log kept (a worker thread's), counts and all. */
  absorb(entries: readonly ScenarioErrorResult[]): void {
    for (const e of entries) {
      const key = keyOf(e.scenario, e.action, e.code, e.message)
      const entry = this.#entries.get(key)
      if (entry === undefined) this.#entries.set(key, { ...e })
      else entry.count += e.count
    }
  }

  toResults(): ScenarioErrorResult[] {
    return [...this.#entries.values()]
  }
}

/** What makes an error distinct: where it happened, its code and its message. */
function keyOf(scenario: string, action: string, code: string, message: string): string {
  return `${scenario}\0${action}\0${code}\0${message}`
}

/** The `error_code` of a thrown value: its string `code` (`ECONNRESET`, `CHAPERON_…`), else its class name. */
export function errorCodeOf(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const code = (error as { code?: unknown }).code
    if (typeof code === 'string' && code !== '') return code
    if (error instanceof Error) return error.constructor.name
  }
  return typeof error
}
