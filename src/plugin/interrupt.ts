import type { CancelReason } from 'vitest'
import type { Reporter, Vitest } from 'vitest/node'

const SIGNALS = ['SIGINT', 'SIGTERM'] as const
type StopSignal = (typeof SIGNALS)[number]
// The shell's exit status for a process ended by the signal: 128 + its number.
const EXIT_CODES: Readonly<Record<StopSignal, number>> = { SIGINT: 130, SIGTERM: 143 }

/**
 * Makes the first SIGINT or SIGTERM during `vitest run` cancel the run
 * gracefully instead of exiting at once, so load tests end with their partial
 * results and every reporter still writes them. Returns a reporter that tells
 * it when a run starts and ends.
 *
 * `vitest run` exits on the first Ctrl-C. Its handlers are set aside when a
 * run starts and put back at the first signal, so a second one exits at once
 * as before, or when Vitest closes. Watch mode is left as it is: Vitest
 * cancels a run on Ctrl-C there itself, and exits on a signal.
 */
export function cancelOnStopSignal(vitest: Vitest): Reporter {
  let saved: Map<StopSignal, Array<(...args: unknown[]) => void>> | undefined
  let received: StopSignal | undefined

  const restore = (): void => {
    if (saved === undefined) return
    for (const signal of SIGNALS) {
      process.off(signal, onSignal)
      for (const listener of saved.get(signal)!) process.on(signal, listener)
    }
    saved = undefined
  }

  function onSignal(signal: StopSignal): void {
    restore()
    received = signal
    process.stderr.write(`\nchaperon: ${signal}: cancelling the run; load tests stop now and their partial results are reported. Send it again to exit at once.\n`)
    // The load tests see the reason, so their results say which signal stopped them.
    void vitest.cancelCurrentRun(signal as CancelReason)
  }

  vitest.onClose(restore)
  return {
    onTestRunStart() {
      if (saved !== undefined || vitest.config.watch) return
      saved = new Map(SIGNALS.map((signal) => [signal, process.listeners(signal) as Array<(...args: unknown[]) => void>]))
      for (const signal of SIGNALS) {
        process.removeAllListeners(signal)
        process.on(signal, onSignal)
      }
    },
    // The handlers stay set aside while the reporters write (they run at the same time as this one).
    onTestRunEnd() {
      // Vitest sets 1 for any interrupted run; a shell expects a signal's own code.
      if (received !== undefined) process.exitCode = EXIT_CODES[received]
      received = undefined
    },
  }
}
