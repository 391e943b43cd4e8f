import { defineConfig } from 'vitest/config'
import { chaperon, loadProject } from 'chaperon/plugin'

export default defineConfig({
  plugins: [chaperon()],
  test: {
    projects: [
      // @actions/workflow-parser imports its schema JSON without `with { type: 'json' }`, which Node refuses; Vite's transform accepts it.
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'], server: { deps: { inline: ['@actions/workflow-parser'] } } } },
      { extends: true, test: { name: 'integration', include: ['test/integration/**/*.test.ts'], testTimeout: 60_000 } },
      { extends: true, test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], testTimeout: 180_000, hookTimeout: 60_000 } },
      // The examples run against the bundled target, started by the load project.
      loadProject({ include: ['examples/**/*.load.ts'], target: true }),
    ],
  },
})
