import { mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { runFixtureProject } from './run-vitest.ts'

it('keeps secrets out of the logs, the errors and every report', async () => {
  const out = mkdtempSync(join(tmpdir(), 'chaperon-secrets-'))
  const junit = join(out, 'junit.xml')
  const summary = join(out, 'step-summary.md')
  const run = await runFixtureProject('outputs', { CHAPERON_E2E_OUT: out, GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summary }, ['secrets.load.ts', '--reporter=junit', `--outputFile.junit=${junit}`])
  // It ran, logged and failed as the fixture means to: the secrets were there to leak.
  expect(run.exitCode).toBe(1)
  expect(run.output).toContain("authorization: '[REDACTED]'")
  expect(run.output).toContain("'set-cookie': '[REDACTED]'")
  expect(run.output).toContain('"x-api-key":"[REDACTED]"')

  const files = readdirSync(out, { recursive: true, withFileTypes: true }).filter((f) => f.isFile())
  expect(files.map((f) => f.name).sort()).toEqual(['junit.xml', 'secrets-load--keeps-its-secrets.json', 'pr-comment.md', 'report.html', 'results.csv', 'step-summary.md'].sort())
  for (const [where, text] of [['output', run.output], ["Vitest's JSON report", JSON.stringify(run.report)], ...files.map((f) => [f.name, readFileSync(join(f.parentPath, f.name), 'utf8')])] as Array<[string, string]>) {
    expect(text, where).not.toContain('SECRET')
  }
  const result = readFileSync(join(out, 'json', 'secrets-load--keeps-its-secrets.json'), 'utf8')
  expect(result).toContain('GET /echo as [REDACTED]')
  expect(result).toContain('\\"authorization\\":\\"[REDACTED]\\"')
})
