import { GantryError, type AgentCallContext, type AgentReply, type AgentTask, type AgentTransport, type JsonObject } from '@gantry/engine';
import { callClock } from './reply.js';

/**
 * A task handler of a module agent: the task's inputs in, a result (or a full reply) out.
 * `context.clock` is the engine's: a handler that waits or times something reads it, so that a
 * fake clock drives it too. `context.output`, when the engine gives one, keeps what the handler
 * writes to it (lines, and the output of the programs it starts) with the node's attempt. A thrown error with `retryable` (and `retryAfterMs`) is retried by the
 * node's `retry`; a handler makes one attempt.
 */
export type TaskHandler = (inputs: JsonObject, task: AgentTask, signal: AbortSignal, context: AgentCallContext) => unknown;

/** A module agent: one handler for every task, or one handler per task name. */
export type ModuleAgent = TaskHandler | Readonly<Record<string, TaskHandler>>;

function isReply(value: unknown): value is AgentReply {
  const status = (value as { status?: unknown } | null)?.status;
  return typeof value === 'object' && value !== null && (status === 'succeeded' || status === 'failed') && ('result' in value || 'error' in value || 'metrics' in value);
}

/**
 * The `module` transport (DESIGN §5): an agent that is a JavaScript function in this process.
 * A handler's plain return value is the result; a `{ status, result, metrics?, error? }` is
 * taken as the reply itself.
 */
export function moduleAgent(agent: ModuleAgent, name = 'module agent'): AgentTransport {
  return {
    async call(task, signal, context) {
      const handler = typeof agent === 'function' ? agent : agent[task.task];
      if (typeof handler !== 'function') {
        const known = typeof agent === 'function' ? [] : Object.keys(agent);
        throw new GantryError('AGENT_FAILED', `${name} "${task.agent}" has no task "${task.task}" (it has ${known.join(', ') || 'none'})`);
      }
      const value = await handler(task.inputs, task, signal, { clock: callClock(context), ...(context?.output === undefined ? {} : { output: context.output }) });
      if (isReply(value)) return value;
      if (value !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value))) {
        throw new GantryError('AGENT_FAILED', `${name} "${task.agent}" task "${task.task}" returned ${Array.isArray(value) ? 'an array' : typeof value}, not an object`);
      }
      return { status: 'succeeded', result: (value ?? {}) as JsonObject };
    },
  };
}
