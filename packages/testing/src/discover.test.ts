import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findTestFiles } from './discover.js';

const dir = mkdtempSync(join(tmpdir(), 'gantry-discover-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
for (const file of ['flows/a.json', 'flows/tests/b.test.json', 'flows/tests/a.test.json', 'node_modules/x/c.test.json', 'more/d.test.json', 'more/notes.json']) {
  mkdirSync(join(dir, file, '..'), { recursive: true });
  writeFileSync(join(dir, file), '{}');
}

describe('findTestFiles', () => {
  it('finds every *.test.json below the folder, sorted, outside node_modules', () => {
    expect(findTestFiles([], dir)).toEqual(['flows/tests/a.test.json', 'flows/tests/b.test.json', 'more/d.test.json']);
  });

  it('takes a file as named, whatever its name, and each file once', () => {
    expect(findTestFiles(['more/notes.json', 'flows', 'flows/tests/a.test.json'], dir)).toEqual(['more/notes.json', 'flows/tests/a.test.json', 'flows/tests/b.test.json']);
  });

  it('says so when a folder holds no test file', () => {
    mkdirSync(join(dir, 'empty'));
    expect(() => findTestFiles(['empty'], dir)).toThrow('no *.test.json files in empty or below it');
  });
});
