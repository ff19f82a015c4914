import type { CompiledFlow } from '../compile.js';
import { GantryError, type ErrorCode } from '../errors.js';
import { isExpression } from '../expression-text.js';
import { isRecord } from '../flow-view.js';
import { didYouMean } from '../suggest.js';

interface Registries {
  readonly executors: ReadonlyMap<string, unknown>;
  readonly functions: ReadonlyMap<string, unknown>;
  readonly agents: ReadonlyMap<string, unknown>;
  readonly connectors: ReadonlyMap<string, unknown>;
}

/**
 * Everything a flow names that the engine does not have, found before anything runs: node types,
 * functions, agents and connectors (names given as expressions are checked when they run).
 */
export function missingRegistrations(flow: CompiledFlow, registries: Registries): GantryError | undefined {
  const problems: { code: ErrorCode; text: string }[] = [];
  const need = (code: ErrorCode, kind: string, name: unknown, where: string, known: ReadonlyMap<string, unknown>) => {
    if (typeof name !== 'string' || isExpression(name) || known.has(name)) return;
    problems.push({ code, text: `${where} names ${kind} "${name}"${didYouMean(name, known.keys())}, which is not registered` });
  };
  for (const node of flow.nodes.values()) {
    const where = `node "${node.id}"`;
    const data = node.definition.data;
    need('EXECUTOR_NOT_FOUND', 'the node type', node.type, where, registries.executors);
    if (node.type === 'function') need('FUNCTION_NOT_FOUND', 'the function', data.function, where, registries.functions);
    if (node.type === 'agent') need('AGENT_NOT_FOUND', 'the agent', data.agent, where, registries.agents);
    if (node.type === 'external_api') need('CONNECTOR_NOT_FOUND', 'the service', data.service, where, registries.connectors);
    if (node.type === 'parallel' && Array.isArray(data.agents)) {
      for (const a of data.agents) if (isRecord(a)) need('AGENT_NOT_FOUND', 'the agent', a.agent, where, registries.agents);
    }
    if (node.type === 'conditional' && Array.isArray(data.conditions)) {
      for (const c of data.conditions) if (isRecord(c) && Array.isArray(c.agents)) for (const a of c.agents) need('AGENT_NOT_FOUND', 'the agent', a, where, registries.agents);
    }
    const compensate = node.definition.compensate;
    if (compensate !== undefined) {
      if ('agent' in compensate) need('AGENT_NOT_FOUND', 'the agent', compensate.agent, `${where} (compensate)`, registries.agents);
      else need('EXECUTOR_NOT_FOUND', 'the node type', compensate.type, `${where} (compensate)`, registries.executors);
    }
  }
  if (problems.length === 0) return undefined;
  const order: ErrorCode[] = ['EXECUTOR_NOT_FOUND', 'FUNCTION_NOT_FOUND', 'AGENT_NOT_FOUND', 'CONNECTOR_NOT_FOUND'];
  const code = order.find((c) => problems.some((p) => p.code === c))!;
  return new GantryError(code, `${flow.name} cannot run here: ${problems.map((p) => p.text).join('; ')}`);
}
