/**
 * DESIGN §11 at run time, through a real engine, the real executors and connectors, and a
 * loopback HTTP server: a flow may name declared credentials only, even by an expression, and
 * a sub-flow reference that leaves its folder tree when the run reaches it (computed by an
 * expression, or a link changed since the flow was loaded) is refused without reading the file;
 * a sub-flow file is checked and compiled once per engine, again only after it failed to load.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, declaredNames, MemoryStore, type GantryConfig } from '@gantry/engine';
import { builtinConnectors, builtinExecutors } from '@gantry/executors';

const CANARY = 'canary-91e4-declared-only';
const OUTSIDE = 'canary-91e4-outside-file';
const root = mkdtempSync(join(tmpdir(), 'gantry-trust-'));
const flows = join(root, 'flows');
let server: Server;
let base: string;
const seen: string[] = [];

beforeAll(async () => {
  mkdirSync(join(flows, 'phases'), { recursive: true });
  mkdirSync(join(root, 'private'));
  writeFileSync(join(root, 'private', 'phase.json'), JSON.stringify({ name: OUTSIDE, nodes: [{ id: OUTSIDE, type: 'wait', data: { seconds: 0 } }] }));
  writeFileSync(join(flows, 'phases', 'ok.json'), JSON.stringify({ name: 'ok', nodes: [{ id: 'w', type: 'wait', data: { seconds: 0 } }] }));
  server = createServer((req, res) => {
    seen.push(`${req.url} ${req.headers.authorization ?? ''}`);
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.close();
  rmSync(root, { recursive: true, force: true });
});

function engine() {
  const config: GantryConfig = { credentials: { deploy_api: { env: 'DEPLOY_API', origins: [base] } } };
  const env: Record<string, string> = { DEPLOY_API: CANARY, OPS_API_TOKEN: CANARY };
  const store = new MemoryStore();
  const e = createEngine({
    executors: builtinExecutors,
    connectors: builtinConnectors({ outbound: { allow: ['127.0.0.1'] } }),
    store,
    // As the CLI resolves them: only declared credentials have a value.
    credentials: (name) => (config.credentials?.[name] ? env[config.credentials[name]!.env] : undefined),
    credentialOrigins: (name) => config.credentials?.[name]?.origins ?? [],
    declared: declaredNames(config, { functions: [], services: ['http', 'github', 'slack', 'prometheus'] }),
    flowsFolder: flows,
  });
  return { engine: e, store };
}

describe('credentials at run time', () => {
  it('sends a declared credential to its origin, and refuses a name an expression makes up', async () => {
    const { engine: e, store } = engine();
    const run = await e.start(
      {
        name: 'calls',
        nodes: [
          { id: 'declared', type: 'external_api', data: { service: 'http', action: 'get', url: `${base}/ok`, authentication: '{% "deploy" & "_api" %}' } },
          { id: 'made_up', type: 'external_api', data: { service: 'http', action: 'get', url: `${base}/steal`, authentication: '{% $trigger.which %}' } },
          { id: 'handled', type: 'wait', data: { seconds: 0 } },
        ],
        edges: [{ from: 'made_up', to: 'handled', condition: 'error' }],
      },
      { trigger: { which: 'ops_api_token' } },
    );
    const result = await run.finished;
    expect(result.status).toBe('succeeded');
    const failed = store.events(run.id).find((ev) => ev.type === 'node.failed');
    expect(failed).toMatchObject({ nodeId: 'made_up', error: { code: 'CREDENTIAL_REFUSED' } });
    expect((failed as { error: { message: string } }).error.message).toContain('"ops_api_token" is not declared');
    expect(seen).toEqual([`/ok Bearer ${CANARY}`]);
    expect(JSON.stringify(store.events(run.id))).not.toContain(CANARY);
  });

  it('refuses, when loading, a flow that names an undeclared credential', async () => {
    const file = join(flows, 'undeclared.json');
    writeFileSync(file, JSON.stringify({ name: 'u', nodes: [{ id: 'x', type: 'external_api', data: { service: 'http', action: 'get', url: base, authentication: 'ops_api_token' } }] }));
    await expect(engine().engine.loadFlow(file)).rejects.toMatchObject({ code: 'FLOW_INVALID', issues: [{ code: 'CREDENTIAL_UNDECLARED' }] });
  });
});

describe('sub-flow references at run time', () => {
  it('refuses a reference an expression takes out of the tree, and one a link now takes out, without reading the file', async () => {
    symlinkSync(join(flows, 'phases'), join(flows, 'current'));
    const parent = join(flows, 'parent.json');
    writeFileSync(
      parent,
      JSON.stringify({
        name: 'parent',
        nodes: [
          { id: 'computed', type: 'subflow', data: { flow: '{% "../private/" & "phase.json" %}' } },
          { id: 'linked', type: 'subflow', data: { flow: 'current/phase.json' } },
          { id: 'handled', type: 'wait', data: { seconds: 0 } },
        ],
        edges: [
          { from: 'computed', to: 'handled', condition: 'error' },
          { from: 'linked', to: 'handled', condition: 'error' },
        ],
      }),
    );
    writeFileSync(join(flows, 'phases', 'phase.json'), JSON.stringify({ name: 'inside', nodes: [{ id: 'w', type: 'wait', data: { seconds: 0 } }] }));
    const { engine: e, store } = engine();
    // Valid when loaded: the link pointed inside. It is turned outside before the run reaches it.
    const flow = await e.loadFlow(parent);
    unlinkSync(join(flows, 'current'));
    symlinkSync(join(root, 'private'), join(flows, 'current'));
    const run = await e.start(flow);
    const result = await run.finished;
    expect(result.status).toBe('succeeded');
    const failed = store.events(run.id).filter((ev) => ev.type === 'node.failed');
    expect(failed.map((ev) => [(ev as { nodeId: string }).nodeId, (ev as { error: { code: string } }).error.code]).sort()).toEqual([
      ['computed', 'FLOW_REF_OUTSIDE'],
      ['linked', 'FLOW_REF_OUTSIDE'],
    ]);
    expect(store.listRuns({}).map((r) => r.runId)).toEqual([run.id]);
    expect(JSON.stringify(store.events(run.id))).not.toContain(OUTSIDE);
  });
});

describe('sub-flow files, checked and compiled once per engine', () => {
  const parentNaming = (name: string, ref: string) => {
    const file = join(flows, `${name}.json`);
    writeFileSync(file, JSON.stringify({ name, nodes: [{ id: 'call', type: 'subflow', data: { flow: ref } }] }));
    return file;
  };
  const childOf = (runId: string, store: MemoryStore) => store.listRuns({}).filter((r) => r.runId.startsWith(`${runId}.`));

  it('runs a linked sub-flow again from what it compiled, without following the link again (nothing outside is read)', async () => {
    symlinkSync(join(flows, 'phases', 'ok.json'), join(flows, 'kept.json'));
    const { engine: e, store } = engine();
    const flow = await e.loadFlow(parentNaming('kept-parent', 'kept.json'));
    expect((await (await e.start(flow)).finished).status).toBe('succeeded');
    // The link is turned outside: this engine does not look at it again, and reads nothing there.
    unlinkSync(join(flows, 'kept.json'));
    symlinkSync(join(root, 'private', 'phase.json'), join(flows, 'kept.json'));
    const again = await e.start(flow);
    expect((await again.finished).status).toBe('succeeded');
    expect(childOf(again.id, store).map((r) => r.flowName)).toEqual(['ok']);
    expect(JSON.stringify(store.listRuns({}))).not.toContain(OUTSIDE);
    // A new engine checks the link afresh.
    const fresh = engine();
    expect(await (await fresh.engine.start(flow)).finished).toMatchObject({ status: 'failed', error: { code: 'FLOW_REF_OUTSIDE' } });
    expect(JSON.stringify(fresh.store.listRuns({}))).not.toContain(OUTSIDE);
  });

  it('checks a link again after its file failed to load, and refuses it once it leads outside', async () => {
    writeFileSync(join(flows, 'phases', 'broken.json'), '{ "name": "broken" ');
    symlinkSync(join(flows, 'phases', 'broken.json'), join(flows, 'flaky.json'));
    const { engine: e, store } = engine();
    const flow = await e.loadFlow(parentNaming('flaky-parent', 'flaky.json'));
    expect(await (await e.start(flow)).finished).toMatchObject({ status: 'failed', error: { code: 'FLOW_INVALID' } });
    unlinkSync(join(flows, 'flaky.json'));
    symlinkSync(join(root, 'private', 'phase.json'), join(flows, 'flaky.json'));
    expect(await (await e.start(flow)).finished).toMatchObject({ status: 'failed', error: { code: 'FLOW_REF_OUTSIDE' } });
    expect(JSON.stringify(store.listRuns({}))).not.toContain(OUTSIDE);
  });

  it('refuses an absolute reference to a file a relative one was found to name', async () => {
    const { engine: e } = engine();
    const absolute = join(flows, 'phases', 'ok.json');
    const flow = await e.loadFlow(parentNaming('twice-parent', '{% $trigger.ref %}'));
    expect((await (await e.start(flow, { trigger: { ref: 'phases/ok.json' } })).finished).status).toBe('succeeded');
    expect(await (await e.start(flow, { trigger: { ref: absolute } })).finished).toMatchObject({ status: 'failed', error: { code: 'FLOW_REF_OUTSIDE', message: expect.stringContaining('an absolute path') } });
  });
});
