import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  createEngine,
  FakeClock,
  GantryError,
  type AgentRegistration,
  type AgentReply,
  type AgentTransport,
  type Clock,
  type CompiledFlow,
  type Connector,
  type Engine,
  type ErrorCode,
  type FlowFunction,
  type GantryConfig,
  type JsonObject,
  type RunEvent,
} from '@gantry/engine';
import { builtinExecutors, builtinFunctions, moduleAgent, type ModuleAgent } from '@gantry/executors';
import { describeCall, type CallRecord } from './calls.js';
import type { LoadedTestFile } from './load.js';
import { Observer } from './observe.js';
import { caseScripts, type Script } from './scripts.js';
import { giveApprovals } from './approvals.js';
import type { AgentReplyScript, CallReplyScript, TestCase, TestFile } from './test-file.js';

/** The tested run's id: fixed, so that reports (and the messages in them) read the same every time. */
export const TEST_RUN_ID = 'test';

/** Something the test did not script, or a decision the engine refused: the test fails with it. */
export interface Problem {
  /** unscripted: a call with no reply (the run was cancelled there); refused: a decision the engine refused. */
  readonly kind: 'unscripted' | 'refused';
  readonly message: string;
  readonly run: string;
  readonly node?: string;
}

export interface NotificationRecord {
  readonly severity: 'normal' | 'high';
  readonly message: string;
  readonly node?: string;
  readonly run: string;
}

/** One test's engine, on a fake clock, with every agent, connector and function scripted. */
export interface World {
  readonly engine: Engine;
  readonly clock: FakeClock;
  readonly observer: Observer;
  readonly calls: CallRecord[];
  readonly problems: Problem[];
  readonly notifications: NotificationRecord[];
}

/**
 * Builds the engine a test runs on. Every agent, service and function the flows reach is
 * registered: scripted, taken from the configuration (`use`), a built-in function, or, when the
 * test says nothing of it, one whose calls fail the test with a sentence naming the call.
 */
export async function buildWorld(loaded: LoadedTestFile, test: TestCase, display: (file: string) => string): Promise<World> {
  const file = loaded.file!;
  const reach = loaded.reach!;
  const config = loaded.config;
  const clock = new FakeClock();
  const observer = new Observer(TEST_RUN_ID);
  const calls: CallRecord[] = [];
  const problems: Problem[] = [];
  const notifications: NotificationRecord[] = [];
  const scripts = caseScripts(file, test);
  const started = clock.now();
  let engine: Engine | undefined;

  // Connectors and functions are not told the attempt: the node's latest is it.
  const attemptOf = (runId: string, node: string) => observer.runs.get(runId)?.nodes.get(node)?.attempts ?? 0;
  const record = (call: Omit<CallRecord, 'at'>): CallRecord => {
    const made = { ...call, at: clock.now() - started };
    calls.push(made);
    return made;
  };
  /** An unscripted call: the test fails with it, and the run is cancelled before it does more. */
  const unscripted = (call: CallRecord, why: string, code: ErrorCode): GantryError => {
    const message = `unscripted call: ${describeCall(call, true)}: ${why}`;
    problems.push({ kind: 'unscripted', message, run: call.run, node: call.node });
    queueMicrotask(() => cancelQuietly(engine!, TEST_RUN_ID));
    return new GantryError(code, `no scripted reply: ${message}`);
  };

  const used = await usedFromConfig(file, config);
  const agents: Record<string, AgentRegistration> = {};
  for (const name of new Set([...reach.agents.keys(), ...scripts.agents.keys(), ...used.agents.keys()])) {
    const tasks = scripts.agents.get(name);
    const flows = Object.fromEntries([...(tasks ?? [])].flatMap(([task, s]) => (s === 'flow' ? [[task, loaded.taskFlows.get(name)!.get(task)!]] : [])));
    const real = used.agents.get(name);
    const transport: AgentTransport = {
      async call(task, signal) {
        const call = record({ kind: 'agent', name, operation: task.task, payload: task.inputs, node: task.node, run: observer.pathOf(task.run.id), attempt: task.attempt });
        if (real !== undefined) return real.call(task, signal);
        const script = tasks?.get(task.task);
        if (script === undefined || script === 'flow') throw unscripted(call, noScript(name, task.task, loaded.taskFlows.get(name)?.get(task.task), display), 'AGENT_FAILED');
        const taken = script.take(task.inputs);
        if ('none' in taken) throw unscripted(call, taken.none, 'AGENT_FAILED');
        await later(clock, taken.reply.after_seconds, signal);
        return agentReply(taken.reply);
      },
    };
    const compensations = config?.config.agents?.[name]?.compensations;
    agents[name] = { transport, ...(Object.keys(flows).length > 0 ? { flows } : {}), ...(compensations ? { compensations } : {}) };
  }

  const connectors: Connector[] = [...new Set([...reach.services.keys(), ...scripts.connectors.keys()])].map((service) => ({
    service,
    async call(action, params, ctx) {
      const run = observer.pathOf(ctx.run?.id ?? TEST_RUN_ID);
      const node = ctx.run?.node ?? '';
      const call = record({ kind: 'connector', name: service, operation: action, payload: params, node, run, attempt: attemptOf(ctx.run?.id ?? TEST_RUN_ID, node) });
      const script = scripts.connectors.get(service)?.get(action);
      return answer(script, params, call, ctx.signal, 'CONNECTOR_FAILED', `connectors.${service}.${action}`);
    },
  }));

  const functions: Record<string, FlowFunction> = {};
  for (const name of new Set([...reach.functions, ...Object.keys(builtinFunctions), ...scripts.functions.keys(), ...used.functions.keys()])) {
    const real = used.functions.get(name) ?? builtinFunctions[name];
    functions[name] = async (input, params, ctx) => {
      const call = record({ kind: 'function', name, payload: input, node: ctx.nodeId, run: observer.pathOf(ctx.runId), attempt: attemptOf(ctx.runId, ctx.nodeId) });
      const script = scripts.functions.get(name);
      if (script === undefined && real !== undefined) return real(input, params, ctx);
      return answer(script, input, call, ctx.signal, 'FUNCTION_FAILED', `functions.${name}`);
    };
  }

  async function answer(script: Script<CallReplyScript> | undefined, payload: JsonObject, call: CallRecord, signal: AbortSignal, code: ErrorCode, where: string): Promise<JsonObject> {
    if (script === undefined) throw unscripted(call, `the test scripts no reply for it (add one under ${where})`, code);
    const taken = script.take(payload);
    if ('none' in taken) throw unscripted(call, taken.none, code);
    await later(clock, taken.reply.after_seconds, signal);
    const { result, error } = taken.reply;
    if (error !== undefined) throw new GantryError((error.code as ErrorCode | undefined) ?? code, error.message, { retryable: error.retryable === true });
    return result!;
  }

  engine = createEngine({
    executors: builtinExecutors,
    functions,
    agents,
    connectors,
    clock,
    ids: () => TEST_RUN_ID,
    random: () => 0.5,
    notifier: (n) => void notifications.push({ severity: n.severity, message: n.message, run: observer.pathOf(n.runId), ...(n.nodeId ? { node: n.nodeId } : {}) }),
    ...(principalsOf(file, config?.config) ? { principals: principalsOf(file, config?.config) } : {}),
  });
  engine.on('event', observer.listen);
  engine.on('run.started', (event) => {
    const call = flowTaskCall(event, observer, reach.flows, display, clock.now() - started);
    if (call !== undefined) calls.push(call);
  });
  giveApprovals(engine, clock, observer, test.approvals ?? file.approvals ?? [], problems);
  return { engine, clock, observer, calls, problems, notifications };
}

function agentReply(reply: AgentReplyScript): AgentReply {
  if (reply.error !== undefined) return { status: 'failed', error: { message: reply.error.message, retryable: reply.error.retryable === true } };
  return { status: 'succeeded', result: reply.result!, ...(reply.metrics ? { metrics: reply.metrics } : {}) };
}

function noScript(name: string, task: string, flow: string | undefined, display: (file: string) => string): string {
  const hint = flow === undefined ? '' : `, or write "flow" there to run ${display(flow)}, which the configuration maps it to`;
  return `the test scripts no reply for it (add one under agents.${name}.${task}${hint})`;
}

/** Resolves after `seconds` of the fake clock, or rejects when the call is aborted first. */
function later(clock: Clock, seconds: number | undefined, signal: AbortSignal): Promise<void> {
  if (seconds === undefined || seconds <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      cancel();
      reject(signal.reason instanceof Error ? signal.reason : new GantryError('CANCELLED', 'the call was aborted'));
    };
    const cancel = clock.at(clock.now() + seconds * 1000, () => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
}

function cancelQuietly(engine: Engine, runId: string): void {
  // Finished already: nothing left to stop.
  engine.cancel(runId).catch(() => {});
}

function principalsOf(file: TestFile, config: GantryConfig | undefined) {
  return file.principals ?? config?.principals;
}

/** The module agents and functions `use` takes from the configuration, imported. */
async function usedFromConfig(file: TestFile, config: LoadedTestFile['config']): Promise<{ agents: Map<string, AgentTransport>; functions: Map<string, FlowFunction> }> {
  const agents = new Map<string, AgentTransport>();
  const functions = new Map<string, FlowFunction>();
  if (config === undefined) return { agents, functions };
  const base = dirname(config.path);
  const load = async (module: string, what: string) => {
    try {
      return (await import(pathToFileURL(resolve(base, module)).href)) as Record<string, unknown>;
    } catch (cause) {
      throw new GantryError('CONFIG_INVALID', `${what}: cannot load the module ${module}: ${(cause as Error).message}`, { cause });
    }
  };
  for (const name of file.use?.agents ?? []) {
    const spec = config.config.agents![name]!;
    const module = await load(spec.module!, `agent "${name}"`);
    agents.set(name, moduleAgent((spec.export ? module[spec.export] : (module.default ?? module)) as ModuleAgent, 'agent'));
  }
  for (const name of file.use?.functions ?? []) {
    const spec = config.config.functions![name]!;
    const module = await load(spec.module, `function "${name}"`);
    const fn = spec.export ? module[spec.export] : (module[name] ?? module.default);
    if (typeof fn !== 'function') throw new GantryError('CONFIG_INVALID', `function "${name}": ${spec.module} exports no function "${spec.export ?? name}"`);
    functions.set(name, fn as FlowFunction);
  }
  return { agents, functions };
}

/**
 * A task run as a flow is a call too. The engine starts its flow as a child run; the child's
 * start names the parent node (and, for a parallel or router node, `agent.task` after a colon).
 */
function flowTaskCall(event: RunEvent, observer: Observer, flows: ReadonlyMap<string, CompiledFlow>, display: (file: string) => string, at: number): CallRecord | undefined {
  if (event.type !== 'run.started' || event.parent === undefined) return undefined;
  const parent = observer.runs.get(event.parent.runId);
  const parentFlow = parent?.source === undefined ? undefined : flows.get(parent.source);
  const nodeId = event.parent.path.split(/[[~:]/)[0]!;
  const node = parentFlow?.nodes.get(nodeId);
  if (node === undefined || node.type === 'subflow') return undefined;
  const key = /:([^:]+)$/.exec(event.parent.path)?.[1];
  const dot = key?.lastIndexOf('.') ?? -1;
  const agent = key !== undefined && dot > 0 ? key.slice(0, dot) : String(node.definition.data.agent);
  const task = key !== undefined && dot > 0 ? key.slice(dot + 1) : String(node.definition.data.task);
  const attempt = parent?.nodes.get(nodeId)?.attempts ?? 1;
  return { kind: 'agent', name: agent, operation: task, payload: event.params, node: nodeId, run: parent!.path, attempt, at, ...(event.flow.source ? { flow: display(event.flow.source) } : {}) };
}
