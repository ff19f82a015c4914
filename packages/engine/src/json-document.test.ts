import { describe, expect, it } from 'vitest';
import { checkJsonText } from './json-document.js';

const schema = {
  type: 'object',
  required: ['flow'],
  properties: { flow: { type: 'string' }, tests: { type: 'array' } },
  additionalProperties: false,
};

describe('checkJsonText', () => {
  it('places a JSON syntax error at its line and column', () => {
    const result = checkJsonText('{\n  "flow": "a.json",\n  "tests": [1,]\n}', schema);
    expect(result.ok).toBe(false);
    expect(result.diagnostics[0]).toMatchObject({ code: 'JSON_SYNTAX', line: 3, column: 14 });
  });

  it('names a trailing comma and points at it, not at the bracket after it', () => {
    const at = (text: string) => checkJsonText(text, schema).diagnostics.map((d) => `${d.line}:${d.column} ${d.message}`);
    expect(at('{\n  "flow": "a.json",\n  "tests": [1, 2,\n  ]\n}')).toEqual(['3:17 trailing comma: JSON allows none after the last item of an array (remove it)']);
    expect(at('{"flow": "a.json",}')).toEqual(['1:18 trailing comma: JSON allows none after the last property of an object (remove it)']);
    // A comma with no value before the next one is no trailing comma; nor is one alone in brackets said twice.
    expect(at('{"flow": "a.json", "tests": [1,,2]}')).toEqual(['1:32 expected a value']);
    expect(at('[,]')).toEqual(['1:2 expected a value']);
  });

  it('reports schema problems with the flow validator\'s codes, pointers and a did-you-mean, and describes places in the caller\'s words', () => {
    const result = checkJsonText('{\n  "flw": "a.json"\n}', schema, { describe: (_d, pointer) => `here ${pointer}` });
    expect(result.diagnostics).toEqual([
      { code: 'MISSING_KEY', severity: 'error', pointer: '', line: 1, column: 1, message: 'here : missing required key "flow"' },
      { code: 'UNKNOWN_KEY', severity: 'error', pointer: '/flw', line: 2, column: 3, message: 'here : unknown key "flw" — did you mean "flow"? (allowed: flow, tests, or an x- key)' },
    ]);
  });

  it('runs the file\'s own checks once the schema holds, and places and sorts their findings with their own codes', () => {
    const text = '{\n  "flow": "a.json",\n  "tests": [\n    1,\n    2\n  ]\n}';
    const result = checkJsonText<'MINE'>(text, schema, {
      check: () => [
        { code: 'MINE', severity: 'warning', pointer: '/tests/0', message: 'first' },
        { code: 'MINE', severity: 'error', pointer: '/tests/1', message: 'second' },
      ],
    });
    expect(result.ok).toBe(false);
    expect(result.diagnostics.map((d) => [d.code, d.severity, d.line, d.column, d.message])).toEqual([
      ['MINE', 'error', 5, 5, 'second'],
      ['MINE', 'warning', 4, 5, 'first'],
    ]);
    expect(result.locate('/tests/1')).toEqual({ line: 5, column: 5 });
  });

  it('does not run the checks on a document that breaks the schema', () => {
    let called = false;
    checkJsonText('{ "tests": 3 }', schema, { check: () => ((called = true), []) });
    expect(called).toBe(false);
  });
});
