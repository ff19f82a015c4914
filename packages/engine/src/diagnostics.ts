import { DIAGNOSTIC_CODES, type DiagnosticCode, type Severity } from './diagnostic-codes.js';
import type { JsonSource } from './json-source.js';

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

/**
 * The first `max` findings as diagnostics — errors first, then in file order, so that output
 * reads top to bottom — placed in the text in one scan, and how many there are of each
 * severity. Only those kept become diagnostics: a file with a million problems costs an offset
 * and an index each, not an object.
 */
export function placeFindings(findings: readonly Finding[], source: JsonSource, max = Infinity): { diagnostics: Diagnostic[]; counts: { errors: number; warnings: number } } {
  const offsets = source.offsetsOf(findings);
  // 0 for an error, 1 for a warning: errors sort first.
  const rank = Uint8Array.from(findings, (f) => (DIAGNOSTIC_CODES[f.code].severity === 'error' ? 0 : 1));
  const warnings = rank.reduce((sum, r) => sum + r, 0);
  const order = new Uint32Array(findings.length).map((_, i) => i);
  order.sort((a, b) => rank[a]! - rank[b]! || offsets[a]! - offsets[b]! || findings[a]!.pointer.localeCompare(findings[b]!.pointer) || findings[a]!.code.localeCompare(findings[b]!.code));
  const diagnostics = Array.from(order.subarray(0, Math.min(max, order.length)), (i): Diagnostic => {
    const { code, pointer, message } = findings[i]!;
    return { code, severity: DIAGNOSTIC_CODES[code].severity, pointer, ...source.position(offsets[i]!), message };
  });
  return { diagnostics, counts: { errors: findings.length - warnings, warnings } };
}
