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

/** Runs `vitest run` in a child process on `fixtures/projects/<name>`, with the default and JSON reporters. */
export function runFixtureProject(name: string, env: Record<string, string> = {}, args: string[] = []): Promise<VitestRun> {
  const cwd = join(ROOT, 'fixtures', 'projects', name)
  const reportFile = join(mkdtempSync(join(tmpdir(), 'chaperon-e2e-')), 'report.json')
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [VITEST, 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${reportFile}`, ...args], {
      cwd,
      env: { ...withoutForceColor(process.env), ...env, NO_COLOR: '1', CI: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.on('error', reject)
    child.on('close', (exitCode) => {
      let report: JsonReport
      try {
        report = JSON.parse(readFileSync(reportFile, 'utf8')) as JsonReport
      } catch (error) {
        reject(new Error(`vitest wrote no JSON report (exit ${exitCode}):\n${output}`, { cause: error }))
        return
      }
      resolve({ exitCode, output, report })
    })
  })
}

function withoutForceColor(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { FORCE_COLOR: _, ...rest } = env
  return rest
}
