/** Matches a path that starts with a scheme (`http://`, `wss://`), used as is rather than joined to `baseUrl`. */
export const SCHEME = /^[a-z][a-z\d+.-]*:\/\//i

/** The path without its query string or fragment: the default `name` tag of requests and connections. */
export function pathWithoutQuery(path: string): string {
  const q = path.search(/[?#]/)
  return q === -1 ? path : path.slice(0, q)
}

/** Headers with lower-case names, so a user's `Authorization` replaces the default `authorization`. */
export function lowerCaseKeys(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const k in headers) out[k.toLowerCase()] = headers[k]!
  return out
}
