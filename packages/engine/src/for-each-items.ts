import type { CompiledFlow } from './compile.js';
import type { JsonValue } from './flow-types.js';
import { evaluateForEach } from './run/node-expressions.js';
import type { RunState } from './run/state.js';

/**
 * The items a for_each node iterates over in a run, for showing them (the five traffic steps
 * before they start): the array itself, or its expression evaluated as the run did, with the
 * node's input and the run's bindings. Undefined when the node has no for_each, has not started,
 * or its expression fails; never throws.
 */
export async function forEachItems(flow: CompiledFlow, state: Readonly<RunState>, nodeId: string): Promise<JsonValue[] | undefined> {
  const node = flow.nodes.get(nodeId);
  const spec = node?.definition.for_each;
  if (node === undefined || spec === undefined) return undefined;
  if (Array.isArray(spec)) return spec;
  const started = state.started;
  const input = state.nodes.get(nodeId)?.input;
  if (started === undefined || input === undefined || typeof spec !== 'string') return undefined;
  try {
    const run = { id: state.runId, flow: flow.name, started_at: new Date(started.at).toISOString() };
    return await evaluateForEach(flow, node, spec, input, { trigger: started.trigger, params: started.params, nodes: state.outputs, run });
  } catch {
    return undefined;
  }
}
