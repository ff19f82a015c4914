import type { Logger } from 'pino';
import type { CompiledFlow } from '../compile.js';
import type { JsonObject, JsonValue } from '../flow-types.js';
import type { RunEvent, RunStartedEvent, RunStatus } from './events.js';
import type { RunRecord } from './store.js';
import type { Clock } from './clock.js';
import type { AgentReply, ExecutorDefinition, SubflowOutcome, TaskOutput } from './interfaces.js';
import type { Notification, ResolvedOptions } from './options.js';

/** Who asks for an agent task, a function or a connector call: for the envelope and the logs. */
export interface CallSite {
  readonly runId: string;
  readonly flow: CompiledFlow;
  readonly nodeId: string;
  readonly attempt: number;
  readonly idempotencyKey: string;
  readonly deadline: number | undefined;
  readonly signal: AbortSignal;
  /** The engine's clock, handed on to transports and connectors. */
  readonly clock: Clock;
  /** The attempt's logger (runId, nodeId, attempt bound): functions and connectors log through it. */
  readonly log: Logger;
  /** The attempt's output, kept with it: transports write what their agents print. */
  readonly output: TaskOutput;
  /** The node's whole input and the run's trigger, for functions and connectors. */
  readonly input: JsonObject;
  readonly trigger: JsonValue;
  /** The path a sub-flow started from here is named by: node path, retries, call key. */
  readonly childPath: string;
}

/** What a run's execution needs from its engine: the one place that does I/O for it. */
export interface EngineCore {
  readonly options: ResolvedOptions;
  executor(type: string): ExecutorDefinition<never> | undefined;
  /** Creates a run in the store with its run.started, in one commit (a run is never found without its start); tells the listeners. */
  created(record: RunRecord, event: RunStartedEvent): Promise<void> | undefined;
  /** Resolves once everything recorded so far is durable (at once for a store that does not last). */
  durable(): Promise<void>;
  /** As durable, and says whether the store wrote this run's events: false when a shared store fenced them off (another process holds the run now). */
  committed(runId: string): Promise<boolean>;
  /**
   * Appends to the run's journal and tells the listeners. `run` keeps what the engine needs to
   * write its events without looking the run up each time.
   */
  record(event: RunEvent, run: JournalHandle): void;
  /** Whether anyone listens to events (listeners run inside record). */
  readonly listened: boolean;
  callAgent(agent: string, task: string, inputs: JsonObject, site: CallSite): Promise<AgentReply>;
  callFunction(name: string, input: JsonObject, params: JsonObject, site: CallSite): Promise<JsonObject>;
  callConnector(service: string, action: string, params: JsonObject, authentication: string | undefined, site: CallSite): Promise<JsonObject>;
  /**
   * Runs `ref` as a child run named by `path`. With `inheritParams` (an agent task's flow), the
   * child takes the params it declares from the parent's params overlaid with `params`, and
   * ignores the rest; otherwise `params` must suit the child exactly. With `registered` (the flow
   * of an agent's registration: the operator's) `ref` is trusted; a flow's own reference must
   * stay in its folder tree (DESIGN §11).
   */
  runSubflow(site: CallSite, path: string, ref: string, options: { params: JsonObject; trigger: JsonValue; inheritParams?: boolean; registered?: boolean }): Promise<SubflowOutcome>;
  /** The task that undoes `task` of `agent`, from the agent's registration. */
  compensationFor(agent: string, task: string): string | undefined;
  notify(notification: Notification): Promise<void>;
  /** Runs `fn` once the journal write of the current tick has been made (after the pending flush). */
  afterJournal<T>(fn: () => Promise<T>): Promise<T>;
  /** Whether afterJournal waits at all (a store that does not last has nothing to wait for). */
  readonly waitsForJournal: boolean;
  /** Whether attempts go through the global concurrency limit (else `limit` need not be called). */
  readonly limited: boolean;
  /** Runs `fn` within the engine's global concurrency limit. */
  limit<T>(fn: () => Promise<T>): Promise<T>;
  /** The run's status changed: keep the store's listing in step. */
  statusChanged(runId: string, status: RunStatus, finishedAt: number | undefined): void;
  /** The run has finished: forget it. */
  released(runId: string): void;
}

/** What the engine keeps on a run to write its journal (the built-in memory store's array). */
export interface JournalHandle {
  journal: RunEvent[] | undefined;
}
