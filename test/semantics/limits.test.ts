/**
 * DESIGN §11: regular expressions run on a linear-time engine (gates as expressions), a pattern
 * RE2 cannot run is a validation error, and what enters a run (a node's output, an agent's
 * reply, a connector's answer, the trigger) has a size limit, refused with VALUE_TOO_LARGE
 * before it is journaled.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createEngine, MemoryStore, validateFlowText, type JsonObject } from '@gantry/engine';
import { moduleAgent } from '@gantry/executors';
import { openSqliteStore } from '@gantry/store-sqlite';
import { flow, harness, probe } from './harness.js';

/** A real store file: outputs and triggers are bounded before they are journaled. */
const durable = () => openSqliteStore(join(mkdtempSync(join(tmpdir(), 'gantry-limits-')), 'gantry.db'));

const gate = (value: string) => ({ id: 'gate', type: 'conditional', data: { conditions: [{ metric: 'title', operator: 'matches', value }], fail_action: 'block_deployment' } });

describe('the gate\'s matches runs on RE2', () => {
  it('^([a-z]+)+$ against 29 a\'s and a ! answers at once (it froze a server for 23 s)', async () => {
    const h = harness();
    const started = performance.now();
    const { result, run } = await h.run(flow([probe('src', { out: { title: `${'a'.repeat(29)}!` } }), gate('^([a-z]+)+$')], [{ from: 'src', to: 'gate' }]));
    expect(performance.now() - started).toBeLessThan(3_000);
    expect(result.status).toBe('blocked');
    expect((run.state().outputs.gate as JsonObject).passed).toBe(false);
  });

  it('a pattern RE2 cannot run, given by an expression, fails the gate naming it', async () => {
    const h = harness();
    const { result, run } = await h.run(flow([probe('src', { out: { title: 'aa' } }), gate("{% '(a)\\\\1' %}")], [{ from: 'src', to: 'gate' }]));
    expect(result.status).toBe('failed');
    const error = run.state().nodes.get('gate')?.error;
    expect(error?.code).toBe('EXPRESSION_FAILED');
    expect(error?.message).toMatch(/\/\(a\)\\1\/ uses a backreference/);
  });

  it('validation refuses a literal pattern RE2 cannot run, in a gate or in an expression, with where and why', () => {
    const text = JSON.stringify(
      flow([
        probe('src', { out: { t: '{% $match("x", /(?=x)x/) %}' } }),
        { ...gate('(\\w+)\\1'), id: 'g' },
      ], [{ from: 'src', to: 'g' }]),
      null,
      2,
    );
    const { diagnostics } = validateFlowText(text);
    const found = diagnostics.filter((d) => d.code === 'REGEX_UNSUPPORTED');
    expect(found.map((d) => d.pointer).sort()).toEqual(['/nodes/0/data/out/t', '/nodes/1/data/conditions/0/value']);
    for (const d of found) expect(d.line).toBeGreaterThan(1);
    expect(found.find((d) => d.pointer.endsWith('/t'))?.message).toMatch(/\/\(\?=x\)x\/ .*lookahead/);
    expect(found.find((d) => d.pointer.endsWith('/value'))?.message).toMatch(/\/\(\\w\+\)\\1\/ uses a backreference/);
  });
});

describe('size limits: VALUE_TOO_LARGE before anything is journaled', () => {
  const big = 'x'.repeat(300);

  it('a node\'s output past the limit fails the node; the output is not journaled', async () => {
    const h = harness({ limits: { nodeOutputBytes: 200 }, store: durable() });
    const { result, run, journal } = await h.run(flow([probe('src', { out: { big } })]));
    expect(result.status).toBe('failed');
    const error = run.state().nodes.get('src')?.error;
    expect(error?.code).toBe('VALUE_TOO_LARGE');
    expect(error?.message).toMatch(/output of node "src" .*limit of 200/);
    expect(JSON.stringify(journal)).not.toContain(big);
  });

  it('an output mapping past the limit fails the node', async () => {
    const h = harness({ limits: { nodeOutputBytes: 200 }, store: durable() });
    const { result, run } = await h.run(flow([probe('src', { out: { a: 1 } }, { output: { big: "{% $pad('', 300, 'y') %}" } })]));
    expect(result.status).toBe('failed');
    expect(run.state().nodes.get('src')?.error?.code).toBe('VALUE_TOO_LARGE');
  });

  it('an agent\'s reply past the limit fails the node, naming the agent', async () => {
    const h = harness({ limits: { agentReplyBytes: 200 }, agents: { chatty: moduleAgent({ talk: () => ({ big }) }) } });
    const { run } = await h.run(flow([{ id: 'ask', type: 'agent', data: { agent: 'chatty', task: 'talk' } }]));
    const error = run.state().nodes.get('ask')?.error;
    expect(error?.code).toBe('VALUE_TOO_LARGE');
    expect(error?.message).toMatch(/reply of agent "chatty" task "talk"/);
  });

  it('a reply nested thousands of levels deep fails the node (a journal could not write it), naming the agent', async () => {
    let deep: JsonObject = {};
    for (let i = 0; i < 100_000; i++) deep = { d: deep };
    const h = harness({ agents: { deep: moduleAgent({ talk: () => ({ deep }) }) }, store: durable() });
    const { result, run } = await h.run(flow([{ id: 'ask', type: 'agent', data: { agent: 'deep', task: 'talk' } }]));
    expect(result.status).toBe('failed');
    const error = run.state().nodes.get('ask')?.error;
    expect(error?.code).toBe('VALUE_TOO_LARGE');
    expect(error?.message).toMatch(/reply of agent "deep" task "talk".* deeper than 100 levels/);
  });

  it('a connector\'s answer past the limit fails the node, naming the connector', async () => {
    const svc = { service: 'svc', call: async () => ({ big }) };
    const h = harness({ limits: { connectorAnswerBytes: 200 }, connectors: [svc] });
    const { run } = await h.run(flow([{ id: 'call', type: 'external_api', data: { service: 'svc', action: 'get' } }]));
    const error = run.state().nodes.get('call')?.error;
    expect(error?.code).toBe('VALUE_TOO_LARGE');
    expect(error?.message).toMatch(/answer of connector "svc" action "get"/);
  });

  it('a trigger past the limit refuses the run before it is created', async () => {
    const h = harness({ limits: { triggerBytes: 200 }, store: durable() });
    await expect(h.start(flow([probe('a')]), { trigger: { big } })).rejects.toMatchObject({ code: 'VALUE_TOO_LARGE', message: expect.stringMatching(/trigger .*200/) });
    expect(h.events).toEqual([]);
  });

  it('a store that does not last journals nothing: outputs and triggers are not measured (the in-memory hot path pays nothing)', async () => {
    // The in-memory store whatever store the tables run on (GANTRY_SEMANTICS_STORE): it is this row's subject.
    const h = harness({ limits: { nodeOutputBytes: 200, triggerBytes: 200 }, store: new MemoryStore() });
    const { result } = await h.run(flow([probe('src', { out: { big } })]), { trigger: { big } });
    expect(result.status).toBe('succeeded');
  });

  it('values within the limits pass (the defaults are 1 MiB each)', async () => {
    const h = harness();
    const { result } = await h.run(flow([probe('src', { out: { big: 'x'.repeat(500_000) } })]), { trigger: { big: 'y'.repeat(500_000) } });
    expect(result.status).toBe('succeeded');
  });

  it('the limits are options validated once', () => {
    expect(() => createEngine({ limits: { nodeOutputBytes: 0 } })).toThrow(/limits.nodeOutputBytes to be an integer ≥ 1, got 0/);
    expect(() => createEngine({ limits: { expression: { maxStep: 3 } as never } })).toThrow(/unknown limit "limits.expression.maxStep"/);
  });
});
