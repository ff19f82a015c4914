import { defineExecutor, type JsonObject } from '@gantry/engine';
import { merged, pickInputs } from './inputs.js';

interface AgentData extends JsonObject {
  agent: string;
  task: string;
}

/** Delegates a task to an agent; the output is the reply's result with its metrics merged in (§3.1). */
export const agentExecutor = defineExecutor<AgentData>({
  type: 'agent',
  async run(ctx, data) {
    const reply = await ctx.callAgent(data.agent, data.task, pickInputs(ctx.input, data.inputs));
    return { output: merged(reply.result, reply.metrics) };
  },
});
