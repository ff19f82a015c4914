// n8n's execution engine in this process (no server, no database, no editor): each graph as an
// n8n workflow (`Workflow` of n8n-workflow, `settings.executionOrder: 'v1'`, the order of n8n 1.x
// and the default of new workflows), each run a `new WorkflowExecute(additionalData, 'manual')`
// of n8n-core on it, as n8n's own tests and its manual executions do. Its lifecycle hooks are
// empty: n8n's server would also save each execution and its data to its database, and push its
// progress to the editor; none of that is measured. Optional: n8n is not in the
// pnpm workspace but in test/bench/n8n (`npm install --prefix test/bench/n8n`, n8n-core 1.122
// with isolated-vm forced to 5.0.4, which builds on Node 20; isolated-vm is only loaded by n8n's
// `vm` expression engine, which these workflows do not use).
//
// The translation, with minimal custom node types (n8n's node types are classes with a
// description and an `execute` called with the node's context):
// - a no-op node is a `bench.task` node: it calls the shared task once and outputs one item,
//   `{}` or `{ side }` (its parameters, an n8n "collection", hold the side): the cheapest an n8n
//   node can be (it reads its parameters from the node, not through `getNodeParameter`);
// - a gate is a `bench.gate` node with two outputs, like n8n's If node: the input item goes to
//   output 0 when `item.json[metric] === value`, else to output 1 (n8n does not follow an output
//   that has no items). It is not a task, and reads its parameters as cheaply as the tasks;
// - a join-all node (several inputs, `join: "all"`) is a `bench.join<k>` node with k inputs,
//   each edge into an input of its own. That is how n8n waits for several branches: a node with
//   several inputs (its Merge node has 2 to 10) is held in `waitingExecution` until every input
//   has data, then runs once with all of them; our join runs the task and outputs one empty item
//   (what Merge does in "choose branch" mode, "wait for both inputs", "output a single empty
//   item"). Edges into a single input would run the node once per arriving branch instead (v1
//   order), which is join-any; n8n's Merge node stops at 10 inputs, its engine does not;
// - a join-any node (the diamonds' joins) gets both branches on its one input, as an n8n user
//   wires the two outputs of an If back together: only the branch taken arrives, the node runs
//   once;
// - a graph with several start nodes (the layered graphs) gets one pass-through `bench.start`
//   node before them (as n8n's old Start node: it outputs its input item), since an n8n
//   execution starts from one node. It is not a task.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { adjacency } from '../graphs.mjs';
import { task } from '../probe.mjs';

const N8N_DIR = fileURLToPath(new URL('../n8n/', import.meta.url));
const n8nRequire = createRequire(join(N8N_DIR, 'package.json'));

/** How to install it, for the messages of a benchmark run without it. */
export const N8N_INSTALL = 'npm install --prefix test/bench/n8n';

/** Whether test/bench/n8n has been installed. */
export function n8nInstalled() {
  return existsSync(join(N8N_DIR, 'node_modules', 'n8n-core', 'package.json')) && existsSync(join(N8N_DIR, 'node_modules', 'n8n-workflow', 'package.json'));
}

export function n8nVersions() {
  const version = (name) => n8nRequire(`${name}/package.json`).version;
  return { 'n8n-core': version('n8n-core'), 'n8n-workflow': version('n8n-workflow'), 'isolated-vm': version('isolated-vm') };
}

const description = (name, inputs, outputs, properties = []) => ({
  displayName: name,
  name,
  group: ['transform'],
  version: 1,
  description: '',
  defaults: { name },
  inputs: Array(inputs).fill('main'),
  outputs: Array(outputs).fill('main'),
  properties,
});

const OUTPUT = { displayName: 'Output', name: 'output', type: 'collection', default: {}, options: [{ displayName: 'Side', name: 'side', type: 'number', default: 0 }] };

/**
 * A task node with `inputs` inputs: it runs the task once and outputs one item. With several
 * inputs, all are required (as Merge's "choose branch" mode requires its inputs): v1 order would
 * otherwise run it on the inputs that have data once nothing else is left to run.
 */
const taskType = (name, inputs) => ({
  description: { ...description(name, inputs, 1, [OUTPUT]), ...(inputs > 1 ? { requiredInputs: inputs } : {}) },
  async execute() {
    const node = this.getNode();
    task(node.name);
    const { side } = node.parameters.output;
    return [[{ json: side === undefined ? {} : { side } }]];
  },
});

/** The node types of the translation; join types are made for each number of inputs met. */
function nodeTypes() {
  const types = new Map([
    ['bench.task', taskType('bench.task', 1)],
    [
      'bench.gate',
      {
        description: description('bench.gate', 1, 2, [
          { displayName: 'Metric', name: 'metric', type: 'string', default: '' },
          { displayName: 'Value', name: 'value', type: 'number', default: 0 },
        ]),
        async execute() {
          const { metric, value } = this.getNode().parameters;
          const items = this.getInputData();
          return items[0]?.json[metric] === value ? [items, []] : [[], items];
        },
      },
    ],
    [
      'bench.start',
      {
        description: description('bench.start', 1, 1),
        async execute() {
          return [this.getInputData()];
        },
      },
    ],
  ]);
  const get = (type) => {
    if (!types.has(type) && /^bench\.join\d+$/.test(type)) types.set(type, taskType(type, Number(type.slice('bench.join'.length))));
    return types.get(type);
  };
  return { getByName: get, getByNameAndVersion: get, getKnownTypes: () => ({}) };
}

/** The flow's graph as an n8n workflow: its nodes, its connections, the node it starts from. */
export function toN8n(flow) {
  const { byId, incoming, outgoing } = adjacency(flow);
  const joinsAll = (id) => byId.get(id).join === 'all' && incoming.get(id).length > 1;
  const nodes = [];
  const connections = {};
  const connect = (from, output, to, input) => {
    const outputs = (connections[from] ??= { main: [] }).main;
    while (outputs.length <= output) outputs.push([]);
    outputs[output].push({ node: to, type: 'main', index: input });
  };
  // The input of node `to` that the edge from `from` goes into.
  const inputOf = (from, to) => (joinsAll(to) ? incoming.get(to).findIndex((e) => e.from === from) : 0);
  flow.nodes.forEach((node, i) => {
    const position = [i * 200, 0];
    if (node.type === 'conditional') {
      const { metric, operator, value } = node.data.conditions[0];
      if (operator !== '==' || typeof value !== 'number') throw new Error(`n8n adapter: only a gate "${metric} == <number>" is translated`);
      nodes.push({ id: node.id, name: node.id, type: 'bench.gate', typeVersion: 1, position, parameters: { metric, value } });
      for (const e of outgoing.get(node.id)) connect(node.id, e.condition === 'pass' ? 0 : 1, e.to, inputOf(node.id, e.to));
      return;
    }
    const type = joinsAll(node.id) ? `bench.join${incoming.get(node.id).length}` : 'bench.task';
    const output = node.data.side === undefined ? {} : { side: node.data.side };
    nodes.push({ id: node.id, name: node.id, type, typeVersion: 1, position, parameters: { output } });
    for (const e of outgoing.get(node.id)) connect(node.id, 0, e.to, inputOf(node.id, e.to));
  });
  const starts = flow.nodes.filter((n) => incoming.get(n.id).length === 0).map((n) => n.id);
  if (starts.length === 1) return { nodes, connections, start: starts[0] };
  const start = '__start';
  nodes.unshift({ id: start, name: start, type: 'bench.start', typeVersion: 1, position: [-200, 0], parameters: {} });
  for (const s of starts) connect(start, 0, s, 0);
  return { nodes, connections, start };
}

export async function openN8n() {
  if (!n8nInstalled()) throw new Error(`n8n is not installed: run \`${N8N_INSTALL}\``);
  // n8n-core keeps its instance settings (an encryption key) in a file under N8N_USER_FOLDER
  // (else ~/.n8n), written on the first execution: a folder of the benchmark's own, in its
  // node_modules (a cell killed for blocking its event loop leaves nothing behind), with the key
  // that file holds.
  if (process.env.N8N_USER_FOLDER === undefined) {
    process.env.N8N_USER_FOLDER = join(N8N_DIR, 'node_modules', '.cache', 'gantry-bench-n8n');
    process.env.N8N_ENCRYPTION_KEY = 'gantry-bench';
  }
  process.env.N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS ??= 'false';
  const { WorkflowExecute, ExecutionLifecycleHooks } = n8nRequire('n8n-core');
  const { Workflow } = n8nRequire('n8n-workflow');
  const types = nodeTypes();
  let executions = 0;

  const runOnce = async ({ workflow, start, data }) => {
    const executionId = `bench-${++executions}`;
    const additionalData = { hooks: new ExecutionLifecycleHooks('manual', executionId, data), executionId, currentNodeExecutionIndex: 0 };
    const run = await new WorkflowExecute(additionalData, 'manual').run(workflow, workflow.getNode(start));
    const error = run.data.resultData.error;
    if (error !== undefined || run.status !== 'success') {
      // n8n catches what its engine throws (a stack overflow too) and ends the execution with it.
      const message = error?.message ?? `execution ${run.status}`;
      throw new (/call stack/.test(message) ? RangeError : Error)(message);
    }
    return run;
  };

  const prepare = (flow) => {
    const { nodes, connections, start } = toN8n(flow);
    const settings = { executionOrder: 'v1' };
    const workflow = new Workflow({ id: 'bench', name: flow.name, nodes, connections, active: false, nodeTypes: types, settings });
    return { workflow, start, data: { id: 'bench', name: flow.name, nodes, connections, active: false, settings } };
  };
  // One execution of a workflow of one start node (no task): n8n-core makes its services
  // (instance settings, configuration, error reporter) on first use; that is start-up, not a run.
  const empty = new Workflow({ id: 'warm-up', nodes: [{ id: 's', name: 's', type: 'bench.start', typeVersion: 1, position: [0, 0], parameters: {} }], connections: {}, active: false, nodeTypes: types, settings: { executionOrder: 'v1' } });
  await runOnce({ workflow: empty, start: 's', data: { id: 'warm-up', nodes: [], connections: {}, active: false, settings: {} } });

  return {
    name: 'n8n',
    prepare,
    run: runOnce,
    async runMany(prepared, n) {
      await Promise.all(Array.from({ length: n }, () => runOnce(prepared)));
    },
    commits: () => undefined,
    close() {
      // n8n-core's SSH client manager keeps an interval from its first use: clear it, so the process can end.
      const { Container } = n8nRequire('@n8n/di');
      const { SSHClientsManager } = n8nRequire('n8n-core/dist/execution-engine/ssh-clients-manager');
      if (Container.has(SSHClientsManager)) Container.get(SSHClientsManager).onShutdown();
    },
  };
}
