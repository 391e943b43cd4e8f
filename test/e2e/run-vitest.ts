import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const VITEST = join(ROOT, 'node_modules', 'vitest', 'vitest.mjs')

/** What one `vitest run` of a fixture project did. */
export interface VitestRun {
  exitCode: number | null
  /** With `interrupt`: ms from the signal to the exit of Vitest. */
  exitedAfterSignalMs?: number
  /** stdout and stderr together, without colours. */
  output: string
  /** Vitest's JSON report: the test results with their meta. */
  report: JsonReport
}

export interface JsonReport {
  numPassedTests: number
  numFailedTests: number
  numPendingTests: number
  numTodoTests: number
  testResults: Array<{ assertionResults: Array<{ title: string; status: string; meta: Record<string, unknown>; failureMessages: string[] }> }>
}

/** A signal sent to the whole process group of the run, as Ctrl-C in a terminal does, once `when` has been printed and `afterMs` more passed. */
export interface Interrupt {
  signal: NodeJS.Signals
  when: string
  afterMs: number
}

/** Runs `vitest run` in a child process on `fixtures/projects/<name>`, with the default and JSON reporters. */
export function runFixtureProject(name: string, env: Record<string, string> = {}, args: string[] = [], interrupt?: Interrupt): Promise<VitestRun> {
  const cwd = join(ROOT, 'fixtures', 'projects', name)
  const reportFile = join(mkdtempSync(join(tmpdir(), 'chaperon-e2e-')), 'report.json')
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [VITEST, 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${reportFile}`, ...args], {
      cwd,
      env: { ...withoutForceColor(process.env), ...env, NO_COLOR: '1', CI: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so a signal reaches Vitest and its workers as from a terminal.
      detached: interrupt !== undefined,
    })
    let output = ''
    let signalledAt: number | undefined
    let timer: NodeJS.Timeout | undefined
    const onOutput = (chunk: Buffer): void => {
      output += chunk.toString()
      if (interrupt === undefined || timer !== undefined || !output.includes(interrupt.when)) return
      timer = setTimeout(() => {
        signalledAt = performance.now()
        process.kill(-child.pid!, interrupt.signal)
      }, interrupt.afterMs)
    }
    child.stdout.on('data', onOutput)
    child.stderr.on('data', onOutput)
    child.on('error', reject)
    child.on('close', (exitCode) => {
      clearTimeout(timer)
      const exitedAfterSignalMs = signalledAt === undefined ? undefined : performance.now() - signalledAt
      let report: JsonReport
      try {
        report = JSON.parse(readFileSync(reportFile, 'utf8')) as JsonReport
      } catch (error) {
        reject(new Error(`vitest wrote no JSON report (exit ${exitCode}):\n${output}`, { cause: error }))
        return
      }
      resolve({ exitCode, output, report, ...(exitedAfterSignalMs === undefined ? {} : { exitedAfterSignalMs }) })
    })
  })
}

function withoutForceColor(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { FORCE_COLOR: _, ...rest } = env
  return rest
}
