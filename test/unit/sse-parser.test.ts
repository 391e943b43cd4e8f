// The event stream interpretation of the HTML standard's Server-sent events, fed bytes as a socket would.
import { describe, expect, it } from 'vitest'
import { type ParsedEvent, SseParser } from '../../src/runtime/sse/sse-parser.ts'

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text)

/** Every event `chunks` dispatch, fed one after another to one parser. */
function parse(chunks: (string | Uint8Array)[], parser = new SseParser()): ParsedEvent[] {
  return chunks.flatMap((chunk) => parser.push(typeof chunk === 'string' ? bytes(chunk) : chunk))
}

const message = (data: string, id = ''): ParsedEvent => ({ type: 'message', data, id })

describe('SseParser', () => {
  it('dispatches an event on a blank line, with the type message by default', () => {
    expect(parse(['data: hello\n\n'])).toEqual([message('hello')])
    expect(parse(['data: hello\n'])).toEqual([])
  })

  it('joins data lines with LF and takes the event type from the event field', () => {
    expect(parse(['event: add\ndata: a\ndata: b\ndata: c\n\n'])).toEqual([{ type: 'add', data: 'a\nb\nc', id: '' }])
  })

  it.each([
    ['LF', '\n'],
    ['CRLF', '\r\n'],
    ['CR', '\r'],
  ])('ends lines with %s', (_, eol) => {
    expect(parse([`event: e${eol}data: 1${eol}data: 2${eol}${eol}data: 3${eol}${eol}`])).toEqual([
      { type: 'e', data: '1\n2', id: '' },
      message('3'),
    ])
  })

  it('takes a CRLF split between two chunks as one line ending, and a CR then another line as two', () => {
    expect(parse(['data: a\r', '\ndata: b\r', '\n\r', '\n'])).toEqual([message('a\nb')])
    expect(parse(['data: a\r', '\r'])).toEqual([message('a')])
    expect(parse(['data: a\r', 'data: b\r\r'])).toEqual([message('a\nb')])
  })

  it('ignores comments, unknown fields and a field name in another case', () => {
    expect(parse([': ping\n:\ndata: x\nfoo: bar\nDATA: y\nEvent: z\n\n'])).toEqual([message('x')])
  })

  it('removes one space after the colon, no more, and reads a line without a colon as a field with an empty value', () => {
    expect(parse(['data:no space\n\ndata:  two\n\ndata\n\ndata:\n\n'])).toEqual([message('no space'), message(' two'), message(''), message('')])
    expect(parse(['data\ndata\n\n'])).toEqual([message('\n')])
  })

  it('keeps colons after the first in the value', () => {
    expect(parse(['data: a: b:c\n\n'])).toEqual([message('a: b:c')])
  })

  it('dispatches nothing for a block without data, but an event field alone does not leak into the next event', () => {
    expect(parse(['event: lonely\n\ndata: x\n\n'])).toEqual([message('x')])
  })

  it('keeps the last event ID across events until an id field changes it, also to empty', () => {
    expect(parse(['id: 1\ndata: a\n\ndata: b\n\nid\ndata: c\n\nid: 7\ndata: d\n\n'])).toEqual([message('a', '1'), message('b', '1'), message('c'), message('d', '7')])
  })

  it('sets the last event ID on a blank line even when no event is dispatched, and only then', () => {
    const parser = new SseParser()
    expect(parse(['id: 5\n'], parser)).toEqual([])
    expect(parser.lastEventId).toBe('')
    expect(parse(['\n'], parser)).toEqual([])
    expect(parser.lastEventId).toBe('5')
  })

  it('ignores an id holding a NULL', () => {
    const parser = new SseParser()
    expect(parse(['id: 1\ndata: a\n\nid: 2\0x\ndata: b\n\n'], parser)).toEqual([message('a', '1'), message('b', '1')])
    expect(parser.lastEventId).toBe('1')
  })

  it('starts from the last event ID it is given, as a reconnection does', () => {
    expect(parse(['data: again\n\n'], new SseParser('41'))).toEqual([message('again', '41')])
  })

  it('takes retry only when it is all ASCII digits', () => {
    const parser = new SseParser()
    expect(parser.retry).toBeUndefined()
    parse(['retry: 2500\n'], parser)
    expect(parser.retry).toBe(2500)
    for (const bad of ['retry: 1.5\n', 'retry: -1\n', 'retry: 10s\n', 'retry:\n', 'retry: ١٢\n', 'retry:  100\n']) parse([bad], parser)
    expect(parser.retry).toBe(2500)
    parse(['retry: 0\n'], parser)
    expect(parser.retry).toBe(0)
  })

  it('drops one leading BOM, even split between chunks, and keeps a second one', () => {
    const bom = [0xef, 0xbb, 0xbf]
    expect(parse([new Uint8Array(bom), 'data: a\n\n'])).toEqual([message('a')])
    expect(parse([new Uint8Array(bom.slice(0, 1)), new Uint8Array([...bom.slice(1), ...bytes('data: a\n\n')])])).toEqual([message('a')])
    // A second BOM is part of the first line, which is then no known field.
    expect(parse([new Uint8Array([...bom, ...bom]), 'data: a\n\ndata: b\n\n'])).toEqual([message('b')])
    expect(parse(['data: a\n\n', new Uint8Array(bom), 'data: b\n\n'])).toEqual([message('a')])
  })

  it('decodes UTF-8 split between chunks, and invalid bytes as U+FFFD', () => {
    const snowman = bytes('data: ☃\n\n')
    expect(parse([snowman.subarray(0, 7), snowman.subarray(7)])).toEqual([message('☃')])
    expect(parse([new Uint8Array([...bytes('data: '), 0xff, 0x0a, 0x0a])])).toEqual([message('\ufffd')])
  })

  it('gives the same events however the stream is cut into chunks', () => {
    const stream = '\ufeff: hi\r\nevent: a\r\nid: 1\r\ndata: x\r\ndata: y\r\n\r\ndata: é\rid: 2\r\rretry: 10\n\ndata: z\n\n'
    const whole = parse([stream])
    expect(whole).toEqual([{ type: 'a', data: 'x\ny', id: '1' }, message('é', '2'), message('z', '2')])
    const all = bytes(stream)
    for (let cut = 1; cut < all.length; cut++) expect(parse([all.subarray(0, cut), all.subarray(cut)])).toEqual(whole)
    expect(parse([...all].map((b) => new Uint8Array([b])))).toEqual(whole)
  })

  it('holds an unfinished event, counted in buffered, until its blank line', () => {
    const parser = new SseParser()
    parse(['data: 12345\ndata: 67'], parser)
    expect(parser.buffered).toBe('12345'.length + 'data: 67'.length)
    expect(parse(['\n\n'], parser)).toEqual([message('12345\n67')])
    expect(parser.buffered).toBe(0)
  })
})
