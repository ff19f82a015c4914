import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '@gantry/engine';
import { everythingIn, json, loopbackPerTest, rejection, until, type Received } from '../connectors/test-kit.js';
import { llmAgent, systemPrompt, type LlmAgentOptions } from './llm.js';
import { agentTask } from './test-kit.js';

const CANARY = 'canary-3f9ae610-llm-key';
const serve = loopbackPerTest();
const signal = () => new AbortController().signal;

/** A chat completion as OpenAI and Ollama's /v1 answer it. */
function completion(content: string, finishReason = 'stop') {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1767225600,
    model: 'llama3.2',
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: finishReason }],
    usage: { prompt_tokens: 120, completion_tokens: 30, total_tokens: 150 },
  };
}

/** An OpenAI-compatible server that answers `content` for each request in turn. */
function openai(answer: (req: Received, res: ServerResponse) => void) {
  return serve((req, res) => {
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') return json(res, 404, { error: 'not found' });
    answer(req, res);
  });
}

const agent = (base: string, options: Partial<LlmAgentOptions> = {}) => llmAgent({ baseUrl: `${base}/v1`, model: 'llama3.2', ...options });

describe('llmAgent', () => {
  it('asks the model with the role as system prompt and the envelope as user message, for a JSON object', async () => {
    const s = await openai((_req, res) => json(res, 200, completion('{"score": 7.5, "summary": "two issues"}')));
    const task = agentTask();
    const reply = await agent(s.url, { role: 'You review backend code for security and correctness.' }).call(task, signal());

    expect(reply).toEqual({ status: 'succeeded', result: { score: 7.5, summary: 'two issues' } });
    const sent = JSON.parse(s.received[0]!.body);
    expect(sent).toMatchObject({ model: 'llama3.2', response_format: { type: 'json_object' }, stream: false });
    expect(sent.messages).toHaveLength(2);
    expect(sent.messages[0]).toEqual({ role: 'system', content: systemPrompt(task, 'You review backend code for security and correctness.') });
    expect(sent.messages[0].content).toContain('You are "reviewer", an agent in a Gantry workflow. You review backend code');
    expect(sent.messages[0].content).toContain('Perform the task "code_review"');
    expect(JSON.parse(sent.messages[1].content)).toMatchObject({ ...task, deadline: expect.any(String) });
    expect(s.received[0]?.headers.authorization).toBeUndefined();
    expect(s.received[0]?.headers['idempotency-key']).toBe('run-1:review');
  });

  it('takes a reply form, and forgives a ```json fence', async () => {
    let content = '{"status": "failed", "error": {"message": "the diff is empty"}}';
    const s = await openai((_req, res) => json(res, 200, completion(content)));
    const a = agent(s.url);
    expect(await a.call(agentTask(), signal())).toEqual({ status: 'failed', error: { message: 'the diff is empty' } });
    content = '```json\n{"status": "succeeded", "result": {"ok": true}, "metrics": {"tokens": 3}}\n```';
    expect(await a.call(agentTask(), signal())).toEqual({ status: 'succeeded', result: { ok: true }, metrics: { tokens: 3 } });
  });

  it('fails an answer that is not a JSON object as retryable, since sampling may do better', async () => {
    let content = 'Sure! Here is my review: looks fine.';
    let finish = 'stop';
    const s = await openai((_req, res) => json(res, 200, completion(content, finish)));
    const a = agent(s.url);
    const prose = await rejection(a.call(agentTask(), signal()));
    expect(prose).toMatchObject({ code: 'AGENT_FAILED', retryable: true });
    expect(prose.message).toContain("the model's answer is not JSON: Sure! Here is my review");

    content = '{"score": 7';
    finish = 'length';
    expect((await rejection(a.call(agentTask(), signal()))).message).toContain('cut off: finish_reason "length"');

    content = '[1, 2]';
    expect(await rejection(a.call(agentTask(), signal()))).toMatchObject({ code: 'AGENT_FAILED', retryable: true });
  });

  it('fails a wrong model name for good, with the API\'s message', async () => {
    const s = await openai((_req, res) => json(res, 404, { error: { message: 'model "llama9" not found, try pulling it first', type: 'api_error' } }));
    const error = await rejection(agent(s.url, { model: 'llama9' }).call(agentTask(), signal()));
    expect(error).toMatchObject({ code: 'AGENT_FAILED', retryable: false });
    expect(error.message).toContain('answered HTTP 404');
    expect(error.message).toContain('model "llama9" not found, try pulling it first');
    expect(s.received).toHaveLength(1);
  });

  it('makes one attempt: a rate limit is retryable, with the wait its Retry-After asks for', async () => {
    const s = await openai((_req, res) => json(res, 429, { error: { message: 'rate limited' } }, { 'retry-after': '20' }));
    const error = await rejection(agent(s.url, { maxAttempts: 3 }).call(agentTask(), signal()));
    expect(error).toMatchObject({ code: 'AGENT_FAILED', retryable: true, retryAfterMs: 20_000 });
    expect(error.message).toContain('rate limited');
    expect(s.received).toHaveLength(1);
  });

  it('times a task out on the engine\'s clock', async () => {
    const clock = new FakeClock();
    const s = await openai(() => {});
    const call = rejection(agent(s.url).call(agentTask(), signal(), { clock }));
    await until(() => s.received.length === 1, 'the request');
    // The default timeout_ms of an llm agent: two minutes of the engine's time.
    await clock.advance(120_000);
    expect(await call).toMatchObject({ code: 'AGENT_FAILED', retryable: true, message: expect.stringContaining("ran past the agent's 120000 ms timeout") });
  });

  it('fails an answer that is no chat completion', async () => {
    const s = await openai((_req, res) => json(res, 200, { message: { content: '{}' } }));
    expect((await rejection(agent(s.url).call(agentTask(), signal()))).message).toContain('expected an OpenAI-compatible chat completion');
  });

  it('times a task out at the agent\'s own timeout, retryably', async () => {
    const s = await openai(() => {});
    const error = await rejection(agent(s.url, { taskTimeoutMs: 150 }).call(agentTask(), signal()));
    expect(error).toMatchObject({ code: 'AGENT_FAILED', retryable: true });
    expect(error.message).toContain("ran past the agent's 150 ms timeout");
  });

  it('sends the API key as a bearer token and never lets it out', async () => {
    let status = 200;
    const s = await openai((req, res) =>
      status === 200 ? json(res, 200, completion(JSON.stringify({ echoed: req.headers.authorization }))) : json(res, 401, { error: { message: `Incorrect API key provided: ${req.headers.authorization}` } }),
    );
    const a = agent(s.url, { authentication: 'openai_api_key', credential: (n) => (n === 'openai_api_key' ? CANARY : undefined) });
    const reply = await a.call(agentTask(), signal());
    expect(s.received[0]?.headers.authorization).toBe(`Bearer ${CANARY}`);
    expect(reply.result).toEqual({ echoed: 'Bearer [REDACTED]' });
    status = 401;
    const error = await rejection(a.call(agentTask(), signal()));
    expect(error).toMatchObject({ retryable: false });
    expect(error.message).toContain('Incorrect API key provided: Bearer [REDACTED]');
    for (const thing of [reply, error]) expect(everythingIn(thing)).not.toContain(CANARY);

    const missing = await rejection(agent(s.url, { authentication: 'nope', credential: () => undefined }).call(agentTask(), signal()));
    expect(missing).toMatchObject({ code: 'USAGE' });
    expect(missing.message).toContain('the credential "nope" is not configured');
  });

  it('validates its options when made', () => {
    expect(() => llmAgent({ baseUrl: 'localhost:11434', model: 'm' })).toThrow('llmAgent: expected `baseUrl` to be an http or https URL');
    expect(() => llmAgent({ baseUrl: 'http://127.0.0.1:11434/v1', model: '' })).toThrow('llmAgent: expected `model` to be a non-empty string');
  });
});
