/**
 * The `llm` transport (DESIGN §5): an agent that is a language model behind an OpenAI-compatible
 * chat API — OpenAI, a local Ollama (`http://127.0.0.1:11434/v1`), vLLM, LM Studio, llama.cpp's
 * server. The agent's role is the system prompt, the task envelope the user message, and the
 * model is asked for a JSON object (`response_format: { type: "json_object" }`), which is
 * validated before it is used:
 *
 * - an object whose `status` is "succeeded" or "failed" is a reply; any other object the result;
 * - an answer that is not a JSON object (prose, a cut-off answer, an array) fails as a retryable
 *   AGENT_FAILED: sampling may do better on the node's next attempt, if its `retry` allows one;
 * - HTTP 4xx (a wrong model name, a bad key) is not retryable; 408, 429, 5xx and timeouts are,
 *   with the wait a `Retry-After` asks for (a rate limit's) carried for the node's retry.
 */
import type { Logger } from 'pino';
import { GantryError, type AgentTask, type AgentTransport, type JsonValue } from '@gantry/engine';
import { excerpt, parseJsonBody, send, statusFailure } from '../connectors/http-call.js';
import { createOutbound, pickOutbound, resolveOutbound, type OutboundOptions } from '../connectors/outbound.js';
import { isJsonObject } from '../connectors/params.js';
import { credentialSetup, startAgentCall, type AgentCredentialOptions } from './agent-call.js';
import { callClock, intOption, scrubReply, silentLog, stringOption, taskName, toReply, urlOption } from './reply.js';

/** Options of {@link llmAgent}; the outbound policy's too. */
export interface LlmAgentOptions extends OutboundOptions, AgentCredentialOptions {
  /** The API root: `/chat/completions` is appended. Its origin is trusted by the address guard. */
  readonly baseUrl: string;
  readonly model: string;
  /** What the agent is, added to the system prompt: "You review backend code for security and correctness." @default none */
  readonly role?: string;
  /** A task's longest time when its node has no timeout (`timeout_ms`). @default 120000 */
  readonly taskTimeoutMs?: number;
  readonly log?: Logger;
}

/** The system prompt: who the agent is and the one answer form accepted. */
export function systemPrompt(task: Pick<AgentTask, 'agent' | 'task'>, role?: string): string {
  return [
    `You are "${task.agent}", an agent in a Gantry workflow.${role === undefined ? '' : ` ${role.trim()}`}`,
    `Perform the task "${task.task}". The user message is the task envelope as JSON; its "inputs" are the task's data.`,
    'Answer with one JSON object and nothing else: the task\'s result as an object of named fields,',
    'or, when the task cannot be done, {"status": "failed", "error": {"message": "why"}}.',
  ].join('\n');
}

/** An agent that is a chat model (see the module comment). */
export function llmAgent(options: LlmAgentOptions): AgentTransport {
  const factory = 'llmAgent';
  const base = urlOption(factory, 'baseUrl', options.baseUrl);
  const url = new URL(`${base.href.replace(/\/+$/, '')}/chat/completions`);
  const model = stringOption(factory, 'model', options.model, true);
  const role = stringOption(factory, 'role', options.role);
  const taskTimeoutMs = intOption(factory, 'taskTimeoutMs', options.taskTimeoutMs, 120_000);
  const outbound = createOutbound(resolveOutbound(factory, pickOutbound(options)), [base]);
  // A credential name sent as `Authorization: Bearer …`: OpenAI needs one, a local Ollama none.
  const setup = { outbound, taskTimeoutMs, ...credentialSetup(factory, options), log: options.log ?? silentLog };

  return {
    async call(task, callerSignal, context) {
      const call = startAgentCall(task, callerSignal, setup, callClock(context));
      const { time, credential, secrets, envelope, log: taskLog } = call;
      const env = call.env();
      const what = taskName(task);
      try {
        const answer = await send(env, {
          method: 'POST',
          url,
          target: `${url.origin}${url.pathname}`,
          headers: {
            'content-type': 'application/json',
            accept: 'application/json',
            'user-agent': 'gantry',
            // The task id, the same on the node's every attempt: a gateway that deduplicates can.
            'idempotency-key': task.task_id,
            ...(credential === undefined ? {} : { authorization: `Bearer ${credential.value}` }),
          },
          body: JSON.stringify({
            model,
            messages: [
              { role: 'system', content: systemPrompt(task, role) },
              { role: 'user', content: JSON.stringify(envelope) },
            ],
            response_format: { type: 'json_object' },
            stream: false,
          }),
        });
        if (answer.status < 200 || answer.status > 299) {
          throw statusFailure(env, answer, { detail: apiError(answer.text) });
        }
        const body = parseJsonBody(env, answer);
        const choice = isJsonObject(body) && Array.isArray(body.choices) && isJsonObject(body.choices[0]) ? body.choices[0] : undefined;
        const content = choice !== undefined && isJsonObject(choice.message) ? choice.message.content : undefined;
        if (typeof content !== 'string') {
          throw new GantryError('AGENT_FAILED', `${what}: ${answer.request.target} answered no choices[0].message.content; expected an OpenAI-compatible chat completion: ${excerpt(answer.text, secrets)}`);
        }
        if (isJsonObject(body) && isJsonObject(body.usage)) taskLog.debug({ model, usage: body.usage }, 'llm agent usage');
        const value = parseContent(content);
        if (value === undefined) {
          const cut = choice?.finish_reason === 'length' ? ' (the answer was cut off: finish_reason "length")' : '';
          throw new GantryError('AGENT_FAILED', `${what}: the model's answer is not JSON${cut}: ${excerpt(content, secrets)}`, { retryable: true });
        }
        return scrubReply(toReply(value, `${what}: the model`, true), secrets);
      } finally {
        time.dispose();
      }
    },
  };
}

/** The content as JSON; a model that wraps it in a ```json fence anyway is forgiven. */
function parseContent(content: string): JsonValue | undefined {
  const text = content.trim().replace(/^```(?:json)?\s*\n?([\s\S]*?)\n?```$/i, '$1').trim();
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return undefined;
  }
}

/** OpenAI's and Ollama's error answer, `{ error: { message } }` or `{ error: "…" }`, else the body. */
function apiError(text: string): string {
  try {
    const body: unknown = JSON.parse(text);
    if (isJsonObject(body) && isJsonObject(body.error) && typeof body.error.message === 'string') return body.error.message;
    if (isJsonObject(body) && typeof body.error === 'string') return body.error;
  } catch {
    // Not JSON: the raw body says more than nothing.
  }
  return text;
}
