import { defineConfig } from 'vitest/config';

/**
 * `npm run test:chaos`: the chaos suite at full scale (CHAOS_SCALE=full unless set), one scenario
 * file at a time so each has both cores for its daemons, redis-server and sinks. The summary table
 * is printed at the end and written to docs/reliability.md.
 */
export default defineConfig({
  test: {
    include: ['test/chaos/**/*.test.ts'],
    globalSetup: ['test/chaos/global-setup.ts'],
    env: { CHAOS_SCALE: process.env.CHAOS_SCALE ?? 'full' },
    fileParallelism: false,
    maxWorkers: 1,
    testTimeout: 1_200_000,
    hookTimeout: 120_000,
  },
});
