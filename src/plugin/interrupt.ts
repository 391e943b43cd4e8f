import type { CancelReason } from 'vitest'
import type { Reporter, Vitest } from 'vitest/node'

const SIGNALS = ['SIGINT', 'SIGTERM'] as const
type StopSignal = (typeof SIGNALS)[number]
// The shell's exit status for a process ended by the signal: 128 + its number.
const EXIT_CODES: Readonly<Record<StopSignal, number>> = { SIGINT: 130, SIGTERM: 143 }

/**
 * Makes the first SIGINT or SIGTERM during a run cancel it gracefully instead
 * of exiting at once, so load tests end with their partial results and every
 * reporter still writes its files. Returns a reporter that tells it when a
 * run is in progress.
 *
 * `vitest run` exits on the first Ctrl-C; its handlers are set aside while a
 * run is in progress and put back at the first signal, so a second Ctrl-C
 * exits at once as before. Outside a run the signals work as Vitest made them.
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
      if (saved !== undefined) return
      saved = new Map(SIGNALS.map((signal) => [signal, process.listeners(signal) as Array<(...args: unknown[]) => void>]))
      for (const signal of SIGNALS) {
        process.removeAllListeners(signal)
        process.on(signal, onSignal)
      }
    },
    onTestRunEnd() {
      restore()
      // Vitest sets 1 for any interrupted run; a shell expects a signal's own code.
      if (received !== undefined) process.exitCode = EXIT_CODES[received]
      received = undefined
    },
  }
}
