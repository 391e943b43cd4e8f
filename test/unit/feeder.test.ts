import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { parseSegment } from '../../src/core/segment.ts'
import { type Feeder, feeder, type FeederMode } from '../../src/runtime/feeder/feeder.ts'
import { startFeeders } from '../../src/runtime/feeder/registry.ts'

const dir = mkdtempSync(join(tmpdir(), 'chaperon-feeder-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
// Each test starts as a whole run does; the feeders' positions are per process.
afterEach(() => void startFeeders(undefined))

let files = 0
/** A new file holding `text`, its path relative to the working directory as a user would write it. */
function file(text: string, ext = 'csv'): string {
  const path = join(dir, `data-${++files}.${ext}`)
  writeFileSync(path, text)
  return relative(process.cwd(), path)
}

/** A CSV file of rows with ids 0 … n-1. */
function ids(n: number): string {
  return file(['id', ...Array.from({ length: n }, (_, i) => String(i))].join('\n'))
}

/** A row of `ids()`. */
interface Row {
  id: string
}

function take(f: Feeder<Row>, n: number): string[] {
  return Array.from({ length: n }, () => f.next().id)
}

describe('feeder.csv', () => {
  it('keys each line by the header line, with quoted fields, a BOM and CRLF line ends', () => {
    const users = feeder.csv(file('\uFEFFname,note,age\r\n"Ann, Jr.","say ""hi""",31\r\nBob,"two\r\nlines",\r\n\r\n'))
    expect(users.length).toBe(2)
    expect(users.next()).toEqual({ name: 'Ann, Jr.', note: 'say "hi"', age: '31' })
    const bob = users.next()
    expect(bob).toEqual({ name: 'Bob', note: 'two\r\nlines', age: '' })
    expect(Object.isFrozen(bob)).toBe(true)
  })

  it('trims the header line\'s names, not the values', () => {
    const users = feeder.csv(file('id, name ,email\n1, Ann ,ann@example.com\n'))
    expect(users.next()).toEqual({ id: '1', name: ' Ann ', email: 'ann@example.com' })
  })

  it('reads a path relative to the working directory, or a file: URL', () => {
    const path = ids(2)
    expect(feeder.csv(path).path).toBe(join(process.cwd(), path))
    const byUrl = feeder.csv(pathToFileURL(join(process.cwd(), path)))
    expect(byUrl.path).toBe(join(process.cwd(), path))
    expect(byUrl.next()).toEqual({ id: '0' })
  })

  it('reads the file once: rows keep coming after it is gone', () => {
    const path = ids(3)
    const rows = feeder.csv<Row>(path)
    expect(rows.length).toBe(3)
    unlinkSync(path)
    expect(take(rows, 4)).toEqual(['0', '1', '2', '0'])
  })
})

describe('feeder.json', () => {
  it('hands out the array\'s objects, frozen all the way down', () => {
    const orders = feeder.json<{ id: number; items: Array<{ sku: string }> }>(file(JSON.stringify([{ id: 1, items: [{ sku: 'a' }] }, { id: 2, items: [] }]), 'json'))
    const first = orders.next()
    expect(first).toEqual({ id: 1, items: [{ sku: 'a' }] })
    expect(Object.isFrozen(first.items[0])).toBe(true)
    expect(orders.next().id).toBe(2)
  })
})

describe('modes', () => {
  it('sequential goes through the rows in order and starts over after the last', () => {
    const rows = feeder.csv<Row>(ids(3))
    expect(rows.mode).toBe('sequential')
    expect(take(rows, 7)).toEqual(['0', '1', '2', '0', '1', '2', '0'])
  })

  it('random picks any row, each time anew', () => {
    const rows = feeder.csv<Row>(ids(3), { mode: 'random' })
    const seen = take(rows, 300)
    expect(new Set(seen)).toEqual(new Set(['0', '1', '2']))
  })

  it('unique gives each row once, then says the rows are used up; the next run starts afresh', () => {
    const path = ids(3)
    const rows = feeder.csv<Row>(path, { mode: 'unique' })
    expect(take(rows, 3)).toEqual(['0', '1', '2'])
    expect(() => rows.next()).toThrow(expect.objectContaining({ code: 'CHAPERON_FEEDER', message: expect.stringMatching(/feeder\.csv\(".*", \{ mode: 'unique' \}\) has used all its 3 rows.*iterations: 3.*mode: 'sequential'/) }))
    startFeeders(undefined)
    expect(take(rows, 1)).toEqual(['0'])
  })

  it('one file and mode declared twice is one feeder; other modes keep their own place', () => {
    const path = ids(4)
    const a = feeder.csv<Row>(path, { mode: 'unique' })
    const b = feeder.csv<Row>(path, { mode: 'unique' })
    const c = feeder.csv<Row>(path)
    expect([a.next().id, b.next().id, a.next().id, c.next().id]).toEqual(['0', '1', '2', '0'])
  })
})

describe('segments of a split run', () => {
  it('unique: each segment takes the rows its stripe owns, together each row once', () => {
    const path = ids(10)
    const taken: string[][] = []
    for (const i of [1, 2, 3]) {
      const segment = parseSegment(`${i}/3`)
      startFeeders(segment)
      const rows = feeder.csv<Row>(path, { mode: 'unique' })
      const mine: string[] = []
      let error: unknown
      try {
        for (;;) mine.push(rows.next().id)
      } catch (e) {
        error = e
      }
      expect(error).toMatchObject({ code: 'CHAPERON_FEEDER', message: expect.stringContaining(`has used the ${mine.length} of its 10 rows that segment ${segment.label} owns`) })
      taken.push(mine)
    }
    expect(taken).toEqual([
      ['0', '3', '6', '9'],
      ['1', '4', '7'],
      ['2', '5', '8'],
    ])
  })

  it('sequential: the segments go through the file in turn, as one machine would', () => {
    const path = ids(4)
    const rounds = [1, 2].map((i) => {
      startFeeders(parseSegment(`${i}/2`))
      return take(feeder.csv<Row>(path), 4)
    })
    expect(rounds).toEqual([
      ['0', '2', '0', '2'],
      ['1', '3', '1', '3'],
    ])
  })

  it('sequential: past the last row, each segment starts over within its own rows, however the rows divide', () => {
    const path = ids(10)
    const rounds = [1, 2, 3].map((i) => {
      startFeeders(parseSegment(`${i}/3`))
      return take(feeder.csv<Row>(path), 6)
    })
    expect(rounds).toEqual([
      ['0', '3', '6', '9', '0', '3'],
      ['1', '4', '7', '1', '4', '7'],
      ['2', '5', '8', '2', '5', '8'],
    ])
  })
})

describe('errors', () => {
  const code = 'CHAPERON_FEEDER'

  it('a missing file says where paths start from', () => {
    const rows = feeder.csv('no/such/users.csv')
    expect(() => rows.next()).toThrow(expect.objectContaining({ code, message: expect.stringMatching(/there is no file at .*no\/such\/users\.csv\. A path is relative to the working directory .*new URL\('\.\/data\.csv', import\.meta\.url\)/) }))
    // Forgotten after failing: it does not fail the next run.
    expect(() => startFeeders(undefined)).not.toThrow()
  })

  it.each([
    ['an empty CSV file', '', 'csv', /has no rows\. Write a header line, then one line per row/],
    ['a header line only', 'id,name\n', 'csv', /has no rows/],
    ['a line short of fields', 'id,name\n1\n', 'csv', /Invalid Record Length.*Every line needs as many fields as the header line/],
    ['an unclosed quote', 'id,name\n1,"ann\n', 'csv', /Quote Not Closed.*a quote inside doubled/],
    ['a repeated column', 'id,id\n1,2\n', 'csv', /names column "id" twice/],
    ['an unnamed column', 'id,\n1,2\n', 'csv', /column 2 of the header line has no name/],
    ['bad JSON', '[{"id": 1},', 'json', /the file is not JSON .*Write an array with one object per row/],
    ['an empty array', '[]', 'json', /has no rows\. Write an array with one object per row/],
    ['an object', '{"id": 1}', 'json', /holds \{"id":1\}, not an array/],
    ['an array of numbers', '[{"id": 1}, 2]', 'json', /element 1 of the array is 2, not an object/],
  ])('%s', (_, text, ext, message) => {
    const rows = ext === 'csv' ? feeder.csv(file(text, ext)) : feeder.json(file(text, ext))
    expect(() => rows.next()).toThrow(expect.objectContaining({ code, message: expect.stringMatching(message) }))
    expect(() => rows.length).toThrow(expect.objectContaining({ code }))
  })

  it('a file that fails to load fails only the takes from it, each time, without reading it again', () => {
    const path = file('[', 'json')
    const broken = feeder.json(path)
    // The run starts: another load test of the file, which never takes from it, is not failed.
    expect(startFeeders(undefined).map((f) => f.path)).not.toContain(path)
    const fails = expect.objectContaining({ code, message: expect.stringContaining(`feeder.json("${path}")`) })
    expect(() => broken.next()).toThrow(fails)
    writeFileSync(path, '[{"id": 1}]')
    expect(() => broken.next()).toThrow(fails)
  })

  it('an unknown mode or option, or a bad path, says what to write', () => {
    const path = ids(1)
    expect(() => feeder.csv(path, { mode: 'uniqe' as FeederMode })).toThrow(expect.objectContaining({ code, message: expect.stringMatching(/mode must be 'sequential', 'random' or 'unique'; got "uniqe"\. Did you mean "unique"\?/) }))
    expect(() => feeder.csv(path, { mdoe: 'unique' } as never)).toThrow(expect.objectContaining({ code, message: expect.stringMatching(/unknown option "mdoe"\. Did you mean "mode"\?/) }))
    expect(() => feeder.csv(path, 'unique' as never)).toThrow(expect.objectContaining({ code, message: expect.stringContaining("options must be an object such as { mode: 'unique' }") }))
    expect(() => feeder.csv(42 as never)).toThrow(expect.objectContaining({ code, message: expect.stringMatching(/file path such as 'data\/users\.csv'.*got 42/) }))
    expect(() => feeder.json(new URL('https://example.com/users.json'))).toThrow(expect.objectContaining({ code, message: expect.stringContaining("file: URL, such as new URL('./data.json', import.meta.url)") }))
  })
})
