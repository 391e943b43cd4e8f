import type { TestProject } from 'vitest/node'
import { TARGET_HTTPS_URL_KEY, TARGET_URL_KEY } from '../core/provided-context.ts'
import { startTargetServer } from '../target/http-server.ts'

/**
 * Starts chaperon's bundled target server for the load project, twice: over
 * plain HTTP/1.1, provided as `inject('chaperon:targetUrl')`, and over TLS
 * with HTTP/2 and HTTP/1.1, provided as `inject('chaperon:targetHttpsUrl')`.
 * Stops both after the run.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const [plain, tls] = await Promise.all([startTargetServer(), startTargetServer({ tls: true })])
  project.provide(TARGET_URL_KEY, plain.url)
  project.provide(TARGET_HTTPS_URL_KEY, tls.url)
  return async () => {
    await Promise.all([plain.close(), tls.close()])
  }
}
