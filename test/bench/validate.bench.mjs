// Validation and compilation cost, as a ratio to JSON.parse of the same text in the same run.
import { loadFlowText, validateFlowText } from '@gantry/engine';
import { layeredFlow } from './flows.mjs';
import { fmt, medianMs, table } from './harness.mjs';

export async function validateBench({ sizes = [100, 1_000, 10_000], runs = 9 } = {}) {
  const rows = [];
  for (const [size, expressionEvery] of sizes.flatMap((s) => [[s, 0], [s, 10]])) {
    const text = JSON.stringify(layeredFlow(size, { expressionEvery }), null, 2);
    if (!validateFlowText(text).ok) throw new Error(`generated flow of ${size} nodes does not validate`);
    const parse = await medianMs(() => JSON.parse(text), { runs });
    const validate = await medianMs(() => validateFlowText(text), { runs });
    const load = await medianMs(() => loadFlowText(text), { runs });
    rows.push([
      size,
      expressionEvery ? `1 in ${expressionEvery}` : 'none',
      `${fmt(text.length / 1e6)} MB`,
      fmt(parse),
      fmt(validate),
      fmt(load),
      fmt((load * 1000) / size),
      `${fmt(load / parse, 1)}x`,
    ]);
  }
  return table(['nodes', 'expressions', 'text', 'JSON.parse ms', 'validate ms', 'validate+compile ms', 'µs/node', 'ratio to JSON.parse'], rows);
}
