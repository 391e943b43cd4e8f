import { performance } from 'node:perf_hooks'
import { stripVTControlCharacters } from 'node:util'
import type { ProgressMessage, ProgressSnapshot } from '../core/progress.ts'
import { createPalette, type Palette, useColors } from './colors.ts'
import { formatMillis } from './summary-render.ts'

/** The progress message of a running test. */
export type ProgressUpdate = Extract<ProgressMessage, { type: 'progress' }>

/** A stream the progress display writes to or watches: `process.stdout`, Vitest's logger streams, or a test double. */
export interface ProgressOutput {
  write(chunk: string): boolean
  readonly isTTY?: boolean
  readonly columns?: number
}

/** How the summary reporter shows the load tests that are running. */
export interface ProgressDisplay {
  /** Shows the latest state of a running test. */
  update(update: ProgressUpdate): void
  /** Drops the line of a test that ended. */
  end(testId: string): void
  /** Drops every line and stops watching the streams. */
  close(): void
}

const PLAIN = createPalette(false)
// Trailing fields give way before the name gets shorter than this.
const MIN_NAME = 10
// Cursor up `n` lines to column 1, then clear to the end of the screen.
const rewind = (n: number): string => `\x1b[${n}A\r\x1b[J`

/**
 * The terminal line of one running test, at most `width` columns wide:
 * `⏵ checkout holds up  12.0s/30.0s  VUs 50  312 req/s  p95 48.2ms  errors 3  dropped 0`.
 * A long name is cut with `…`; in a narrow terminal the last fields go first.
 */
export function renderProgressLine(name: string, snapshot: ProgressSnapshot, palette: Palette, width: number): string {
  const fields = progressFields(snapshot, palette)
  const title = oneLine(name)
  const room = (): number => width - 2 - fields.reduce((sum, f) => sum + 2 + stripVTControlCharacters(f).length, 0)
  while (fields.length > 0 && room() < Math.min(MIN_NAME, title.length)) fields.pop()
  return [`${palette.cyan('⏵')} ${palette.bold(truncate(title, room()))}`, ...fields].join('  ')
}

/** The CI log line of one running test: `[chaperon] checkout holds up 10.0s/30.0s VUs 50 312 req/s p95 48.2ms errors 3 dropped 0`. */
export function renderPlainProgressLine(name: string, snapshot: ProgressSnapshot): string {
  return `[chaperon] ${oneLine(name)} ${progressFields(snapshot, PLAIN).join(' ')}`
}

function progressFields(s: ProgressSnapshot, p: Palette): string[] {
  return [
    `${seconds(s.elapsedMs)}/${seconds(s.totalMs)}`,
    `${p.dim('VUs')} ${s.vus}`,
    `${s.rps < 10 ? s.rps.toFixed(1) : Math.round(s.rps)} ${p.dim('req/s')}`,
    `${p.dim('p95')} ${s.p95Ms === null ? '-' : formatMillis(s.p95Ms)}`,
    s.errors > 0 ? p.red(`errors ${s.errors}`) : p.dim('errors 0'),
    s.dropped > 0 ? p.yellow(`dropped ${s.dropped}`) : p.dim('dropped 0'),
  ]
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`
}

// A test name with a line break would make the block taller than the lines counted.
function oneLine(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f]+/g, ' ')
}

function truncate(text: string, room: number): string {
  const chars = Array.from(text)
  if (chars.length <= room) return text
  return room <= 0 ? '' : `${chars.slice(0, room - 1).join('').trimEnd()}…`
}

/**
 * Live progress in a terminal: one line per running test, kept as a block at
 * the bottom of the log and redrawn in place.
 *
 * A redraw moves the cursor up over the previous block, so it is only safe
 * while nothing else was written after that block. The display therefore wraps
 * the `write` of the watched streams (stdout, stderr, Vitest's logger streams)
 * and, after any foreign write, prints a fresh block below it instead. Under
 * Vitest's own bottom window, which buffers every write and prints it above
 * the window, this keeps our block just above Vitest's window.
 *
 * The wrapping is done at the first draw, after Vitest's reporters have set up
 * their own interception, so that Vitest's window redraws (written with the
 * streams' original `write`) do not count as foreign writes. If someone
 * replaces a watched `write` later, it is wrapped again.
 */
export class TerminalProgress implements ProgressDisplay {
  readonly #out: ProgressOutput
  readonly #watched: readonly ProgressOutput[]
  readonly #palette: Palette
  readonly #intervalMs: number
  readonly #tests = new Map<string, ProgressUpdate>()
  readonly #wrapped = new Map<ProgressOutput, { wrapper: ProgressOutput['write']; original: ProgressOutput['write'] }>()
  // Lines of our block right above the cursor: 0 when there is none, or when something was written after it.
  #lines = 0
  #drawing = false
  #lastDraw = Number.NEGATIVE_INFINITY
  #timer: NodeJS.Timeout | undefined

  /**
   * @param out Where the block is drawn; always watched.
   * @param watched Other streams whose writes end up on the same screen.
   * @param intervalMs Least time between two redraws caused by updates; an ended test's line goes at once.
   */
  constructor(out: ProgressOutput, watched: readonly ProgressOutput[], palette: Palette, intervalMs = 1000) {
    this.#out = out
    this.#watched = [...new Set([out, ...watched])]
    this.#palette = palette
    this.#intervalMs = intervalMs
  }

  update(update: ProgressUpdate): void {
    this.#tests.set(update.testId, update)
    if (this.#timer !== undefined) return
    const wait = this.#lastDraw + this.#intervalMs - performance.now()
    if (wait <= 0) this.#draw()
    else this.#timer = setTimeout(() => this.#draw(), wait).unref()
  }

  end(testId: string): void {
    if (this.#tests.delete(testId)) this.#draw()
  }

  close(): void {
    this.#tests.clear()
    if (this.#lines > 0) this.#draw()
    clearTimeout(this.#timer)
    this.#timer = undefined
    for (const [stream, { wrapper, original }] of this.#wrapped) {
      if (stream.write === wrapper) stream.write = original
    }
    this.#wrapped.clear()
  }

  #draw(): void {
    clearTimeout(this.#timer)
    this.#timer = undefined
    this.#lastDraw = performance.now()
    this.#watch()
    // One column spare: a line that fills the last column wraps early in some terminals.
    const width = (this.#out.columns ?? 80) - 1
    const lines = [...this.#tests.values()].map((t) => `${renderProgressLine(t.name, t, this.#palette, width)}\n`)
    const chunk = (this.#lines > 0 ? rewind(this.#lines) : '') + lines.join('')
    this.#lines = lines.length
    if (chunk === '') return
    this.#drawing = true
    try {
      this.#out.write(chunk)
    } finally {
      this.#drawing = false
    }
  }

  #watch(): void {
    for (const stream of this.#watched) {
      if (this.#wrapped.get(stream)?.wrapper === stream.write) continue
      const original = stream.write
      const wrapper = (...args: unknown[]): boolean => {
        if (!this.#drawing) this.#lines = 0
        return Reflect.apply(original, stream, args)
      }
      stream.write = wrapper
      this.#wrapped.set(stream, { wrapper, original })
      // Whatever replaced our wrapper may have written after the block.
      this.#lines = 0
    }
  }
}

/**
 * Live progress for a log that is not a terminal (CI): a plain line per running
 * test each time its run passes another `intervalMs`, with no cursor movement.
 */
export class PlainProgress implements ProgressDisplay {
  readonly #out: ProgressOutput
  readonly #intervalMs: number
  // Per running test, the number of whole intervals already printed.
  readonly #printed = new Map<string, number>()

  /** @param intervalMs Run time between two lines of one test. */
  constructor(out: ProgressOutput, intervalMs = 10_000) {
    this.#out = out
    this.#intervalMs = intervalMs
  }

  update(update: ProgressUpdate): void {
    const due = Math.floor(update.elapsedMs / this.#intervalMs)
    if (due <= (this.#printed.get(update.testId) ?? 0)) return
    this.#printed.set(update.testId, due)
    this.#out.write(`${renderPlainProgressLine(update.name, update)}\n`)
  }

  end(testId: string): void {
    this.#printed.delete(testId)
  }

  close(): void {
    this.#printed.clear()
  }
}

/**
 * The display for `out`: {@link TerminalProgress} on a TTY, {@link PlainProgress}
 * when `out` is not a TTY or `CI` is set (CI logs keep every byte, so redrawn
 * lines would pile up there).
 */
export function createProgressDisplay(out: ProgressOutput, watched: readonly ProgressOutput[], env: Record<string, string | undefined>): ProgressDisplay {
  const ci = env['CI'] !== undefined && env['CI'] !== '' && env['CI'] !== 'false' && env['CI'] !== '0'
  return out.isTTY === true && !ci ? new TerminalProgress(out, watched, createPalette(useColors(out, env))) : new PlainProgress(out)
}
