import { afterEach, describe, expect, it, vi } from 'vitest'
import type { Vitest } from 'vitest/node'
import { cancelOnStopSignal } from '../../src/plugin/interrupt.ts'
import { interruptionBy } from '../../src/runtime/load-test.ts'

/** A stand-in for the Vitest instance: what cancelOnStopSignal uses of it. */
function fakeVitest(watch = false) {
  const closers: Array<() => void> = []
  return {
    config: { watch },
    cancelCurrentRun: vi.fn(async () => {}),
    onClose: (fn: () => void) => void closers.push(fn),
    close: () => closers.forEach((fn) => fn()),
  }
}

describe('the first stop signal of a run cancels it gracefully', () => {
  const exitCode = process.exitCode
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
  afterEach(() => {
    process.exitCode = exitCode
    stderr.mockClear()
  })

  it("sets Vitest's exit handler aside during a run, cancels on SIGINT, puts it back for a second one, and exits 130", () => {
    const vitest = fakeVitest()
    const exitNow = vi.fn()
    process.on('SIGINT', exitNow)
    try {
      const reporter = cancelOnStopSignal(vitest as unknown as Vitest)
      reporter.onTestRunStart!([])
      expect(process.listeners('SIGINT')).not.toContain(exitNow)
      process.emit('SIGINT', 'SIGINT')
      expect(exitNow).not.toHaveBeenCalled()
      expect(vitest.cancelCurrentRun).toHaveBeenCalledWith('SIGINT')
      expect(stderr).toHaveBeenCalledWith(expect.stringContaining('chaperon: SIGINT: cancelling the run'))
      // The second Ctrl-C is Vitest's again: it exits at once.
      expect(process.listeners('SIGINT')).toContain(exitNow)
      process.emit('SIGINT', 'SIGINT')
      expect(exitNow).toHaveBeenCalledTimes(1)
      expect(vitest.cancelCurrentRun).toHaveBeenCalledTimes(1)
      process.exitCode = 1 // as Vitest sets it for an interrupted run, before the reporters' onTestRunEnd
      void reporter.onTestRunEnd!([], [], 'interrupted')
      expect(process.exitCode).toBe(130)
    } finally {
      process.off('SIGINT', exitNow)
    }
  })

  it('leaves the signals alone outside a run, and gives SIGTERM its own exit code', () => {
    const vitest = fakeVitest()
    const exitNow = vi.fn()
    process.on('SIGTERM', exitNow)
    try {
      const reporter = cancelOnStopSignal(vitest as unknown as Vitest)
      process.emit('SIGTERM', 'SIGTERM')
      expect(exitNow).toHaveBeenCalledTimes(1)
      expect(vitest.cancelCurrentRun).not.toHaveBeenCalled()
      reporter.onTestRunStart!([])
      process.emit('SIGTERM', 'SIGTERM')
      expect(exitNow).toHaveBeenCalledTimes(1)
      expect(vitest.cancelCurrentRun).toHaveBeenCalledWith('SIGTERM')
      void reporter.onTestRunEnd!([], [], 'interrupted')
      expect(process.exitCode).toBe(143)
      // A run that ends without a signal leaves the exit code alone; closing Vitest puts the handlers back.
      reporter.onTestRunStart!([])
      process.exitCode = 0
      void reporter.onTestRunEnd!([], [], 'passed')
      expect(process.exitCode).toBe(0)
      expect(process.listeners('SIGTERM')).not.toContain(exitNow)
      vitest.close()
      expect(process.listeners('SIGTERM')).toContain(exitNow)
    } finally {
      process.off('SIGTERM', exitNow)
    }
  })

  it('leaves watch mode alone: Vitest cancels a run on Ctrl-C there itself', () => {
    const vitest = fakeVitest(true)
    const exitNow = vi.fn()
    process.on('SIGTERM', exitNow)
    try {
      cancelOnStopSignal(vitest as unknown as Vitest).onTestRunStart!([])
      process.emit('SIGTERM', 'SIGTERM')
      expect(exitNow).toHaveBeenCalledTimes(1)
      expect(vitest.cancelCurrentRun).not.toHaveBeenCalled()
    } finally {
      process.off('SIGTERM', exitNow)
    }
  })
})

describe('what a load test says stopped it', () => {
  const cancelled = (reason: string) => Object.assign(new Error('The test run was aborted by the user.'), { name: 'TestRunAbortError', reason })
  it.each([
    [cancelled('SIGINT'), 'SIGINT'],
    [cancelled('SIGTERM'), 'SIGTERM'],
    [cancelled('keyboard-input'), 'cancel'],
    [cancelled('test-failure'), 'cancel'],
    [Object.assign(new Error('Test timed out in 3000ms.'), { name: 'TestTimeoutError' }), 'timeout'],
  ])('%s → %s', (reason, by) => {
    expect(interruptionBy(reason)).toBe(by)
  })
})
