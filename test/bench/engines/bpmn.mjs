// bpmn-engine with each graph as a BPMN process: a serviceTask per no-op node (its service runs
// the shared task and answers in a microtask, as an async function does), a parallel gateway
// after a node with several outgoing edges (fork) and before a node that joins several inputs
// with join all, an exclusive gateway per gate (its pass flow conditioned on the side the node
// before it wrote to the process output, its fail flow the default), an exclusive gateway
// merging the two branches before a join-any node, and an end event after each sink. The XML is
// parsed and serialised once per graph; each run is a new Engine on that serialised context.
import { createRequire } from 'node:module';
import { adjacency } from '../graphs.mjs';
import { packageJsonOf } from '../harness.mjs';
import { peerRequire } from '../peers.mjs';
import { task } from '../probe.mjs';

// Resolved when first used: the translation (toBpmn) needs no peer installed.
const enginePath = () => peerRequire.resolve('bpmn-engine');
const engineRequire = () => createRequire(enginePath());

export function bpmnVersions() {
  return { 'bpmn-engine': packageJsonOf(enginePath()).version, 'bpmn-elements': packageJsonOf(engineRequire().resolve('bpmn-elements')).version };
}

const xmlId = (id) => id.replace(/[^A-Za-z0-9_.-]/g, '_');

/** The flow's graph as BPMN 2.0 XML. */
export function toBpmn(flow) {
  const { byId, incoming, outgoing } = adjacency(flow);
  const elements = ['<startEvent id="start_event"/>'];
  const flows = [];
  let f = 0;
  const sequence = (from, to, extra = '', body = '') => {
    const id = `f${f++}`;
    flows.push(`<sequenceFlow id="${id}" sourceRef="${from}" targetRef="${to}"${extra}>${body}</sequenceFlow>`);
    return id;
  };
  // Where a token for node `id` comes in: a gateway that merges its inputs, or the node itself.
  const entry = (id) => {
    const n = byId.get(id);
    if (incoming.get(id).length > 1) return `${n.join === 'all' ? 'pjoin' : 'xmerge'}_${xmlId(id)}`;
    return xmlId(id);
  };
  const starts = flow.nodes.filter((n) => incoming.get(n.id).length === 0);
  if (starts.length === 1) sequence('start_event', entry(starts[0].id));
  else {
    elements.push('<parallelGateway id="start_fork"/>');
    sequence('start_event', 'start_fork');
    for (const s of starts) sequence('start_fork', entry(s.id));
  }
  for (const node of flow.nodes) {
    const id = xmlId(node.id);
    const ins = incoming.get(node.id);
    const outs = outgoing.get(node.id);
    if (ins.length > 1) {
      const merge = entry(node.id);
      elements.push(node.join === 'all' ? `<parallelGateway id="${merge}"/>` : `<exclusiveGateway id="${merge}"/>`);
      sequence(merge, id);
    }
    if (node.type === 'conditional') {
      const { metric, operator, value } = node.data.conditions[0];
      if (operator !== '==' || typeof value !== 'number') throw new Error(`bpmn adapter: only a gate "${metric} == <number>" is translated`);
      const pass = outs.filter((e) => e.condition === 'pass');
      const fail = outs.filter((e) => e.condition === 'fail');
      if (pass.length !== 1 || fail.length !== 1) throw new Error('bpmn adapter: a gate needs one pass and one fail edge');
      const condition = `<conditionExpression xsi:type="tFormalExpression">\${environment.services.equals(environment.output.${metric},${value})}</conditionExpression>`;
      sequence(id, entry(pass[0].to), '', condition);
      const otherwise = sequence(id, entry(fail[0].to));
      elements.push(`<exclusiveGateway id="${id}" default="${otherwise}"/>`);
      continue;
    }
    elements.push(`<serviceTask id="${id}" implementation="\${environment.services.noop}"/>`);
    if (outs.length === 0) {
      elements.push(`<endEvent id="end_${id}"/>`);
      sequence(id, `end_${id}`);
    } else if (outs.length === 1) sequence(id, entry(outs[0].to));
    else {
      elements.push(`<parallelGateway id="fork_${id}"/>`);
      sequence(id, `fork_${id}`);
      for (const e of outs) sequence(`fork_${id}`, entry(e.to));
    }
  }
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="bench" targetNamespace="http://gantry.bench">' +
    `<process id="${xmlId(flow.name)}" isExecutable="true">${elements.join('')}${flows.join('')}</process></definitions>`
  );
}

export async function openBpmn() {
  const { Engine } = await import(enginePath());
  const { default: BpmnModdle } = await import(engineRequire().resolve('bpmn-moddle'));
  const serializer = await import(engineRequire().resolve('moddle-context-serializer'));
  const Elements = await import(engineRequire().resolve('bpmn-elements'));
  const typeResolver = serializer.TypeResolver({ ...Elements });

  const runOnce = (prepared) => {
    const services = {
      noop(executionContext, next) {
        const id = executionContext.content.id;
        task(id);
        const side = prepared.sides.get(id);
        if (side !== undefined) executionContext.environment.output.side = side;
        const output = side === undefined ? {} : { side };
        queueMicrotask(() => next(null, output));
      },
      equals: (a, b) => a === b,
    };
    const engine = new Engine({ name: prepared.name, sourceContext: prepared.sourceContext, services });
    return new Promise((resolve, reject) => {
      engine.once('end', () => resolve());
      engine.once('error', reject);
      engine.execute().catch(reject);
    });
  };

  return {
    name: 'bpmn-engine',
    async prepare(flow) {
      const moddleContext = await new BpmnModdle().fromXML(toBpmn(flow));
      if (moddleContext.warnings?.length) throw new Error(`bpmn adapter: the generated XML has warnings: ${moddleContext.warnings[0].message}`);
      const sides = new Map(flow.nodes.filter((n) => n.data.side !== undefined).map((n) => [xmlId(n.id), n.data.side]));
      return { name: flow.name, sourceContext: serializer.default(moddleContext, typeResolver), sides };
    },
    run: runOnce,
    async runMany(prepared, n) {
      await Promise.all(Array.from({ length: n }, () => runOnce(prepared)));
    },
    commits: () => undefined,
    close() {},
  };
}
