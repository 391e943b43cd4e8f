import { randomBytes } from 'node:crypto'
import { rmSync } from 'node:fs'
import { createServer, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ProgressMessage } from '../core/progress.ts'

/** The main process's end of the progress channel. */
export interface ProgressServer {
  /** The socket path (a named pipe on Windows) workers connect to. */
  readonly path: string
  /** Stops listening, drops open connections and removes the socket file. */
  close(): Promise<void>
}

/**
 * A fresh socket path for this process: a file in the temporary directory, or
 * a named pipe on Windows. The random part avoids a file left behind by an
 * earlier run whose pid was the same (a crash, or another container sharing /tmp).
 */
export function progressSocketPath(platform: NodeJS.Platform = process.platform): string {
  const name = `chaperon-${process.pid}-${randomBytes(4).toString('hex')}`
  return platform === 'win32' ? `\\\\.\\pipe\\${name}` : join(tmpdir(), `${name}.sock`)
}

/**
 * Listens on `path` for the newline-delimited JSON `ProgressMessage`s that load
 * tests send from their workers, and passes each well-formed one to `onMessage`.
 * Anything else on the socket is dropped: progress must never fail a run.
 * Neither the server nor its connections keep the process alive.
 */
export function listenForProgress(path: string, onMessage: (message: ProgressMessage) => void): Promise<ProgressServer> {
  const connections = new Set<Socket>()
  const server = createServer((socket) => {
    connections.add(socket)
    socket.unref()
    socket.setEncoding('utf8')
    let pending = ''
    socket.on('data', (chunk: string) => {
      const lines = (pending + chunk).split('\n')
      pending = lines.pop() ?? ''
      for (const line of lines) {
        const message = parseMessage(line)
        if (message !== undefined) onMessage(message)
      }
    })
    socket.on('error', () => {})
    socket.on('close', () => connections.delete(socket))
  })
  server.unref()
  // Node removes the socket file when the server closes, but a run stopped with Ctrl-C exits without closing it.
  const removeFile = (): void => {
    if (process.platform !== 'win32') rmSync(path, { force: true })
  }
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(path, () => {
      server.off('error', reject)
      // An error after listening (there is none in practice) must not crash the main process.
      server.on('error', () => {})
      process.once('exit', removeFile)
      resolve({
        path,
        close: () =>
          new Promise((closed) => {
            process.off('exit', removeFile)
            server.close(() => closed())
            for (const socket of connections) socket.destroy()
          }),
      })
    })
  })
}

/** One line of the channel as a message, or undefined when it is not one. */
function parseMessage(line: string): ProgressMessage | undefined {
  let value: unknown
  try {
    value = JSON.parse(line)
  } catch {
    return undefined
  }
  if (typeof value !== 'object' || value === null) return undefined
  const m = value as Record<string, unknown>
  if (typeof m['testId'] !== 'string') return undefined
  if (m['type'] === 'end') return value as ProgressMessage
  if (m['type'] === 'second') return typeof m['name'] === 'string' && typeof m['t'] === 'number' && Array.isArray(m['samples']) ? (value as ProgressMessage) : undefined
  const numbers = ['elapsedMs', 'totalMs', 'vus', 'rps', 'errors', 'dropped'].every((key) => typeof m[key] === 'number')
  const p95 = m['p95Ms'] === null || typeof m['p95Ms'] === 'number'
  return m['type'] === 'progress' && typeof m['name'] === 'string' && numbers && p95 ? (value as ProgressMessage) : undefined
}
