import { defineExecutor, type JsonObject } from '@gantry/engine';
import { webhookExecutor } from './webhook.js';

/**
 * A trigger on the clock (`gantry serve` starts its runs at due times): as a webhook's output is
 * the request body, its output is the run's trigger, `{ schedule, scheduled_at, … }` for a
 * scheduled run. The schedule itself (cron, interval, catch_up) is the server's to keep.
 */
export const scheduleExecutor = defineExecutor<JsonObject>({ type: 'schedule', run: webhookExecutor.run });
