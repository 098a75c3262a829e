import { defineConfig } from 'vitest/config';

/**
 * The unit tests beside their code (src/**\/*.test.ts): pure, no Redis, no child process, no file
 * outside src/ and config/. The Dockerfile's build stage runs them (`npm run test:unit`) on the
 * image's Node, which the machines here do not have; `npm test` runs them with everything else.
 */
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    exclude: ['node_modules/**', 'dist/**'],
    testTimeout: 60_000,
    maxWorkers: 2,
  },
});
