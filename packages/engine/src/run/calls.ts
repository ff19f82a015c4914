import type PQueue from 'p-queue';
import { GantryError, isGantryError } from '../errors.js';
import type { Logger } from 'pino';
import type { JsonObject, JsonValue } from '../flow-types.js';
import type { CallSite, EngineCore } from './core.js';
import { toErrorInfo } from './error-info.js';
import { oversize } from '../value-limits.js';
import type { AgentRegistration, AgentReply, Connector, FlowFunction, FunctionContext } from './interfaces.js';
import type { ResolvedOptions } from './options.js';

/** An agent as the engine keeps it: its registration and its concurrency queue, if limited. */
export interface AgentEntry {
  readonly registration: AgentRegistration;
  readonly queue: PQueue | undefined;
}

/** Sends a task to an agent (DESIGN §5 envelope) and normalises its reply. */
export async function callAgent(entry: AgentEntry | undefined, agent: string, task: string, inputs: JsonObject, site: CallSite, maxBytes: number): Promise<AgentReply> {
  if (entry === undefined) throw new GantryError('AGENT_NOT_FOUND', `no agent "${agent}" is registered or configured`);
  const { transport } = entry.registration;
  if (transport === undefined) {
    const tasks = Object.keys(entry.registration.flows ?? {});
    throw new GantryError('AGENT_NOT_FOUND', `agent "${agent}" has no task "${task}": its flows perform ${tasks.join(', ')}, and it has no transport for other tasks`);
  }
  const envelope = {
    task_id: site.idempotencyKey,
    agent,
    task,
    inputs,
    run: { id: site.runId, flow: site.flow.name },
    node: site.nodeId,
    attempt: site.attempt,
    ...(site.deadline === undefined ? {} : { deadline: new Date(site.deadline).toISOString() }),
  };
  const call = () => transport.call(envelope, site.signal, { clock: site.clock, output: site.output });
  let reply: AgentReply;
  try {
    reply = await (entry.queue ? entry.queue.add(call) : call());
  } catch (error) {
    if (isGantryError(error)) throw error;
    const info = toErrorInfo(error, 'AGENT_FAILED');
    throw new GantryError('AGENT_FAILED', `agent "${agent}" task "${task}" failed: ${info.message}`, { retryable: info.retryable, retryAfterMs: info.retryAfterMs, cause: error });
  }
  const tooLarge = oversize(reply, maxBytes, `the reply of agent "${agent}" task "${task}" (node "${site.nodeId}")`, site.nodeId);
  if (tooLarge !== undefined) throw tooLarge;
  return normaliseReply(agent, task, reply);
}

/**
 * An agent task that a flow performs (DESIGN §5, the flow transport): a sub-flow of the calling
 * run, so that it is journaled, resumed and cancelled like one. Its output is the task's result.
 */
export async function callAgentFlow(core: Pick<EngineCore, 'runSubflow'>, agent: string, task: string, ref: string, inputs: JsonObject, site: CallSite): Promise<AgentReply> {
  try {
    // The flow comes from the agent's registration (the operator's configuration), not from a flow.
    const outcome = await core.runSubflow(site, site.childPath, ref, { params: inputs, trigger: site.trigger, inheritParams: true, registered: true });
    return { status: 'succeeded', result: outcome.output, metrics: { run_id: outcome.runId } };
  } catch (error) {
    if (!isGantryError(error) || error.code !== 'SUBFLOW_FAILED') throw error;
    // The flow has had its own retries and rollback: the task is not retried on top of them.
    throw new GantryError('AGENT_FAILED', `agent "${agent}" task "${task}": ${error.message}`, { cause: error, ...(error.details === undefined ? {} : { details: error.details }) });
  }
}

/** Calls a registered function; its own errors become FUNCTION_FAILED. */
export async function callFunction(fn: FlowFunction | undefined, name: string, input: JsonObject, params: JsonObject, site: CallSite): Promise<JsonObject> {
  if (fn === undefined) throw new GantryError('FUNCTION_NOT_FOUND', `no function "${name}" is registered`);
  try {
    return await fn(input, params, new FunctionCall(site, name));
  } catch (error) {
    if (isGantryError(error)) throw error;
    throw new GantryError('FUNCTION_FAILED', `function "${name}" failed: ${(error as Error).message ?? String(error)}`, { cause: error });
  }
}

/**
 * A function's context: its logger is made when the function first logs (with the engine's logs
 * on, a logger that keeps its lines with the attempt), not for every function node.
 */
class FunctionCall implements FunctionContext {
  readonly runId: string;
  readonly nodeId: string;
  readonly nodeInput: JsonObject;
  readonly trigger: JsonValue;
  readonly signal: AbortSignal;
  // Private fields: a function that spreads or logs its context sees the context, not the attempt.
  readonly #site: CallSite;
  readonly #name: string;
  #log: Logger | undefined = undefined;

  constructor(site: CallSite, name: string) {
    this.#site = site;
    this.#name = name;
    this.runId = site.runId;
    this.nodeId = site.nodeId;
    this.nodeInput = site.input;
    this.trigger = site.trigger;
    this.signal = site.signal;
  }

  get log(): Logger {
    return (this.#log ??= this.#site.log.child({ function: this.#name }));
  }
}


/**
 * Calls a service connector with the run's context and the credentials: a credential the node
 * names (perhaps by an expression) that the configuration does not declare is refused here.
 */
export function callConnector(
  connector: Connector | undefined,
  service: string,
  action: string,
  params: JsonObject,
  authentication: string | undefined,
  site: CallSite,
  options: Pick<ResolvedOptions, 'credentials' | 'credentialOrigins' | 'declared'>,
  maxBytes: number,
): Promise<JsonObject> {
  if (connector === undefined) return Promise.reject(new GantryError('CONNECTOR_NOT_FOUND', `no connector for service "${service}" is registered`));
  const declared = options.declared?.credentials;
  if (authentication !== undefined && declared !== undefined && !declared.has(authentication)) {
    return Promise.reject(new GantryError('CREDENTIAL_REFUSED', `${service} ${action}: the credential "${authentication}" is not declared in the configuration's credentials; a flow may name declared credentials only`));
  }
  const { credentials: credential, credentialOrigins } = options;
  return connector.call(action, params, {
    signal: site.signal,
    run: { id: site.runId, flow: site.flow.name, node: site.nodeId },
    trigger: site.trigger,
    idempotencyKey: site.idempotencyKey,
    log: site.log,
    clock: site.clock,
    credential,
    ...(credentialOrigins === undefined ? {} : { credentialOrigins }),
    ...(authentication === undefined ? {} : { authentication }),
  }).then((answer) => {
    const tooLarge = oversize(answer, maxBytes, `the answer of connector "${service}" action "${action}" (node "${site.nodeId}")`, site.nodeId);
    if (tooLarge !== undefined) throw tooLarge;
    return answer;
  });
}

function normaliseReply(agent: string, task: string, reply: AgentReply): AgentReply {
  if (typeof reply !== 'object' || reply === null || (reply.status !== 'succeeded' && reply.status !== 'failed')) {
    throw new GantryError('AGENT_FAILED', `agent "${agent}" task "${task}" answered something that is not { status: "succeeded"|"failed", … }`);
  }
  if (reply.status === 'failed') {
    throw new GantryError('AGENT_FAILED', `agent "${agent}" task "${task}" failed: ${reply.error?.message ?? 'no reason given'}`, {
      retryable: reply.error?.retryable === true,
    });
  }
  return reply;
}
