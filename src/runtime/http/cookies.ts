import { CookieJar, MemoryCookieStore } from 'tough-cookie'

/**
 * One session's cookies, kept the way a browser keeps them (RFC 6265: domain,
 * path, expiry, `Secure`), by tough-cookie. A session and the children it
 * forks share one; sessions of different VUs never do.
 *
 * The jar is made on the first `Set-Cookie`, so a session that never sees a
 * cookie costs one empty object and the client can skip the lookup entirely
 * while `active` is false.
 */
export class SessionCookies {
  #jar: CookieJar | undefined

  /** False until a response has set a cookie; the client builds no URL and asks nothing while it is. */
  get active(): boolean {
    return this.#jar !== undefined
  }

  /**
   * The `cookie` header for a request to `url`: the stored cookies that match
   * it, after the `explicit` header the request sets itself. A cookie named in
   * `explicit` is not sent again from the jar, so the request's own value is
   * the only one the target sees. Undefined when there is nothing to send.
   */
  header(url: string, explicit?: string): string | undefined {
    if (this.#jar === undefined) return explicit
    const stored = this.#jar.getCookiesSync(url)
    if (stored.length === 0) return explicit
    const own = explicit === undefined ? undefined : new Set(explicit.split(';').map((pair) => pair.split('=', 1)[0]!.trim()))
    let value = explicit ?? ''
    for (const cookie of stored) {
      if (own?.has(cookie.key) === true) continue
      value += `${value === '' ? '' : '; '}${cookie.cookieString()}`
    }
    return value === '' ? undefined : value
  }

  /**
   * Stores the `Set-Cookie` values of a response from `url`. A cookie the
   * target had no right to set (another domain, a public suffix) or one that
   * does not parse is dropped, as a browser drops it: the target's mistake
   * must not fail the scenario.
   */
  store(url: string, setCookie: string | readonly string[]): void {
    const jar = (this.#jar ??= new CookieJar(new MemoryCookieStore()))
    if (typeof setCookie === 'string') jar.setCookieSync(setCookie, url, IGNORE_ERRORS)
    else for (const c of setCookie) jar.setCookieSync(c, url, IGNORE_ERRORS)
  }

  /** Forgets every cookie, as a fresh session would start. */
  clear(): void {
    this.#jar = undefined
  }
}

const IGNORE_ERRORS = Object.freeze({ ignoreError: true })
