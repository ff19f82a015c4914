import { defineExecutor, type JsonObject } from '@gantry/engine';

/** Runs another flow as a child run; the output is the child's output. */
export const subflowExecutor = defineExecutor<JsonObject>({
  type: 'subflow',
  async run(ctx, data) {
    const params = typeof data.params === 'object' && data.params !== null && !Array.isArray(data.params) ? data.params : {};
    const trigger = data.trigger === undefined ? ctx.input : data.trigger;
    const child = await ctx.runSubflow(String(data.flow), { params, trigger });
    return { output: child.output };
  },
});
