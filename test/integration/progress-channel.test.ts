import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createConnection } from 'node:net'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { ProgressMessage, ProgressSnapshot } from '../../src/core/progress.ts'
import type { IntervalSample } from '../../src/core/timeline.ts'
import { listenForProgress, progressSocketPath, type ProgressServer } from '../../src/reporters/progress.ts'
import { PROGRESS_SOCKET_ENV } from '../../src/core/progress.ts'
import { openProgress } from '../../src/runtime/progress-channel.ts'

const run = promisify(execFile)
const snapshot: ProgressSnapshot = { elapsedMs: 1000, totalMs: 30_000, vus: 5, rps: 120, p95Ms: 12.5, errors: 0, dropped: 1 }

let server: ProgressServer | undefined

afterEach(async () => {
  await server?.close()
  server = undefined
})

/** A real progress server on a fresh socket, and the messages it received. */
async function listen(): Promise<{ env: Record<string, string>; received: ProgressMessage[] }> {
  const received: ProgressMessage[] = []
  server = await listenForProgress(progressSocketPath(), (message) => received.push(message))
  return { env: { [PROGRESS_SOCKET_ENV]: server.path }, received }
}

describe('progress channel', () => {
  it('carries the updates and the end of each test from openProgress to the server', async () => {
    const { env, received } = await listen()
    const first = openProgress('test-1', 'checkout holds up', env)!
    const second = openProgress('test-2', 'browse holds up', env)!
    first.update(snapshot)
    second.update({ ...snapshot, p95Ms: null })
    first.update({ ...snapshot, elapsedMs: 2000 })
    await first.end()
    first.update({ ...snapshot, elapsedMs: 3000 })
    await second.end()
    await vi.waitFor(() => expect(received).toHaveLength(5), { timeout: 10_000 })
    const ofTest = (id: string) => received.filter((m) => m.testId === id)
    expect(ofTest('test-1')).toEqual([
      { type: 'progress', testId: 'test-1', name: 'checkout holds up', ...snapshot },
      { type: 'progress', testId: 'test-1', name: 'checkout holds up', ...snapshot, elapsedMs: 2000 },
      { type: 'end', testId: 'test-1' },
    ])
    expect(ofTest('test-2')).toEqual([
      { type: 'progress', testId: 'test-2', name: 'browse holds up', ...snapshot, p95Ms: null },
      { type: 'end', testId: 'test-2' },
    ])
  })

  it('carries the closed seconds of a test, samples and all', async () => {
    const { env, received } = await listen()
    const sink = openProgress('test-3', 'streams', env)!
    const samples: IntervalSample[] = [
      { metric: 'http_reqs', type: 'counter', tags: { name: 'GET /' }, point: { t: 0, value: 42 } },
      { metric: 'vus', type: 'gauge', tags: {}, point: { t: 0, value: 3, min: 1, max: 3 } },
    ]
    sink.second(0, samples)
    await sink.end()
    await vi.waitFor(() => expect(received).toHaveLength(2), { timeout: 10_000 })
    expect(received[0]).toEqual({ type: 'second', testId: 'test-3', name: 'streams', t: 0, samples })
  })

  it('drops lines that are not progress messages and keeps reading', async () => {
    const { received } = await listen()
    const socket = createConnection(server!.path)
    const good = JSON.stringify({ type: 'end', testId: 'x' })
    socket.write(`not json\n{"type":"progress","testId":"x"}\n{"type":"other","testId":"x"}\nnull\n${good.slice(0, 5)}`)
    socket.end(`${good.slice(5)}\n`)
    await vi.waitFor(() => expect(received).toEqual([{ type: 'end', testId: 'x' }]), { timeout: 10_000 })
  })

  it('removes the socket file on close', async () => {
    await listen()
    const path = server!.path
    if (process.platform !== 'win32') expect(existsSync(path)).toBe(true)
    await server!.close()
    server = undefined
    expect(existsSync(path)).toBe(false)
  })

  it('removes the socket file when the process exits without closing the server', async () => {
    const module = fileURLToPath(new URL('../../src/reporters/progress.ts', import.meta.url))
    const script = `import { listenForProgress, progressSocketPath } from ${JSON.stringify(pathToFileURL(module).href)}
      const server = await listenForProgress(progressSocketPath(), () => {})
      console.log(server.path)
      process.exit(0)`
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script])
    const path = stdout.trim()
    expect(path).toMatch(/chaperon-\d+-[0-9a-f]{8}/)
    expect(existsSync(path)).toBe(false)
  })

  it('closes while a worker still holds a connection open', async () => {
    const { env, received } = await listen()
    openProgress('test-1', 'still running', env)!.update(snapshot)
    await vi.waitFor(() => expect(received).toHaveLength(1), { timeout: 10_000 })
    await server!.close()
    server = undefined
  })
})

describe('openProgress', () => {
  it('is undefined when no socket is set', () => {
    expect(openProgress('t', 'name', {})).toBeUndefined()
    expect(openProgress('t', 'name', { [PROGRESS_SOCKET_ENV]: '' })).toBeUndefined()
  })

  it('never throws and ends quietly when the socket does not exist', async () => {
    const sink = openProgress('t', 'name', { [PROGRESS_SOCKET_ENV]: progressSocketPath() })!
    expect(sink).toBeDefined()
    sink.update(snapshot)
    sink.update(snapshot)
    await sink.end()
    sink.update(snapshot)
    await sink.end()
  })

  it('ends at once when nothing was sent', async () => {
    await openProgress('t', 'name', { [PROGRESS_SOCKET_ENV]: progressSocketPath() })!.end()
  })

  it('reads the socket from process.env by default', () => {
    vi.stubEnv(PROGRESS_SOCKET_ENV, progressSocketPath())
    try {
      expect(openProgress('t', 'name')).toBeDefined()
    } finally {
      vi.unstubAllEnvs()
    }
  })
})
