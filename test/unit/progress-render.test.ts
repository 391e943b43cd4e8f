import { stripVTControlCharacters } from 'node:util'
import { describe, expect, it, vi } from 'vitest'
import type { TestCase, Vitest } from 'vitest/node'
import type { ProgressSnapshot } from '../../src/core/progress.ts'
import { createPalette } from '../../src/reporters/colors.ts'
import {
  createProgressDisplay,
  PlainProgress,
  type ProgressUpdate,
  renderPlainProgressLine,
  renderProgressLine,
  TerminalProgress,
} from '../../src/reporters/progress-render.ts'
import { SummaryReporter } from '../../src/reporters/summary-reporter.ts'

const plain = createPalette(false)
const ESC = '\u001b'

const snapshot: ProgressSnapshot = { elapsedMs: 12_000, totalMs: 30_000, vus: 50, rps: 312.4, p95Ms: 48.23, errors: 3, dropped: 0 }

function update(testId: string, name: string, overrides: Partial<ProgressSnapshot> = {}): ProgressUpdate {
  return { type: 'progress', testId, name, ...snapshot, ...overrides }
}

/** A terminal stand-in: records every chunk written to it. */
class FakeTerminal {
  readonly isTTY = true
  readonly columns: number
  readonly chunks: string[] = []

  constructor(columns = 120) {
    this.columns = columns
  }

  write(chunk: string): boolean {
    this.chunks.push(chunk)
    return true
  }

  /** The most recent chunk as lines, with the leading cursor movement shown as `<up N>`. */
  get last(): string {
    return (this.chunks.at(-1) ?? '').replace(new RegExp(`${ESC}\\[(\\d+)A\\r${ESC}\\[J`), '<up $1>')
  }
}

describe('renderProgressLine', () => {
  it('shows time, VUs, req/s, p95, errors and dropped', () => {
    expect(renderProgressLine('checkout holds up', snapshot, plain, 200)).toBe(
      '⏵ checkout holds up  12.0s/30.0s  VUs 50  312 req/s  p95 48.2ms  errors 3  dropped 0',
    )
    expect(renderProgressLine('t', { ...snapshot, rps: 2.5, p95Ms: null, errors: 0 }, plain, 200)).toBe(
      '⏵ t  12.0s/30.0s  VUs 50  2.5 req/s  p95 -  errors 0  dropped 0',
    )
  })

  it('colours errors and dropped iterations only when there are some', () => {
    const line = renderProgressLine('t', { ...snapshot, dropped: 2 }, createPalette(true), 200)
    expect(line).toContain(`${ESC}[31merrors 3`)
    expect(line).toContain(`${ESC}[33mdropped 2`)
    expect(stripVTControlCharacters(line)).toBe(renderProgressLine('t', { ...snapshot, dropped: 2 }, plain, 200))
  })

  it('cuts a long name to fit the width, then drops the last fields in a narrow terminal', () => {
    const name = 'a very long load test name that goes on and on and on'
    const cut = renderProgressLine(name, snapshot, createPalette(true), 80)
    expect(stripVTControlCharacters(cut)).toBe('⏵ a very long…  12.0s/30.0s  VUs 50  312 req/s  p95 48.2ms  errors 3  dropped 0')
    const narrow = renderProgressLine(name, snapshot, plain, 40)
    expect(narrow).toBe('⏵ a very long load…  12.0s/30.0s  VUs 50')
    for (const width of [30, 20, 12]) expect(renderProgressLine(name, snapshot, plain, width).length).toBeLessThanOrEqual(width)
  })

  it('keeps a name with line breaks on one line', () => {
    expect(renderProgressLine('two\nlines', snapshot, plain, 200)).toMatch(/^⏵ two lines {2}/)
  })
})

describe('renderPlainProgressLine', () => {
  it('is one plain line with the [chaperon] prefix', () => {
    expect(renderPlainProgressLine('checkout holds up', snapshot)).toBe('[chaperon] checkout holds up 12.0s/30.0s VUs 50 312 req/s p95 48.2ms errors 3 dropped 0')
  })
})

describe('TerminalProgress', () => {
  function setup() {
    const out = new FakeTerminal()
    const err = new FakeTerminal()
    const display = new TerminalProgress(out, [err], plain, 0)
    return { out, err, display }
  }

  it('redraws its block in place, rewinding exactly the lines it drew last', () => {
    const { out, display } = setup()
    display.update(update('a', 'first'))
    expect(out.last).toMatch(/^⏵ first .*\n$/)
    display.update(update('a', 'first', { elapsedMs: 13_000 }))
    expect(out.last).toMatch(/^<up 1>⏵ first {2}13\.0s\/30\.0s.*\n$/)
    display.update(update('b', 'second'))
    expect(out.last.split('\n')).toEqual(['<up 1>⏵ first  13.0s/30.0s  VUs 50  312 req/s  p95 48.2ms  errors 3  dropped 0', expect.stringMatching(/^⏵ second /), ''])
    display.update(update('a', 'first', { elapsedMs: 14_000 }))
    expect(out.last).toMatch(/^<up 2>⏵ first {2}14\.0s.*\n⏵ second .*\n$/)
    expect(out.chunks).toHaveLength(4)
    display.close()
  })

  it('prints a fresh block below anything else written to stdout or stderr since its last one', () => {
    const { out, err, display } = setup()
    display.update(update('a', 'first'))
    display.update(update('b', 'second'))
    out.write(' ✓ some other test\n')
    display.update(update('a', 'first', { elapsedMs: 13_000 }))
    expect(out.last).toMatch(/^⏵ first {2}13\.0s.*\n⏵ second .*\n$/)
    display.update(update('a', 'first', { elapsedMs: 14_000 }))
    expect(out.last).toMatch(/^<up 2>⏵ first {2}14\.0s/)
    err.write('a warning\n')
    display.update(update('a', 'first', { elapsedMs: 15_000 }))
    expect(out.last).toMatch(/^⏵ first {2}15\.0s/)
    display.close()
  })

  it('removes the line of a test that ended, and erases an empty block', () => {
    const { out, display } = setup()
    display.update(update('a', 'first'))
    display.update(update('b', 'second'))
    display.end('a')
    expect(out.last).toMatch(/^<up 2>⏵ second .*\n$/)
    display.end('unknown')
    display.end('b')
    expect(out.last).toBe('<up 1>')
    expect(out.chunks).toHaveLength(4)
    display.close()
    expect(out.chunks).toHaveLength(4)
  })

  it('erases its block on close and gives the streams their own write back', () => {
    const { out, err, display } = setup()
    const ownWrite = FakeTerminal.prototype.write
    display.update(update('a', 'first'))
    expect(out.write).not.toBe(ownWrite)
    expect(err.write).not.toBe(ownWrite)
    display.close()
    expect(out.last).toBe('<up 1>')
    expect(out.write).toBe(ownWrite)
    expect(err.write).toBe(ownWrite)
  })

  it('wraps a stream again when someone replaced its write, and treats that as a foreign write', () => {
    const { out, display } = setup()
    display.update(update('a', 'first'))
    out.write = FakeTerminal.prototype.write
    display.update(update('a', 'first', { elapsedMs: 13_000 }))
    expect(out.last).toMatch(/^⏵ first {2}13\.0s/)
    display.update(update('a', 'first', { elapsedMs: 14_000 }))
    expect(out.last).toMatch(/^<up 1>⏵ first {2}14\.0s/)
    display.close()
  })

  it('redraws at most once per interval, with the latest state', async () => {
    const out = new FakeTerminal()
    const display = new TerminalProgress(out, [], plain, 300)
    display.update(update('a', 'first'))
    display.update(update('a', 'first', { elapsedMs: 13_000 }))
    display.update(update('a', 'first', { elapsedMs: 14_000 }))
    expect(out.chunks).toHaveLength(1)
    await vi.waitFor(() => expect(out.chunks).toHaveLength(2), { timeout: 5_000 })
    expect(out.last).toMatch(/^<up 1>⏵ first {2}14\.0s/)
    display.close()
  })
})

describe('PlainProgress', () => {
  it('prints one plain line per running test each time it passes another 10 seconds', () => {
    const out = new FakeTerminal()
    const display = new PlainProgress(out)
    for (let s = 1; s <= 25; s++) {
      display.update(update('a', 'first', { elapsedMs: s * 1000 + 3 }))
      if (s >= 5) display.update(update('b', 'second', { elapsedMs: (s - 4) * 1000 }))
    }
    expect(out.chunks).toEqual([
      expect.stringMatching(/^\[chaperon\] first 10\.0s\/30\.0s VUs 50 .*\n$/),
      expect.stringMatching(/^\[chaperon\] second 10\.0s\/30\.0s /),
      expect.stringMatching(/^\[chaperon\] first 20\.0s\/30\.0s /),
      expect.stringMatching(/^\[chaperon\] second 20\.0s\/30\.0s /),
    ])
    expect(out.chunks.join('')).not.toContain(ESC)
    display.end('a')
    display.update(update('a', 'first again', { elapsedMs: 10_000 }))
    expect(out.last).toMatch(/^\[chaperon\] first again 10\.0s/)
  })
})

describe('createProgressDisplay', () => {
  it('redraws in place on a terminal, and prints plain lines when the output is not a TTY or CI is set', () => {
    const tty = new FakeTerminal()
    expect(createProgressDisplay(tty, [], {})).toBeInstanceOf(TerminalProgress)
    expect(createProgressDisplay(tty, [], { CI: 'false' })).toBeInstanceOf(TerminalProgress)
    expect(createProgressDisplay(tty, [], { CI: 'true' })).toBeInstanceOf(PlainProgress)
    expect(createProgressDisplay({ write: () => true }, [], {})).toBeInstanceOf(PlainProgress)
  })
})

describe('SummaryReporter live progress', () => {
  /** Enough of Vitest for the reporter: logger streams and close hooks. */
  function fakeVitest() {
    const closers: Array<() => unknown> = []
    const vitest = {
      logger: { outputStream: new FakeTerminal(), errorStream: new FakeTerminal(), log: () => {} },
      onClose: (fn: () => unknown) => closers.push(fn),
      close: () => closers.forEach((fn) => fn()),
    }
    return vitest
  }
  const testCase = (id: string) => ({ id, meta: () => ({}) }) as unknown as TestCase

  it('draws what the channel sends, drops a line when its test result arrives, and cleans up on close', () => {
    vi.stubEnv('CI', '')
    vi.stubEnv('NO_COLOR', '1')
    try {
      const vitest = fakeVitest()
      const out = vitest.logger.outputStream
      const reporter = new SummaryReporter()
      reporter.onInit(vitest as unknown as Vitest)
      reporter.onLive(update('a', 'first'))
      expect(out.last).toMatch(/^⏵ first /)
      reporter.onTestCaseResult(testCase('a'))
      expect(out.last).toBe('<up 1>')
      reporter.onLive(update('b', 'second'))
      reporter.onLive({ type: 'end', testId: 'b' })
      expect(out.last).toBe('<up 1>')
      vitest.close()
      expect(out.write).toBe(FakeTerminal.prototype.write)
    } finally {
      vi.unstubAllEnvs()
    }
  })

  it('shows nothing with { progress: false }', () => {
    const vitest = fakeVitest()
    const reporter = new SummaryReporter({ progress: false })
    reporter.onInit(vitest as unknown as Vitest)
    reporter.onLive(update('a', 'first'))
    expect(vitest.logger.outputStream.chunks).toEqual([])
  })
})
