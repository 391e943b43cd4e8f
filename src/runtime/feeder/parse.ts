import { readFileSync } from 'node:fs'
import { parse } from 'csv-parse/sync'
import { ChaperonError } from '../../core/errors.ts'
import { describeValue, isPlainObject } from '../../core/validate.ts'

/** The file formats feeders read. */
export type FeederFormat = 'csv' | 'json'

const EXAMPLE: Record<FeederFormat, string> = {
  csv: 'a header line, then one line per row (id,name then 1,ann)',
  json: 'an array with one object per row ([{"id": 1, "name": "ann"}])',
}

/**
 * Reads the rows of the file at `path`: a CSV file's lines as objects keyed
 * by its header line (values are strings), or a JSON file's array of
 * objects. `where` names the feeder in messages. Throws CHAPERON_FEEDER for a
 * file that is missing, malformed or empty.
 */
export function readRows(path: string, format: FeederFormat, where: string): object[] {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    const e = error as NodeJS.ErrnoException
    throw new ChaperonError(
      'CHAPERON_FEEDER',
      e.code === 'ENOENT'
        ? `${where}: there is no file at ${path}. A path is relative to the working directory (${process.cwd()}); for a path relative to the module, pass new URL('./data.${format}', import.meta.url).`
        : `${where}: cannot read ${path} (${e.message}). Give the path of a readable ${format.toUpperCase()} file.`,
    )
  }
  const rows = format === 'csv' ? csvRows(text, where) : jsonRows(text, where)
  if (rows.length === 0) throw new ChaperonError('CHAPERON_FEEDER', `${where}: ${path} has no rows. Write ${EXAMPLE[format]}.`)
  return rows
}

function csvRows(text: string, where: string): object[] {
  try {
    return parse<Record<string, string>>(text, { columns: checkHeader(where), bom: true, skip_empty_lines: true })
  } catch (error) {
    if (error instanceof ChaperonError) throw error
    throw new ChaperonError(
      'CHAPERON_FEEDER',
      `${where}: ${(error as Error).message}. Every line needs as many fields as the header line, and a field holding a comma, a quote or a line break is quoted, a quote inside doubled: "say ""hi"", ann".`,
    )
  }
}

/** The header line's names, trimmed (`id, name` names `name`, not ` name`); refuses one that would lose columns: an empty or repeated name. */
function checkHeader(where: string): (line: string[]) => string[] {
  return (line) => {
    const header = line.map((name) => name.trim())
    const empty = header.indexOf('')
    if (empty >= 0) throw new ChaperonError('CHAPERON_FEEDER', `${where}: column ${empty + 1} of the header line has no name. Name every column, as in id,name,email.`)
    const repeated = header.find((name, i) => header.indexOf(name) !== i)
    if (repeated !== undefined) throw new ChaperonError('CHAPERON_FEEDER', `${where}: the header line names column "${repeated}" twice. Give each column its own name.`)
    return header
  }
}

function jsonRows(text: string, where: string): object[] {
  let data: unknown
  try {
    data = JSON.parse(text.replace(/^\uFEFF/, ''))
  } catch (error) {
    throw new ChaperonError('CHAPERON_FEEDER', `${where}: the file is not JSON (${(error as Error).message}). Write ${EXAMPLE.json}.`)
  }
  if (!Array.isArray(data)) throw new ChaperonError('CHAPERON_FEEDER', `${where}: the file holds ${describeValue(data)}, not an array. Write ${EXAMPLE.json}.`)
  const bad = data.findIndex((row) => !isPlainObject(row))
  if (bad >= 0) throw new ChaperonError('CHAPERON_FEEDER', `${where}: element ${bad} of the array is ${describeValue(data[bad])}, not an object. Write ${EXAMPLE.json}.`)
  return data as object[]
}
