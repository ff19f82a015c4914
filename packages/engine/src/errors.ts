import type { JsonValue } from './flow-types.js';

/**
 * The one error class of Gantry. Every failure that crosses a package boundary is a
 * `GantryError` with a stable `code` from {@link ERROR_CODES}; callers branch on the code,
 * never on the message.
 */

/** Every error code, with the sentence that documents it. A test checks each is documented. */
export const ERROR_CODES = {
  FLOW_INVALID: 'The flow did not validate; `issues` lists every diagnostic with its pointer, line and column.',
  FLOW_NOT_FOUND: 'The flow file could not be read.',
  FLOW_IMMUTABLE: 'Something tried to change a compiled flow; compiled flows are read-only.',
  GRAPH_CYCLE: 'The flow\'s edges form a cycle; flows are acyclic (use for_each to repeat work).',
  SCHEMA_MISSING: 'A JSON Schema file of the installation could not be read or compiled.',
  USAGE: 'A command or API was called with arguments it does not accept.',
  CONFIG_INVALID: 'The configuration file or the options given to createEngine did not validate; the message names the field.',
  PARAM_INVALID: 'A run parameter is missing, of the wrong type, or outside its declared values.',
  DUPLICATE_REGISTRATION: 'An executor, function, agent or connector was registered twice under one name.',
  EXECUTOR_NOT_FOUND: 'A flow names a node type that no registered executor handles.',
  FUNCTION_NOT_FOUND: 'A function node names a function that is not registered.',
  AGENT_NOT_FOUND: 'A node names an agent that is not registered or configured.',
  CONNECTOR_NOT_FOUND: 'An external_api node names a service with no registered connector.',
  EXPRESSION_LIMIT: 'An expression passed one of its caps: the size of a string or array it builds, all it builds, its nesting depth, its steps (a regex match counts by what it scans), or as a last resort its time; the message names the cap and the expression.',
  EXPRESSION_FAILED: 'An expression failed while it was evaluated (a type error, an undefined function, …).',
  GATE_FAILED: 'A gate\'s conditions did not hold and nothing routes its failure; the error handlers act.',
  APPROVAL_REJECTED: 'An approver rejected the approval.',
  APPROVAL_TIMEOUT: 'An approval\'s deadline passed without enough approvals.',
  APPROVAL_NOT_WAITING: 'A decision was given for a node that is not waiting for one (HTTP 409).',
  APPROVAL_ALREADY_DECIDED: 'This principal already decided on this approval (HTTP 409).',
  APPROVAL_FORBIDDEN: 'The principal holds none of the approver roles, or is the run\'s initiator (HTTP 403).',
  APPROVAL_EXPIRED: 'A decision arrived after the approval\'s deadline (HTTP 410).',
  TIMEOUT: 'An attempt ran past its node\'s timeout and was aborted (retryable).',
  AGENT_FAILED: 'An agent answered with status failed, or its transport failed.',
  NODE_FAILED: 'An executor threw an error of its own (not a GantryError); the message is the executor\'s.',
  FUNCTION_FAILED: 'A registered function threw.',
  CONNECTOR_FAILED: 'A connector call failed (the message says how; 5xx and network errors are retryable).',
  OUTBOUND_REFUSED: 'An outbound HTTP request was refused before it was sent: its address is loopback, private, link-local or a cloud metadata service, and the configuration\'s `outbound` policy does not allow it (server-side request forgery guard).',
  RESPONSE_TOO_LARGE: 'A service\'s or agent\'s answer was larger than the outbound policy\'s response size cap, so the call was aborted.',
  AGENT_UNAVAILABLE: 'An agent\'s circuit breaker is open after consecutive transport failures: its calls fail at once, without reaching it, until the reset time (retryable).',
  CREDENTIAL_REFUSED: 'A run asked for a credential the configuration does not declare, or to send a declared credential to an origin its declaration does not allow, or to use a webhook secret as an outbound credential; the message names the credential, never its value.',
  FLOW_REF_OUTSIDE: 'A sub-flow reference resolved, when the run reached it, outside the folder it may name files in (an absolute path, a .. escape or a symbolic link); the file was not read.',
  SUBFLOW_FAILED: 'A sub-flow\'s run did not succeed; its status and error are in the details.',
  COMPENSATION_FAILED: 'A compensation failed during rollback; the run ends failed.',
  VALUE_TOO_LARGE: 'A node output, an agent reply, a connector answer or a run\'s trigger is larger (as serialised JSON) than its configured limit; the message names which, the node, the size and the limit.',
  OUTPUT_INVALID: 'A node\'s output (after its output mapping) is not a JSON object.',
  CANCELLED: 'The run was cancelled; every running executor was aborted.',
  CRASH_LOOP: 'Carrying the run on crashed the process several times in a row (the `crashLoop` limit, 3 by default), so it was ended failed instead of being resumed again; the message names the nodes that were running and how many crashes were counted.',
  RUN_NOT_FOUND: 'No run has that id.',
  STORE_FAILED: 'The run store could not write (disk full, an I/O error): the runs of that write stop, since what is not in their journal cannot be trusted.',
  RUN_FINISHED: 'The run has finished already: it cannot be cancelled (HTTP 409).',
  RUN_NOT_RETRYABLE: 'The run cannot be retried: only a failed, rolled-back or cancelled top-level run can (it is running, waiting, succeeded or blocked, or a sub-flow\'s run) (HTTP 409).',
  RUN_HELD: 'Another live process holds the run (a store several processes share): it carries the run on; the message names that process and when its lease ends (HTTP 409).',
  RUN_RELEASED: 'This process no longer carries the run: a store several processes share handed it on (it waits, this process is stopping, or another process took it over after this one\'s lease ran out); nothing more of it is recorded here, and it goes on where it is held now.',
  STORE_UNAVAILABLE: 'The run store\'s database cannot be reached or refused the login (a server that is down, a wrong address, port, password, role or database); the message names where and never the password, and nothing was changed.',
  STORE_CONFLICT: 'A store write contradicts what is recorded (a second completion of one node, a run id that exists); nothing of that write was recorded.',
  STORE_LOCKED: 'Another process owns the run store for writing; the message names its pid and host, and read-only commands still work meanwhile.',
  STORE_INVALID: 'The run store file is not one Gantry can use (not SQLite, truncated, damaged, another program\'s database or a newer schema); it was left untouched.',
  STORE_READ_ONLY: 'The run store\'s file or folder cannot be written (permissions, a read-only mount); the message names the path and what to do, and nothing was left behind. Read-only commands still work where the file can be read.',
  INTERNAL: 'A bug in Gantry: please report it with the stack trace.',
} as const satisfies Record<string, string>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Where a problem is in a flow file. */
export interface Issue {
  /** JSON pointer (RFC 6901) to the offending value, `""` for the whole document. */
  readonly pointer: string;
  /** 1-based line, 0 when unknown. */
  readonly line: number;
  /** 1-based column, 0 when unknown. */
  readonly column: number;
  readonly message: string;
  /** The diagnostic code, when the issue comes from flow validation. */
  readonly code?: string;
}

export interface GantryErrorOptions {
  retryable?: boolean;
  /**
   * How long the other side asked to wait before another attempt (`Retry-After`, a breaker's
   * reset), in ms: the node's retry waits at least this long, up to its `max_seconds`.
   */
  retryAfterMs?: number;
  cause?: unknown;
  nodeId?: string;
  issues?: readonly Issue[];
  /** Plain data for the journal (a gate's checks, a child run's outcome, the decisions taken); never a credential. */
  details?: JsonValue;
}


export class GantryError extends Error {
  override readonly name = 'GantryError';
  readonly code: ErrorCode;
  readonly retryable: boolean;
  /** How long the other side asked to wait before another attempt, in ms (see {@link GantryErrorOptions}). */
  readonly retryAfterMs: number | undefined;
  readonly nodeId: string | undefined;
  readonly issues: readonly Issue[];
  readonly details: JsonValue | undefined;

  constructor(code: ErrorCode, message: string, options: GantryErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.retryAfterMs = options.retryAfterMs;
    this.nodeId = options.nodeId;
    this.issues = options.issues ?? [];
    this.details = options.details;
  }

  /** A plain object for logs and JSON output (the cause is summarised, never serialised whole). */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      retryable: this.retryable,
      ...(this.retryAfterMs === undefined ? {} : { retryAfterMs: this.retryAfterMs }),
      ...(this.nodeId === undefined ? {} : { nodeId: this.nodeId }),
      ...(this.issues.length === 0 ? {} : { issues: this.issues }),
      ...(this.details === undefined ? {} : { details: this.details }),
      ...(this.cause instanceof Error ? { cause: this.cause.message } : {}),
    };
  }
}

export function isGantryError(value: unknown, code?: ErrorCode): value is GantryError {
  return value instanceof GantryError && (code === undefined || value.code === code);
}
