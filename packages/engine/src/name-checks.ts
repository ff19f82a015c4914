import { describePointer } from './describe.js';
import type { DiagnosticCode } from './diagnostic-codes.js';
import type { Finding } from './diagnostics.js';
import { isExpression } from './expression-text.js';
import { isRecord } from './flow-view.js';
import { Vocabulary } from './suggest.js';

/**
 * What a configuration declares, as flows name it (`gantry validate --config`, and `gantry run`
 * and `serve` at start). A kind left out is not checked.
 */
export interface DeclaredNames {
  /** Agent → the tasks it performs when its configuration lists them all (transport flow), else undefined: any task. */
  readonly agents?: ReadonlyMap<string, ReadonlySet<string> | undefined>;
  /** Functions: the built-in ones and the configuration's. */
  readonly functions?: ReadonlySet<string>;
  /** Services with a connector. */
  readonly services?: ReadonlySet<string>;
  /** The configuration's `credentials`. */
  readonly credentials?: ReadonlySet<string>;
}

/**
 * Whether a credential is a webhook's signing secret (a name ending in `webhook_secret`, as
 * `gantry serve` reads it): it checks what comes in and is never sent out (DESIGN §11).
 */
export function isWebhookSecret(name: string): boolean {
  return /webhook_secret$/i.test(name);
}

/** A kind of name: the known ones, their vocabulary (built on the first unknown one), how to say one is unknown. */
interface Kind {
  readonly code: DiagnosticCode;
  readonly known: { has(name: string): boolean };
  readonly words: Vocabulary;
  readonly unknown: (name: string) => string;
}

function kind(code: DiagnosticCode, names: ReadonlySet<string> | ReadonlyMap<string, unknown> | undefined, unknown: Kind['unknown']): Kind | undefined {
  return names === undefined ? undefined : { code, known: names, words: new Vocabulary(() => names.keys()), unknown };
}

/** A name a flow gives, where it is written (a JSON pointer). Values are as written: perhaps not strings, perhaps expressions. */
export type FlowReference =
  | { readonly kind: 'agent'; readonly agent: unknown; readonly task: unknown; readonly pointer: string; readonly taskPointer: string }
  | { readonly kind: 'function' | 'service' | 'subflow'; readonly name: unknown; readonly pointer: string }
  | { readonly kind: 'credential'; readonly name: unknown; readonly pointer: string; readonly outbound: boolean };

/**
 * Every agent (with its task), function, service, credential and sub-flow a flow's nodes name:
 * agent, parallel and router agents (a router calls its agents with the label as the task),
 * compensations, external_api, webhook, function and subflow nodes.
 */
export function flowReferences(document: unknown): FlowReference[] {
  const refs: FlowReference[] = [];
  const agent = (a: unknown, task: unknown, pointer: string, taskPointer: string) => refs.push({ kind: 'agent', agent: a, task, pointer, taskPointer });
  const body = (type: unknown, data: unknown, at: string) => {
    if (!isRecord(data)) return;
    if (type === 'function') refs.push({ kind: 'function', name: data.function, pointer: `${at}/data/function` });
    if (type === 'subflow') refs.push({ kind: 'subflow', name: data.flow, pointer: `${at}/data/flow` });
    if (type === 'agent') agent(data.agent, data.task, `${at}/data/agent`, `${at}/data/task`);
    if (type === 'external_api') {
      refs.push({ kind: 'service', name: data.service, pointer: `${at}/data/service` });
      refs.push({ kind: 'credential', name: data.authentication, pointer: `${at}/data/authentication`, outbound: true });
    }
    if (type === 'webhook') refs.push({ kind: 'credential', name: data.authentication, pointer: `${at}/data/authentication`, outbound: false });
    if (type === 'parallel' && Array.isArray(data.agents)) {
      data.agents.forEach((a, j) => {
        if (isRecord(a)) agent(a.agent, a.task, `${at}/data/agents/${j}/agent`, `${at}/data/agents/${j}/task`);
      });
    }
    if (type === 'conditional' && Array.isArray(data.conditions)) {
      data.conditions.forEach((c, j) => {
        if (isRecord(c) && Array.isArray(c.agents)) c.agents.forEach((a, k) => agent(a, c.then, `${at}/data/conditions/${j}/agents/${k}`, `${at}/data/conditions/${j}/then`));
      });
    }
  };
  const nodes = isRecord(document) && Array.isArray(document.nodes) ? document.nodes : [];
  nodes.forEach((node, index) => {
    if (!isRecord(node)) return;
    const at = `/nodes/${index}`;
    body(node.type, node.data, at);
    const compensate = node.compensate;
    if (!isRecord(compensate)) return;
    if ('agent' in compensate) agent(compensate.agent, compensate.task, `${at}/compensate/agent`, `${at}/compensate/task`);
    else body(compensate.type, compensate.data, `${at}/compensate`);
  });
  return refs;
}

/** A name given plainly: a string that is not an expression (those are checked when they run). */
export function isPlainName(name: unknown): name is string {
  return typeof name === 'string' && !isExpression(name);
}

/**
 * Every agent, task, function, service and credential a flow names that the configuration does
 * not declare. Names given as expressions are checked when they run.
 */
export function nameFindings(document: unknown, declared: DeclaredNames): Finding[] {
  const findings: Finding[] = [];
  const agents = kind('UNKNOWN_AGENT', declared.agents, (name) => `the configuration's \`agents\` define no agent "${name}"`);
  const functions = kind('UNKNOWN_FUNCTION', declared.functions, (name) => `no function "${name}" is built in or under the configuration's \`functions\``);
  const services = kind('UNKNOWN_SERVICE', declared.services, (name) => `no connector serves "${name}" (the services are ${[...declared.services!].join(', ')})`);
  const credentials = kind('CREDENTIAL_UNDECLARED', declared.credentials, (name) => `the configuration's \`credentials\` declare no credential "${name}", and a flow may name declared credentials only`);
  const problem = (code: DiagnosticCode, pointer: string, text: string) => findings.push({ code, pointer, message: `${describePointer(document, pointer)}: ${text}` });
  /** Whether a plain name is known; an unknown one is reported. */
  const known = (of: Kind | undefined, name: string, pointer: string): boolean => {
    if (of === undefined || of.known.has(name)) return true;
    problem(of.code, pointer, `${of.unknown(name)}${of.words.didYouMean(name)}`);
    return false;
  };

  for (const ref of flowReferences(document)) {
    if (ref.kind === 'agent') {
      if (!isPlainName(ref.agent) || !known(agents, ref.agent, ref.pointer)) continue;
      const tasks = declared.agents?.get(ref.agent);
      if (tasks === undefined || !isPlainName(ref.task) || tasks.has(ref.task)) continue;
      const list = [...tasks].map((t) => `"${t}"`).join(', ');
      problem('UNKNOWN_TASK', ref.taskPointer, `agent "${ref.agent}" performs no task "${ref.task}" (its configuration lists ${list})${new Vocabulary(() => tasks).didYouMean(ref.task)}`);
    } else if (isPlainName(ref.name) && ref.kind !== 'subflow') {
      const of = ref.kind === 'function' ? functions : ref.kind === 'service' ? services : credentials;
      if (!known(of, ref.name, ref.pointer) || ref.kind !== 'credential' || !ref.outbound || !isWebhookSecret(ref.name)) continue;
      problem('CREDENTIAL_UNDECLARED', ref.pointer, `"${ref.name}" is a webhook's signing secret, which checks what comes in and is never sent out; name a credential declared for this service`);
    }
  }
  return findings;
}
