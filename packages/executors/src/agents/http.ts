/**
 * The `http` transport (DESIGN §5): an agent that is a web service. The task envelope is POSTed
 * as JSON with an `Idempotency-Key` (the task id, the same on every retry and restart) and the
 * deadline; the service answers the reply at once (200), or accepts the task (202) and is polled
 * until it has one.
 *
 * ```
 * POST url  { task_id, agent, task, inputs, run, node, attempt, deadline? }
 *   200 { status, result, metrics?, error? } | a plain result object
 *   202 Location: /tasks/42 (or { status_url })  →  GET /tasks/42 every poll_interval_ms
 *         202 / 200 { status: "running" }         →  poll again (Retry-After is honoured)
 *         200 reply                               →  done
 * ```
 *
 * A call is one attempt: a failed POST or poll (an error status, the network, the deadline) ends
 * it with an error that says whether it is retryable and, after a `Retry-After`, how long to
 * wait; the node's `retry` sends the task again, with the same `Idempotency-Key`, so that the
 * service answers with the task it already has. The waits between polls run on the engine's clock.
 */
import type { Logger } from 'pino';
import { GantryError, type AgentReply, type AgentTask, type AgentTransport, type JsonValue } from '@gantry/engine';
import { isJsonMediaType, parseJsonBody, pause, send, statusFailure, type CallEnv, type IncomingAnswer, type OutgoingRequest } from '../connectors/http-call.js';
import { createOutbound, pickOutbound, resolveOutbound, type OutboundOptions } from '../connectors/outbound.js';
import { isJsonObject } from '../connectors/params.js';
import { credentialSetup, startAgentCall, type AgentCredentialOptions } from './agent-call.js';
import { callClock, intOption, scrubReply, silentLog, taskName, toReply, urlOption } from './reply.js';

/** Options of {@link httpAgent}; the outbound policy's too (its `timeoutMs` bounds each request when the task has no deadline). */
export interface HttpAgentOptions extends OutboundOptions, AgentCredentialOptions {
  /** Where the task envelope is POSTed. Its origin is trusted by the address guard: the operator configured it. */
  readonly url: string;
  /** Between two polls of an accepted (202) task, unless the service sends Retry-After (at most `maxRetryAfterMs`). @default 1000 */
  readonly pollIntervalMs?: number;
  /** A task's longest time when its node has no timeout (`timeout_ms`); a timeout is retryable. @default none */
  readonly taskTimeoutMs?: number;
  readonly log?: Logger;
}

/** What a polled task says while it is not done. */
const PENDING = new Set(['accepted', 'pending', 'queued', 'running', 'in_progress']);

/** An agent reached over HTTP (see the module comment for the protocol). */
export function httpAgent(options: HttpAgentOptions): AgentTransport {
  const factory = 'httpAgent';
  const url = urlOption(factory, 'url', options.url);
  const outbound = createOutbound(resolveOutbound(factory, pickOutbound(options)), [url]);
  const pollIntervalMs = intOption(factory, 'pollIntervalMs', options.pollIntervalMs, 1000)!;
  const taskTimeoutMs = intOption(factory, 'taskTimeoutMs', options.taskTimeoutMs, undefined);
  const setup = { outbound, taskTimeoutMs, ...credentialSetup(factory, options), log: options.log ?? silentLog };

  return {
    async call(task, callerSignal, context) {
      const clock = callClock(context);
      const { time, credential, secrets, envelope, env } = startAgentCall(task, callerSignal, setup, clock);
      const headersFor = (target: URL): Record<string, string> => ({
        accept: 'application/json',
        'user-agent': 'gantry',
        'idempotency-key': task.task_id,
        ...(time.deadline === undefined ? {} : { 'gantry-deadline': new Date(time.deadline).toISOString() }),
        // The bearer goes to the configured origin only, never to a status URL elsewhere.
        ...(credential !== undefined && target.origin === url.origin ? { authorization: `Bearer ${credential.value}` } : {}),
      });
      try {
        let answer = await send(env(), {
          method: 'POST',
          url,
          target: `${url.origin}${url.pathname}`,
          headers: { ...headersFor(url), 'content-type': 'application/json' },
          body: JSON.stringify(envelope),
        });
        let polling: URL | undefined;
        for (;;) {
          const body = readBody(env(), answer);
          const pending = answer.status === 202 || (isJsonObject(body) && typeof body.status === 'string' && PENDING.has(body.status));
          // A status answer that names no new URL is polled where it was.
          const statusUrl = pending ? pollTarget(task, answer, body, polling) : undefined;
          if (statusUrl === undefined) return scrubReply(finalReply(env(), task, answer, body), secrets);
          const wait = answer.retryAfterMs ?? pollIntervalMs;
          if (time.deadline !== undefined && clock.now() + wait >= time.deadline) {
            throw new GantryError('AGENT_FAILED', `${taskName(task)} was still running at its deadline (${new Date(time.deadline).toISOString()})`, { retryable: true });
          }
          await pause(clock, wait, time.signal);
          polling = statusUrl;
          const poll: OutgoingRequest = { method: 'GET', url: statusUrl, target: `${statusUrl.origin}${statusUrl.pathname}`, headers: headersFor(statusUrl) };
          answer = await send(env(), poll);
        }
      } catch (error) {
        // An abort while sleeping between polls: the engine's reason (a timeout, a cancellation) or ours.
        if (time.signal.aborted && !(error instanceof GantryError)) throw time.signal.reason;
        throw error;
      } finally {
        time.dispose();
      }
    },
  };
}

function readBody(env: CallEnv, answer: IncomingAnswer): JsonValue | undefined {
  if (answer.text.trim() === '') return undefined;
  if (!isJsonMediaType(answer.mediaType) && !/^\s*[[{]/.test(answer.text)) return undefined;
  if (answer.status < 200 || answer.status > 299) {
    try {
      return JSON.parse(answer.text) as JsonValue;
    } catch {
      return undefined;
    }
  }
  return parseJsonBody(env, answer);
}

/** Where to poll an accepted task: its Location, else the body's `status_url`, relative to the answer's URL. */
function pollTarget(task: AgentTask, answer: IncomingAnswer, body: JsonValue | undefined, polling: URL | undefined): URL {
  const given = answer.headers.location ?? (isJsonObject(body) && typeof body.status_url === 'string' ? body.status_url : undefined);
  if (given === undefined && polling !== undefined) return polling;
  if (given === undefined) {
    throw new GantryError('AGENT_FAILED', `${taskName(task)}: ${answer.request.target} accepted the task (HTTP ${answer.status}) but gave no Location header or status_url to poll`);
  }
  let target: URL;
  try {
    target = new URL(given, answer.request.url);
  } catch {
    throw new GantryError('AGENT_FAILED', `${taskName(task)}: the status URL to poll is not a URL`);
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    throw new GantryError('AGENT_FAILED', `${taskName(task)}: the status URL to poll uses ${target.protocol.slice(0, -1)}; expected http or https`);
  }
  return target;
}

function finalReply(env: CallEnv, task: AgentTask, answer: IncomingAnswer, body: JsonValue | undefined): AgentReply {
  if (answer.status >= 200 && answer.status <= 299) {
    if (body === undefined && answer.text.trim() !== '') {
      throw statusFailure(env, answer, { expected: 'a JSON reply', retryable: false });
    }
    return toReply(body ?? {}, taskName(task));
  }
  // An error status: the reply's own message when the agent sent one, else the body.
  const detail = isJsonObject(body) && isJsonObject(body.error) && typeof body.error.message === 'string' ? body.error.message : undefined;
  throw statusFailure(env, answer, detail === undefined ? {} : { detail });
}
