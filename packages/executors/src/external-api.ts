import { defineExecutor, type JsonObject } from '@gantry/engine';
import { merged, otherKeys } from './inputs.js';

interface ExternalApiData extends JsonObject {
  service: string;
  action: string;
}

/**
 * Calls a service connector. Its params are the node's input overlaid with the node's own
 * data keys, so that a PR review after a gate sees the gate's scores and checks.
 */
export const externalApiExecutor = defineExecutor<ExternalApiData>({
  type: 'external_api',
  async run(ctx, data) {
    const params = merged(ctx.input, otherKeys(data, ['service', 'action', 'authentication']));
    const authentication = typeof data.authentication === 'string' ? data.authentication : undefined;
    return { output: await ctx.callConnector(data.service, data.action, params, authentication) };
  },
});
