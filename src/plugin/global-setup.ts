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
  const [plain, tls] = await Promise.allSettled([startTargetServer(), startTargetServer({ tls: true })])
  if (plain.status === 'rejected' || tls.status === 'rejected') {
    // The one that started must not outlive the setup that failed.
    await Promise.all([plain, tls].map((s) => (s.status === 'fulfilled' ? s.value.close() : undefined)))
    throw plain.status === 'rejected' ? plain.reason : (tls as PromiseRejectedResult).reason
  }
  project.provide(TARGET_URL_KEY, plain.value.url)
  project.provide(TARGET_HTTPS_URL_KEY, tls.value.url)
  return async () => {
    await Promise.all([plain.value.close(), tls.value.close()])
  }
}
