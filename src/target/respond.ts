import type { ServerResponse } from 'node:http'

/** A request the target cannot answer as asked; answered 400 with its message, which says what to send instead. */
export class BadRequest extends Error {}

/** Answers `status` with `body`, length given. */
export function send(res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

/** Query parameter `name` as an integer from `min` to `max`, or `fallback` when it is absent; anything else (an empty value too) is a `BadRequest`. */
export function intParam(query: URLSearchParams, name: string, fallback: number, min: number, max: number): number {
  const raw = query.get(name)
  if (raw === null) return fallback
  const n = Number(raw)
  if (raw === '' || !Number.isInteger(n) || n < min || n > max) throw new BadRequest(`${name} must be an integer from ${min} to ${max}, got '${raw}'`)
  return n
}
