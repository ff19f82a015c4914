import { GantryError, type ExecutorContext, type JsonObject } from '@gantry/engine';
import { merged, pickInputs } from './inputs.js';

export interface AgentCall {
  readonly agent: string;
  readonly task: string;
  readonly inputs?: unknown;
}

export type OnFailure = 'fail_fast' | 'wait_all' | 'continue';

/**
 * Calls agents at once. The output merges their outputs in list order, plus `results` keyed by
 * agent (§3.1). fail_fast aborts the siblings at the first failure; wait_all lets them finish
 * and then fails; continue records each failure in `results` and succeeds.
 */
export async function callAgents(ctx: ExecutorContext, calls: readonly AgentCall[], onFailure: OnFailure): Promise<JsonObject> {
  const siblings = new AbortController();
  const abort = () => siblings.abort(ctx.signal.reason);
  ctx.signal.addEventListener('abort', abort, { once: true });
  const outcomes = await Promise.allSettled(
    calls.map(async (call) => {
      const reply = await ctx.callAgent(call.agent, call.task, pickInputs(ctx.input, call.inputs), { signal: siblings.signal, key: `${call.agent}.${call.task}` });
      return merged(reply.result, reply.metrics);
    }).map((p) =>
      p.catch((error: unknown) => {
        if (onFailure === 'fail_fast') siblings.abort(error);
        throw error;
      }),
    ),
  ).finally(() => ctx.signal.removeEventListener('abort', abort));
  const output: JsonObject = {};
  const results: JsonObject = {};
  let firstError: unknown;
  outcomes.forEach((outcome, i) => {
    const { agent } = calls[i]!;
    if (outcome.status === 'fulfilled') {
      Object.assign(output, outcome.value);
      results[agent] = outcome.value;
    } else {
      firstError ??= outcome.reason;
      results[agent] = { status: 'failed', error: { message: (outcome.reason as Error).message ?? String(outcome.reason), code: (outcome.reason as GantryError).code ?? 'AGENT_FAILED' } };
    }
  });
  if (firstError !== undefined && onFailure !== 'continue') throw firstError;
  output.results = results;
  return output;
}
