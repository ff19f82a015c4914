import type { CompiledEdge, CompiledFlow, CompiledNode } from '../compile.js';
import type { JsonObject, JsonValue } from '../flow-types.js';
import { assignJson } from '../json-assign.js';
import { conditionalForm } from '../flow-view.js';
import { passedOn, type RunState } from './state.js';

/**
 * The edge semantics of DESIGN §3.1 and §3.3 as pure functions of the compiled flow and the
 * run state: which edges a finished node takes, and what a node's input is. Whether a node runs,
 * waits or is skipped, and what happens next, is next.ts's.
 *
 * The compiled flow is frozen, and `for…of` over a frozen array takes V8's generic iterator
 * path (an iterator and a result object per element, 6 times slower): the loops that run for
 * every node index their arrays instead.
 */

const routeTargets = new WeakMap<CompiledNode, ReadonlySet<string> | null>();

/** The labels a router conditional can select (its `then`s), or null for any other node. */
export function routerLabels(node: CompiledNode): ReadonlySet<string> | null {
  let labels = routeTargets.get(node);
  if (labels === undefined) {
    const form = node.type === 'conditional' ? conditionalForm(node.definition.data) : undefined;
    labels = form?.kind === 'router' ? form.labels : null;
    routeTargets.set(node, labels);
  }
  return labels;
}

/**
 * Outgoing edges taken by a node that succeeded with `labels` (a conditional's choice).
 * `expressionResults` holds the truth of each expression edge, evaluated by the scheduler.
 */
export function takenOnSuccess(
  node: CompiledNode,
  labels: readonly string[] | undefined,
  expressionResults?: ReadonlyMap<number, boolean>,
): number[] {
  const router = routerLabels(node);
  const taken: number[] = [];
  const outgoing = node.outgoing;
  for (let i = 0; i < outgoing.length; i++) {
    const edge = outgoing[i]!;
    if (takesOnSuccess(edge, router, labels, expressionResults)) taken.push(edge.index);
  }
  return taken;
}

function takesOnSuccess(
  edge: CompiledEdge,
  router: ReadonlySet<string> | null,
  labels: readonly string[] | undefined,
  expressionResults: ReadonlyMap<number, boolean> | undefined,
): boolean {
  const condition = edge.condition;
  switch (condition.kind) {
    case 'expression':
      return expressionResults?.get(edge.index) === true;
    case 'label':
      if (condition.label === 'error') return false;
      if (condition.label === 'default') return router !== null && (labels?.length ?? 0) === 0;
      return labels?.includes(condition.label) ?? false;
    case 'always':
      // A router's unconditioned edge to a node named by a `then` is that label's edge.
      if (router !== null && router.has(edge.to)) return labels?.includes(edge.to) ?? false;
      return true;
  }
}

/** Error edges: taken when the node failed after its retries (a catch route). */
export function takenOnFailure(node: CompiledNode): number[] {
  const taken: number[] = [];
  const outgoing = node.outgoing;
  for (let i = 0; i < outgoing.length; i++) {
    const edge = outgoing[i]!;
    if (edge.condition.kind === 'label' && edge.condition.label === 'error') taken.push(edge.index);
  }
  return taken;
}

/** Whether a gate's `fail` has somewhere to go: an edge labelled fail. */
export function hasFailEdge(node: CompiledNode): boolean {
  return node.outgoing.some((e) => e.condition.kind === 'label' && e.condition.label === 'fail');
}

/**
 * JSONata's truth (its $boolean): false, 0, "", null, an empty array or object, and an array
 * of false things are false; `when` and edge expressions follow it, not JavaScript's.
 */
export function truthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(truthy);
  if (typeof value === 'object' && value !== null) return Object.keys(value).length > 0;
  return Boolean(value);
}

/** The shallow merge of the outputs behind the taken incoming edges, in edge order (§3.1). */
export function inputOf(node: CompiledNode, state: RunState): JsonObject {
  const input: JsonObject = {};
  const incoming = node.incoming;
  for (let i = 0; i < incoming.length; i++) {
    const edge = incoming[i]!;
    if (!state.takenEdges.has(edge.index)) continue;
    mergeInto(input, passedOn(state.nodes.get(edge.from)!));
  }
  return input;
}

/** An array output (a for_each node's) arrives as `items`, an object's keys one by one. */
export function mergeInto(target: JsonObject, output: JsonValue | JsonObject | JsonValue[] | undefined): void {
  if (Array.isArray(output)) target.items = output;
  else if (typeof output === 'object' && output !== null) assignJson(target, output);
}

/** A node failed unrouted and its handler blocks the deployment (§3.4). */
export function blockedByHandler(flow: CompiledFlow, state: RunState): boolean {
  for (const [id, n] of state.nodes) {
    if (n.status === 'failed' && (n.taken?.length ?? 0) === 0 && flow.nodes.get(id)?.handler?.action === 'block_deployment') return true;
  }
  return false;
}
