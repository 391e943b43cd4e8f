/** The key under which the load project provides the bundled target's URL. */
export const TARGET_URL_KEY = 'chaperon:targetUrl'

declare module 'vitest' {
  interface ProvidedContext {
    /** The URL of chaperon's bundled target server, when the load project starts it (`loadProject({ target: true })`). */
    'chaperon:targetUrl': string
  }
}
