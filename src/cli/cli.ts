import { ChaperonError, didYouMean } from '../core/errors.ts'
import { VERSION } from '../core/version.ts'
import { type CliIo, EXIT, usage } from './common.ts'
import { compareCommand } from './compare.ts'
import { mergeCommand } from './merge.ts'
import { reportCommand } from './report.ts'

/** A subcommand: runs on its own arguments and returns the exit code. */
export type Command = (args: string[], io: CliIo) => Promise<number>

const COMMANDS: Readonly<Record<string, { run: Command; summary: string }>> = {
  compare: { run: compareCommand, summary: 'compare results with a baseline and judge regression budgets' },
  merge: { run: mergeCommand, summary: 'merge the results of the segments of a split run and judge the thresholds' },
  report: { run: reportCommand, summary: 'render the HTML report from saved results' },
}

/** The text of `chaperon --help`. */
export const HELP = `chaperon ${VERSION}: load tests run by Vitest

Usage:
  chaperon compare <baseline> <current> [--markdown <file>]
  chaperon merge <result>... [--json <dir>] [--html <file>] [--title <text>]
                 [--github] [--baseline <path>] [--partial]
  chaperon report <result>... --html <file> [--title <text>]
  chaperon --help | --version

Commands:
${Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(9)}${c.summary}`).join('\n')}

A <baseline>, <current> or <result> is a result file as the json reporter
writes it (chaperon-results/<test>.json), a directory of them, or a Vitest
JSON report. Results of the same load test are paired by test file and name.

compare prints each value of <current> next to <baseline> with the change,
and judges the budgets among its thresholds ('p(95)<+10% baseline').
  --markdown <file>  also write the comparison as Markdown (a PR comment)

merge joins the results of the instances of a split run (CHAPERON_SEGMENT)
into one result per load test, judges its thresholds on the whole, and
prints each test's summary.
  --json <dir>       where to write the merged results (default chaperon-merged)
  --html <file>      also write the HTML report of the merged results
  --title <text>     its title
  --github           also write what the github reporter writes: annotations
                     and the job summary in GitHub Actions, <dir>/pr-comment.md
  --baseline <path>  judge budgets against this baseline (default
                     CHAPERON_BASELINE)
  --partial          merge even when segments are missing (the result fails)

report writes one self-contained HTML page of the results.
  --html <file>      the page to write
  --title <text>     its title

Exit codes: 0 done; 1 a budget failed (compare) or a merged load test failed
(merge); 2 wrong usage, a file that cannot be read, or results that cannot
be merged (the message says which and why).
`

/** Runs `chaperon` with `argv` (without node and the script) and returns the exit code. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [first, ...rest] = argv
  try {
    if (first === undefined || first === '-h' || first === '--help' || first === 'help') {
      ;(first === undefined ? io.stderr : io.stdout).write(HELP)
      return first === undefined ? EXIT.usage : EXIT.ok
    }
    if (first === '-v' || first === '--version') {
      io.stdout.write(`${VERSION}\n`)
      return EXIT.ok
    }
    const command = Object.hasOwn(COMMANDS, first) ? COMMANDS[first] : undefined
    if (command === undefined) {
      const what = first.startsWith('-') ? `unknown option "${first}"` : `unknown command "${first}"`
      throw usage(`${what}.${didYouMean(first.replace(/^-+/, ''), Object.keys(COMMANDS))} Commands: ${Object.keys(COMMANDS).join(', ')}.`)
    }
    if (rest.includes('-h') || rest.includes('--help')) {
      io.stdout.write(HELP)
      return EXIT.ok
    }
    return await command.run(rest, io)
  } catch (error) {
    if (!(error instanceof ChaperonError)) {
      // A result that passed the checks but still cannot be read, such as a corrupt histogram.
      io.stderr.write(`chaperon ${first}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
      return EXIT.usage
    }
    io.stderr.write(`${error.name}: ${error.message}\n`)
    if (error.code === 'CHAPERON_CLI_USAGE') io.stderr.write('Run chaperon --help for usage.\n')
    return EXIT.usage
  }
}
