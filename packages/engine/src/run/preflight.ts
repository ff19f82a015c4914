import type { CompiledFlow } from '../compile.js';
import { GantryError, type ErrorCode } from '../errors.js';
import { flowReferences, isPlainName } from '../name-checks.js';
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
    if (!isPlainName(name) || known.has(name)) return;
    problems.push({ code, text: `${where} names ${kind} "${name}"${didYouMean(name, known.keys())}, which is not registered` });
  };
  const nodes = flow.definition.nodes;
  for (const node of nodes) {
    need('EXECUTOR_NOT_FOUND', 'the node type', node.type, `node "${node.id}"`, registries.executors);
    const compensate = node.compensate;
    if (compensate !== undefined && !('agent' in compensate)) need('EXECUTOR_NOT_FOUND', 'the node type', compensate.type, `node "${node.id}" (compensate)`, registries.executors);
  }
  for (const ref of flowReferences(flow.definition)) {
    const [, index, part] = /^\/nodes\/(\d+)\/(compensate)?/.exec(ref.pointer) ?? [];
    const where = `node "${nodes[Number(index)]?.id}"${part === undefined ? '' : ' (compensate)'}`;
    if (ref.kind === 'agent') need('AGENT_NOT_FOUND', 'the agent', ref.agent, where, registries.agents);
    if (ref.kind === 'function') need('FUNCTION_NOT_FOUND', 'the function', ref.name, where, registries.functions);
    if (ref.kind === 'service') need('CONNECTOR_NOT_FOUND', 'the service', ref.name, where, registries.connectors);
  }
  if (problems.length === 0) return undefined;
  const order: ErrorCode[] = ['EXECUTOR_NOT_FOUND', 'FUNCTION_NOT_FOUND', 'AGENT_NOT_FOUND', 'CONNECTOR_NOT_FOUND'];
  const code = order.find((c) => problems.some((p) => p.code === c))!;
  return new GantryError(code, `${flow.name} cannot run here: ${problems.map((p) => p.text).join('; ')}`);
}
