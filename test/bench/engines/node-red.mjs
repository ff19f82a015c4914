// The Node-RED runtime in this process (no editor, no HTTP), each graph deployed as a flow:
// a custom `bench-task` node per no-op node (it runs the shared task and sets msg.payload to the
// node's output), a `switch` node per gate (msg.payload.side == value → output 1, else output 2)
// and after each node whose edges are conditioned by expressions `{% field = 'value' %}` (one
// output per edge: msg.payload.field == 'value'),
// and before each node that joins several inputs with join all, a `join` node (manual mode,
// `count` = the number of inputs, the payloads collected into an array; its `merged` build
// counts keys, not messages, so it cannot wait for N empty outputs).
// A run is one message injected into each start node; it ends when every sink has received one.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adjacency, routeTest } from '../graphs.mjs';
import { packageJsonOf } from '../harness.mjs';
import { peerRequire as require } from '../peers.mjs';
import { probe } from '../probe.mjs';

const NODE_FILE = `
module.exports = function (RED) {
  const probe = globalThis.__gantryBench;
  function BenchTask(config) {
    RED.nodes.createNode(this, config);
    const id = config.task;
    const side = config.side;
    const route = config.route;
    const sink = config.sink === true;
    this.on('input', (msg, send, done) => {
      probe.calls++;
      if (probe.trace !== undefined) probe.trace.push(id);
      if (probe.sampling && (probe.calls & 15) === 0) probe.sample();
      msg.payload = side !== undefined ? { side } : route !== undefined ? { route } : {};
      if (sink) probe.onSink(msg);
      else send(msg);
      done();
    });
  }
  RED.nodes.registerType('bench-task', BenchTask);
};
`;
const NODE_HTML = `<script type="text/javascript">RED.nodes.registerType('bench-task', { category: 'function', defaults: {}, inputs: 1, outputs: 1 });</script>`;

export function nodeRedVersion() {
  return packageJsonOf(require.resolve('node-red')).version;
}

/** The flow's graph as a Node-RED flow configuration. */
export function toNodeRed(flow, prefix) {
  const tab = `${prefix}tab`;
  const { byId, incoming, outgoing } = adjacency(flow);
  const joins = (id) => byId.get(id).join === 'all' && incoming.get(id).length > 1;
  // Where a message for node `id` goes in: its join node, if it has one.
  const entry = (id) => (joins(id) ? `${prefix}J_${id}` : `${prefix}${id}`);
  const config = [{ id: tab, type: 'tab', label: flow.name }];
  for (const node of flow.nodes) {
    const out = outgoing.get(node.id);
    if (joins(node.id)) {
      config.push({
        id: entry(node.id), z: tab, type: 'join', mode: 'custom', build: 'array', property: 'payload', propertyType: 'msg',
        key: 'topic', joiner: '\\n', joinerType: 'str', accumulate: false, timeout: '', count: String(incoming.get(node.id).length),
        reduceRight: false, reduceExp: '', reduceInit: '', reduceInitType: '', reduceFixup: '', useparts: false,
        wires: [[`${prefix}${node.id}`]],
      });
    }
    if (node.type === 'conditional') {
      const { metric, operator, value } = node.data.conditions[0];
      if (operator !== '==' || typeof value !== 'number') throw new Error(`node-red adapter: only a gate "${metric} == <number>" is translated`);
      config.push({
        id: `${prefix}${node.id}`, z: tab, type: 'switch', property: `payload.${metric}`, propertyType: 'msg',
        rules: [{ t: 'eq', v: String(value), vt: 'num' }, { t: 'else' }], checkall: 'false', repair: false, outputs: 2,
        wires: [out.filter((e) => e.condition === 'pass').map((e) => entry(e.to)), out.filter((e) => e.condition === 'fail').map((e) => entry(e.to))],
      });
      continue;
    }
    const tests = out.map((e) => routeTest(e.condition));
    if (tests.some((t) => t !== undefined)) {
      if (tests.some((t) => t === undefined)) throw new Error('node-red adapter: a node\'s edges are all conditioned by expressions, or none');
      // The expressions of its edges: a switch node after it, one rule and one output per edge, every rule checked.
      config.push({
        id: `${prefix}S_${node.id}`, z: tab, type: 'switch', property: `payload.${tests[0].field}`, propertyType: 'msg',
        rules: tests.map((t) => {
          if (t.field !== tests[0].field) throw new Error('node-red adapter: the expressions of one node\'s edges test one field');
          return { t: 'eq', v: t.value, vt: 'str' };
        }),
        checkall: 'true', repair: false, outputs: out.length,
        wires: out.map((e) => [entry(e.to)]),
      });
    }
    config.push({
      id: `${prefix}${node.id}`, z: tab, type: 'bench-task', task: node.id, side: node.data.side, route: node.data.route, sink: out.length === 0,
      wires: [tests.some((t) => t !== undefined) ? [`${prefix}S_${node.id}`] : out.map((e) => entry(e.to))],
    });
  }
  return {
    config,
    starts: flow.nodes.filter((n) => incoming.get(n.id).length === 0).map((n) => `${prefix}${n.id}`),
    sinks: flow.nodes.filter((n) => outgoing.get(n.id).length === 0).length,
  };
}

export async function openNodeRed() {
  const userDir = mkdtempSync(join(tmpdir(), 'gantry-bench-node-red-'));
  const nodesDir = join(userDir, 'bench-nodes');
  mkdirSync(nodesDir);
  writeFileSync(join(nodesDir, 'bench-task.js'), NODE_FILE);
  writeFileSync(join(nodesDir, 'bench-task.html'), NODE_HTML);
  const RED = require('node-red');
  RED.init({
    userDir,
    nodesDir: [nodesDir],
    flowFile: 'flows.json',
    httpAdminRoot: false,
    httpNodeRoot: false,
    disableEditor: true,
    credentialSecret: false,
    editorTheme: { projects: { enabled: false } },
    externalModules: { autoInstall: false },
    logging: { console: { level: 'off', metrics: false, audit: false } },
  });
  await RED.start();
  let deploys = 0;

  const runMany = (prepared, n) =>
    new Promise((resolve) => {
      let left = n * prepared.sinks;
      probe.onSink = () => {
        if (--left === 0) resolve();
      };
      for (let i = 0; i < n; i++) for (const node of prepared.starts) node.receive({ payload: {} });
    });

  return {
    name: 'Node-RED',
    async prepare(flow) {
      const prefix = `d${++deploys}_`;
      const { config, starts, sinks } = toNodeRed(flow, prefix);
      await RED.runtime.flows.setFlows({ flows: { flows: config }, deploymentType: 'full' });
      // setFlows resolves before the new flows have started: wait for their nodes to exist.
      const last = config[config.length - 1].id;
      for (let i = 0; !RED.nodes.getNode(starts[0]) || !RED.nodes.getNode(last); i++) {
        if (i > 6_000) throw new Error('node-red adapter: the flow did not start within 60 s');
        await new Promise((r) => setTimeout(r, 10));
      }
      return { starts: starts.map((id) => RED.nodes.getNode(id)), sinks };
    },
    run: (prepared) => runMany(prepared, 1),
    runMany,
    commits: () => undefined,
    async close() {
      await RED.stop();
      rmSync(userDir, { recursive: true, force: true });
    },
  };
}
