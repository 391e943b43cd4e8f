// What the benchmark drivers share: knobs from the environment, output, the
// server process they measure against, and the arithmetic of their reports.
import { spawn } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import type { Server, Socket } from 'node:net'
import { availableParallelism, arch, cpus, loadavg, platform } from 'node:os'
import { delimiter, join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { Pool } from 'undici'

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

/**
 * Starts `bench/<script>` in its own process and resolves once it prints
 * `listening <port>`. `prefix` runs it under another command, such as
 * `['taskset', '-c', '1']` to pin it to a core.
 */
export function startServerProcess(script: string, scheme: 'http' | 'ws', prefix: readonly string[] = []): Promise<{ url: string; stop(): void }> {
  return new Promise((resolve, reject) => {
    const [command, ...args] = [...prefix, process.execPath, join(benchDir, script)]
    const child = spawn(command!, args, { stdio: ['ignore', 'pipe', 'inherit'] })
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
 * Sends `requests` GETs to `url` over `connections` connections and waits for
 * every answer. A server process just started runs its code unoptimised for
 * its first thousands of requests; a benchmark of the client should not
 * measure that in its first round only.
 */
export async function warmServer(url: string, requests = 20_000, connections = 50): Promise<void> {
  const { origin, pathname } = new URL(url)
  const pool = new Pool(origin, { connections })
  let sent = 0
  try {
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (sent++ < requests) await (await pool.request({ method: 'GET', path: pathname })).body.dump()
      }),
    )
  } finally {
    await pool.close()
  }
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

/** The 1-, 5- and 15-minute load averages, as `uptime` prints them: the bench shares the machine. */
export function loadAverage(): string {
  return loadavg()
    .map((n) => n.toFixed(2))
    .join(', ')
}

/** True when `command` is an executable on PATH. */
export function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, command), constants.X_OK)
      return true
    } catch {
      return false
    }
  })
}

/**
 * Runs a command from the repository root to completion and resolves with its
 * stdout; rejects with its stderr when it fails, or kills it after `timeoutMs`.
 * `onStart` runs once the process is spawned, with the time it was started.
 */
export function runCommand(
  command: string,
  args: readonly string[],
  options: { env?: Record<string, string>; timeoutMs: number; onStart?: (spawnedAt: number) => void },
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: rootDir, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] })
    options.onStart?.(performance.now())
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk))
    const killer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(killer)
      if (code === 0) resolve(stdout)
      else reject(new Error(`${command} ${args.join(' ')} exited with ${signal ?? code}\n${stderr.trim()}`))
    })
  })
}

/** The JSON document a client process prints as its last line. */
export function lastJsonLine<T>(stdout: string, what: string): T {
  const last = stdout.trim().split('\n').at(-1) ?? ''
  try {
    return JSON.parse(last) as T
  } catch {
    throw new Error(`${what} printed no JSON result line:\n${stdout}`)
  }
}

/** A number with `digits` decimals, or – when there is none. */
export const fixed = (n: number | undefined, digits = 1): string => (n === undefined || Number.isNaN(n) ? '–' : n.toFixed(digits))
