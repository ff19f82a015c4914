import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

const SEMANTICS = 'test/semantics/**/*.test.ts';

export default defineConfig({
  resolve: {
    // Tests import each package's TypeScript source (the "source" export condition), not dist/.
    conditions: ['source'],
  },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    globalSetup: ['test/support/global-setup.mjs'],
    testTimeout: 30_000,
    // Most files wait on child processes, servers and timers: two at once even on two cores.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    projects: [
      { extends: true, test: { name: 'gantry', include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts'] } },
      // The semantics tables once more on each durable store: the same flows give the same results
      // on the in-memory store (above), on SQLite and on Postgres (a throw-away cluster).
      { extends: true, test: { name: 'semantics-sqlite', include: [SEMANTICS], env: { GANTRY_SEMANTICS_STORE: 'sqlite' } } },
      { extends: true, test: { name: 'semantics-postgres', include: [SEMANTICS], env: { GANTRY_SEMANTICS_STORE: 'postgres' }, globalSetup: ['test/semantics/postgres-setup.ts'] } },
    ],
  },
});
