import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // A native addon that crashes takes its worker with it: one process per file.
    pool: 'forks',
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
