/**
 * The event stream interpretation of the HTML Living Standard's Server-sent
 * events (§ 9.2.5–9.2.6), for one connection: UTF-8 decoding with a leading
 * BOM dropped, lines ended by CRLF, LF or CR (also when a chunk boundary falls
 * between the CR and the LF), comments, the `event`, `data`, `id` and `retry`
 * fields, and dispatch on a blank line. Pure: it is fed bytes and returns events.
 */

/** An event as the stream dispatched it. */
export interface ParsedEvent {
  /** The `event` field, or `'message'` when there was none or it was empty. */
  readonly type: string
  /** The `data` lines joined with `\n`. */
  readonly data: string
  /** The last event ID when the event was dispatched: sticky, as EventSource's `lastEventId`. */
  readonly id: string
}

const LF = 10
const CR = 13
const DIGITS = /^\d+$/

/**
 * Parses one connection's event stream. A reconnection starts a new parser,
 * seeded with the last event ID the previous one ended with, as browsers do.
 */
export class SseParser {
  readonly #decoder = new TextDecoder('utf-8')
  /** The start of a line whose end has not arrived yet. */
  #partial = ''
  /** The last chunk ended with a CR: an LF starting the next one ends no further line. */
  #skipLf = false
  #data = ''
  #hasData = false
  #type = ''
  #idBuffer: string
  #lastEventId: string
  #retry: number | undefined

  constructor(lastEventId = '') {
    this.#idBuffer = lastEventId
    this.#lastEventId = lastEventId
  }

  /** The last event ID string: set from the `id` buffer at each dispatch, even of an event without data. */
  get lastEventId(): string {
    return this.#lastEventId
  }

  /** The reconnection time (ms) the last valid `retry` field set; undefined until one arrived. */
  get retry(): number | undefined {
    return this.#retry
  }

  /** Characters held for an event not dispatched yet, so a caller can bound a stream that never ends a line. */
  get buffered(): number {
    return this.#partial.length + this.#data.length
  }

  /** Takes the next bytes of the stream and returns the events they completed, in order. */
  push(chunk: Uint8Array): ParsedEvent[] {
    // Decoded as a stream: a character split between chunks waits for its last byte, and only a BOM at the very start is dropped.
    const text = this.#decoder.decode(chunk, { stream: true })
    const events: ParsedEvent[] = []
    if (text.length === 0) return events
    let start = 0
    if (this.#skipLf) {
      this.#skipLf = false
      if (text.charCodeAt(0) === LF) start = 1
    }
    for (let i = start; i < text.length; i++) {
      const c = text.charCodeAt(i)
      if (c !== LF && c !== CR) continue
      const line = this.#partial + text.slice(start, i)
      this.#partial = ''
      this.#line(line, events)
      if (c === CR) {
        if (i + 1 === text.length) this.#skipLf = true
        else if (text.charCodeAt(i + 1) === LF) i++
      }
      start = i + 1
    }
    this.#partial += text.slice(start)
    return events
  }

  #line(line: string, events: ParsedEvent[]): void {
    if (line === '') return this.#dispatch(events)
    const colon = line.indexOf(':')
    if (colon === 0) return
    const field = colon === -1 ? line : line.slice(0, colon)
    let value = colon === -1 ? '' : line.slice(colon + 1)
    if (value.charCodeAt(0) === 32) value = value.slice(1)
    switch (field) {
      case 'event':
        this.#type = value
        break
      case 'data':
        // Joined with LF now; the trailing LF the spec appends is never added, so none is removed.
        this.#data = this.#hasData ? `${this.#data}\n${value}` : value
        this.#hasData = true
        break
      case 'id':
        if (!value.includes('\0')) this.#idBuffer = value
        break
      case 'retry':
        if (DIGITS.test(value)) this.#retry = Number(value)
        break
    }
  }

  #dispatch(events: ParsedEvent[]): void {
    this.#lastEventId = this.#idBuffer
    if (this.#hasData) events.push({ type: this.#type === '' ? 'message' : this.#type, data: this.#data, id: this.#lastEventId })
    this.#data = ''
    this.#hasData = false
    this.#type = ''
  }
}
