import { dirname, resolve } from 'node:path';
import { isExpression, loadFlowFile, type CompiledFlow, type FlowNode, type JsonObject, type JsonValue } from '@gantry/engine';

/**
 * What a flow can ask for, read from its files before anything runs: the agents and tasks, the
 * services and actions, the functions and the nodes of the flow and of every flow it reaches
 * (its sub-flows, and the flows of the agent tasks the test runs as flows). A test's scripts and
 * expectations are checked against it, so that a typo is a diagnostic, not a puzzling failure.
 */
export interface Reach {
  /** The flow under test. */
  readonly top: CompiledFlow;
  /** Every flow reached, by absolute path (the flow under test included). */
  readonly flows: ReadonlyMap<string, CompiledFlow>;
  readonly agents: ReadonlyMap<string, ReadonlySet<string>>;
  readonly services: ReadonlyMap<string, ReadonlySet<string>>;
  readonly functions: ReadonlySet<string>;
  /** Node id → its type, across every flow reached. */
  readonly nodes: ReadonlyMap<string, string>;
  /** Some agent, task, service, action or function is an expression: names cannot all be known. */
  readonly dynamic: boolean;
}

export interface ReachOptions {
  /** agent → task → the flow file (absolute) that performs it in this test. */
  readonly taskFlows: ReadonlyMap<string, ReadonlyMap<string, string>>;
  /** agent → task → its compensating task (the configuration's `compensations`). */
  readonly compensations: ReadonlyMap<string, Readonly<Record<string, string>>>;
}

/** A flow that could not be loaded, and why (FLOW_NOT_FOUND, FLOW_INVALID with its issues). */
export interface ReachFailure {
  readonly file: string;
  readonly error: unknown;
}

/** Loads the flow and every flow it reaches. */
export async function reachOf(flowPath: string, options: ReachOptions): Promise<Reach | ReachFailure> {
  const flows = new Map<string, CompiledFlow>();
  const agents = new Map<string, Set<string>>();
  const services = new Map<string, Set<string>>();
  const functions = new Set<string>();
  const nodes = new Map<string, string>();
  let dynamic = false;
  const name = (value: unknown): string | undefined => {
    if (typeof value === 'string' && !isExpression(value)) return value;
    dynamic = true;
    return undefined;
  };
  const addTo = (map: Map<string, Set<string>>, key: string | undefined, value: string | undefined) => {
    if (key === undefined || value === undefined) return;
    let set = map.get(key);
    if (set === undefined) map.set(key, (set = new Set()));
    set.add(value);
  };
  const pending: string[] = [];
  const agentTask = (agent: string | undefined, task: string | undefined) => {
    if (agent === undefined || task === undefined) return;
    addTo(agents, agent, task);
    const flow = options.taskFlows.get(agent)?.get(task);
    if (flow !== undefined) pending.push(flow);
    const undo = options.compensations.get(agent)?.[task];
    if (undo !== undefined) addTo(agents, agent, undo);
  };
  const body = (type: string, data: JsonObject, file: string) => {
    switch (type) {
      case 'agent':
        agentTask(name(data.agent), name(data.task));
        break;
      case 'parallel':
        for (const call of list(data.agents)) agentTask(name(call.agent), name(call.task));
        break;
      case 'conditional':
        for (const condition of list(data.conditions)) {
          const task = condition.then;
          for (const agent of Array.isArray(condition.agents) ? condition.agents : []) agentTask(name(agent), name(task));
        }
        break;
      case 'external_api':
        addTo(services, name(data.service), name(data.action));
        break;
      case 'function': {
        const fn = name(data.function);
        if (fn !== undefined) functions.add(fn);
        break;
      }
      case 'subflow': {
        const ref = name(data.flow);
        if (ref !== undefined) pending.push(resolve(dirname(file), ref));
        break;
      }
      default:
        break;
    }
  };
  pending.push(resolve(flowPath));
  let top: CompiledFlow | undefined;
  while (pending.length > 0) {
    const file = pending.shift()!;
    if (flows.has(file)) continue;
    let flow: CompiledFlow;
    try {
      flow = await loadFlowFile(file);
    } catch (error) {
      return { file, error };
    }
    top ??= flow;
    flows.set(file, flow);
    for (const node of flow.definition.nodes as readonly FlowNode[]) {
      nodes.set(node.id, node.type);
      body(node.type, node.data, file);
      const undo = node.compensate;
      if (undo === undefined) continue;
      if ('type' in undo) body(undo.type, undo.data, file);
      else agentTask(name(undo.agent), name(undo.task));
    }
  }
  return { top: top!, flows, agents, services, functions, nodes, dynamic };
}

function list(value: JsonValue | undefined): JsonObject[] {
  return Array.isArray(value) ? value.filter((v): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v)) : [];
}
