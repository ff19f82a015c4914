/**
 * Sub-flow references stay in their folder tree (DESIGN §11, FLOW_REF_OUTSIDE): written escapes,
 * absolute paths and symbolic links that leave the tree are refused, on real files, and the
 * file named is never read.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadFlowFile, resolveFlowRef, subflowResolver } from './load.js';
import { validateFlowText } from './validate.js';

const CANARY = 'canary-77c1-outside-value';
const root = mkdtempSync(join(tmpdir(), 'gantry-flow-refs-'));
const flows = join(root, 'flows');
mkdirSync(join(flows, 'phases'), { recursive: true });
mkdirSync(join(root, 'secrets'));
// Another program's JSON file, outside the flows folder: its values must never show.
writeFileSync(join(root, 'secrets', 'keys.json'), JSON.stringify({ name: CANARY, nodes: [{ id: CANARY, type: CANARY, data: {} }] }));
const child = { name: 'child', nodes: [{ id: 'c', type: 'wait', data: { seconds: 0 } }] };
writeFileSync(join(flows, 'phases', 'child.json'), JSON.stringify(child));
symlinkSync(join(root, 'secrets', 'keys.json'), join(flows, 'linked.json'));
symlinkSync(join(root, 'secrets'), join(flows, 'elsewhere'));
symlinkSync(join(flows, 'phases', 'child.json'), join(flows, 'alias.json'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const parentWith = (ref: string) => JSON.stringify({ name: 'parent', nodes: [{ id: 's', type: 'subflow', data: { flow: ref } }] });

describe('resolveFlowRef', () => {
  it.each([
    ['phases/child.json', 'found'],
    ['./phases/../phases/child.json', 'found'],
    ['alias.json', 'found'],
    ['phases/none.json', 'missing'],
    ['../secrets/keys.json', 'outside'],
    ['../../../../../../etc/passwd', 'outside'],
    [join(flows, 'phases', 'child.json'), 'outside'],
    ['/etc/passwd', 'outside'],
    ['linked.json', 'outside'],
    ['elsewhere/keys.json', 'outside'],
  ])('%s is %s', (ref, status) => {
    expect(resolveFlowRef(flows, flows, ref).status).toBe(status);
  });

  it('holds a flow of a sub-folder to its own tree unless given a wider one', () => {
    const phases = join(flows, 'phases');
    expect(resolveFlowRef(phases, phases, '../alias.json').status).toBe('outside');
    expect(resolveFlowRef(flows, phases, '../alias.json').status).toBe('found');
  });
});

describe('validation of sub-flow references', () => {
  it('reports FLOW_REF_OUTSIDE for each way out, and never the named file\'s content', async () => {
    for (const ref of ['../secrets/keys.json', 'linked.json', 'elsewhere/keys.json', join(root, 'secrets', 'keys.json')]) {
      const result = validateFlowText(parentWith(ref), { subflowRef: subflowResolver(join(flows, 'parent.json')) });
      expect(result.diagnostics.map((d) => d.code), ref).toEqual(['FLOW_REF_OUTSIDE']);
      expect(result.diagnostics[0]!.pointer).toBe('/nodes/0/data/flow');
      expect(JSON.stringify(result)).not.toContain(CANARY);
    }
    const file = join(flows, 'parent.json');
    writeFileSync(file, parentWith('linked.json'));
    const error = await loadFlowFile(file).catch((e: Error) => e);
    expect(error).toMatchObject({ code: 'FLOW_INVALID' });
    expect(JSON.stringify(error) + String((error as Error).message)).not.toContain(CANARY);
  });

  it('accepts references inside the tree, links within it included, and leaves expressions to the run', () => {
    for (const ref of ['phases/child.json', 'alias.json', '{% $trigger.phase %}']) {
      expect(validateFlowText(parentWith(ref), { subflowRef: subflowResolver(join(flows, 'parent.json')) }).diagnostics, ref).toEqual([]);
    }
  });
});
