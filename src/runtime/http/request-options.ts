import { gzipSync } from 'node:zlib'
import { type Duration, parseDuration } from '../../core/duration.ts'
import { ChaperonError } from '../../core/errors.ts'
import { expectBoolean, expectKnownKeys, expectObject, expectStringRecord, invalid, isPlainObject, toJson } from '../../core/validate.ts'
import { pathWithoutQuery } from './paths.ts'
import type { Response } from './response.ts'

/** Statuses that count as success: one status, a range, or a list of both. */
export type ExpectedStatuses = number | StatusRange | ReadonlyArray<number | StatusRange>

/** An inclusive range of statuses, such as `{ min: 200, max: 299 }`. */
export interface StatusRange {
  min: number
  max: number
}

/** A query string or form value; arrays repeat the key. */
export type QueryValue = string | number | boolean | ReadonlyArray<string | number | boolean>

/** Credentials for HTTP Basic authentication (RFC 7617). */
export interface BasicAuth {
  username: string
  password: string
}

/** Options of one HTTP request. */
export interface RequestOptions {
  /** Request headers; they win over the load test's `http.headers`. */
  headers?: Record<string, string>
  /** Query parameters appended to the path. */
  query?: Record<string, QueryValue>
  /** A body sent as JSON, with `content-type: application/json`. Give at most one of `json`, `form` and `body`. */
  json?: unknown
  /**
   * A body sent as an HTML form, `application/x-www-form-urlencoded`; arrays
   * repeat the key, as in `query`. Give at most one of `json`, `form` and `body`.
   */
  form?: Record<string, QueryValue>
  /** A raw body, sent as given. Give at most one of `json`, `form` and `body`. */
  body?: string | Uint8Array
  /** Compress the body with gzip and send `content-encoding: gzip`. @default false */
  gzip?: boolean
  /**
   * Basic authentication: sends `authorization: Basic …`. It wins over the
   * load test's `http.auth`; an `authorization` header in `headers` wins over it.
   */
  auth?: BasicAuth
  /** The `name` tag of the request's metrics. @default `METHOD /path` without the query string */
  name?: string
  /** Extra tags on the request's metrics. */
  tags?: Record<string, string>
  /** How long to wait for the response headers, and for each part of the body. @default the load test's `http.timeout` */
  timeout?: Duration
  /** Statuses that count as success. @default { min: 200, max: 399 } */
  expect?: ExpectedStatuses
  /** Named predicates on the response; each result feeds the `checks` rate. */
  check?: Record<string, (response: Response) => boolean>
  /** Read and count the body but keep none of it; `text()` is then empty. @default false */
  discardBody?: boolean
}

/** A request with its options checked and applied. */
export interface ResolvedRequest {
  method: string
  path: string
  name: string
  headers: Record<string, string> | undefined
  body: string | Uint8Array | undefined
  timeoutMs: number
  keepBody: boolean
  tags: Record<string, string> | undefined
  expect: (status: number) => boolean
  checks: Array<[string, (response: Response) => boolean]> | undefined
}

const KNOWN = ['headers', 'query', 'json', 'form', 'body', 'gzip', 'auth', 'name', 'tags', 'timeout', 'expect', 'check', 'discardBody'] as const
const BODIES = ['json', 'form', 'body'] as const
const BODY_EXAMPLES: Readonly<Record<(typeof BODIES)[number], string>> = {
  json: '{ json: {...} } for JSON',
  form: "{ form: { q: 'shoes' } } for an HTML form",
  body: "{ body: '...' } for raw bytes",
}
const defaultExpect = (status: number): boolean => status >= 200 && status <= 399

/** Checks one request's options and turns them into what the client sends. */
export function resolveRequest(method: string, path: string, options: RequestOptions | undefined, defaultTimeoutMs: number): ResolvedRequest {
  if (typeof path !== 'string' || path.length === 0) throw invalid(`${method} path`, "a path such as '/products' or an absolute URL", path)
  if (options === undefined) {
    return { method, path, name: defaultName(method, path), headers: undefined, body: undefined, timeoutMs: defaultTimeoutMs, keepBody: true, tags: undefined, expect: defaultExpect, checks: undefined }
  }
  const where = `${method} ${path} options`
  expectKnownKeys(expectObject(options, where, "{ headers: { accept: 'application/json' } }"), KNOWN, where)
  const given = BODIES.filter((key) => options[key] !== undefined)
  if (given.length > 1) {
    throw new ChaperonError('CHAPERON_INVALID_OPTION', `${where} give ${given.join(' and ')}; send one body: ${given.map((key) => BODY_EXAMPLES[key]).join(', or ')}.`)
  }
  let headers = options.headers === undefined ? undefined : expectStringRecord(options.headers, `${where}.headers`, "{ accept: 'application/json' }")
  let body: string | Uint8Array | undefined
  if (options.json !== undefined) {
    body = toJson(options.json, `${where}.json`)
    headers = { 'content-type': 'application/json', ...headers }
  } else if (options.form !== undefined) {
    body = encodeParams(options.form, `${where}.form`, "{ q: 'shoes', size: [40, 41] }")
    headers = { 'content-type': 'application/x-www-form-urlencoded', ...headers }
  } else if (options.body !== undefined) {
    if (typeof options.body !== 'string' && !(options.body instanceof Uint8Array)) throw invalid(`${where}.body`, 'a string or Uint8Array', options.body)
    body = options.body
  }
  if (options.gzip !== undefined && expectBoolean(options.gzip, `${where}.gzip`)) {
    if (body === undefined) throw invalid(`${where}.gzip`, 'left out on a request without a body (gzip compresses the json, form or body you send)', options.gzip)
    body = gzipSync(body)
    headers = { ...headers, 'content-encoding': 'gzip' }
  }
  if (options.auth !== undefined) {
    const authorization = basicAuthorization(options.auth, `${where}.auth`)
    if (!hasHeader(headers, 'authorization')) headers = { ...headers, authorization }
  }
  const fullPath = options.query === undefined ? path : withQuery(path, options.query, where)
  if (options.name !== undefined && (typeof options.name !== 'string' || options.name.length === 0)) throw invalid(`${where}.name`, "a non-empty string such as 'GET /products/:id'", options.name)
  return {
    method,
    path: fullPath,
    name: options.name ?? defaultName(method, path),
    headers,
    body,
    timeoutMs: options.timeout === undefined ? defaultTimeoutMs : requestTimeout(options.timeout, `${where}.timeout`),
    keepBody: options.discardBody === undefined || !expectBoolean(options.discardBody, `${where}.discardBody`),
    tags: options.tags === undefined ? undefined : expectStringRecord(options.tags, `${where}.tags`, "{ kind: 'search' }"),
    expect: options.expect === undefined ? defaultExpect : expectedStatuses(options.expect, `${where}.expect`),
    checks: options.check === undefined ? undefined : checks(options.check, `${where}.check`),
  }
}

/** A request timeout in ms: above zero, since undici reads 0 as no timeout at all. */
function requestTimeout(value: unknown, where: string): number {
  const ms = parseDuration(value, where)
  if (ms <= 0) throw invalid(where, "a duration above zero such as '30s' (for a long wait write '1h')", value)
  return ms
}

/**
 * `METHOD /path`, never with the query string, so the metric name groups
 * requests. An absolute URL keeps its origin, as in k6, so hosts stay apart.
 */
function defaultName(method: string, path: string): string {
  return `${method} ${pathWithoutQuery(path)}`
}

function withQuery(path: string, query: Record<string, QueryValue>, where: string): string {
  const qs = encodeParams(query, `${where}.query`, "{ page: 2, tag: ['a', 'b'] }")
  if (qs === '') return path
  return `${path}${path.includes('?') ? '&' : '?'}${qs}`
}

/** `a=1&b=x&b=y`: the encoding of both query strings and HTML forms. */
function encodeParams(values: Record<string, QueryValue>, where: string, example: string): string {
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(expectObject(values, where, example))) {
    for (const v of Array.isArray(value) ? value : [value]) {
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') throw invalid(`${where}.${key}`, 'a string, number, boolean or an array of them', v)
      params.append(key, String(v))
    }
  }
  return params.toString()
}

/**
 * Checks `{ username, password }` and returns its `authorization` header value.
 * Used for a request's `auth` and the load test's `http.auth`.
 */
export function basicAuthorization(value: unknown, where: string): string {
  const example = "{ username: 'alice', password: 'secret' }"
  const auth = expectObject(value, where, example)
  expectKnownKeys(auth, ['username', 'password'], where)
  if (typeof auth.username !== 'string' || auth.username.includes(':')) throw invalid(`${where}.username`, `a string without ':' (Basic auth cannot carry one), as in ${example}`, auth.username)
  if (typeof auth.password !== 'string') throw invalid(`${where}.password`, `a string, as in ${example}`, auth.password)
  return `Basic ${Buffer.from(`${auth.username}:${auth.password}`, 'utf8').toString('base64')}`
}

function hasHeader(headers: Record<string, string> | undefined, name: string): boolean {
  if (headers === undefined) return false
  for (const key in headers) if (key.toLowerCase() === name) return true
  return false
}

/** Turns `expect` into a predicate; checked once per request that sets it. */
export function expectedStatuses(value: ExpectedStatuses, where: string): (status: number) => boolean {
  const form = 'a status (200), a range ({ min: 200, max: 299 }) or a list of them ([200, 404])'
  const parts = Array.isArray(value) ? value : [value]
  // An empty list would count every response as failed, which nobody means.
  if (parts.length === 0) throw invalid(where, form, value)
  const ranges: StatusRange[] = []
  for (const part of parts as ReadonlyArray<unknown>) {
    if (isStatus(part)) ranges.push({ min: part, max: part })
    else if (isPlainObject(part)) {
      expectKnownKeys(part, ['min', 'max'], where)
      if (!isStatus(part.min) || !isStatus(part.max) || part.min > part.max) throw invalid(where, form, part)
      ranges.push({ min: part.min, max: part.max })
    } else throw invalid(where, form, part)
  }
  return (status) => ranges.some((r) => status >= r.min && status <= r.max)
}

function isStatus(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 100 && n <= 599
}

function checks(value: unknown, where: string): Array<[string, (response: Response) => boolean]> {
  const entries = Object.entries(expectObject(value, where, "{ 'is 200': (r) => r.status === 200 }"))
  for (const [name, fn] of entries) if (typeof fn !== 'function') throw invalid(`${where}['${name}']`, 'a function (r) => boolean', fn)
  return entries as Array<[string, (response: Response) => boolean]>
}
