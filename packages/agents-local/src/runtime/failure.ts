import { GantryError } from '@gantry/engine';

/**
 * A failure of the pack's own work: a process that did not start, a repository it cannot read, a
 * check that did not hold. It is the agent's failure (AGENT_FAILED), and not retryable: another
 * attempt would meet the same machine in the same state.
 */
export function packFailure(message: string, cause?: unknown): GantryError {
  return new GantryError('AGENT_FAILED', message, { retryable: false, ...(cause === undefined ? {} : { cause }) });
}
