// What the benchmark drivers share: knobs from the environment, output, the
// server process they measure against, and the arithmetic of their reports.
import { spawn } from 'node:child_process'
import type { Server, Socket } from 'node:net'
import { availableParallelism, arch, cpus, platform } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const benchDir = fileURLToPath(new URL('.', import.meta.url))
export const rootDir = join(benchDir, '..')
export const asJson = process.argv.includes('--json')
/** Prints a line of the human report; with --json, stdout carries only the JSON document, so this goes to stderr. */
export const say = (line = ''): void => void (asJson ? process.stderr : process.stdout).write(`${line}\n`)

/** An integer knob from the environment, from 1 to `max`. */
export function envInt(name: string, fallback: number, max: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`${name} must be an integer from 1 to ${max}, got '${raw}'`)
  return n
}

/** A client that outlives its run by this much is stuck; it is killed and the run counts as failed. */
export const GRACE_MS = 60_000

/** Starts `bench/<script>` in its own process and resolves once it prints `listening <port>`. */
export function startServerProcess(script: string, scheme: 'http' | 'ws'): Promise<{ url: string; stop(): void }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(benchDir, script)], { stdio: ['ignore', 'pipe', 'inherit'] })
    const timeout = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`bench/${script} did not print "listening <port>" within 10 s`))
    }, 10_000)
    let buffered = ''
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk
      const match = /listening (\d+)/.exec(buffered)
      if (match === null) return
      clearTimeout(timeout)
      resolve({ url: `${scheme}://127.0.0.1:${match[1]}/`, stop: () => void child.kill('SIGTERM') })
    })
    child.on('error', reject)
    child.on('exit', (code) => reject(new Error(`bench/${script} exited early with ${code}`)))
  })
}

/**
 * The other half of `startServerProcess`, run in the server's process: listens
 * on 127.0.0.1 (port `PORT`, else a free one), prints `listening <port>`, and on
 * SIGINT or SIGTERM stops and destroys `sockets`.
 */
export function listenAndReport(server: Server, sockets: Set<Socket>, name: string, backlog?: number): void {
  server.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1', ...(backlog === undefined ? {} : { backlog }) }, () => {
    const address = server.address()
    if (address === null || typeof address === 'string') throw new Error(`${name} has no TCP address`)
    console.log(`listening ${address.port}`)
  })
  const stop = (): void => {
    server.close()
    for (const socket of sockets) socket.destroy()
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

export const fmt = (n: number): string => Math.round(n).toLocaleString('en-US')
export const row = (...cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(14))).join('')

/** The machine a report was measured on. */
export const machine = {
  cpu: cpus()[0]?.model ?? 'unknown CPU',
  cores: availableParallelism(),
  node: process.version,
  platform: `${platform()} ${arch()}`,
}
