import type { ExecutorDefinition } from '@gantry/engine';
import { agentExecutor } from './agent.js';
import { conditionalExecutor } from './conditional.js';
import { externalApiExecutor } from './external-api.js';
import { functionExecutor } from './function.js';
import { humanApprovalExecutor } from './human-approval.js';
import { parallelExecutor } from './parallel.js';
import { subflowExecutor } from './subflow.js';
import { waitExecutor } from './wait.js';
import { webhookExecutor } from './webhook.js';
import { scheduleExecutor } from './schedule.js';

/** The ten built-in node executors (DESIGN §2.2, and §12's schedule). */
export const builtinExecutors: readonly ExecutorDefinition<never>[] = Object.freeze([
  webhookExecutor,
  functionExecutor,
  conditionalExecutor,
  parallelExecutor,
  agentExecutor,
  humanApprovalExecutor,
  externalApiExecutor,
  waitExecutor,
  subflowExecutor,
  scheduleExecutor,
] as ExecutorDefinition<never>[]);
