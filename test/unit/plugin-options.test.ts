import { describe, expect, it } from 'vitest'
import { ChaperonError } from '../../src/core/errors.ts'
import { chaperon, loadProject } from '../../src/plugin/index.ts'
import type { SummaryReporter } from '../../src/reporters/summary-reporter.ts'

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
      execArgv: ['--no-allocation-site-pretenuring', '--max-semi-space-size=16'],
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
  /** A stand-in for the Vitest instance: the reporters list and the close hooks configureVitest uses. */
  function fakeVitest() {
    const closers: Array<() => unknown> = []
    return {
      config: { reporters: ['default'] as unknown[] },
      onClose: (fn: () => unknown) => closers.push(fn),
      close: () => Promise.all(closers.map((fn) => fn())),
    }
  }

  function configure(plugin: ReturnType<typeof chaperon>, vitest: ReturnType<typeof fakeVitest>): void {
    ;(plugin.configureVitest as unknown as (ctx: { vitest: unknown }) => void)({ vitest })
  }

  it('adds its reporters beside Vitest own, once per Vitest instance', async () => {
    const plugin = chaperon()
    const vitest = fakeVitest()
    configure(plugin, vitest)
    configure(plugin, vitest)
    await vitest.close()
    // Besides the reporters asked for, the plugin adds its own (the stop-signal handler), so count by class.
    expect(vitest.config.reporters[0]).toBe('default')
    expect(vitest.config.reporters.filter((r) => r?.constructor.name === 'SummaryReporter')).toHaveLength(1)
    expect(vitest.config.reporters[1]?.constructor.name).toBe('SummaryReporter')
  })

  it('points workers at a progress socket while Vitest runs, and takes the variable back on close', async () => {
    const before = process.env['CHAPERON_PROGRESS_SOCKET']
    const vitest = fakeVitest()
    configure(chaperon(), vitest)
    const path = process.env['CHAPERON_PROGRESS_SOCKET']
    expect(path).toMatch(process.platform === 'win32' ? /^\\\\\.\\pipe\\chaperon-\d+-[0-9a-f]{8}$/ : /chaperon-\d+-[0-9a-f]{8}\.sock$/)
    expect(path).not.toBe(before)
    expect((vitest.config.reporters[1] as SummaryReporter).options).toEqual({ progress: true })
    await vitest.close()
    expect(process.env['CHAPERON_PROGRESS_SOCKET']).toBe(before)
  })

  it("opens no progress socket with ['summary', { progress: false }]", async () => {
    const before = process.env['CHAPERON_PROGRESS_SOCKET']
    const vitest = fakeVitest()
    configure(chaperon({ reporters: [['summary', { progress: false }]] }), vitest)
    expect(process.env['CHAPERON_PROGRESS_SOCKET']).toBe(before)
    expect((vitest.config.reporters[1] as SummaryReporter).options).toEqual({ progress: false })
    await vitest.close()
  })

  it.each([
    [{ reporter: ['summary'] }, 'CHAPERON_UNKNOWN_OPTION'],
    [{ reporters: 'summary' }, 'CHAPERON_INVALID_OPTION'],
    [{ reporters: ['sumary'] }, 'CHAPERON_INVALID_OPTION'],
    [{ reporters: ['constructor'] }, 'CHAPERON_INVALID_OPTION'],
    [{ reporters: [['summary', { progres: false }]] }, 'CHAPERON_UNKNOWN_OPTION'],
    [{ reporters: [['summary', { progress: 'no' }]] }, 'CHAPERON_INVALID_OPTION'],
    [{ reporters: [['summary', true]] }, 'CHAPERON_INVALID_OPTION'],
    [{ reporters: [['json', { outputDri: 'out' }]] }, 'CHAPERON_UNKNOWN_OPTION'],
    [{ reporters: [['json', { outputDir: '' }]] }, 'CHAPERON_INVALID_OPTION'],
    [{ reporters: [['csv', { outputFile: 42 }]] }, 'CHAPERON_INVALID_OPTION'],
  ])('rejects %j with %s', (options, code) => {
    expect(codeOf(() => chaperon(options as never))).toBe(code)
  })

  it('takes every reporter by name, with or without options', () => {
    expect(() => chaperon({ reporters: ['summary', 'json', ['csv', { outputFile: 'out/all.csv' }], ['json', { outputDir: 'results' }]] })).not.toThrow()
  })

  it('says what to write instead', () => {
    expect(() => chaperon({ reporters: [['summary', { progres: false } as never]] })).toThrow(/unknown option "progres". Did you mean "progress"\?/)
    expect(() => chaperon({ reporters: [['summary', { progress: 'no' as never }]] })).toThrow(/progress option must be true or false; got "no"/)
  })
})
