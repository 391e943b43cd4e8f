// A real InfluxDB 1.x (the Debian package's `influxd`) for the tests: started on
// free ports in a temporary directory, queried with InfluxQL over HTTP, stopped after.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll } from 'vitest'
import { inCi } from './ci.ts'

/** A running `influxd`. */
export interface InfluxDbServer {
  /** Its HTTP base URL, such as `http://127.0.0.1:40123`. */
  readonly url: string
  /** Runs an InfluxQL query and returns its first statement's series; throws on an InfluxDB error. */
  query(db: string, q: string): Promise<QuerySeries[]>
  /** Stops the server and removes its directory. */
  stop(): Promise<void>
}

/** One series of an InfluxQL answer. */
export interface QuerySeries {
  name: string
  tags?: Record<string, string>
  columns: string[]
  values: unknown[][]
}

/** True for a set CI variable other than `0` or `false`. */
/**
 * Why the InfluxDB tests cannot run here, or undefined when `influxd` is on
 * PATH. In CI a missing `influxd` is an error, never a skip: this throws.
 */
export function influxdMissing(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const probe = spawnSync('influxd', ['version'], { encoding: 'utf8', env })
  if (probe.error === undefined && probe.status === 0) return undefined
  const reason = `influxd is not on PATH (${probe.error?.message ?? `influxd version exited with ${probe.status}`}); install the Debian package influxdb, as .ci/run does`
  if (inCi(env)) throw new Error(`CI is set, so the InfluxDB tests must run, but ${reason}.`)
  return reason
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

function config(dir: string, httpPort: number, rpcPort: number): string {
  return `reporting-disabled = true
bind-address = "127.0.0.1:${rpcPort}"

[meta]
  dir = "${join(dir, 'meta')}"

[data]
  dir = "${join(dir, 'data')}"
  wal-dir = "${join(dir, 'wal')}"
  query-log-enabled = false

[retention]
  enabled = false

[monitor]
  store-enabled = false

[http]
  enabled = true
  bind-address = "127.0.0.1:${httpPort}"
  auth-enabled = false
  log-enabled = false

[logging]
  level = "warn"

[continuous_queries]
  enabled = false

[subscriber]
  enabled = false
`
}

/** Starts `influxd` with a fresh configuration and data directory, and waits until `/ping` answers 204. */
export async function startInfluxDb(): Promise<InfluxDbServer> {
  const dir = await mkdtemp(join(tmpdir(), 'chaperon-influxdb-'))
  // A port taken between freePort() and influxd's bind makes influxd exit; try again with others.
  for (let attempt = 1; ; attempt++) {
    const httpPort = await freePort()
    const rpcPort = await freePort()
    const configPath = join(dir, 'influxdb.conf')
    await writeFile(configPath, config(dir, httpPort, rpcPort))
    const child = spawn('influxd', ['run', '-config', configPath], { stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4000)))
    const url = `http://127.0.0.1:${httpPort}`
    try {
      await waitForPing(url, child)
      return server(url, child, dir)
    } catch (error) {
      await kill(child)
      if (attempt >= 3) {
        await rm(dir, { recursive: true, force: true })
        throw new Error(`influxd did not start: ${(error as Error).message}\n${stderr}`)
      }
    }
  }
}

async function waitForPing(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`influxd exited (${child.exitCode ?? child.signalCode})`)
    try {
      const response = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(1000) })
      if (response.status === 204) return
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`${url}/ping did not answer 204 within 30 s`)
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
  await exited
  clearTimeout(timer)
}

function server(url: string, child: ChildProcess, dir: string): InfluxDbServer {
  return {
    url,
    async query(db, q) {
      const response = await fetch(`${url}/query?${new URLSearchParams({ db, q, epoch: 'ms' })}`)
      const body = (await response.json()) as { error?: string; results?: Array<{ error?: string; series?: QuerySeries[] }> }
      const error = body.error ?? body.results?.[0]?.error
      if (!response.ok || error !== undefined) throw new Error(`InfluxQL ${q} failed: HTTP ${response.status} ${error ?? ''}`)
      return body.results?.[0]?.series ?? []
    },
    async stop() {
      await kill(child)
      await rm(dir, { recursive: true, force: true })
    },
  }
}

/**
 * Starts `influxd` before the calling file's tests and stops it after. Call it
 * inside a `describe.skipIf(influxdMissing())` block.
 */
export function useInfluxDb(): { readonly url: string; query(db: string, q: string): Promise<QuerySeries[]> } {
  let influx: InfluxDbServer | undefined
  beforeAll(async () => {
    influx = await startInfluxDb()
  }, 60_000)
  afterAll(() => influx?.stop())
  const started = (): InfluxDbServer => {
    if (influx === undefined) throw new Error('influxd starts in beforeAll; use it inside a test')
    return influx
  }
  return {
    get url() {
      return started().url
    },
    query: (db, q) => started().query(db, q),
  }
}

/** An InfluxQL string literal: single quotes, with quotes and backslashes escaped. */
export function influxString(text: string): string {
  return `'${text.replace(/['\\]/g, (c) => `\\${c}`)}'`
}
