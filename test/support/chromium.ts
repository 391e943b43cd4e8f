// Headless Chromium for browser tests: Debian's chromium package, driven by playwright-core.
import { accessSync, constants } from 'node:fs'
import { type Browser, chromium } from 'playwright-core'
import { inCi } from './ci.ts'

/** The Chromium binary: `CHROMIUM_PATH`, else Debian's. */
export const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium'

/**
 * Why browser tests cannot run here, or undefined when they can. Tests skip
 * with this reason locally; in CI (`CI` set) a missing browser throws, so
 * the test file fails instead.
 */
export function chromiumMissing(): string | undefined {
  try {
    accessSync(CHROMIUM_PATH, constants.X_OK)
    return undefined
  } catch {
    const reason = `no Chromium at ${CHROMIUM_PATH}: install Debian's chromium package (apt-get install chromium) or set CHROMIUM_PATH`
    if (inCi()) throw new Error(`CI is set, so the browser tests must run, but there is ${reason}.`)
    return reason
  }
}

/**
 * Starts headless Chromium with the flags that keep it off the network: no
 * background networking, component updates, sync or QUIC, which a closed
 * network refuses. Playwright gives each launch a new, empty profile
 * (`--user-data-dir`) and removes it on close.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    chromiumSandbox: false,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
}
