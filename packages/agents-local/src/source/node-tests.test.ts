import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lineCoverage, tapCounts, unitTestFiles } from './node-tests.js';

const dir = mkdtempSync(join(tmpdir(), 'gantry-cov-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('test results', () => {
  it('counts come from the TAP summary; cancelled tests count as failed', () => {
    expect(tapCounts('ok 1 - a\n# tests 4\n# pass 2\n# fail 1\n# cancelled 1\n# skipped 0\n# todo 0\n')).toEqual({ passed: 2, failed: 2, skipped: 0, total: 4 });
  });

  it('coverage counts the code no test loaded as uncovered, and leaves tests out', () => {
    mkdirSync(join(dir, 'test', 'integration'), { recursive: true });
    writeFileSync(join(dir, 'a.mjs'), 'x\n');
    writeFileSync(join(dir, 'server.mjs'), '// start\nimport "./a.mjs";\nawait start();\n\n');
    writeFileSync(join(dir, 'test', 'a.test.mjs'), '');
    writeFileSync(join(dir, 'test', 'integration', 'api.test.mjs'), '');
    const lcov = 'TN:\nSF:a.mjs\nLH:9\nLF:10\nend_of_record\nSF:test/a.test.mjs\nLH:5\nLF:5\nend_of_record\n';
    const coverage = lineCoverage(dir, lcov);
    expect(coverage.files).toEqual([
      { path: 'a.mjs', covered: 9, total: 10, loaded: true },
      { path: 'server.mjs', covered: 0, total: 2, loaded: false },
    ]);
    expect(coverage.percent).toBe(75);
    expect(unitTestFiles(dir)).toEqual(['test/a.test.mjs']);
  });
});
