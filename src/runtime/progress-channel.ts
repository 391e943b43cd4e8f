import { createConnection, type Socket } from 'node:net'
import { PROGRESS_SOCKET_ENV, type ProgressMessage, type ProgressSnapshot } from '../core/progress.ts'
import type { IntervalSample } from '../core/timeline.ts'

/** Where one running load test sends its live progress. */
export interface ProgressSink {
  /** Sends the test's state; connects on the first call. */
  update(snapshot: ProgressSnapshot): void
  /** Sends one closed second of the test's metrics, for reporters that stream them. */
  second(t: number, samples: IntervalSample[]): void
  /** Tells the main process the test ended, then closes; later updates are dropped. */
  end(): Promise<void>
}

/**
 * Opens the progress channel of one load test to the main process, or returns
 * undefined when there is none (`CHAPERON_PROGRESS_SOCKET` unset: no chaperon
 * plugin, or its reporters do not show progress).
 *
 * Progress is best effort: a missing or broken socket means no progress line,
 * never an error in the load test, and the socket never keeps the process alive.
 *
 * @param testId Vitest's id of the test (`context.task.id`), so the reporter can
 *   drop the line when that test's result arrives.
 * @param name The name shown on the line.
 * @param env Where to read `CHAPERON_PROGRESS_SOCKET` from.
 */
export function openProgress(testId: string, name: string, env: NodeJS.ProcessEnv = process.env): ProgressSink | undefined {
  const path = env[PROGRESS_SOCKET_ENV]
  if (path === undefined || path === '') return undefined
  let socket: Socket | undefined
  let ended = false
  const line = (message: ProgressMessage): string => `${JSON.stringify(message)}\n`
  const send = (message: ProgressMessage): void => {
    if (ended) return
    if (socket === undefined) {
      socket = createConnection(path)
      // Without a listener, a failed connection would be an uncaught error.
      socket.on('error', () => {})
      socket.unref()
    }
    if (!socket.destroyed) socket.write(line(message))
  }
  return {
    update(snapshot) {
      send({ ...snapshot, type: 'progress', testId, name })
    },
    second(t, samples) {
      send({ type: 'second', testId, name, t, samples })
    },
    end() {
      const open = socket
      const wasEnded = ended
      ended = true
      if (wasEnded || open === undefined || open.destroyed) return Promise.resolve()
      return new Promise((resolve) => {
        // 'close' also comes when the connection fails before the end message is out.
        open.once('close', () => resolve())
        open.end(line({ type: 'end', testId }), () => resolve())
      })
    },
  }
}
