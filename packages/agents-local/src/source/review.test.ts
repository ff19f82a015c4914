import { describe, expect, it } from 'vitest';
import { reviewChanges } from './review.js';
import type { ChangedFile } from './repository.js';

const change = (path: string, content: string, changedLines = content.split('\n').map((_, i) => i + 1)): ChangedFile => ({ path, status: 'added', content, changedLines });

describe('the static review', () => {
  it('a clean, tested change scores 10', () => {
    const lib = change('lib.mjs', 'export function add(a, b) {\n  return a + b;\n}\n');
    const test = change('test/lib.test.mjs', "import { add } from '../lib.mjs';\n");
    const review = reviewChanges([lib, test], new Map([[lib.path, lib.content], [test.path, test.content]]));
    expect(review).toMatchObject({ code_quality_score: 10, findings: [], files_reviewed: ['lib.mjs', 'test/lib.test.mjs'] });
  });

  it('a module reached only through another one a test imports counts as tested', () => {
    const files = new Map([
      ['app.mjs', "import { x } from './util/x.mjs';\n"],
      ['util/x.mjs', 'export const x = 1;\n'],
      ['test/app.test.mjs', "import '../app.mjs';\n"],
    ]);
    expect(reviewChanges([change('util/x.mjs', files.get('util/x.mjs')!)], files).findings).toEqual([]);
  });

  it('finds console logging, TODOs, untested modules and debugger statements, on the changed lines', () => {
    const content = 'export function f() {\n  console.log("x"); // TODO remove\n  debugger;\n}\n';
    const review = reviewChanges([change('f.mjs', content)], new Map([['f.mjs', content]]));
    expect(review.findings.map((f) => f.rule).sort()).toEqual(['console', 'debugger', 'todo', 'untested-change']);
    expect(review.code_quality_score).toBe(6.3); // 10 − 0.5 − 0.25 − 1.5 − 1.5, to one decimal
    const unchanged = reviewChanges([change('f.mjs', content, [])], new Map([['f.mjs', content], ['test/f.test.mjs', "import '../f.mjs'"]]));
    expect(unchanged.findings).toEqual([]);
  });

  it('long functions and invalid JSON cost points; other files are skipped', () => {
    const long = `export function big() {\n${'  x();\n'.repeat(70)}}\n`;
    const review = reviewChanges([change('big.mjs', long, []), change('c.json', '{ nope'), change('notes.txt', 'hi')], new Map([['test/b.test.mjs', "import '../big.mjs'"]]));
    expect(review.findings.map((f) => [f.rule, f.line])).toEqual([
      ['long-function', 1],
      ['invalid-json', undefined],
    ]);
    expect(review.files_skipped).toEqual(['notes.txt']);
  });
});
