import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['node_modules/**', 'dist/**'],
    // The chaos suite runs here in its short form (CHAOS_SCALE=short, the default); its summary
    // table is printed at the end. `npm run test:chaos` runs it at full scale.
    globalSetup: ['test/chaos/global-setup.ts'],
    reporters: ['default', './test/summary-reporter.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Each file starts its own redis-server; two cores cannot take more than a few at once.
    maxWorkers: 2,
  },
});
