import { defineExecutor, GantryError, type JsonObject } from '@gantry/engine';
import { merged } from './inputs.js';

/** A durable timer: the output is the input, passed on, with the time it waited until. */
export const waitExecutor = defineExecutor<JsonObject>({
  type: 'wait',
  async run(ctx, data) {
    let at: number;
    if (data.seconds !== undefined) {
      if (typeof data.seconds !== 'number' || !(data.seconds >= 0)) {
        throw new GantryError('EXPRESSION_FAILED', `wait "${ctx.nodeId}": seconds must be a number ≥ 0, got ${JSON.stringify(data.seconds)}`);
      }
      at = ctx.clock.now() + data.seconds * 1000;
    } else {
      at = typeof data.until === 'string' ? Date.parse(data.until) : Number.NaN;
      if (Number.isNaN(at)) throw new GantryError('EXPRESSION_FAILED', `wait "${ctx.nodeId}": until must be an ISO 8601 date-time, got ${JSON.stringify(data.until)}`);
    }
    await ctx.sleepUntil(at);
    return { output: merged(ctx.input, { waited_until: new Date(at).toISOString() }) };
  },
});
