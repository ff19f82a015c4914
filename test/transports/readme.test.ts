/** The README's "Agents and connectors" configuration examples validate against the schema. */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateConfigText } from '@gantry/engine';

const README = readFileSync(join(resolve(import.meta.dirname, '../..'), 'README.md'), 'utf8');
const examples = [...README.matchAll(/<!-- example: agents-config -->\n```json\n([\s\S]*?)```/g)].map((m) => ({
  line: README.slice(0, m.index).split('\n').length,
  code: m[1]!,
}));

describe('the README\'s agents and connectors configuration', () => {
  it('has its examples', () => {
    expect(examples.length).toBeGreaterThanOrEqual(2);
  });

  for (const { line, code } of examples) {
    it(`validates the configuration at README line ${line}`, () => {
      expect(validateConfigText(code).diagnostics).toEqual([]);
    });
  }
});
