/**
 * Every error chaperon throws on purpose has a stable `code`. Codes are listed,
 * with cause and fix, in `docs/errors.md`, and are never reused.
 */
export type ChaperonErrorCode =
  | 'CHAPERON_INVALID_OPTION'
  | 'CHAPERON_UNKNOWN_OPTION'
  | 'CHAPERON_INVALID_DURATION'
  | 'CHAPERON_THRESHOLD_SYNTAX'
  | 'CHAPERON_THRESHOLD_UNKNOWN_METRIC'
  | 'CHAPERON_THRESHOLD_AGGREGATION'
  | 'CHAPERON_THRESHOLDS_FAILED'
  | 'CHAPERON_INVALID_URL'
  | 'CHAPERON_NO_TARGET'
  | 'CHAPERON_MISSING_CONFIG'
  | 'CHAPERON_UNKNOWN_TASK'
  | 'CHAPERON_NO_PARENT'
  | 'CHAPERON_NO_SESSION'
  | 'CHAPERON_METRIC_CONFLICT'
  | 'CHAPERON_WS_NAME_IN_USE'
  | 'CHAPERON_WS_UNKNOWN_CONNECTION'
  | 'CHAPERON_WORKER_SCENARIO'
  | 'CHAPERON_WORKER_FAILED'
  | 'CHAPERON_EXPORT_FAILED'
  | 'CHAPERON_BASELINE'
  | 'CHAPERON_RESULT_FILE'
  | 'CHAPERON_CLI_USAGE'
  | 'CHAPERON_INTERRUPTED'
  | 'CHAPERON_INVALID_SEGMENT'
  | 'CHAPERON_MERGE'
  | 'CHAPERON_DRY_RUN'
  | 'CHAPERON_FEEDER'

/** Base class of every error chaperon throws on purpose; match on `code`. */
export class ChaperonError extends Error {
  readonly code: ChaperonErrorCode

  constructor(code: ChaperonErrorCode, message: string, options?: ErrorOptions) {
    super(message, options)
    this.code = code
    // Node's own convention for coded errors, so the code shows wherever the error is printed.
    this.name = `${new.target.name} [${code}]`
  }
}

/** Thrown when a load test ends with one or more failing thresholds. */
export class ThresholdsFailedError extends ChaperonError {
  /** The failing threshold lines, as printed. */
  readonly failures: readonly string[]

  constructor(testName: string, failures: readonly string[]) {
    super(
      'CHAPERON_THRESHOLDS_FAILED',
      `${failures.length} threshold${failures.length === 1 ? '' : 's'} failed in "${testName}":\n${failures.map((f) => `  ✗ ${f}`).join('\n')}`,
    )
    this.failures = failures
  }
}

/** Thrown by `s.require(path)` when the session's config has no value at `path`. */
export class MissingConfigError extends ChaperonError {
  /** The dotted path that was required, such as `db.url`. */
  readonly key: string
  /** The scenario whose session asked for it. */
  readonly scenario: string

  constructor(key: string, scenario: string) {
    super(
      'CHAPERON_MISSING_CONFIG',
      `Scenario "${scenario}" requires config "${key}", which is not set. Set it in loadTest({ config }), in the scenarios entry's config, or in scenario({ config }), e.g. config: ${example(key)}.`,
    )
    this.key = key
    this.scenario = scenario
  }
}

/** `{ db: { url: … } }` for `db.url`. */
function example(key: string): string {
  return key
    .split('.')
    .reduceRight((inner, part) => `{ ${/^[A-Za-z_$][\w$]*$/.test(part) ? part : JSON.stringify(part)}: ${inner} }`, '…')
}

/**
 * Finds the option name closest to `given` among `known`, for did-you-mean hints.
 * Returns undefined when nothing is close enough to be a likely typo.
 */
function closest(given: string, known: Iterable<string>): string | undefined {
  let best: string | undefined
  let bestDistance = Math.max(2, Math.floor(given.length / 3)) + 1
  const lower = given.toLowerCase()
  for (const candidate of known) {
    // The distance is at least the difference in length, so a long paste costs nothing to rule out.
    const other = candidate.toLowerCase()
    if (Math.abs(other.length - lower.length) >= bestDistance) continue
    const d = editDistance(lower, other)
    if (d < bestDistance) {
      best = candidate
      bestDistance = d
    }
  }
  return best
}

/** Edits from `a` to `b`: insertions, deletions, substitutions, and swaps of two neighbours, the commonest typo. */
function editDistance(a: string, b: string): number {
  let before: number[] = []
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j]!, before[j - 2]! + 1)
    }
    before = prev
    prev = row
  }
  return prev[b.length]!
}

/** `" Did you mean \"x\"?"` when a close match exists, else an empty string. */
export function didYouMean(given: string, known: Iterable<string>): string {
  const match = closest(given, known)
  return match === undefined ? '' : ` Did you mean "${match}"?`
}
