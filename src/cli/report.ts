import { relative } from 'node:path'
import { parseArgs } from 'node:util'
import { renderHtmlReport } from '../reporters/html-render.ts'
import { argsError, type CliIo, EXIT, readAll, usage, writeOutput } from './common.ts'

/** `chaperon report <result>... --html <file> [--title <text>]`: the html reporter's page, from saved results. */
export async function reportCommand(args: string[], io: CliIo): Promise<number> {
  let parsed
  try {
    parsed = parseArgs({ args, options: { html: { type: 'string' }, title: { type: 'string' } }, allowPositionals: true, strict: true })
  } catch (error) {
    throw argsError('report', error)
  }
  const { positionals, values } = parsed
  if (positionals.length === 0) throw usage('chaperon report needs result files or directories, as in "chaperon report chaperon-results/ --html report.html".')
  if (values.html === undefined) throw usage('chaperon report needs --html <file>, the page to write, as in "chaperon report chaperon-results/ --html report.html".')
  const results = await readAll(positionals, 'CHAPERON_RESULT_FILE', io)
  if (results === undefined) return EXIT.usage
  const html = renderHtmlReport(results, { ...(values.title === undefined ? {} : { title: values.title }), generatedAt: new Date().toISOString() })
  await writeOutput(values.html, html, '--html')
  io.stdout.write(`HTML report of ${results.length} load test${results.length === 1 ? '' : 's'} written to ${relative(process.cwd(), values.html) || values.html}\n`)
  return EXIT.ok
}
