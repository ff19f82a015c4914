import { defineExecutor, type JsonObject } from '@gantry/engine';

/** The trigger: as a start node its output is the trigger payload (a webhook's request body). */
export const webhookExecutor = defineExecutor<JsonObject>({
  type: 'webhook',
  async run(ctx) {
    const trigger = ctx.trigger;
    const output = typeof trigger === 'object' && trigger !== null && !Array.isArray(trigger) ? trigger : { body: trigger };
    return { output };
  },
});
