import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DIAGNOSTIC_CODES } from '@gantry/engine';
import { TEST_DIAGNOSTIC_CODES } from './codes.js';

const README = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8');

describe('TEST_DIAGNOSTIC_CODES', () => {
  it('documents every code with a sentence, in the table and in the README', () => {
    for (const [code, doc] of Object.entries(TEST_DIAGNOSTIC_CODES)) {
      expect(doc, code).toMatch(/^[A-Z`].{14,}\.$/s);
      expect(README, `${code} is in the README's table`).toContain(`\`${code}\``);
    }
  });

  it('shares no code with the flow validator, so a code always says which file kind it is about', () => {
    for (const code of Object.keys(TEST_DIAGNOSTIC_CODES)) expect(Object.keys(DIAGNOSTIC_CODES)).not.toContain(code);
  });
});
