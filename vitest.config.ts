import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // Tests import each package's TypeScript source (the "source" export condition), not dist/.
    conditions: ['source'],
  },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.mjs'],
    testTimeout: 30_000,
  },
});
