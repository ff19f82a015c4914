// The hand-written baseline (../baseline.mjs) behind the same interface as the engines.
import { prepareBaseline, runBaseline } from '../baseline.mjs';

export async function openBaseline() {
  return {
    name: 'baseline',
    prepare: prepareBaseline,
    run: runBaseline,
    async runMany(graph, n) {
      await Promise.all(Array.from({ length: n }, () => runBaseline(graph)));
    },
    commits: () => undefined,
    close() {},
  };
}
