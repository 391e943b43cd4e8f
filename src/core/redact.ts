import type { LoadTestResult, Tags } from './result.ts'

/** Names whose values are always secret, whatever `redact` says: credential headers, and `password`. */
export const ALWAYS_SECRET: readonly string[] = Object.freeze(['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'password'])

/** What a secret is replaced with. */
export const REDACTED = '[REDACTED]'

/** What a load test keeps secret: names whose values are secrets, and secret values known before the run. */
export interface RedactionSettings {
  /** Lower-case names of headers, query parameters, JSON fields and config keys. */
  keys: string[]
  /** Values known to be secret: headers and config values under those names, the Basic credentials. */
  values: string[]
}

// Shorter values are too likely to be ordinary text ("test" in "latest") to replace wherever they appear.
const MIN_SECRET_LENGTH = 8

/**
 * Replaces secrets in text before it is logged, kept in an error or written
 * to a report. It finds them two ways: by name, the value after a secret name
 * in the shapes text takes (`authorization: Bearer …` to the end of the line,
 * `"cookie": "…"`, `set-cookie: [ … ]`, `?token=…`), and by value, every
 * occurrence of a secret known before the run. The password of a URL's
 * `user:password@` is replaced too.
 */
export class Redactor {
  readonly #byName: RegExp
  readonly #inline: RegExp
  readonly #values: string[]

  constructor(settings: RedactionSettings) {
    const names = [...new Set([...ALWAYS_SECRET, ...settings.keys])].map(escape).join('|')
    const name = `["']?\\b(?:${names})\\b["']?\\s*(?:=>|[:=])\\s*`
    // A query or form parameter, or name=value in text: up to the next separator.
    const param = `(?<pname>\\b(?:${names})=)[^&#\\s;,"'\`]+`
    // The password in a URL: scheme://user:password@host. The scheme is bounded, so a long
    // run of letters is not rescanned at every position.
    const user = `(?<user>(?<![a-z0-9+.-])[a-z][a-z0-9+.-]{0,31}://[^\\s/:@]*:)[^\\s/@]+(?=@)`
    this.#byName = new RegExp(
      [
        // A quoted value after a quoted or bare name: "cookie": "a=1", token: 'x', 'authorization' => 'x'
        `(?<qname>${name})(?<q>["'\`])(?:(?!\\k<q>)[^\\\\]|\\\\.)*\\k<q>`,
        // An array after a name, as util.inspect and JSON print header lists: 'set-cookie': [ 'a=1', 'b=2' ]
        `(?<aname>${name})\\[[^\\][]*\\]`,
        // A number after a name, as JSON prints one: "pin": 12345678
        `(?<nname>${name})-?\\d+(?:\\.\\d+)?`,
        // A header line: the rest of the line after the name and a colon.
        `(?<hname>\\b(?:${names})\\s*:[ \\t]*)(?![\\s"'\`\\[])[^\\r\\n]+`,
        param,
        user,
      ].join('|'),
      'gi',
    )
    this.#inline = new RegExp([param, user].join('|'), 'gi')
    const values = new Set<string>()
    for (const value of settings.values) {
      if (value.length < MIN_SECRET_LENGTH) continue
      values.add(value)
      values.add(encodeURIComponent(value))
    }
    // Longest first, so a secret that contains another is replaced whole.
    this.#values = [...values].sort((a, b) => b.length - a.length)
  }

  /** `text` with every secret it holds replaced by `[REDACTED]`. */
  text(text: string): string {
    return this.#known(text.replace(this.#byName, replaceByName))
  }

  /**
   * A name (a tag value such as a request or check name) with its secrets
   * replaced: known values, parameters and URL passwords. Not the shapes of
   * whole lines, which would make "authorization: rejected" and
   * "authorization: expired" one name.
   */
  name(text: string): string {
    return this.#known(text.replace(this.#inline, replaceByName))
  }

  #known(text: string): string {
    let out = text
    for (const value of this.#values) if (out.includes(value)) out = out.replaceAll(value, REDACTED)
    return out
  }
}

/** The replacement of one match of the patterns above: the name kept, the value redacted. */
function replaceByName(match: string, ...args: unknown[]): string {
  const groups = args.at(-1) as Record<string, string | undefined>
  if (groups.qname !== undefined) return `${groups.qname}${groups.q}${REDACTED}${groups.q}`
  const name = groups.aname ?? groups.nname ?? groups.hname ?? groups.pname ?? groups.user
  return name === undefined ? match : `${name}${REDACTED}`
}

/**
 * The secret values among `headers`, `config` (at any depth) and a Basic
 * `authorization`: the values under a secret name.
 */
export function secretValues(keys: readonly string[], headers: Readonly<Record<string, string>>, config: unknown, authorization: string | undefined): string[] {
  const secret = new Set([...ALWAYS_SECRET, ...keys])
  const out: string[] = []
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase()
    if (!secret.has(lower)) continue
    out.push(value)
    if (lower === 'authorization' || lower === 'proxy-authorization') out.push(...credentials(value))
  }
  if (authorization !== undefined) out.push(authorization, ...credentials(authorization))
  const walk = (value: unknown, secretHere: boolean): void => {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint') {
      if (secretHere) out.push(String(value))
    } else if (Array.isArray(value)) {
      for (const item of value) walk(item, secretHere)
    } else if (typeof value === 'object' && value !== null) {
      for (const [k, v] of Object.entries(value)) walk(v, secretHere || secret.has(k.toLowerCase()))
    }
  }
  walk(config, false)
  return out
}

/** The token of `Bearer x` and the user:password of `Basic x`, so each is found alone too. */
function credentials(value: string): string[] {
  const [scheme, token] = value.split(/\s+/, 2)
  if (token === undefined) return []
  if (scheme!.toLowerCase() !== 'basic') return [token]
  const decoded = Buffer.from(token, 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  return colon < 0 ? [token] : [token, decoded, decoded.slice(colon + 1)]
}

function escape(name: string): string {
  return name.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&')
}

/** `tags` with their values redacted, the same object when none held a secret. */
export function redactTags(tags: Tags, redactor: Redactor): Tags {
  let out: Record<string, string> | undefined
  for (const [k, v] of Object.entries(tags)) {
    const r = redactor.name(v)
    if (r !== v) (out ??= { ...tags })[k] = r
  }
  return out ?? tags
}

/** `result` with secrets taken out of its tags (request and check names among them) and its errors. */
export function redactResult(result: LoadTestResult, redactor: Redactor): LoadTestResult {
  return {
    ...result,
    metrics: result.metrics.map((m) => ({ ...m, tags: redactTags(m.tags, redactor) })),
    timeSeries: { ...result.timeSeries, series: result.timeSeries.series.map((s) => ({ ...s, tags: redactTags(s.tags, redactor) })) },
    errors: result.errors.map((e) => ({ ...e, message: redactor.text(e.message), ...(e.stack === undefined ? {} : { stack: redactor.text(e.stack) }) })),
  }
}
