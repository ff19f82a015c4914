import { defineExecutor, type JsonObject } from '@gantry/engine';
import { callAgents, type AgentCall, type OnFailure } from './agents-together.js';

/** Runs its agent tasks at once (fail-fast by default: siblings aborted at the first failure). */
export const parallelExecutor = defineExecutor<JsonObject>({
  type: 'parallel',
  async run(ctx, data) {
    const calls = data.agents as unknown as AgentCall[];
    const onFailure = (data.on_failure as OnFailure | undefined) ?? 'fail_fast';
    return { output: await callAgents(ctx, calls, onFailure) };
  },
});
