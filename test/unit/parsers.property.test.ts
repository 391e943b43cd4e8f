// Property tests of the two parsers users feed free text: durations and thresholds.
// Whatever they are given, they return or throw a ChaperonError with a documented
// code, quickly; what they accept is exactly what the docs describe.
import { readFileSync } from 'node:fs'
import { Worker } from 'node:worker_threads'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { formatDuration, parseDuration } from '../../src/core/duration.ts'
import { ChaperonError } from '../../src/core/errors.ts'
import { createHistogram, recordMicros } from '../../src/core/histogram.ts'
import type { MetricType } from '../../src/core/result.ts'
import type { Aggregate, MetricInfo } from '../../src/core/series.ts'
import {
  aggregationName,
  budgetLimit,
  evaluateThreshold,
  formatThresholdLine,
  judgeBudget,
  type ParsedThreshold,
  parseThresholds,
  type ThresholdOperator,
} from '../../src/core/thresholds.ts'
import { knownMetricNames, metricInfo } from '../../src/runtime/metrics/user-metrics.ts'

const DOCUMENTED = new Set([...readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8').matchAll(/^- \[`(CHAPERON_[A-Z_]+)`\]/gm)].map((m) => m[1]))
const DURATION_CODES = ['CHAPERON_INVALID_DURATION']
const THRESHOLD_CODES = [
  'CHAPERON_INVALID_OPTION',
  'CHAPERON_UNKNOWN_OPTION',
  'CHAPERON_INVALID_DURATION',
  'CHAPERON_THRESHOLD_SYNTAX',
  'CHAPERON_THRESHOLD_UNKNOWN_METRIC',
  'CHAPERON_THRESHOLD_AGGREGATION',
]
/** Far above what a parse takes (microseconds), far below what catastrophic backtracking takes. */
const BOUND_MS = 50
/** Runs per property; set FUZZ_RUNS=20000 to search harder locally. */
const RUNS = Number(process.env['FUZZ_RUNS'] ?? 200)

// Custom metrics, as `new Trend('payload_size')` and a time gauge would declare them. A Map, so no name finds a prototype.
const CUSTOM = new Map<string, MetricInfo>([
  ['payload_size', { type: 'trend', unit: 'bytes', description: 'bytes per payload' }],
  ['queue_wait', { type: 'gauge', unit: 'time', description: 'ms a job waited' }],
])
const lookup = (name: string): MetricInfo | undefined => metricInfo(name) ?? CUSTOM.get(name)
const known = [...knownMetricNames(), ...CUSTOM.keys()]
const parse = (input: unknown): ParsedThreshold[] => parseThresholds(input, lookup, known)

type Outcome<T> = { ok: true; value: T } | { ok: false; error: ChaperonError }

/**
 * Runs `fn` and checks that it is quick (a slow call is timed once more, so a
 * GC pause or a busy core is not taken for backtracking) and that it throws
 * nothing but a ChaperonError with one of `codes`, all of them documented.
 */
function run<T>(fn: () => T, codes: readonly string[]): Outcome<T> {
  const timed = (): { outcome: Outcome<T> | { ok: false; error: unknown }; ms: number } => {
    const start = performance.now()
    try {
      const value = fn()
      return { outcome: { ok: true, value }, ms: performance.now() - start }
    } catch (error) {
      return { outcome: { ok: false, error }, ms: performance.now() - start }
    }
  }
  let attempt = timed()
  if (attempt.ms > BOUND_MS) attempt = timed()
  expect(attempt.ms, 'milliseconds for one call').toBeLessThan(BOUND_MS)
  const { outcome } = attempt
  if (!outcome.ok) {
    expect(outcome.error).toBeInstanceOf(ChaperonError)
    const { code } = outcome.error as ChaperonError
    expect(codes).toContain(code)
    expect(DOCUMENTED.has(code), `${code} is listed in docs/errors.md`).toBe(true)
  }
  return outcome as Outcome<T>
}

// ---- generators ------------------------------------------------------------

/** Strings of any UTF-16 code unit, lone surrogates included. */
const codeUnits = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 40 })
const anyString = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary' }), codeUnits)
const oddNumbers = fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 0, -1, 1e309, Number.MAX_VALUE, Number.MIN_VALUE, 2 ** 53, 0.1 + 0.2)
const oddValues = fc.constantFrom<unknown>(null, undefined, true, false, 10n, Symbol('s'), () => 1, new Date(0), /re/, new Map(), new Set(), Object.create(null), [], {}, new Uint8Array(2), new String('5s'))
const jsonish = fc.oneof(
  fc.anything({ maxDepth: 2, maxKeys: 4, withBigInt: true, withBoxedValues: true, withDate: true, withMap: true, withSet: true, withNullPrototype: true, withObjectString: true, withTypedArray: true, withSparseArray: true }),
  oddNumbers,
  oddValues,
  fc.double(),
  anyString,
)

const DURATION_UNITS = ['us', 'µs', 'ms', 's', 'm', 'h'] as const
type DurationUnit = (typeof DURATION_UNITS)[number]
const UNIT_MICROS: Readonly<Record<DurationUnit, bigint>> = { us: 1n, µs: 1n, ms: 1000n, s: 1_000_000n, m: 60_000_000n, h: 3_600_000_000n }
/** Decimals that keep a part a whole number of microseconds, so its exact value is known. */
const MAX_DECIMALS: Readonly<Record<DurationUnit, number>> = { us: 0, µs: 0, ms: 3, s: 6, m: 6, h: 6 }
const digits = (maxLength: number, minLength = 0) => fc.string({ unit: fc.constantFrom(...'0123456789'), minLength, maxLength })

/** One `<number><unit>` part with its exact value in microseconds. */
const durationPart = fc.constantFrom(...DURATION_UNITS).chain((unit) =>
  fc.tuple(fc.nat({ max: 10_000 }), digits(MAX_DECIMALS[unit])).map(([whole, decimals]) => ({
    text: `${whole}${decimals === '' ? '' : `.${decimals}`}${unit}`,
    micros: (BigInt(`${whole}${decimals}`) * UNIT_MICROS[unit]) / 10n ** BigInt(decimals.length),
  })),
)
const validDuration = fc.array(durationPart, { minLength: 1, maxLength: 4 }).map((parts) => ({
  text: parts.map((p) => p.text).join(''),
  ms: Number(parts.reduce((sum, p) => sum + p.micros, 0n)) / 1000,
}))

/** Near misses: what people write instead of a duration, spliced into a valid one. */
const NOISE = [' ', '  ', '\t', '\n', '\u00a0', '\u200b', '+', '-', '.', ',', '_', 'e3', 'E-2', 'e', '0x', '0b1', 'd', 'day', 'sec', 'min', 'hours', 'M', 'S', 'MS', 'ns', 'μs', 'µ', 'ms', 's', '1e309', '9'.repeat(330), 'Infinity', 'NaN', '%', '()', 'over']
const mutatedDuration = fc
  .tuple(validDuration, fc.array(fc.tuple(fc.nat(), fc.constantFrom(...NOISE), fc.boolean()), { minLength: 1, maxLength: 3 }))
  .map(([{ text }, edits]) =>
    edits.reduce((s, [at, noise, replace]) => {
      const i = at % (s.length + 1)
      return s.slice(0, i) + noise + s.slice(replace ? i + 1 : i)
    }, text),
  )
/** Exactly the documented grammar (docs/guide.md#durations), with the 64-character cap. */
const DURATION_GRAMMAR = /^(?:\d+(?:\.\d+)?(?:us|µs|ms|s|m|h))+$/

const METRICS: Readonly<Record<MetricType, readonly string[]>> = {
  trend: ['http_req_duration', 'iteration_duration', 'payload_size'],
  counter: ['http_reqs', 'data_sent'],
  rate: ['http_req_failed', 'checks'],
  gauge: ['vus', 'queue_wait'],
}
const AGGREGATIONS: Readonly<Record<MetricType, readonly string[]>> = {
  trend: ['avg', 'min', 'max', 'med', 'count', 'p(95)', 'p95', 'p(99.9)', 'p99.9', 'p( 50 )', 'p100', 'p(0.1)'],
  counter: ['count', 'rate'],
  rate: ['rate'],
  gauge: ['value', 'min', 'max'],
}
const OPERATORS: readonly ThresholdOperator[] = ['<', '<=', '>', '>=', '==', '!=']
const TIME_UNITS: Readonly<Record<string, number>> = { '': 1, ms: 1, s: 1000, us: 0.001, µs: 0.001 }
const space = fc.constantFrom('', '', ' ', '  ', '\t')
const metricName = fc.constantFrom(...Object.values(METRICS).flat(), 'constructor', '__proto__', 'toString', 'http_req_duraton', '', 'x')
const numberText = fc.oneof(
  fc.nat({ max: 100_000 }).map(String),
  fc.double({ min: -1e6, max: 1e6, noNaN: true }).map(String),
  fc.constantFrom('.5', '5.', '0.01', '1e3', '1E-3', '2e+2', '-5', '+5', '1e309', '-1e309', '0x10', '1_000', '', 'NaN', 'Infinity', '9'.repeat(400), '1.2.3', '١٢'),
)
const unitText = fc.constantFrom('', '', 'ms', 's', 'us', 'µs', 'μs', 'm', 'h', 'd', '%', ' ms', 'sec', 'MS', 'constructor', '__proto__')
const aggregationText = fc.oneof(
  fc.constantFrom(...Object.values(AGGREGATIONS).flat()),
  fc.constantFrom('mean', 'median', 'AVG', 'p', 'pp95', 'p()', 'p(0)', 'p(101)', 'p(-5)', 'p(1e2)', 'p(9', 'p9.9.9', 'p(( 5 ))', 'constructor', 'toString', 'hasOwnProperty', ''),
  numberText.map((n) => `p(${n})`),
)
const operatorText = fc.constantFrom(...OPERATORS, '=', '<<', '=<', '!', '<>', '')
const windowText = fc.oneof(
  fc.constant(''),
  fc.tuple(fc.nat({ max: 120 }), fc.constantFrom('s', 'm', 'ms', 'h', '', ' s')).map(([n, u]) => ` over ${n}${u}`),
  fc.constantFrom(' over', ' over soon', 'over 10s', ' over  10s', ' over 1.5s', ' over 10s over 10s'),
)
const budgetText = fc.oneof(
  fc.constant(''),
  fc.tuple(fc.constantFrom('+', '-', ''), numberText, fc.constantFrom('%', '', 'ms', 's', ' %'), space).map(([sign, n, unit, sp]) => `${sign}${n}${unit}${sp} baseline`),
  fc.constantFrom('baseline', ' baseline', 'xbaseline', '+10%baseline', 'baseline baseline'),
)
/** An expression built from the grammar's parts, most of them valid, with spacing and noise between. */
const expressionText = fc
  .tuple(space, aggregationText, space, operatorText, space, numberText, unitText, budgetText, windowText, space)
  .map(([s1, agg, s2, op, s3, n, unit, budget, window, s4]) => `${s1}${agg}${s2}${op}${s3}${budget === '' ? `${n}${unit}` : budget}${window}${s4}`)
const keyText = fc.oneof(
  metricName,
  fc.tuple(metricName, space, fc.array(fc.tuple(fc.constantFrom('name', 'method', 'status', '', ' name '), fc.constantFrom(':', '', '::'), fc.constantFrom('GET /', '200', '', 'a:b', 'x y')), { maxLength: 3 })).map(
    ([metric, sp, tags]) => `${metric}${sp}{${tags.map(([k, colon, v]) => `${k}${colon}${v}`).join(',')}}`,
  ),
  fc.tuple(metricName, fc.constantFrom('{', '}', '{}', '}{', '{a:1}{b:2}', '{{a:1}}', ' { name : x } ')).map(([m, b]) => m + b),
)
const durationish = fc.oneof(validDuration.map((d) => d.text), mutatedDuration, jsonish)
const thresholdEntry = fc.oneof(
  expressionText,
  fc.record({ threshold: fc.oneof(expressionText, jsonish), abortOnFail: fc.oneof(fc.boolean(), jsonish), delayAbortEval: durationish }, { requiredKeys: [] }),
  fc.record({ threshold: expressionText, abortOnFial: fc.boolean() }),
  jsonish,
)
const thresholdsInput = fc.oneof(
  fc.dictionary(keyText, fc.oneof(thresholdEntry, fc.array(thresholdEntry, { maxLength: 3 })), { maxKeys: 3 }),
  fc.dictionary(anyString, jsonish, { maxKeys: 3 }),
  jsonish,
)

// ---- durations -------------------------------------------------------------

describe('parseDuration, fuzzed', () => {
  it('returns a finite number ≥ 0 or throws CHAPERON_INVALID_DURATION, for any value', () => {
    fc.assert(
      fc.property(fc.oneof(jsonish, mutatedDuration), (value) => {
        const outcome = run(() => parseDuration(value, 'scenarios.main.duration'), DURATION_CODES)
        if (outcome.ok) {
          expect(Number.isFinite(outcome.value) && outcome.value >= 0).toBe(true)
          expect(Object.is(outcome.value, -0)).toBe(false)
        } else {
          expect(outcome.error.message).toContain('scenarios.main.duration must be a duration such as')
        }
      }),
      { numRuns: RUNS },
    )
  })

  it('accepts exactly the documented grammar, and every "Write …" hint is itself a duration', () => {
    fc.assert(
      fc.property(fc.oneof(mutatedDuration, anyString, validDuration.map((d) => d.text)), (text) => {
        const outcome = run(() => parseDuration(text, 'd'), DURATION_CODES)
        expect(outcome.ok).toBe(DURATION_GRAMMAR.test(text) && text.length <= 64)
        const suggested = outcome.ok ? undefined : /Write '([^']*)'\.$/.exec(outcome.error.message)?.[1]
        if (suggested !== undefined) expect(() => parseDuration(suggested, 'd')).not.toThrow()
      }),
      { numRuns: RUNS },
    )
  })

  it('reads a duration built from parts as the exact sum of its parts', () => {
    fc.assert(
      fc.property(validDuration, ({ text, ms }) => {
        expect(parseDuration(text, 'd')).toBe(ms)
      }),
      { numRuns: RUNS },
    )
  })

  it("reads formatDuration's output back as the same duration", () => {
    const shown = fc.oneof(
      fc.integer({ min: 0, max: 99_999 }).map((n) => n / 100), // below 1s: ms to two decimals
      fc.integer({ min: 100, max: 5_999 }).map((n) => n * 10), // below 1m: seconds to two decimals
      fc.integer({ min: 60, max: 10_000_000 }).map((n) => n * 1000), // whole seconds, as NmNs
    )
    fc.assert(
      fc.property(shown, (ms) => {
        expect(parseDuration(formatDuration(ms), 'd')).toBe(ms)
      }),
      { numRuns: RUNS },
    )
  })

  it('takes any finite number ≥ 0 as milliseconds, as is', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, noNaN: true, noDefaultInfinity: true }), (ms) => {
        expect(parseDuration(ms, 'd')).toBe(ms + 0)
      }),
      { numRuns: RUNS },
    )
  })
})

// ---- thresholds ------------------------------------------------------------

describe('parseThresholds, fuzzed', () => {
  it('returns parsed thresholds or throws a documented ChaperonError, for any input', () => {
    fc.assert(
      fc.property(thresholdsInput, (input) => {
        const outcome = run(() => parse(input), THRESHOLD_CODES)
        if (outcome.ok) {
          for (const t of outcome.value) {
            expect(t.budget === undefined ? Number.isFinite(t.target) : Number.isNaN(t.target) && Number.isFinite(t.budget.amount)).toBe(true)
            expect(OPERATORS).toContain(t.op)
            if (t.windowSec !== undefined) expect(Number.isInteger(t.windowSec) && t.windowSec >= 1).toBe(true)
            if (t.percentile !== undefined) expect(t.percentile > 0 && t.percentile <= 100).toBe(true)
          }
        }
      }),
      { numRuns: RUNS },
    )
  })

  it('reads each expression built from the grammar as its parts say', () => {
    const valid = fc
      .constantFrom(...(Object.keys(METRICS) as MetricType[]))
      .chain((type) =>
        fc.record({
          metric: fc.constantFrom(...METRICS[type]),
          agg: fc.constantFrom(...AGGREGATIONS[type]),
          op: fc.constantFrom(...OPERATORS),
          number: fc.oneof(fc.nat({ max: 1e6 }).map(String), fc.double({ min: -1e6, max: 1e6, noNaN: true }).map(String), fc.constantFrom('.5', '1e3', '2E-3', '+7')),
          unit: fc.constantFrom(...Object.keys(TIME_UNITS)),
          window: fc.option(fc.integer({ min: 1, max: 600 })),
          spaces: fc.tuple(space, space, space),
        }),
      )
    fc.assert(
      fc.property(valid, ({ metric, agg, op, number, unit, window, spaces: [a, b, c] }) => {
        const info = lookup(metric)!
        const timed = info.unit === 'time' && agg !== 'count' && agg !== 'rate'
        const expression = `${agg}${a}${op}${b}${number}${timed ? unit : ''}${window === null ? '' : ` over ${window}s`}${c}`
        const outcome = run(() => parse({ [metric]: expression }), THRESHOLD_CODES)
        if (!outcome.ok) throw outcome.error
        expect(outcome.value).toHaveLength(1)
        const parsed = outcome.value[0]!
        expect(parsed.expression).toBe(expression.trim())
        expect(parsed.op).toBe(op)
        expect(parsed.target).toBe(Number(number) * (timed ? TIME_UNITS[unit]! : 1))
        expect(parsed.windowSec).toBe(window ?? undefined)
        expect(aggregationName(parsed)).toBe(agg === 'med' || !agg.startsWith('p') ? agg : `p(${Number(agg.replace(/[p() ]/g, ''))})`)
      }),
      { numRuns: RUNS },
    )
  })

  it('judges p(N), rate and count exactly as their operator and target say', () => {
    const trend = fc.array(fc.integer({ min: 1, max: 60_000_000 }), { minLength: 1, maxLength: 50 })
    fc.assert(
      fc.property(
        trend,
        fc.constantFrom('p(95)', 'p99.9', 'med', 'avg', 'min', 'max'),
        fc.nat({ max: 100 }),
        fc.nat({ max: 100 }),
        fc.constantFrom(...OPERATORS),
        fc.double({ min: 0, max: 70_000, noNaN: true }),
        fc.constantFrom('', 'ms', 's', 'us'),
        (micros, agg, passes, failures, op, x, unit) => {
          const h = createHistogram()
          for (const us of micros) recordMicros(h, us)
          const judge = (metric: string, expression: string, agg: Aggregate) => {
            const [t] = parse({ [metric]: expression })
            const r = evaluateThreshold(t!, agg, 10, lookup(metric)!)
            expect(formatThresholdLine(r)).toBe(`'${expression}' ${r.display}`)
            expect(r.display.startsWith(`${aggregationName(t!)}=`)).toBe(true)
            return r
          }
          const actual = judge('http_req_duration', `${agg}<0`, { type: 'trend', histogram: h }).actual!
          const target = Number(String(x)) * TIME_UNITS[unit]!
          expect(judge('http_req_duration', `${agg} ${op} ${x}${unit}`, { type: 'trend', histogram: h }).ok).toBe(compare(actual, op, target))

          const total = passes + failures
          const rate = judge('http_req_failed', `rate${op}${x / 70_000}`, { type: 'rate', passes, total })
          expect(rate.ok).toBe(total > 0 && compare(passes / total, op, x / 70_000))
          expect(judge('http_reqs', `count ${op} ${Math.round(x)}`, { type: 'counter', value: passes }).ok).toBe(compare(passes, op, Math.round(x)))
        },
      ),
      { numRuns: Math.ceil(RUNS / 2) },
    )
  })

  it('reads a baseline budget and judges it against the baseline changed by it', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<ThresholdOperator>('<', '<=', '>', '>='),
        fc.constantFrom('+', '-'),
        fc.nat({ max: 500 }),
        fc.constantFrom('%', '', 'ms', 's'),
        fc.double({ min: 0, max: 1e4, noNaN: true }),
        fc.double({ min: 0, max: 1e4, noNaN: true }),
        (op, sign, amount, unit, actual, baseline) => {
          const expression = `p(95)${op}${sign}${amount}${unit} baseline`
          const [t] = parse({ http_req_duration: expression })
          const relative = unit === '%'
          expect(t!.budget).toEqual({ relative, amount: Number(`${sign}${amount}`) * (relative ? 1 : TIME_UNITS[unit]!) })
          expect(Number.isNaN(t!.target)).toBe(true)
          const r = judgeBudget(t!, actual, baseline, lookup('http_req_duration')!)
          expect(r.ok).toBe(compare(actual, op, budgetLimit(t!.budget!, baseline)))
          expect(() => parse({ http_req_duration: { threshold: expression, abortOnFail: true } })).toThrow(/cannot abort on fail/)
        },
      ),
      { numRuns: RUNS },
    )
  })
})

function compare(a: number, op: ThresholdOperator, b: number): boolean {
  return op === '<' ? a < b : op === '<=' ? a <= b : op === '>' ? a > b : op === '>=' ? a >= b : op === '==' ? a === b : a !== b
}

// ---- long inputs -----------------------------------------------------------

const N = 50_000
/** Inputs shaped to make a backtracking regex take quadratic or worse time. */
const LONG: ReadonlyArray<{ kind: 'duration' | 'thresholds'; label: string; input: unknown }> = [
  ...[
    ['p( + digits', `p(${'9'.repeat(N)}`],
    ['p( + spaces', `p(${' '.repeat(N)}x<1`],
    ['p( + spaces + )', `p(${' '.repeat(N)}1 ${' '.repeat(N)})<1`],
    ['spaces before an operator', `p(95)${' '.repeat(N)}x<1`],
    ['spaces with no over', `p(95)<1${' '.repeat(N)}x`],
    ['spaces before baseline', `p(95)<+1${' '.repeat(N)}xbaseline`],
    ['many overs', `p(95)<1${' over'.repeat(N / 5)}`],
    ['digits', `p(95)<${'1'.repeat(N)}x`],
    ['dots', `p(95)<${'1.'.repeat(N / 2)}`],
    ['exponents', `p(95)<1${'e1'.repeat(N / 2)}`],
    ['a long aggregation', `${'a'.repeat(N)}<1`],
    ['a long p', `p${'9.'.repeat(N / 2)}<1`],
    ['operators', `p(95)${'<'.repeat(N)}1`],
    ['a long window', `p(95)<1 over ${'1'.repeat(N)}s`],
  ].map(([label, expression]) => ({ kind: 'thresholds' as const, label: label!, input: { http_req_duration: expression } })),
  ...[
    ['spaces in a key', `a${' '.repeat(N)}!`],
    ['spaces before a brace', `a${' '.repeat(N)}x{`],
    ['many braces', '{'.repeat(N)],
    ['many tags', `http_req_duration{${'a:b,'.repeat(N / 4)}}`],
    ['a long tag value', `http_req_duration{name:${' '.repeat(N)}}`],
  ].map(([label, key]) => ({ kind: 'thresholds' as const, label: label!, input: { [key!]: 'p(95)<1' } })),
  ...[
    ['repeated parts', '1s'.repeat(N / 2)],
    ['leading spaces', `${' '.repeat(N)}1s`],
    ['digits', `${'9'.repeat(N)}s`],
    ['exponent letters', `1${'e'.repeat(N)}`],
  ].map(([label, input]) => ({ kind: 'duration' as const, label: label!, input })),
]

describe('long inputs', () => {
  it(`parse each in under ${BOUND_MS} ms, in a worker that is stopped rather than left to hang`, async () => {
    const results = await inWorker(LONG, 8_000)
    for (const [i, r] of results.entries()) {
      const what = `${LONG[i]!.kind}: ${LONG[i]!.label}`
      expect(r.ms, what).toBeLessThan(BOUND_MS)
      // undefined: parsed without error (a long but valid input).
      expect(r.code, what).toBeOneOf([undefined, ...(LONG[i]!.kind === 'duration' ? DURATION_CODES : THRESHOLD_CODES)])
    }
  }, 15_000)
})

interface LongResult {
  ms: number
  code: string | undefined
}

/**
 * Parses `cases` in a worker thread: a regex that backtracks catastrophically
 * blocks its thread for minutes, which no timeout inside that thread can stop.
 */
async function inWorker(cases: typeof LONG, deadlineMs: number): Promise<LongResult[]> {
  const urls = ['duration', 'thresholds', 'errors'].map((m) => new URL(`../../src/core/${m}.ts`, import.meta.url).href)
  urls.push(new URL('../../src/runtime/metrics/user-metrics.ts', import.meta.url).href)
  const code = `
    const { parentPort, workerData } = require('node:worker_threads')
    Promise.all(workerData.urls.map((u) => import(u))).then(([d, t, e, u]) => {
      const timed = (fn) => {
        const start = performance.now()
        let code
        try { fn() } catch (error) { code = error instanceof e.ChaperonError ? error.code : 'not a ChaperonError: ' + error }
        return { ms: performance.now() - start, code }
      }
      parentPort.postMessage(workerData.cases.map(({ kind, input }) => {
        const fn = kind === 'duration' ? () => d.parseDuration(input, 'd') : () => t.parseThresholds(input, u.metricInfo, u.knownMetricNames())
        const first = timed(fn)
        return first.ms < ${BOUND_MS} ? first : timed(fn)
      }))
    })`
  const worker = new Worker(code, { eval: true, workerData: { urls, cases } })
  try {
    return await new Promise<LongResult[]>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the parsers did not finish ${cases.length} long inputs within ${deadlineMs} ms: catastrophic backtracking?`)), deadlineMs)
      worker.once('message', (m: LongResult[]) => {
        clearTimeout(timer)
        resolve(m)
      })
      worker.once('error', (error) => {
        clearTimeout(timer)
        reject(error)
      })
    })
  } finally {
    await worker.terminate()
  }
}
