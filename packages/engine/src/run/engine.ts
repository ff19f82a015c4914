import { dirname, isAbsolute, resolve } from 'node:path';
import { EventEmitter } from 'eventemitter3';
import PQueue from 'p-queue';
import type { CompiledFlow } from '../compile.js';
import { GantryError } from '../errors.js';
import type { JsonObject, JsonValue, Writable } from '../flow-types.js';
import { compileFlow, isWithin, loadFlowFile, loadFlowText, resolveFlowRef } from '../load.js';
import type { DeclaredNames } from '../name-checks.js';
import type { Decision } from './approval-waits.js';
import type { CallSite, EngineCore } from './core.js';
import type { RunEvent, RunEventOf, RunEventType } from './events.js';
import { RunExecution, type RunStart } from './execution.js';
import { RunHandle, type Run, type StartOptions } from './run-handle.js';
import type { AgentRegistration, AgentReply, AgentTaskSample, AgentTransport, Connector, ExecutorDefinition, FlowFunction, SubflowOutcome } from './interfaces.js';
import { resolveOptions, type EngineOptions, type Notification, type ResolvedOptions } from './options.js';
import { declaredParams, resolveParams } from './params.js';
import { missingRegistrations } from './preflight.js';
import { checkDecision } from './decisions.js';
import { isTerminal, replay, type RunState } from './state.js';
import { callAgent, callAgentFlow, callConnector, callFunction, type AgentEntry } from './calls.js';
import { JOURNAL, MemoryStore, type RunRecord } from './store.js';
import { SlotMap } from './slot-map.js';

type Listener<T extends RunEventType | 'event'> = (event: T extends RunEventType ? RunEventOf<T> : RunEvent) => void;

export interface Engine {
  registerExecutor(executor: ExecutorDefinition<never>): void;
  registerFunction(name: string, fn: FlowFunction): void;
  registerAgent(name: string, agent: AgentTransport | AgentRegistration): void;
  registerConnector(connector: Connector): void;
  /** Reads, validates and compiles a flow file (with the node types registered here). */
  loadFlow(path: string): Promise<CompiledFlow>;
  /** Starts a run; refuses, before anything runs, a flow naming unregistered types, functions or agents. */
  start(flow: CompiledFlow | object, options?: StartOptions): Promise<Run>;
  /** Throws what `start` would for a flow naming unregistered types, functions, agents or services. */
  check(flow: CompiledFlow): void;
  run(runId: string): Run | undefined;
  /**
   * Rebuilds runs from the store's journals and carries them on (DESIGN §3.6): one run, or every
   * unfinished top-level run (sub-flow runs are resumed by their parents).
   */
  resume(runId?: string): Run[];
  /** Decides an approval of a live run, or of a stored one (from another process): journalled either way. */
  decide(runId: string, nodeId: string, decision: Decision): void;
  /** Cancels a live run, or a stored unfinished one (and its sub-flow runs). */
  cancel(runId: string): void;
  /** Listens to one event type, or to every event with 'event'. */
  on<T extends RunEventType | 'event'>(type: T, listener: Listener<T>): () => void;
  /** Hears every agent task as it ends (its duration and outcome), for metrics; returns the unsubscribe. */
  onAgentTask(listener: (sample: AgentTaskSample) => void): () => void;
  readonly options: ResolvedOptions;
}

function isRegistration(agent: AgentTransport | AgentRegistration): agent is AgentRegistration {
  return typeof (agent as AgentTransport).call !== 'function' && ('transport' in agent || 'flows' in agent);
}

/** Creates an engine (DESIGN §5). Options are validated once, here. */
export function createEngine(options: EngineOptions = {}): Engine {
  const resolved = resolveOptions(options);
  const executors = new Map<string, ExecutorDefinition<never>>();
  const functions = new Map<string, FlowFunction>();
  const agents = new Map<string, AgentEntry>();
  const connectors = new Map<string, Connector>();
  const live = new SlotMap<RunExecution>();
  const emitter = new EventEmitter();
  const queue = resolved.concurrency === Infinity ? undefined : new PQueue({ concurrency: resolved.concurrency });
  const flowsByPath = new Map<string, Promise<CompiledFlow>>();
  let pending: RunEvent[] = [];
  let flushQueued = false;
  /** A store that does not last has no commit to share: each event goes in as it is recorded. */
  const immediate = resolved.store.durable === false;
  /**
   * The built-in memory store: the engine pushes to a run's journal itself, unless its append was
   * replaced (a subclass, a spy) when the engine was made; a spy set on it later sees nothing.
   */
  const memory = resolved.store instanceof MemoryStore && resolved.store.append === MemoryStore.prototype.append ? resolved.store : undefined;

  // A flow checked against the registries is not checked again until something is registered.
  let registryVersion = 0;
  const preflighted = new WeakMap<CompiledFlow, number>();

  const refuse = (kind: string, name: string) => {
    throw new GantryError('DUPLICATE_REGISTRATION', `${kind} "${name}" is registered already`);
  };

  const engine: Engine = {
    options: resolved,
    registerExecutor(executor) {
      if (typeof executor?.type !== 'string' || typeof executor.run !== 'function') {
        throw new GantryError('CONFIG_INVALID', 'registerExecutor: expected { type: string, run: function }');
      }
      if (executors.has(executor.type)) refuse('executor', executor.type);
      executors.set(executor.type, executor);
      registryVersion++;
    },
    registerFunction(name, fn) {
      if (typeof fn !== 'function') throw new GantryError('CONFIG_INVALID', `registerFunction: expected "${name}" to be a function, got ${typeof fn}`);
      if (functions.has(name)) refuse('function', name);
      functions.set(name, fn);
      registryVersion++;
    },
    registerAgent(name, agent) {
      const registration = isRegistration(agent) ? agent : { transport: agent };
      const { transport, flows } = registration;
      if (transport === undefined ? flows === undefined : typeof transport?.call !== 'function') {
        throw new GantryError('CONFIG_INVALID', `registerAgent: expected agent "${name}" to have a transport with call(task, signal), or flows (task → flow file)`);
      }
      for (const [task, ref] of Object.entries(flows ?? {})) {
        if (typeof ref !== 'string' || ref === '') throw new GantryError('CONFIG_INVALID', `registerAgent: expected the flow of agent "${name}" task "${task}" to be a file path, got ${JSON.stringify(ref)}`);
      }
      const limit = registration.concurrency;
      if (limit !== undefined && !(limit === Infinity || (Number.isInteger(limit) && limit >= 1))) {
        throw new GantryError('CONFIG_INVALID', `registerAgent: expected the concurrency of agent "${name}" to be an integer ≥ 1, got ${String(limit)}`);
      }
      if (agents.has(name)) refuse('agent', name);
      agents.set(name, { registration, queue: limit === undefined || limit === Infinity ? undefined : new PQueue({ concurrency: limit }) });
      registryVersion++;
    },
    registerConnector(connector) {
      if (typeof connector?.service !== 'string' || typeof connector.call !== 'function') {
        throw new GantryError('CONFIG_INVALID', 'registerConnector: expected { service: string, call: function }');
      }
      if (connectors.has(connector.service)) refuse('connector', connector.service);
      connectors.set(connector.service, connector);
      registryVersion++;
    },
    loadFlow(path) {
      return loadFlowFile(path, { nodeTypes: customTypes(), ...loadChecks(path) });
    },
    check(compiled) {
      if (preflighted.get(compiled) === registryVersion) return;
      const missing = missingRegistrations(compiled, { executors, functions, agents, connectors });
      if (missing !== undefined) throw missing;
      preflighted.set(compiled, registryVersion);
    },
    async start(flow, startOptions = {}) {
      const compiled = isCompiled(flow) ? flow : compileFlow(flow, { nodeTypes: customTypes() });
      engine.check(compiled);
      const params = resolveParams(compiled, startOptions.params);
      const startedAt = resolved.clock.now();
      const runId = startOptions.runId ?? resolved.ids(startedAt);
      const trigger = startOptions.trigger ?? {};
      const execution = new RunExecution(core, compiled, runId);
      // Built field by field rather than with spreads of optional parts: a 10-node run should
      // cost microseconds, and each spread is an object made and thrown away.
      const record: Writable<RunRecord> = { runId, flowName: compiled.name, flowHash: compiled.hash, flowText: compiled.text, startedAt, status: 'running' };
      if (compiled.path) record.flowSource = compiled.path;
      const parent = startOptions.parent;
      if (parent) record.parentRunId = parent.runId;
      if (!live.add(runId, execution)) throw new GantryError('STORE_CONFLICT', `run ${runId} is running already; a run id is used once`);
      const initiator = startOptions.initiator ?? initiatorOf(trigger);
      const started: Writable<RunStart> = { flow: execution.flowRef, params, trigger };
      if (initiator) started.initiator = initiator;
      if (parent) started.parent = parent;
      execution.start(started, record);
      return handle(execution);
    },
    run(runId) {
      const execution = live.get(runId);
      return execution === undefined ? undefined : handle(execution);
    },
    resume(runId) {
      if (runId !== undefined) {
        const run = live.has(runId) ? handle(live.get(runId)!) : resumeRun(runId);
        return [run];
      }
      const unfinished = resolved.store.listRuns({ status: ['running', 'waiting'], parentRunId: null }).filter((r) => !live.has(r.runId));
      return unfinished.reverse().map((r) => resumeRun(r.runId));
    },
    decide(runId, nodeId, decision) {
      const execution = live.get(runId);
      if (execution !== undefined) return execution.decideApproval(nodeId, decision);
      const { state, flow } = storedRun(runId);
      resolved.store.append([checkDecision(state, flow, nodeId, decision, resolved.principals, resolved.clock.now())]);
    },
    cancel(runId) {
      const execution = live.get(runId);
      if (execution !== undefined) return execution.cancel();
      cancelStored(runId);
    },
    onAgentTask(listener) {
      agentTaskListeners.add(listener);
      return () => agentTaskListeners.delete(listener);
    },
    on(type, listener) {
      emitter.on(type, listener as (event: RunEvent) => void);
      core.listened = true;
      return () => {
        emitter.off(type, listener as (event: RunEvent) => void);
        core.listened = emitter.eventNames().length > 0;
      };
    },
  };

  /** A stored run, its flow (the version it started with) and its state rebuilt from the journal. */
  function storedRun(runId: string): { record: RunRecord; flow: CompiledFlow; state: RunState; events: readonly RunEvent[] } {
    const record = resolved.store.getRun(runId);
    if (record === undefined) throw new GantryError('RUN_NOT_FOUND', `no run ${runId} in the store`);
    const flow = loadFlowText(record.flowText, { nodeTypes: customTypes(), source: record.flowSource ?? record.flowName, ...(record.flowSource ? { path: record.flowSource } : {}) });
    const events = resolved.store.events(runId);
    return { record, flow, state: replay(runId, events), events };
  }

  function resumeRun(runId: string): Run {
    const { flow, events } = storedRun(runId);
    const execution = new RunExecution(core, flow, runId);
    live.set(runId, execution);
    execution.resume(events);
    return handle(execution);
  }

  /** Ends a stored unfinished run as cancelled, in its journal, with its sub-flow runs. */
  function cancelStored(runId: string): void {
    const { state, flow } = storedRun(runId);
    if (state.finishedAt !== undefined) throw new GantryError('RUN_FINISHED', `run ${runId} has finished already (${state.status})`);
    const at = resolved.clock.now();
    const events: RunEvent[] = [];
    for (const node of flow.nodes.values()) {
      if (!isTerminal(state.nodes.get(node.id)?.status)) events.push({ type: 'node.skipped', runId, at, nodeId: node.id, attempt: 0, reason: 'aborted' });
    }
    events.push({ type: 'run.finished', runId, at, status: 'cancelled' });
    resolved.store.append(events);
    resolved.store.setStatus(runId, 'cancelled', at);
    for (const child of resolved.store.listRuns({ parentRunId: runId, status: ['running', 'waiting'] })) {
      if (!live.has(child.runId)) cancelStored(child.runId);
    }
  }

  /** What a flow file is checked against besides its schema: the configuration's names, the folder its references may reach. */
  function loadChecks(path: string): { declared?: DeclaredNames; root?: string } {
    const root = flowsRootOf(path);
    return { ...(resolved.declared === undefined ? {} : { declared: resolved.declared }), ...(root === undefined ? {} : { root }) };
  }

  /** The configured flows folder when `file` is in its tree, else undefined (the file's own folder). */
  function flowsRootOf(file: string | undefined): string | undefined {
    const folder = resolved.flowsFolder;
    if (folder === undefined || file === undefined) return undefined;
    return isWithin(folder, resolve(file)) ? folder : undefined;
  }

  /**
   * The file a flow's sub-flow reference names, refused (FLOW_REF_OUTSIDE) when it leaves the
   * referencing flow's folder tree: a flow loaded before the rule, or a reference computed by an
   * expression, is held to it here, when the run reaches it. The file is not read.
   */
  function referencedFlow(from: string | undefined, base: string, ref: string): string {
    const root = flowsRootOf(from) ?? base;
    const found = resolveFlowRef(root, base, ref);
    if (found.status === 'outside') {
      throw new GantryError('FLOW_REF_OUTSIDE', `sub-flow "${ref}" is ${isAbsolute(ref) ? 'an absolute path' : `outside ${root}`}: a flow may name flows in its folder tree only (symbolic links included)`);
    }
    return found.file;
  }

  function customTypes(): ReadonlyMap<string, object | undefined> {
    const types = new Map<string, object | undefined>();
    for (const [type, executor] of executors) if (!BUILT_IN.has(type)) types.set(type, executor.schema);
    return types;
  }

  function handle(execution: RunExecution): Run {
    return new RunHandle(execution);
  }

  function flush(): void {
    flushQueued = false;
    if (pending.length === 0) return;
    const events = pending;
    pending = [];
    try {
      resolved.store.append(events);
    } catch (error) {
      // What is not in the journal cannot be trusted: the runs of this write stop here.
      for (const runId of new Set(events.map((e) => e.runId))) live.get(runId)?.journalFailed(error);
      throw error;
    }
  }

  function flushLater(): void {
    try {
      flush();
    } catch (error) {
      resolved.logger.error({ err: error }, 'the run store could not write; the runs concerned were stopped');
    }
  }

  function tell(event: RunEvent): void {
    // 'event' first: a listener that reacts to a type (deciding an approval, say) must not
    // make its own events reach the all-events listeners before the one it reacted to.
    if (!core.listened) return;
    emitter.emit('event', event);
    emitter.emit(event.type, event);
  }

  const agentTaskListeners = new Set<(sample: AgentTaskSample) => void>();
  async function timeAgentTask(agent: string, task: string, site: CallSite, call: () => Promise<AgentReply>): Promise<AgentReply> {
    const started = resolved.clock.now();
    let status: AgentTaskSample['status'] = 'failed';
    try {
      const reply = await call();
      status = 'succeeded';
      return reply;
    } finally {
      const sample = { agent, task, runId: site.runId, nodeId: site.nodeId, attempt: site.attempt, status, durationMs: resolved.clock.now() - started };
      for (const listener of agentTaskListeners) listener(sample);
    }
  }

  const core: Writable<EngineCore> = {
    options: resolved,
    executor: (type) => executors.get(type),
    // Whether anyone listens: with no listener, recording an event skips the emitter altogether.
    // A field set by `on` and the unsubscribe it returns, not a getter: V8 11 makes an object
    // literal with a getter a dictionary, and this object is read for every event and attempt.
    listened: false,
    created(record, event) {
      try {
        // The tick's earlier events go first: the journal keeps their order.
        flush();
        resolved.store.createRun(record, [event]);
      } catch (error) {
        live.get(record.runId)?.journalFailed(error);
        throw error;
      }
      tell(event);
    },
    record(event, run) {
      if (immediate) {
        // No batch to keep, no flush to queue.
        try {
          if (memory === undefined) resolved.store.append([event]);
          else (run.journal ??= memory[JOURNAL](event.runId))?.push(event);
        } catch (error) {
          live.get(event.runId)?.journalFailed(error);
          throw error;
        }
      } else {
        // Events of one tick go to the store together: parallel branches share a write.
        pending.push(event);
        if (!flushQueued) {
          flushQueued = true;
          // A resolved promise's then: queueMicrotask would wrap each call in an async resource.
          void RESOLVED.then(flushLater);
        }
        // What a caller is told has happened (a decision taken, a run waiting or finished) is
        // durable before the call returns; the rest is written at the end of the tick.
        if (FLUSH_AT_ONCE.has(event.type)) flush();
      }
      tell(event);
    },
    callAgent(agent, task, inputs, site) {
      const entry = agents.get(agent);
      const flow = entry?.registration.flows?.[task];
      const call = () => (flow === undefined ? callAgent(entry, agent, task, inputs, site) : callAgentFlow(core, agent, task, flow, inputs, site));
      return agentTaskListeners.size === 0 ? call() : timeAgentTask(agent, task, site, call);
    },
    callFunction: (name, input, params, site) => callFunction(functions.get(name), name, input, params, site),
    callConnector: (service, action, params, authentication, site) =>
      callConnector(connectors.get(service), service, action, params, authentication, site, resolved),
    async runSubflow(site, path, ref, options): Promise<SubflowOutcome> {
      // A flow built in code has no folder: its references are taken from the flows folder.
      const base = site.flow.path === undefined ? (resolved.flowsFolder ?? process.cwd()) : dirname(site.flow.path);
      const file = options.registered ? resolve(base, ref) : referencedFlow(site.flow.path, base, ref);
      let load = flowsByPath.get(file);
      if (load === undefined) {
        load = engine.loadFlow(file);
        flowsByPath.set(file, load);
        load.catch(() => flowsByPath.delete(file));
      }
      const childId = `${site.runId}.${path}`;
      const params = options.inheritParams ? declaredParams(await load, { ...live.get(site.runId)?.state.started?.params, ...options.params }) : options.params;
      // After a restart the child run may exist already: resume it (or read how it ended).
      const child =
        (live.has(childId) ? handle(live.get(childId)!) : resolved.store.getRun(childId) ? resumeRun(childId) : undefined) ??
        (await engine.start(await load, {
          params,
          trigger: options.trigger,
          runId: childId,
          parent: { runId: site.runId, path },
          ...(live.get(site.runId)?.state.started?.initiator ? { initiator: live.get(site.runId)!.state.started!.initiator! } : {}),
        }));
      const onAbort = () => child.cancel();
      site.signal.addEventListener('abort', onAbort, { once: true });
      // While the child waits for a human or a timer, the parent's node waits too (§3.5, exit 4).
      const parent = live.get(site.runId);
      const childExecution = live.get(child.id);
      if (parent !== undefined && childExecution !== undefined) {
        childExecution.onStatus = (status) => {
          const waits = status === 'waiting' ? [...childExecution.state.nodes.values()].flatMap((n) => (n.waitingOn ? [n.waitingOn] : [])) : undefined;
          parent.childWaiting(site.nodeId, waits);
        };
        // The child may have come to wait before it returned from start (an approval first).
        if (childExecution.state.status === 'waiting') childExecution.onStatus('waiting');
      }
      const result = await child.finished.finally(() => site.signal.removeEventListener('abort', onAbort));
      if (result.status !== 'succeeded') {
        const why = result.error ? `: ${result.error.message}` : '';
        throw Object.assign(new GantryError('SUBFLOW_FAILED', `sub-flow ${ref} (run ${child.id}) ended ${result.status}${why}`), {
          details: { runId: child.id, status: result.status, ...(result.error ? { error: result.error as unknown as JsonValue } : {}) },
        });
      }
      return { runId: child.id, status: result.status, output: result.output ?? {} };
    },
    compensationFor(agent, task) {
      return agents.get(agent)?.registration.compensations?.[task];
    },
    async notify(notification: Notification) {
      if (resolved.notifier) return resolved.notifier(notification);
      resolved.logger.warn({ notification }, notification.message);
    },
    // The flush of this tick was queued when its first event was recorded, so a callback queued
    // now runs after it: microtasks run in order. A store that does not last has nothing to wait for.
    afterJournal: resolved.store.durable === false ? (fn) => fn() : (fn) => RESOLVED.then(fn),
    waitsForJournal: resolved.store.durable !== false,
    limited: queue !== undefined,
    limit: queue === undefined ? (fn) => fn() : (fn) => queue.add(fn),
    statusChanged(runId, status, finishedAt) {
      resolved.store.setStatus(runId, status, finishedAt);
    },
    released(runId) {
      live.delete(runId);
    },
  };

  for (const executor of resolved.executors) engine.registerExecutor(executor);
  for (const [name, fn] of Object.entries(resolved.functions)) engine.registerFunction(name, fn);
  for (const [name, agent] of Object.entries(resolved.agents)) engine.registerAgent(name, agent);
  for (const connector of resolved.connectors) engine.registerConnector(connector);
  return engine;
}

const RESOLVED = Promise.resolve();

const FLUSH_AT_ONCE = new Set<RunEvent['type']>(['approval.decided', 'run.waiting', 'run.finished']);

const BUILT_IN = new Set(['webhook', 'function', 'conditional', 'parallel', 'agent', 'human_approval', 'external_api', 'wait', 'subflow']);

function isCompiled(flow: CompiledFlow | object): flow is CompiledFlow {
  return typeof (flow as CompiledFlow).hash === 'string' && (flow as CompiledFlow).nodes instanceof Map;
}

/** GitHub webhooks name who caused them: that person may not approve the deployment. */
function initiatorOf(trigger: JsonValue): string | undefined {
  if (typeof trigger !== 'object' || trigger === null || Array.isArray(trigger)) return undefined;
  const sender = trigger.sender as JsonObject | undefined;
  if (sender && typeof sender.login === 'string') return sender.login;
  const pusher = trigger.pusher as JsonObject | undefined;
  if (pusher && typeof pusher.name === 'string') return pusher.name;
  return undefined;
}
