import { describe, expect, it } from 'vitest'
import { ChaperonError } from '../../src/core/errors.ts'
import { chaperon, loadProject } from '../../src/plugin/index.ts'

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(ChaperonError)
    return (error as ChaperonError).code
  }
  return undefined
}

describe('loadProject', () => {
  it('is a project named load that runs load files one at a time in forks, never retried, with task locations', () => {
    const project = loadProject()
    expect(project.extends).toBe(true)
    expect(project.test).toMatchObject({
      name: 'load',
      include: ['**/*.load.ts'],
      pool: 'forks',
      execArgv: ['--no-allocation-site-pretenuring'],
      fileParallelism: false,
      retry: 0,
      includeTaskLocation: true,
      testTimeout: 1_800_000,
    })
    expect(project.test?.globalSetup).toBeUndefined()
  })

  it('starts the bundled target only when asked', () => {
    const setup = loadProject({ target: true }).test?.globalSetup
    expect(setup).toEqual([expect.stringMatching(/global-setup\.(ts|js)$/)])
  })

  it.each([
    [{ includes: ['x'] }, 'CHAPERON_UNKNOWN_OPTION'],
    [{ include: 'load/*.ts' }, 'CHAPERON_INVALID_OPTION'],
    [{ exclude: [1] }, 'CHAPERON_INVALID_OPTION'],
    [{ target: 'yes' }, 'CHAPERON_INVALID_OPTION'],
    [{ testTimeout: -1 }, 'CHAPERON_INVALID_OPTION'],
  ])('rejects %j with %s', (options, code) => {
    expect(codeOf(() => loadProject(options as never))).toBe(code)
  })
})

describe('chaperon()', () => {
  it('adds its reporters beside Vitest own, once per Vitest instance', () => {
    const plugin = chaperon()
    const vitest = { config: { reporters: ['default'] as unknown[] } }
    const hook = plugin.configureVitest as unknown as (ctx: { vitest: typeof vitest }) => void
    hook({ vitest })
    hook({ vitest })
    expect(vitest.config.reporters).toHaveLength(2)
    expect(vitest.config.reporters[0]).toBe('default')
    expect(vitest.config.reporters[1]?.constructor.name).toBe('SummaryReporter')
  })

  it.each([
    [{ reporter: ['summary'] }, 'CHAPERON_UNKNOWN_OPTION'],
    [{ reporters: 'summary' }, 'CHAPERON_INVALID_OPTION'],
    [{ reporters: ['sumary'] }, 'CHAPERON_INVALID_OPTION'],
  ])('rejects %j with %s', (options, code) => {
    expect(codeOf(() => chaperon(options as never))).toBe(code)
  })
})
