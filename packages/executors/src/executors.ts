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

/** The nine built-in node executors (DESIGN §2.2). */
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
] as ExecutorDefinition<never>[]);
