/** The key under which the load project provides the bundled target's URL. */
export const TARGET_URL_KEY = 'chaperon:targetUrl'

/** The key under which the load project provides the bundled target's HTTPS (HTTP/2 and HTTP/1.1) URL. */
export const TARGET_HTTPS_URL_KEY = 'chaperon:targetHttpsUrl'

declare module 'vitest' {
  interface ProvidedContext {
    /** The URL of chaperon's bundled target server, when the load project starts it (`loadProject({ target: true })`). */
    'chaperon:targetUrl': string
    /**
     * The `https://` URL of the same target served over TLS, HTTP/2 and HTTP/1.1
     * on one port, with a self-signed certificate: request it with
     * `http: { version: 2, insecure: true }`.
     */
    'chaperon:targetHttpsUrl': string
  }
}
