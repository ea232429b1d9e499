import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // forks: a native crash fails the file instead of hiding in a worker thread.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
