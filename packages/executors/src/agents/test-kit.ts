/** Test support for the agent transports (not exported from the package). */
import type { AgentTask } from '@gantry/engine';

/** A task envelope as the engine builds it (DESIGN §5). */
export function agentTask(overrides: Partial<AgentTask> = {}): AgentTask {
  return {
    task_id: 'run-1:review',
    agent: 'reviewer',
    task: 'code_review',
    inputs: { pull_request: 12 },
    run: { id: 'run-1', flow: 'Code review' },
    node: 'review',
    attempt: 1,
    ...overrides,
  };
}
