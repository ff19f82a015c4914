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
  cause?: unknown;
  nodeId?: string;
  issues?: readonly Issue[];
}

export class GantryError extends Error {
  override readonly name = 'GantryError';
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly nodeId: string | undefined;
  readonly issues: readonly Issue[];

  constructor(code: ErrorCode, message: string, options: GantryErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.nodeId = options.nodeId;
    this.issues = options.issues ?? [];
  }

  /** A plain object for logs and JSON output (the cause is summarised, never serialised whole). */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      retryable: this.retryable,
      ...(this.nodeId === undefined ? {} : { nodeId: this.nodeId }),
      ...(this.issues.length === 0 ? {} : { issues: this.issues }),
      ...(this.cause instanceof Error ? { cause: this.cause.message } : {}),
    };
  }
}

export function isGantryError(value: unknown, code?: ErrorCode): value is GantryError {
  return value instanceof GantryError && (code === undefined || value.code === code);
}
