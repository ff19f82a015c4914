// The comparison compares the same work: on small versions of every benchmark graph, the
// baseline, Gantry (in memory and on SQLite), Node-RED and bpmn-engine when test/bench/peers is
// installed (`pnpm bench` installs it on first use, or `npm ci --prefix test/bench/peers`: the
// README's install does not bring them) and n8n when test/bench/n8n is (it is optional: `npm
// install --prefix test/bench/n8n`) run exactly the same no-op tasks (a diamond's gate picks the
// same branch in each), and nothing more.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBaseline } from './engines/baseline.mjs';
import { openBpmn, toBpmn } from './engines/bpmn.mjs';
import { openGantry } from './engines/gantry.mjs';
import { N8N_INSTALL, n8nInstalled, openN8n, toN8n } from './engines/n8n.mjs';
import { openNodeRed, toNodeRed } from './engines/node-red.mjs';
import { chain, diamonds, fanOutIn, layered, routing } from './graphs.mjs';
import { PEERS_INSTALL, peersInstalled } from './peers.mjs';
import { probe } from './probe.mjs';

interface Adapter {
  name: string;
  prepare(flow: object): unknown;
  run(prepared: unknown): Promise<unknown>;
  runMany(prepared: unknown, n: number): Promise<void>;
  close(): unknown;
}

const graphs = [chain(6), fanOutIn(7), layered(12, 3), diamonds(13)];
let dir: string;
let adapters: Adapter[];
const withN8n = n8nInstalled();
const withPeers = peersInstalled();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gantry-peers-'));
  adapters = [await openBaseline(), await openGantry(), await openGantry({ durable: true, dir })] as Adapter[];
  if (withPeers) adapters.push((await openNodeRed()) as Adapter, (await openBpmn()) as Adapter);
  if (withN8n) adapters.push((await openN8n()) as Adapter);
}, 30_000);

afterAll(async () => {
  for (const adapter of adapters ?? []) await adapter.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The tasks one run executes, in a stable order. */
async function traceOf(adapter: Adapter, flow: object, runs = 1): Promise<string[]> {
  const prepared = await adapter.prepare(flow);
  probe.trace = [];
  try {
    if (runs === 1) await adapter.run(prepared);
    else await adapter.runMany(prepared, runs);
    return [...probe.trace].sort();
  } finally {
    probe.trace = undefined;
  }
}

describe('every engine of the comparison does the same work', () => {
  for (const graph of graphs) {
    it(`${graph.flow.name}`, async () => {
      const expected = await traceOf(adapters[1]!, graph.flow);
      expect(expected).toHaveLength(graph.tasks);
      for (const adapter of adapters) expect(await traceOf(adapter, graph.flow), adapter.name).toEqual(expected);
    });
  }

  it('a diamond takes the branch its side names, and the other is skipped', async () => {
    const trace = await traceOf(adapters[1]!, diamonds(13).flow);
    expect(trace).toEqual(['a0', 'a1', 'b2', 'j0', 'j1', 'j2', 's']);
  });

  it('runs in flight stay apart (each sink counts its own run)', async () => {
    for (const adapter of adapters) expect(await traceOf(adapter, chain(4).flow, 5), adapter.name).toHaveLength(20);
  });

  it('the peers get the same graph: a join for each join-all node, a switch or gateway for each gate', () => {
    const { config } = toNodeRed(layered(12, 3).flow, 'x_');
    expect(config.filter((n: { type: string }) => n.type === 'join')).toHaveLength(9);
    const xml = toBpmn(diamonds(9).flow);
    expect(xml.match(/<exclusiveGateway id="g\d+"/g)).toHaveLength(2);
    expect(xml.match(/<serviceTask /g)).toHaveLength(7);
    const lattice = toN8n(layered(12, 3).flow);
    expect(lattice.nodes.filter((n: { type: string }) => n.type === 'bench.join3')).toHaveLength(9);
    expect(lattice.start).toBe('__start');
    const gates = toN8n(diamonds(9).flow).nodes.filter((n: { type: string }) => n.type === 'bench.gate');
    expect(gates).toHaveLength(2);
  });

  it.skipIf(!withPeers)(withPeers ? 'Node-RED and bpmn-engine are among the engines compared' : `Node-RED and bpmn-engine skipped: not installed (\`pnpm bench\` installs them, or \`${PEERS_INSTALL}\`)`, () => {
    expect(adapters.map((a) => a.name)).toEqual(expect.arrayContaining(['Node-RED', 'bpmn-engine']));
  });

  it('routing by expression edges: the baseline, Gantry and Node-RED take the branch each route names (bpmn-engine and n8n do not run it)', async () => {
    const routed = adapters.filter((a) => a.name !== 'bpmn-engine' && a.name !== 'n8n');
    expect(routed).toHaveLength(withPeers ? 4 : 3);
    const graph = routing(13);
    for (const adapter of routed) expect(await traceOf(adapter, graph.flow), adapter.name).toEqual(['a0', 'a2', 'b1', 'j0', 'j1', 'j2', 'r0', 'r1', 'r2', 's']);
    expect(graph.tasks).toBe(10);
    if (!withPeers) return;
    const { config } = toNodeRed(graph.flow, 'x_');
    expect(config.filter((n: { type: string }) => n.type === 'switch')).toHaveLength(3);
  });

  it.skipIf(!withN8n)(withN8n ? 'n8n is among the engines compared' : `n8n skipped: not installed (run \`${N8N_INSTALL}\` to include it)`, () => {
    expect(adapters.map((a) => a.name)).toContain('n8n');
  });
});
