import { dirname, resolve } from 'node:path';
import { EventEmitter } from 'eventemitter3';
import PQueue from 'p-queue';
import type { CompiledFlow } from '../compile.js';
import { GantryError, isGantryError } from '../errors.js';
import type { JsonObject, JsonValue, Writable } from '../flow-types.js';
import { compileFlow, isWithin, loadFlowFile, loadFlowText } from '../load.js';
import type { DeclaredNames } from '../name-checks.js';
import type { Decision } from './approval-waits.js';
import type { CallSite, EngineCore } from './core.js';
import { RETRYABLE_STATUSES, retryPlan } from './next.js';
import { didYouMean } from '../suggest.js';
import type { ErrorInfo, FinalRunStatus, RunEvent, RunEventOf, RunEventType, RunRetriedEvent, RunStatus } from './events.js';
import { RunExecution, type RunStart } from './execution.js';
import { RunHandle, type Run, type StartOptions } from './run-handle.js';
import type { AgentRegistration, AgentReply, AgentTaskSample, AgentTransport, Connector, ExecutorDefinition, FlowFunction, SubflowOutcome } from './interfaces.js';
import { resolveOptions, type EngineOptions, type Notification, type ResolvedOptions } from './options.js';
import { declaredParams, resolveParams } from './params.js';
import { missingRegistrations } from './preflight.js';
import { checkDecision } from './decisions.js';
import { isTerminal, replay, type RunState } from './state.js';
import { callAgent, callAgentFlow, callConnector, callFunction, type AgentEntry } from './calls.js';
import { oversize } from '../value-limits.js';
import { countsResumptions, crashLoopMessage, CrashGuard, type TreeFacts } from './crash-loop.js';
import { JOURNAL, MemoryStore, type CommitOutcome, type RunRecord } from './store.js';
import { JournalWriter } from './journal-writer.js';
import { SlotMap } from './slot-map.js';
import { SubflowFiles } from './subflow-files.js';

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
  resume(runId?: string): Promise<Run[]>;
  /**
   * Retries a finished run from where it failed (DESIGN §12): a failed, rolled-back or cancelled
   * top-level run carries on in its own journal; the nodes whose failure ended it (or `from`) and
   * every node after them run again as their next attempts, with the same idempotency keys; every
   * other node keeps its output, and a compensation already made is not made again. Refuses with
   * RUN_NOT_RETRYABLE a run that is running, waiting, succeeded or blocked, or a sub-flow's run.
   */
  retry(runId: string, options?: RetryOptions): Promise<Run>;
  /**
   * Decides an approval of a live run, or of a stored one (from another process): journalled
   * either way, and durable when the promise resolves; a refusal rejects with the code an API
   * maps to its status (409, 403, 410).
   */
  decide(runId: string, nodeId: string, decision: Decision): Promise<void>;
  /** Cancels a live run, or a stored unfinished one (and its sub-flow runs); durable when it resolves. */
  cancel(runId: string): Promise<void>;
  /** Resolves once everything the engine's runs recorded so far is durable in the store. */
  flush(): Promise<void>;
  /**
   * Stops carrying a live run (and its live sub-flow runs) in this process without recording
   * anything more: its executors are aborted, its timers and approval waits stopped, and its
   * `finished` resolves failed with RUN_RELEASED here alone. For a store several processes share
   * (DESIGN §9): the run goes on in whichever process holds it next. `reason` is logged. Returns
   * whether the run was live here.
   */
  drop(runId: string, reason: string): boolean;
  /** Listens to one event type, or to every event with 'event'. */
  on<T extends RunEventType | 'event'>(type: T, listener: Listener<T>): () => void;
  /** Hears every agent task as it ends (its duration and outcome), for metrics; returns the unsubscribe. */
  onAgentTask(listener: (sample: AgentTaskSample) => void): () => void;
  /**
   * Says the process is stopping in good order (`gantry serve` on SIGTERM): the runs it carries
   * on stay unfinished in the store, to go on at the next start, and the resumptions this engine
   * counted are taken back, since they did not crash the process (`crashLoop`). What the runs
   * recorded and the journal had not yet committed (it waits for the end of a busy turn) goes to
   * the store first: a store that answers at once (SQLite) has it when this returns, and can be
   * closed next; with one that answers later (Postgres), await `flush()` before closing it. Runs
   * are not stopped; a process that dies never calls this.
   */
  close(): void;
  readonly options: ResolvedOptions;
}

export interface RetryOptions {
  /** Run again from this node (and every node after it) instead of from the failures. */
  readonly from?: string;
  /** Who asked for the retry, for the journal. */
  readonly by?: string;
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
  const subflowFiles = new SubflowFiles((file) => engine.loadFlow(file));
  /** A store that does not last has no commit to share: each event goes in as it is recorded. */
  const immediate = resolved.store.durable === false;
  const writer = immediate
    ? undefined
    : new JournalWriter(resolved.store, {
        failed(runIds, error) {
          for (const runId of runIds) live.get(runId)?.journalFailed(error);
        },
        conflicted(runId, error) {
          live.get(runId)?.journalFailed(error);
        },
        unheard(error) {
          resolved.logger.error({ err: error }, 'the run store could not write; the runs concerned were stopped');
        },
        fenced(runIds) {
          const why = 'another process holds it now (its lease here ran out: was this process paused, stopped or cut off from the store?); what it did here since is not recorded, and it records nothing more here';
          // A run is held with its whole tree: the top-level run stops too (and with it every sub-flow run).
          const roots = new Set<string>();
          for (const runId of runIds) roots.add(runId.includes('.') ? runId.slice(0, runId.indexOf('.')) : runId);
          for (const runId of roots) if (!drop(runId, 'warn', why)) resolved.logger.warn({ runId }, `run ${runId}: its last events here were not recorded: ${why}`);
        },
        parked(runIds) {
          for (const runId of runIds) drop(runId, 'debug', 'it waits: handed back to the store, where any process carries it on when it is due or decided');
        },
        concurrent: () => live.size > 1,
      });
  /**
   * The built-in memory store: the engine pushes to a run's journal itself, unless its append was
   * replaced (a subclass, a spy) when the engine was made; a spy set on it later sees nothing.
   */
  const memory = resolved.store instanceof MemoryStore && resolved.store.append === MemoryStore.prototype.append ? resolved.store : undefined;

  // Resumptions are counted when the store keeps counts and the guard is on (crashLoop).
  const guard =
    resolved.crashLoop.limit !== Infinity && countsResumptions(resolved.store)
      ? new CrashGuard({
          store: resolved.store,
          clock: resolved.clock,
          limit: resolved.crashLoop.limit,
          survivalMs: resolved.crashLoop.survivalMs,
          logger: resolved.logger,
          stored: (runId) => storedRun(runId),
          resume: (runId) => resumeRun(runId),
          setAside,
          decide: (runId, nodeId, decision) => engine.decide(runId, nodeId, decision),
          cancel: (runId) => engine.cancel(runId),
        })
      : undefined;
  /** The default ids never hold a ".", which separates a sub-flow's run from its parent's. */
  const customIds = options.ids !== undefined;

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
      const parent = startOptions.parent;
      if ((startOptions.runId !== undefined || customIds) && parent === undefined) checkRunId(runId);
      const trigger = startOptions.trigger ?? {};
      // What a durable store journals is bounded; a store that does not last keeps nothing past the process.
      const tooLarge = immediate ? undefined : oversize(trigger, resolved.limits.triggerBytes, "the run's trigger");
      if (tooLarge !== undefined) throw tooLarge;
      const execution = new RunExecution(core, compiled, runId);
      // Built field by field rather than with spreads of optional parts: a 10-node run should
      // cost microseconds, and each spread is an object made and thrown away.
      const record: Writable<RunRecord> = { runId, flowName: compiled.name, flowHash: compiled.hash, flowText: compiled.text, startedAt, status: 'running' };
      if (compiled.path) record.flowSource = compiled.path;
      if (parent) record.parentRunId = parent.runId;
      if (!live.add(runId, execution)) throw new GantryError('STORE_CONFLICT', `run ${runId} is running already; a run id is used once`);
      const initiator = startOptions.initiator ?? initiatorOf(trigger);
      const started: Writable<RunStart> = { flow: execution.flowRef, params, trigger };
      if (initiator) started.initiator = initiator;
      if (parent) started.parent = parent;
      const created = execution.start(started, record);
      // Durable before it is acknowledged (a webhook is answered once this resolves).
      if (created !== undefined) await created;
      return handle(execution);
    },
    run(runId) {
      const execution = live.get(runId);
      return execution === undefined ? undefined : handle(execution);
    },
    async resume(runId) {
      const carryOn = async (id: string) => {
        await claim(id, false);
        return guard === undefined ? resumeRun(id) : guard.resume(id);
      };
      await journaled();
      if (runId !== undefined) {
        const run = live.has(runId) ? handle(live.get(runId)!) : await carryOn(runId);
        return [run];
      }
      const unfinished = (await resolved.store.listRuns({ status: ['running', 'waiting'], parentRunId: null })).filter((r) => !live.has(r.runId));
      const runs: Run[] = [];
      for (const r of unfinished.reverse()) {
        if (live.has(r.runId)) continue;
        try {
          runs.push(await carryOn(r.runId));
        } catch (error) {
          // A shared store's run that another live process carries on: it is in good hands.
          if (!isGantryError(error, 'RUN_HELD')) throw error;
          resolved.logger.info({ runId: r.runId }, error.message);
        }
      }
      return runs;
    },
    flush() {
      return writer?.durable() ?? RESOLVED;
    },
    drop(runId, reason) {
      return drop(runId, 'info', reason);
    },
    close() {
      // What waits for the end of this turn of the event loop goes now: the store may close next.
      try {
        writer?.flush();
      } catch (error) {
        resolved.logger.error({ err: error }, 'the run store could not write as the engine closed; the runs concerned were stopped');
      }
      guard?.close();
    },
    async retry(runId, options = {}) {
      const running = live.get(runId);
      if (running !== undefined) throw notRetryable(runId, running.state.status);
      await journaled();
      await claim(runId, false);
      const { record, flow, state } = await storedRun(runId);
      if (record.parentRunId !== undefined) {
        throw new GantryError('RUN_NOT_RETRYABLE', `run ${runId} is a sub-flow's run of ${record.parentRunId}: retry that run, which runs this flow again`);
      }
      if (!RETRYABLE_STATUSES.has(state.status)) throw notRetryable(runId, state.status);
      const { from, by } = options;
      if (from !== undefined && !flow.nodes.has(from)) {
        throw new GantryError('USAGE', `run ${runId}'s flow "${flow.name}" has no node "${from}"${didYouMean(from, [...flow.nodes.keys()])}`);
      }
      const event: Writable<RunRetriedEvent> = { type: 'run.retried', runId, at: resolved.clock.now(), nodes: retryPlan(flow, state, from) };
      if (from !== undefined) event.from = from;
      if (by !== undefined) event.by = by;
      await journal([event], [{ runId, status: 'running' }]);
      tell(event);
      return resumeRun(runId);
    },
    async decide(runId, nodeId, decision) {
      const execution = live.get(runId);
      if (execution !== undefined) {
        execution.decideApproval(nodeId, decision);
        if (writer === undefined) return;
        // Written, unless the run left this process as it was decided (handed back, taken over):
        // then it is decided where the run is now, below.
        if (!(await writer.outcome()).fenced?.includes(runId)) return;
      } else await journaled();
      // A shared store's run may be claimed from here and taken by another process before the
      // decision is written: then it is checked and written again, against the journal as it is.
      for (let round = 1; ; round++) {
        const took = await claim(runId, true);
        try {
          const { state, flow } = await storedRun(runId);
          const outcome = await journal([checkDecision(state, flow, nodeId, decision, resolved.principals, resolved.clock.now())], []);
          if (!outcome?.fenced?.includes(runId)) return;
          if (round >= CLAIM_ROUNDS) throw new GantryError('RUN_HELD', `run ${runId}: the decision on "${nodeId}" was not recorded: other processes took the run ${round} times while it was being written; try again`);
        } finally {
          if (took) await resolved.store.release?.(runId);
        }
      }
    },
    async cancel(runId) {
      const execution = live.get(runId);
      if (execution !== undefined) {
        execution.cancel();
        return writer?.durable();
      }
      await journaled();
      const took = await claim(runId, true);
      try {
        await cancelStored(runId);
      } finally {
        if (took) await resolved.store.release?.(runId);
      }
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
  /**
   * Resolves once what this engine's runs recorded is in the store. A run that has just ended
   * leaves `live` before the commit that holds its end (a turn of the event loop later when the
   * store is busy): what acts on a run that is not live waits for it, or it would find the run
   * still running and end it a second time. A failed commit is the writer's to report; the read
   * goes on.
   */
  function journaled(): Promise<unknown> {
    return writer === undefined ? RESOLVED : writer.durable().catch(() => undefined);
  }

  async function storedRun(runId: string): Promise<{ record: RunRecord; flow: CompiledFlow; state: RunState; events: readonly RunEvent[] }> {
    const record = await resolved.store.getRun(runId);
    if (record === undefined) throw new GantryError('RUN_NOT_FOUND', `no run ${runId} in the store`);
    const flow = loadFlowText(record.flowText, { nodeTypes: customTypes(), source: record.flowSource ?? record.flowName, ...(record.flowSource ? { path: record.flowSource } : {}) });
    const events = await resolved.store.events(runId);
    return { record, flow, state: replay(runId, events), events };
  }

  async function resumeRun(runId: string): Promise<Run> {
    await claim(runId, false);
    const { flow, events } = await storedRun(runId);
    // Read while another call resumed it (two requests at once): carry on with that one.
    const already = live.get(runId);
    if (already !== undefined) return handle(already);
    const execution = new RunExecution(core, flow, runId);
    live.set(runId, execution);
    execution.resume(events);
    return handle(execution);
  }

  /**
   * Writes events of runs this engine does not carry on (a stored run decided, cancelled or
   * retried from here), with their listing statuses, and resolves once they are durable, with
   * what the store said of them (a shared store's fence).
   */
  async function journal(events: readonly RunEvent[], statuses: readonly { runId: string; status: RunStatus; finishedAt?: number }[]): Promise<CommitOutcome | undefined> {
    if (writer === undefined) {
      await resolved.store.append(events);
      for (const { runId, status, finishedAt } of statuses) await resolved.store.setStatus(runId, status, finishedAt);
      return undefined;
    }
    for (const event of events) writer.append(event);
    for (const { runId, status, finishedAt } of statuses) writer.status(runId, status, finishedAt);
    writer.flush();
    return writer.outcome();
  }

  /** Takes a stored run for this process (a shared store, DESIGN §9); false when it held it already, or the store is not shared. */
  async function claim(runId: string, force: boolean): Promise<boolean> {
    return resolved.store.claim === undefined ? false : resolved.store.claim(runId, force);
  }

  /**
   * Stops a live run and its live sub-flow runs without recording anything more (the store
   * handed it on): the top-level one first, so that a child's end is not taken for a result.
   */
  function drop(runId: string, level: 'warn' | 'info' | 'debug', reason: string): boolean {
    const execution = live.get(runId);
    if (execution === undefined) return false;
    const released = new GantryError('RUN_RELEASED', `run ${runId} goes on elsewhere: ${reason}`);
    execution.letGo(released);
    const prefix = `${runId}.`;
    for (const child of [...live.values()]) if (child.runId.startsWith(prefix)) child.letGo(released);
    resolved.logger[level]({ runId }, `run ${runId} stopped in this process: ${reason}`);
    return true;
  }

  /** Ends a stored unfinished run as cancelled, in its journal, with its sub-flow runs. */
  async function cancelStored(runId: string): Promise<void> {
    await endStored(runId, 'cancelled', undefined);
    for (const child of await resolved.store.listRuns({ parentRunId: runId, status: ['running', 'waiting'] })) {
      if (!live.has(child.runId)) await cancelStored(child.runId);
    }
  }

  /**
   * Ends a stored unfinished run (not live here) in its journal: with an error, the nodes that
   * were running fail with it; every other unfinished node is skipped (aborted).
   */
  async function endStored(runId: string, status: FinalRunStatus, error: ErrorInfo | undefined): Promise<RunEvent[]> {
    const { state, flow } = await storedRun(runId);
    if (state.finishedAt !== undefined) throw new GantryError('RUN_FINISHED', `run ${runId} has finished already (${state.status})`);
    const at = resolved.clock.now();
    const events: RunEvent[] = [];
    let failedNode: string | undefined;
    for (const node of flow.nodes.values()) {
      const n = state.nodes.get(node.id);
      if (isTerminal(n?.status)) continue;
      if (error !== undefined && n?.status === 'running') {
        events.push({ type: 'node.failed', runId, at, nodeId: node.id, attempt: n.attempt, error });
        failedNode ??= node.id;
      } else events.push({ type: 'node.skipped', runId, at, nodeId: node.id, attempt: 0, reason: 'aborted' });
    }
    const finished: Writable<RunEventOf<'run.finished'>> = { type: 'run.finished', runId, at, status };
    if (error !== undefined) finished.error = failedNode === undefined ? error : { ...error, nodeId: failedNode };
    events.push(finished);
    await journal(events, [{ runId, status, finishedAt: at }]);
    return events;
  }

  /** Ends a run that keeps crashing the process, with its unfinished sub-flow runs, failed (CRASH_LOOP). */
  async function setAside(runId: string, facts: TreeFacts, crashes: number): Promise<void> {
    const error: ErrorInfo = { code: 'CRASH_LOOP', message: crashLoopMessage(runId, crashes, facts.running), retryable: false };
    for (const id of facts.unfinished) {
      if (live.has(id)) continue;
      for (const event of await endStored(id, 'failed', error)) tell(event);
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
    return subflowFiles.referenced(flowsRootOf(from) ?? base, base, ref);
  }

  function customTypes(): ReadonlyMap<string, object | undefined> {
    const types = new Map<string, object | undefined>();
    for (const [type, executor] of executors) if (!BUILT_IN.has(type)) types.set(type, executor.schema);
    return types;
  }

  function handle(execution: RunExecution): Run {
    return new RunHandle(execution);
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
      if (writer !== undefined) {
        // In the open batch, after the tick's earlier events: the journal keeps their order.
        const created = writer.create(record, [event]);
        tell(event);
        return created;
      }
      try {
        resolved.store.createRun(record, [event]);
      } catch (error) {
        live.get(record.runId)?.journalFailed(error);
        throw error;
      }
      tell(event);
      return undefined;
    },
    durable: () => writer?.durable() ?? RESOLVED,
    committed: (runId) => (writer === undefined ? WRITTEN : writer.outcome().then((outcome) => !outcome.fenced?.includes(runId))),
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
        // Events of one turn of the event loop go to the store together: parallel branches and
        // concurrent runs share a write.
        writer!.append(event);
        // A decision taken or a run waiting is committed at once (its caller is told so); the
        // rest, a run's end included (its caller waits for that commit), at the end of the turn.
        if (FLUSH_AT_ONCE.has(event.type)) writer!.flush();
      }
      tell(event);
    },
    callAgent(agent, task, inputs, site) {
      const entry = agents.get(agent);
      const flow = entry?.registration.flows?.[task];
      const call = () => (flow === undefined ? callAgent(entry, agent, task, inputs, site, resolved.limits.agentReplyBytes) : callAgentFlow(core, agent, task, flow, inputs, site));
      return agentTaskListeners.size === 0 ? call() : timeAgentTask(agent, task, site, call);
    },
    callFunction: (name, input, params, site) => callFunction(functions.get(name), name, input, params, site),
    callConnector: (service, action, params, authentication, site) =>
      callConnector(connectors.get(service), service, action, params, authentication, site, resolved, resolved.limits.connectorAnswerBytes),
    async runSubflow(site, path, ref, options): Promise<SubflowOutcome> {
      // A flow built in code has no folder: its references are taken from the flows folder.
      const base = site.flow.path === undefined ? (resolved.flowsFolder ?? process.cwd()) : dirname(site.flow.path);
      const file = options.registered ? resolve(base, ref) : referencedFlow(site.flow.path, base, ref);
      const load = subflowFiles.flow(file);
      const childId = `${site.runId}.${path}`;
      const params = options.inheritParams ? declaredParams(await load, { ...live.get(site.runId)?.state.started?.params, ...options.params }) : options.params;
      // After a restart the child run may exist already: resume it (or read how it ended), if it
      // is this run's child. A run of another origin under that id is not adopted (DESIGN §11).
      const existing = live.get(childId);
      const record = existing === undefined ? await resolved.store.getRun(childId) : undefined;
      if (existing !== undefined || record !== undefined) {
        const parentOf = existing === undefined ? record!.parentRunId : existing.state.started?.parent?.runId;
        if (parentOf !== site.runId) {
          throw new GantryError(
            'STORE_CONFLICT',
            `sub-flow ${ref}: a run ${childId} exists already and is not a sub-flow run of ${site.runId} (${parentOf === undefined ? 'it is a top-level run' : `its parent is ${parentOf}`}); it was left as it is`,
          );
        }
      }
      const child =
        (existing !== undefined ? handle(existing) : record !== undefined ? await resumeRun(childId) : undefined) ??
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
        throw new GantryError('SUBFLOW_FAILED', `sub-flow ${ref} (run ${child.id}) ended ${result.status}${why}`, {
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
    // Once the open batch (with this attempt's node.started) is committed. A store that does not
    // last has nothing to wait for.
    afterJournal: writer === undefined ? (fn) => fn() : (fn) => writer.durable().then(fn),
    waitsForJournal: resolved.store.durable !== false,
    limited: queue !== undefined,
    limit: queue === undefined ? (fn) => fn() : (fn) => queue.add(fn),
    statusChanged(runId, status, finishedAt) {
      if (writer === undefined) void resolved.store.setStatus(runId, status, finishedAt);
      else writer.status(runId, status, finishedAt);
      if (guard?.watching) guard.statusChanged(runId, status);
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
const WRITTEN = Promise.resolve(true);

/** How many times a decision on a shared store's run is written again when other processes take the run meanwhile. */
const CLAIM_ROUNDS = 5;

const FLUSH_AT_ONCE = new Set<RunEvent['type']>(['approval.decided', 'run.waiting']);

const BUILT_IN = new Set(['webhook', 'function', 'conditional', 'parallel', 'agent', 'human_approval', 'external_api', 'wait', 'subflow', 'schedule']);

function notRetryable(runId: string, status: string): GantryError {
  return new GantryError('RUN_NOT_RETRYABLE', `run ${runId} is ${status}: only a failed, rolled-back or cancelled run can be retried`);
}

function isCompiled(flow: CompiledFlow | object): flow is CompiledFlow {
  return typeof (flow as CompiledFlow).hash === 'string' && (flow as CompiledFlow).nodes instanceof Map;
}

/**
 * A top-level run id: a non-empty string without ".", which separates a sub-flow's run from its
 * parent's (`<run>.<node>`), so that no run can be named ahead as another run's child.
 */
function checkRunId(runId: unknown): void {
  if (typeof runId !== 'string' || runId === '' || runId.includes('.')) {
    throw new GantryError('USAGE', `expected a run id to be a non-empty string without "." (it separates a sub-flow's run from its parent's), got ${JSON.stringify(runId)}`);
  }
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
