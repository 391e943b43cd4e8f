/**
 * The Server-Sent Events routes of the bundled target server (listed in
 * http-server.ts too). GET only; bad parameters answer 400 with what to send.
 *
 *   GET /sse/ticks?count=N&interval=MS&retry=MS&drop=K
 *        text/event-stream of events `id: n`, `data: {"n":n}` for n = 1…N (count,
 *        default 10, ≤ 100 000), the first at once and then one every MS ms
 *        (interval, default 100, ≤ 60 000); `retry=MS` (≤ 60 000) sends that
 *        `retry:` field first. A `Last-Event-ID: n` resumes after event n, and
 *        one at or past N is answered 204: the stream is over, stop
 *        reconnecting. The response ends after event N; with `drop=K` the
 *        connection is destroyed, mid-response, after K events instead.
 *   GET /sse/mixed
 *        one fixed stream that exercises a parser, sent in pieces: a BOM,
 *        comments, LF, CRLF and CR line endings, custom event types, multi-line
 *        data, fields without a colon or without the space, an id holding a
 *        NULL (ignored), an id-only block, unknown fields and a bad `retry`.
 *        Its events are {@link MIXED_EVENTS}. With a `Last-Event-ID` it
 *        answers 204.
 *   GET /sse/whoami
 *        one event whose data is JSON {headers} of the request, then the end.
 *   GET /sse/wrong-type
 *        200 text/plain whose body looks like an event stream.
 *   any other /sse/… path: 404.
 *
 * Every stream also ends after {@link MAX_STREAM_MS}, and its timers stop
 * when the client goes away or the server closes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { BadRequest, intParam, send } from './respond.ts'

/** The events a client dispatches from `/sse/mixed`, in order. */
export const MIXED_EVENTS: readonly { type: string; data: string; id: string }[] = Object.freeze([
  { type: 'message', data: 'first', id: '' },
  { type: 'greeting', data: 'hello\nworld', id: '1' },
  { type: 'message', data: ' two spaces, one kept', id: '1' },
  { type: 'message', data: '', id: '1' },
  { type: 'message', data: 'after an id-only block, with a NULL id ignored', id: '2' },
  { type: 'update', data: 'CR\nline endings', id: '3' },
  { type: 'message', data: 'é split across writes', id: '3' },
])

// Pieces written one after another, some cut mid-line, mid-CRLF and mid-character.
const MIXED: readonly (string | Buffer)[] = [
  Buffer.from([0xef, 0xbb]),
  Buffer.from([0xbf]),
  ': a comment, then an event\n',
  'data: first\n\n',
  'event: greeting\r\nid: 1\r\ndata: hello\r',
  '\ndata:world\r\n\r\n',
  'data:  two spaces, one kept\nretry: soon\nunknown: ignored\n\n',
  'data\n\n',
  'id: 2\n\nid: x\0y\n',
  'data: after an id-only block, with a NULL id ignored\n\n',
  'event: update\rid: 3\rdata: CR\rdata: line endings\r\r',
  Buffer.concat([Buffer.from('data: '), Buffer.from('é').subarray(0, 1)]),
  Buffer.concat([Buffer.from('é').subarray(1), Buffer.from(' split across writes\n\n')]),
  'data: never dispatched: the stream ends before its blank line\n',
]

const MAX_COUNT = 100_000
const MAX_INTERVAL_MS = 60_000
/** The longest any stream of these routes runs. */
const MAX_STREAM_MS = 10 * 60_000
const PIECE_GAP_MS = 5

/** Answers `req` when it is one of the SSE routes (`/sse/…`) and returns true; false for any other path. */
export function sseRoute(req: IncomingMessage, res: ServerResponse, url: URL): boolean {
  const path = url.pathname
  if (path !== '/sse' && !path.startsWith('/sse/')) return false
  if (req.method !== 'GET') {
    res.setHeader('allow', 'GET')
    send(res, 405, 'use GET')
    return true
  }
  try {
    if (path === '/sse/ticks') ticks(req, res, url.searchParams)
    else if (path === '/sse/mixed') mixed(req, res)
    else if (path === '/sse/whoami') whoami(req, res)
    else if (path === '/sse/wrong-type') send(res, 200, 'data: not an event stream\n\n')
    else send(res, 404, `no route for ${path}`)
  } catch (error) {
    if (!(error instanceof BadRequest)) throw error
    send(res, 400, error.message)
  }
  return true
}

function ticks(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): void {
  const count = intParam(query, 'count', 10, 1, MAX_COUNT)
  const interval = intParam(query, 'interval', 100, 0, MAX_INTERVAL_MS)
  const retry = query.has('retry') ? intParam(query, 'retry', 0, 0, MAX_INTERVAL_MS) : undefined
  const drop = query.has('drop') ? intParam(query, 'drop', 1, 1, count) : undefined
  const last = lastEventId(req)
  if (last >= count) return noContent(res)
  const later = open(res)
  if (retry !== undefined) res.write(`retry: ${retry}\n\n`)
  let n = last
  let sent = 0
  const next = (): void => {
    n++
    sent++
    const event = `id: ${n}\ndata: {"n":${n}}\n\n`
    if (n === count) res.end(event)
    // Destroyed once the event is handed to the socket, so the client has it before the connection breaks.
    else if (sent === drop) res.write(event, () => res.destroy())
    else {
      res.write(event)
      later(next, interval)
    }
  }
  next()
}

function mixed(req: IncomingMessage, res: ServerResponse): void {
  if (req.headers['last-event-id'] !== undefined) return noContent(res)
  const later = open(res)
  MIXED.forEach((piece, i) => later(() => (i === MIXED.length - 1 ? res.end(piece) : res.write(piece)), i * PIECE_GAP_MS))
}

function whoami(req: IncomingMessage, res: ServerResponse): void {
  open(res)
  res.end(`data: ${JSON.stringify({ headers: req.headers })}\n\n`)
}

/**
 * Starts an event stream and returns how to schedule its next steps: their
 * timers are cleared when the stream closes, which it does after
 * {@link MAX_STREAM_MS} in any case.
 */
function open(res: ServerResponse): (step: () => void, ms: number) => void {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store' })
  res.flushHeaders()
  const timers = new Set<NodeJS.Timeout>()
  const later = (step: () => void, ms: number): void => {
    const timer = setTimeout(() => {
      timers.delete(timer)
      step()
    }, ms)
    timers.add(timer)
  }
  later(() => res.end(), MAX_STREAM_MS)
  res.on('close', () => timers.forEach(clearTimeout))
  return later
}

function noContent(res: ServerResponse): void {
  res.writeHead(204)
  res.end()
}

/** The number in the request's Last-Event-ID, 0 without one. */
function lastEventId(req: IncomingMessage): number {
  const raw = req.headers['last-event-id']
  if (raw === undefined) return 0
  if (typeof raw !== 'string' || !/^\d{1,9}$/.test(raw)) throw new BadRequest(`Last-Event-ID must be the number of an event, such as 5; got '${raw}'`)
  return Number(raw)
}

