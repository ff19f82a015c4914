import { defineExecutor, type JsonObject } from '@gantry/engine';
import { otherKeys, pickInputs } from './inputs.js';

interface FunctionData extends JsonObject {
  function: string;
}

/** Calls a registered function with the picked input and the node's other data keys as params. */
export const functionExecutor = defineExecutor<FunctionData>({
  type: 'function',
  async run(ctx, data) {
    const output = await ctx.callFunction(data.function, pickInputs(ctx.input, data.inputs), otherKeys(data, ['function', 'inputs']));
    return { output };
  },
});
