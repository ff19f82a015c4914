/**
 * What the out-of-process transports (http, command, llm) share: turning what an agent sent back
 * into the engine's `{ status, result, metrics?, error? }`, and the task's own deadline.
 */
import { pino, type Logger } from 'pino';
import { GantryError, systemClock, type AgentCallContext, type AgentReply, type AgentTask, type Clock, type JsonObject } from '@gantry/engine';
import { describeValue, isJsonObject } from '../connectors/params.js';
import { scrubJson } from '../connectors/secrets.js';

/**
 * An agent's answer as a reply. An object whose `status` is `"succeeded"` or `"failed"` is a
 * reply (`result`, `metrics` objects; `error` an object with a `message`, or a string); any other
 * object is the result itself, so a deploy result's own `status: "healthy"` stays data.
 * `retryable` says whether an answer that is no object at all may be worth asking again (a
 * model's sampling), and `what` names the agent in messages.
 */
export function toReply(value: unknown, what: string, retryable = false): AgentReply {
  if (!isJsonObject(value)) {
    throw new GantryError('AGENT_FAILED', `${what} answered ${describeValue(value)}; expected a JSON object (a result, or { status, result?, metrics?, error? })`, { retryable });
  }
  if (value.status !== 'succeeded' && value.status !== 'failed') return { status: 'succeeded', result: value };
  const field = (key: 'result' | 'metrics'): JsonObject | undefined => {
    const v = value[key];
    if (v === undefined || v === null) return undefined;
    if (!isJsonObject(v)) throw new GantryError('AGENT_FAILED', `${what} answered a reply whose \`${key}\` is ${describeValue(v)}; expected an object`);
    return v;
  };
  const result = field('result');
  const metrics = field('metrics');
  const error = readError(value.error);
  if (value.status === 'failed') {
    return { status: 'failed', ...(result ? { result } : {}), ...(metrics ? { metrics } : {}), error: error ?? { message: 'no reason given' } };
  }
  return { status: 'succeeded', result: result ?? {}, ...(metrics ? { metrics } : {}) };
}

function readError(value: unknown): AgentReply['error'] | undefined {
  if (typeof value === 'string') return { message: value };
  if (!isJsonObject(value)) return undefined;
  const message = typeof value.message === 'string' ? value.message : JSON.stringify(value);
  return {
    message,
    ...(typeof value.code === 'string' ? { code: value.code } : {}),
    ...(typeof value.retryable === 'boolean' ? { retryable: value.retryable } : {}),
  };
}

/** `agent "reviewer" task "code_review"`: the start of every message about one task. */
export function taskName(task: Pick<AgentTask, 'agent' | 'task'>): string {
  return `agent "${task.agent}" task "${task.task}"`;
}

/**
 * The task's time: the node's deadline when it has a timeout (the engine aborts the attempt
 * then), else the agent's own `taskTimeoutMs` from now, which this transport enforces itself.
 */
export interface TaskTime {
  /** Epoch ms, or undefined when nothing bounds the task. */
  readonly deadline: number | undefined;
  /** Aborted at the agent's own timeout as well as by the caller. */
  readonly signal: AbortSignal;
  dispose(): void;
}

/** How long past the deadline a request's own timer waits, so that the deadline's abort speaks first. */
export const DEADLINE_GRACE_MS = 1000;

/** The agent's own timeout runs on `clock`: in real time on the system clock, in a test's time on a fake one. */
export function taskTime(task: AgentTask, signal: AbortSignal, taskTimeoutMs: number | undefined, clock: Clock): TaskTime {
  const node = task.deadline === undefined ? Number.NaN : Date.parse(task.deadline);
  if (!Number.isNaN(node)) return { deadline: node, signal, dispose: () => {} };
  if (taskTimeoutMs === undefined) return { deadline: undefined, signal, dispose: () => {} };
  const own = new AbortController();
  const deadline = clock.now() + taskTimeoutMs;
  const cancel = clock.at(deadline, () =>
    own.abort(new GantryError('AGENT_FAILED', `${taskName(task)} ran past the agent's ${taskTimeoutMs} ms timeout (timeout_ms)`, { retryable: true })),
  );
  return { deadline, signal: AbortSignal.any([signal, own.signal]), dispose: cancel };
}


/** The clock a transport's call runs on: the engine's, or the system clock for a caller that gives none. */
export function callClock(context: AgentCallContext | undefined): Clock {
  return context?.clock ?? systemClock;
}

/** A logger that writes nothing: the default when a transport is given none. */
export const silentLog: Logger = pino({ level: 'silent' });

/** A positive integer option, or its default; a USAGE error that says what was found otherwise. */
export function intOption(factory: string, key: string, value: unknown, fallback: number | undefined, min = 1): number | undefined {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new GantryError('USAGE', `${factory}: expected \`${key}\` to be an integer ≥ ${min}, got ${describeValue(value)}`);
  }
  return value;
}

/** A non-empty string option. */
export function stringOption(factory: string, key: string, value: unknown, required: true): string;
export function stringOption(factory: string, key: string, value: unknown, required?: false): string | undefined;
export function stringOption(factory: string, key: string, value: unknown, required = false): string | undefined {
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'string' || value.trim() === '') {
    throw new GantryError('USAGE', `${factory}: expected \`${key}\` to be a non-empty string, got ${describeValue(value)}`);
  }
  return value;
}

/** An http or https URL option. */
export function urlOption(factory: string, key: string, value: unknown): URL {
  let url: URL | undefined;
  try {
    url = typeof value === 'string' ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new GantryError('USAGE', `${factory}: expected \`${key}\` to be an http or https URL, got ${describeValue(value)}`);
  }
  return url;
}

/** A reply with every secret scrubbed from its strings (an agent may echo what it was sent). */
export function scrubReply(reply: AgentReply, secrets: readonly string[]): AgentReply {
  return scrubJson(reply as unknown as JsonObject, secrets) as unknown as AgentReply;
}
