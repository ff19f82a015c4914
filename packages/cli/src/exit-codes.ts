/** The exit codes of DESIGN §7. */
export const EXIT = {
  succeeded: 0,
  failed: 1,
  invalid: 2,
  blocked: 3,
  waiting: 4,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
