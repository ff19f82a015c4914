/**
 * Each package carries the schemas it reads (packages/<name>/schemas/, generated from the
 * repository's schemas/ by scripts/build-schemas.mjs): copies of the files and their validators as
 * ajv's standalone code, so that nothing compiles a schema when a command starts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SCHEMA_DIR, validateFlowDocument, validateConfigText } from '@gantry/engine';
// @ts-expect-error: a script of the workspace, in plain JavaScript
import { AJV_OPTIONS as GENERATED_WITH, TARGETS, validatorCode } from '../../scripts/build-schemas.mjs';
import { AJV_OPTIONS } from '../../packages/engine/src/schemas.js';

const ROOT = join(import.meta.dirname, '..', '..');
const targets = TARGETS as { package: string; validators: Record<string, string> }[];

describe('the schemas each package carries', () => {
  it('generates with the options the engine compiles run-time schemas with', () => {
    expect(GENERATED_WITH).toEqual(AJV_OPTIONS);
  });

  for (const target of targets) {
    for (const [name, file] of Object.entries(target.validators)) {
      it(`${target.package} carries ${file} and its validator, as generated from schemas/ now`, () => {
        const dir = join(ROOT, target.package, 'schemas');
        // `flow.schema.json#/definitions/node`: a part of a schema file, validated on its own.
        const path = file.split('#')[0]!;
        expect(readFileSync(join(dir, path), 'utf8')).toBe(readFileSync(join(ROOT, 'schemas', path), 'utf8'));
        const code = readFileSync(join(dir, `validate-${name}.cjs`), 'utf8');
        expect(code).toBe((validatorCode as (dir: string, file: string, options: object) => string)(join(ROOT, 'schemas'), file, AJV_OPTIONS));
        // Standalone: no module of ajv (nor any other) is needed to run it.
        expect(code).not.toMatch(/\brequire\(/);
      });
    }
  }

  it('the engine reads its own copy, inside its package', () => {
    expect(SCHEMA_DIR).toBe(join(ROOT, 'packages', 'engine', 'schemas'));
  });

  it('a generated validator gives the diagnostics of a compiled one: unknown key with its did-you-mean, in flows and configurations', () => {
    const flow = validateFlowDocument({ name: 'f', nodes: [{ id: 'a', type: 'wait', data: { seconds: 1 }, timout: 5 }] });
    expect(flow.diagnostics.map((d) => [d.code, d.pointer, d.message])).toEqual([
      ['UNKNOWN_KEY', '/nodes/0/timout', expect.stringContaining('unknown key "timout" — did you mean "timeout"?')],
    ]);
    const config = validateConfigText('{\n  "agnets": {}\n}');
    expect(config.diagnostics.map((d) => [d.code, d.line, d.column, d.message])).toEqual([['UNKNOWN_KEY', 2, 3, expect.stringContaining('did you mean "agents"?')]]);
  });

  it('the data schema of a custom node type is compiled at run time, and may refer to the built-in types\' data schemas', () => {
    const nodeTypes = new Map<string, object>([
      ['shout', { type: 'object', required: ['text'], properties: { text: { type: 'string' } }, additionalProperties: false }],
      ['pause', { $ref: 'nodes/wait.schema.json' }],
    ]);
    const nodes = [
      { id: 's', type: 'shout', data: { txt: 'hi' } },
      { id: 'p', type: 'pause', data: { secs: 1 } },
    ];
    const result = validateFlowDocument({ name: 'f', nodes }, { nodeTypes });
    expect(result.diagnostics.filter((d) => d.code === 'UNKNOWN_KEY').map((d) => d.pointer)).toEqual(['/nodes/0/data/txt', '/nodes/1/data/secs']);
  });
});
