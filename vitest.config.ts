import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts', 'examples/**/*.test.ts', 'bench/**/*.test.ts'],
    pool: 'forks',
    // Two test files at a time (vitest's default here is one: the cores less one). The e2e files
    // spend most of their time waiting on child processes (roamd, the agents' CLIs, browsers),
    // and one at a time the suite no longer fits CI's 30 minutes. Each file keeps its own
    // namespaces, ports (0), homes and mounts, so two never share a resource.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest-tmp/results.json' },
  },
});
