import type { CompiledNode } from '../compile.js';
import { GantryError } from '../errors.js';
import type { AgentTaskSpec, JsonObject, JsonValue, NodeBodySpec } from '../flow-types.js';
import { AttemptContext } from './context.js';
import { toErrorInfo } from './error-info.js';
import { resolveValue } from './expressions.js';
import type { RunScope } from './run-scope.js';

/** How to undo a node: its `compensate`, else what its agent's registration declares (§3.4). */
export function compensationOf(execution: RunScope, node: CompiledNode): AgentTaskSpec | NodeBodySpec | undefined {
  const own = node.definition.compensate;
  if (own !== undefined) return own;
  if (node.type !== 'agent') return undefined;
  const { agent, task } = node.definition.data as { agent: string; task: string };
  const undo = execution.core.compensationFor(agent, task);
  return undo === undefined ? undefined : { agent, task: undo };
}

/**
 * Rollback: the compensation of every succeeded node in reverse order of completion, then the
 * failed node's own. Every compensation is tried even after one fails; true if all succeeded.
 */
export async function runCompensations(execution: RunScope, failed: CompiledNode): Promise<boolean> {
  const order = [...execution.state.completed].reverse();
  order.push(failed.id);
  let ok = true;
  for (const nodeId of order) {
    const node = execution.flow.nodes.get(nodeId)!;
    const spec = compensationOf(execution, node);
    // After a restart, what was undone before it is not undone again.
    if (spec === undefined || execution.state.nodes.get(nodeId)?.compensation === 'succeeded') continue;
    const base = { runId: execution.runId, nodeId, attempt: 1 };
    execution.record({ type: 'compensation.started', at: execution.now(), ...base });
    try {
      await compensate(execution, node, spec);
      execution.record({ type: 'compensation.succeeded', at: execution.now(), ...base });
    } catch (error) {
      ok = false;
      execution.record({ type: 'compensation.failed', at: execution.now(), ...base, error: toErrorInfo(error, 'COMPENSATION_FAILED') });
    }
  }
  return ok;
}

async function compensate(execution: RunScope, node: CompiledNode, spec: AgentTaskSpec | NodeBodySpec): Promise<void> {
  const state = execution.state.nodes.get(node.id);
  // What the compensation sees: what the node was given and what it produced.
  const seen: JsonObject = { ...(state?.input ?? {}) };
  const output = state?.output;
  if (output !== undefined && !Array.isArray(output)) Object.assign(seen, output);
  const controller = new AbortController();
  const ctx = new AttemptContext(execution, node, 1, seen, undefined, controller, undefined, ':compensate');
  try {
    if ('agent' in spec) {
      const inputs = await compensationInputs(execution, spec.inputs, seen);
      const reply = await ctx.callAgent(spec.agent, spec.task, inputs);
      if (reply.status !== 'succeeded') {
        throw new GantryError('COMPENSATION_FAILED', `compensation ${spec.agent}.${spec.task} of "${node.id}" failed: ${reply.error?.message ?? 'no reason given'}`);
      }
      return;
    }
    const executor = execution.core.executor(spec.type);
    if (executor === undefined) throw new GantryError('EXECUTOR_NOT_FOUND', `no executor for the compensation type "${spec.type}" of "${node.id}"`);
    const data = executor.resolveData === false ? spec.data : await resolveValue(execution.flow, spec.data, seen, execution.bindings());
    await executor.run(ctx, data as never);
  } finally {
    ctx.closeOutput();
  }
}

async function compensationInputs(execution: RunScope, inputs: AgentTaskSpec['inputs'], seen: JsonObject): Promise<JsonObject> {
  if (inputs === undefined) return seen;
  if (Array.isArray(inputs)) return Object.fromEntries(inputs.filter((k) => k in seen).map((k) => [k, seen[k]!]));
  return (await resolveValue(execution.flow, inputs as JsonValue, seen, execution.bindings())) as JsonObject;
}
