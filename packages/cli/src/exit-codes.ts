/** The exit codes of DESIGN §7. */
export const EXIT = {
  succeeded: 0,
  failed: 1,
  invalid: 2,
  blocked: 3,
  waiting: 4,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Most urgent first: a failure before a block, a block before a wait for a human, any of them before success. */
const URGENCY: readonly ExitCode[] = [EXIT.invalid, EXIT.failed, EXIT.blocked, EXIT.waiting, EXIT.succeeded];

/** The exit code of several runs: the most urgent of theirs. */
export function mostUrgent(a: ExitCode, b: ExitCode): ExitCode {
  return URGENCY.indexOf(a) <= URGENCY.indexOf(b) ? a : b;
}
