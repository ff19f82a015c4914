import type { DiagnosticCode, Severity } from './diagnostic-codes.js';

/** One problem in a flow file, placed precisely. */
export interface Diagnostic {
  readonly code: DiagnosticCode;
  readonly severity: Severity;
  /** JSON pointer (RFC 6901) to the offending value. */
  readonly pointer: string;
  /** 1-based line and column in the file; for an unknown key, where the key is written. */
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

/** A diagnostic before it is placed in the text. */
export interface Finding {
  readonly code: DiagnosticCode;
  readonly pointer: string;
  readonly message: string;
  /** Place it at the property name rather than at its value (unknown keys). */
  readonly atKey?: boolean;
}


/** Errors first, then by position, so output reads top to bottom (any file's diagnostics, whatever its codes). */
export function compareDiagnostics(a: Omit<Diagnostic, 'code'> & { code: string }, b: Omit<Diagnostic, 'code'> & { code: string }): number {
  if (a.severity !== b.severity) return a.severity === 'error' ? -1 : 1;
  return a.line - b.line || a.column - b.column || a.pointer.localeCompare(b.pointer) || a.code.localeCompare(b.code);
}
