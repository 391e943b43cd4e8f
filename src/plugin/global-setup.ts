import type { TestProject } from 'vitest/node'
import { TARGET_URL_KEY } from '../core/provided-context.ts'
import { startTargetServer } from '../target/http-server.ts'

/**
 * Starts chaperon's bundled target server for the load project and provides its
 * URL as `inject('chaperon:targetUrl')`; stops it after the run.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startTargetServer()
  project.provide(TARGET_URL_KEY, server.url)
  return () => server.close()
}
