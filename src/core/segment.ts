/**
 * Execution segments: how one run is split over several machines (and each
 * machine's share over its worker threads) so that the parts together run
 * exactly the plan of one. A part owns a stripe of the plan's slots (arrival
 * slots, iterations, VUs): slot i when `i % cycle` is one of its positions.
 * The stripes of a sequence are dealt out as k6 does: over one cycle of the
 * sequence's least common denominator, each position goes to the largest
 * segment that is due, so every slot has exactly one owner and each part's
 * slots are spread evenly through the plan.
 */

import { ChaperonError } from './errors.ts'

/** The env var that says which part of a split run this instance runs. */
export const SEGMENT_ENV = 'CHAPERON_SEGMENT'
/** The env var with the boundaries every instance splits by, for `from:to` segments. */
export const SEQUENCE_ENV = 'CHAPERON_SEGMENT_SEQUENCE'

/** The slots a part of a run owns: slot i when `i % cycle` is in `positions` (sorted, each below `cycle`). */
export interface Stripe {
  readonly cycle: number
  readonly positions: readonly number[]
}

/** The whole plan: every slot. */
export const WHOLE: Stripe = Object.freeze({ cycle: 1, positions: Object.freeze([0]) })

/** One segment of a sequence, parsed. */
export interface Segment {
  /** `from:to` in lowest terms, e.g. `1/3:2/3`: the label results carry. */
  label: string
  /** Every boundary of the sequence, e.g. `0,1/3,2/3,1`. */
  sequence: string
  /** The segment's place in the sequence, from 0. */
  index: number
  /** How many segments the sequence has. */
  count: number
  /** The slots this segment owns. */
  stripe: Stripe
}

// A cycle longer than this would make stripes (arrays of positions) needlessly large.
const MAX_CYCLE = 100_000

interface Fraction {
  n: number
  d: number
}

/**
 * Parses a segment as `CHAPERON_SEGMENT` gives it: `i/n`, the i-th of n equal
 * parts counted from 1, or `from:to` (fractions such as `1/4:3/4`, or decimals)
 * within `sequence`, the boundaries all instances split by (`0,1/4,3/4,1`;
 * by default `0,from,to,1`). Throws CHAPERON_INVALID_SEGMENT saying what to
 * write instead.
 */
export function parseSegment(value: string, sequence?: string): Segment {
  const text = value.trim()
  let bounds: Fraction[]
  let from: Fraction
  let to: Fraction
  if (!text.includes(':')) {
    const m = /^(\d+)\s*\/\s*(\d+)$/.exec(text)
    if (m === null) throw bad(`${SEGMENT_ENV}=${value} is not a segment. Write i/n for the i-th of n equal parts (${SEGMENT_ENV}=2/3), or from:to with ${SEQUENCE_ENV} (${SEGMENT_ENV}=1/4:3/4).`)
    const i = Number(m[1])
    const n = Number(m[2])
    if (n < 1 || n > 1000) throw bad(`${SEGMENT_ENV}=${value}: split into 1 to 1000 parts, as in ${SEGMENT_ENV}=1/3.`)
    if (i < 1 || i > n) throw bad(`${SEGMENT_ENV}=${value}: parts count from 1 to ${n}, so write one of 1/${n} … ${n}/${n}${i === 0 ? ` (1/${n} is the first)` : ''}.`)
    if (sequence !== undefined && sequence.trim() !== '') {
      throw bad(`${SEGMENT_ENV}=${value} splits into ${n} equal parts, which sets the sequence itself; unset ${SEQUENCE_ENV}, or write the segment as from:to (${SEGMENT_ENV}=${fractionText(reduce(i - 1, n))}:${fractionText(reduce(i, n))}).`)
    }
    bounds = Array.from({ length: n + 1 }, (_, k) => reduce(k, n))
    from = bounds[i - 1]!
    to = bounds[i]!
  } else {
    const [a, b, ...rest] = text.split(':')
    if (rest.length > 0) throw bad(`${SEGMENT_ENV}=${value} has more than one ':'. Write from:to, as in ${SEGMENT_ENV}=1/4:3/4.`)
    from = fraction(a!, `the start of ${SEGMENT_ENV}=${value}`)
    to = fraction(b!, `the end of ${SEGMENT_ENV}=${value}`)
    if (compare(from, to) >= 0) throw bad(`${SEGMENT_ENV}=${value} is empty: its start must be below its end, as in ${SEGMENT_ENV}=1/4:3/4.`)
    bounds = sequence === undefined || sequence.trim() === '' ? [from, to] : sequence.split(',').map((s) => fraction(s, `${SEQUENCE_ENV}=${sequence}`))
    for (let k = 1; k < bounds.length; k++) {
      if (compare(bounds[k - 1]!, bounds[k]!) >= 0) throw bad(`${SEQUENCE_ENV}=${sequence} must rise from boundary to boundary, as in ${SEQUENCE_ENV}=0,1/4,3/4,1.`)
    }
    if (compare(bounds[0]!, ZERO) !== 0) bounds.unshift(ZERO)
    if (compare(bounds.at(-1)!, ONE) !== 0) bounds.push(ONE)
  }
  const index = bounds.findIndex((f, k) => k + 1 < bounds.length && compare(f, from) === 0 && compare(bounds[k + 1]!, to) === 0)
  const sequenceText = bounds.map(fractionText).join(',')
  if (index < 0) throw bad(`${SEGMENT_ENV}=${value} is not one segment of the sequence ${sequenceText}. Write one of ${segmentLabels(sequenceText).join(', ')}.`)
  const stripes = stripesOf(bounds)
  return { label: `${fractionText(from)}:${fractionText(to)}`, sequence: sequenceText, index, count: bounds.length - 1, stripe: stripes[index]! }
}

/**
 * The stripe of each segment between consecutive `bounds` (0 … 1). Over one
 * cycle of the denominators' least common multiple, position p goes to the
 * first segment, largest first, that is due: one that has taken c positions
 * is due from p ≥ c·cycle/size on.
 */
function stripesOf(bounds: readonly Fraction[]): Stripe[] {
  const cycle = bounds.reduce((l, f) => lcm(l, f.d), 1)
  if (cycle > MAX_CYCLE) throw bad(`the sequence ${bounds.map(fractionText).join(',')} needs cycles of ${cycle} slots; use boundaries with smaller denominators (at most ${MAX_CYCLE} in common).`)
  const sizes = bounds.slice(1).map((f, k) => (f.n * cycle) / f.d - (bounds[k]!.n * cycle) / bounds[k]!.d)
  const order = sizes.map((_, k) => k).sort((a, b) => sizes[b]! - sizes[a]! || a - b)
  const taken = sizes.map(() => 0)
  const positions: number[][] = sizes.map(() => [])
  for (let p = 0; p < cycle; p++) {
    const k = order.find((s) => p * sizes[s]! >= taken[s]! * cycle)!
    taken[k]!++
    positions[k]!.push(p)
  }
  return positions.map((ps) => ({ cycle, positions: ps }))
}

/** Every segment of a sequence written as `parseSegment` writes it (`0,1/2,1` → `0:1/2`, `1/2:1`), labelled as results carry them. */
export function segmentLabels(sequence: string): string[] {
  const bounds = sequence.split(',')
  return bounds.slice(1).map((to, k) => `${bounds[k]}:${to}`)
}

/** How many of the slots 0 … value-1 `stripe` owns: its share of a count (VUs, iterations). */
export function scale(stripe: Stripe, value: number): number {
  const { cycle, positions } = stripe
  const rest = value % cycle
  let n = Math.floor(value / cycle) * positions.length
  for (const p of positions) if (p < rest) n++
  return n
}

/** The slot of the k-th (from 0) slot `stripe` owns. */
export function slotAt(stripe: Stripe, k: number): number {
  const m = stripe.positions.length
  return Math.floor(k / m) * stripe.cycle + stripe.positions[k % m]!
}

/**
 * Part `index` of `count` of `stripe`: its slots dealt out in turn, the k-th
 * to part k % count. The parts of a stripe together own exactly its slots, so
 * splitting a segment over worker threads keeps the segments apart.
 */
export function splitStripe(stripe: Stripe, index: number, count: number): Stripe {
  if (count === 1) return stripe
  const m = stripe.positions.length
  const positions: number[] = []
  for (let k = index; k < m * count; k += count) positions.push(slotAt(stripe, k))
  return { cycle: stripe.cycle * count, positions }
}

const ZERO: Fraction = { n: 0, d: 1 }
const ONE: Fraction = { n: 1, d: 1 }

function fraction(text: string, where: string): Fraction {
  const t = text.trim()
  let f: Fraction | undefined
  const ratio = /^(\d{1,6})\s*\/\s*(\d{1,6})$/.exec(t)
  if (ratio !== null && Number(ratio[2]) > 0) f = reduce(Number(ratio[1]), Number(ratio[2]))
  const decimal = /^(\d)(?:\.(\d{1,5}))?$/.exec(t)
  if (decimal !== null) {
    const digits = decimal[2] ?? ''
    f = reduce(Number(decimal[1]! + digits), 10 ** digits.length)
  }
  if (f === undefined || f.n > f.d) throw bad(`${where}: "${t}" is not a fraction from 0 to 1. Write one such as 1/3 or 0.25.`)
  return f
}

function reduce(n: number, d: number): Fraction {
  const g = gcd(n, d)
  return { n: n / g, d: d / g }
}

function compare(a: Fraction, b: Fraction): number {
  return a.n * b.d - b.n * a.d
}

function fractionText(f: Fraction): string {
  return f.d === 1 ? String(f.n) : `${f.n}/${f.d}`
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b]
  return a
}

function lcm(a: number, b: number): number {
  return (a / gcd(a, b)) * b
}

function bad(message: string): ChaperonError {
  return new ChaperonError('CHAPERON_INVALID_SEGMENT', message)
}
