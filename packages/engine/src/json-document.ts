import { DIAGNOSTIC_CODES, type DiagnosticCode, type Severity } from './diagnostic-codes.js';
import { compareDiagnostics, type Finding } from './diagnostics.js';
import { dottedPath, JsonSource, type Position } from './json-source.js';
import { schemaFindings } from './schema-findings.js';
import { runtimeAjv, type SchemaValidator } from './schemas.js';

/** A problem a file's own checks found, before it is placed in the text. */
export interface DocumentFinding<C extends string = string> {
  readonly code: C;
  readonly severity: Severity;
  /** JSON pointer (RFC 6901) to the offending value. */
  readonly pointer: string;
  readonly message: string;
  /** Place it at the property name rather than at its value (an unknown name). */
  readonly atKey?: boolean;
}

/** A problem of a JSON file, placed: the shape of a flow's diagnostics, with the file's own codes. */
export interface DocumentDiagnostic<C extends string = string> {
  readonly code: C | DiagnosticCode;
  readonly severity: Severity;
  readonly pointer: string;
  /** 1-based line and column in the text. */
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

export interface JsonDocumentOptions<C extends string> {
  /** Names a pointer's place in the file's own words (`agents.reviewer`); @default the dotted path */
  describe?: (document: unknown, pointer: string) => string;
  /** The file's own checks, run once the document holds to the schema. */
  check?: (document: unknown) => readonly DocumentFinding<C>[];
}

export interface JsonDocumentResult<C extends string> {
  /** True when no diagnostic is an error. */
  readonly ok: boolean;
  /** The parsed document, when it parsed (valid or not). */
  readonly value: unknown;
  /** Errors first, then in file order. */
  readonly diagnostics: readonly DocumentDiagnostic<C>[];
  /** Where the value at a pointer starts in the text (or its property name, with `atKey`). */
  locate(pointer: string, atKey?: boolean): Position;
}

const compiled = new WeakMap<object, SchemaValidator>();

/** The validator itself when given one, else the schema's, compiled once per schema object. */
function validatorFor(schema: object | SchemaValidator): SchemaValidator {
  if (typeof schema === 'function') return schema as SchemaValidator;
  let validate = compiled.get(schema);
  if (validate === undefined) {
    validate = runtimeAjv().compile(schema);
    compiled.set(schema, validate);
  }
  return validate;
}

/** Findings of flows' codes with the severity each code has. */
export function withSeverity(findings: readonly Finding[]): DocumentFinding<DiagnosticCode>[] {
  return findings.map((f) => ({ ...f, severity: DIAGNOSTIC_CODES[f.code].severity }));
}

/**
 * Checks a JSON file's text against a JSON Schema (draft-07) with the diagnostics of flows —
 * code, severity, JSON pointer, line and column, did-you-mean for unknown keys — then runs the
 * file's own checks. For files beside flows: the configuration, flow tests. `schema` is the
 * schema, or its validator as ajv generates one (with `verbose`, which the messages read).
 */
export function checkJsonText<C extends string = never>(text: string, schema: object | SchemaValidator, options: JsonDocumentOptions<C> = {}): JsonDocumentResult<C> {
  const source = new JsonSource(text);
  const locate = (pointer: string, atKey = false) => source.locate(pointer, atKey);
  const parsed = source.parse();
  if (!parsed.ok) {
    const diagnostics = parsed.problems.map((p) => ({ code: 'JSON_SYNTAX' as const, severity: DIAGNOSTIC_CODES.JSON_SYNTAX.severity, pointer: '', line: p.line, column: p.column, message: p.message }));
    return { ok: false, value: undefined, diagnostics, locate };
  }
  const validate = validatorFor(schema);
  const findings: DocumentFinding<C | DiagnosticCode>[] =
    validate(parsed.value) === true
      ? [...(options.check?.(parsed.value) ?? [])]
      : withSeverity(schemaFindings(parsed.value, validate.errors ?? [], options.describe ?? ((_document, pointer) => dottedPath(pointer, 'the document'))));
  // Placed in one scan of the text, however many there are.
  const positions = source.locateAll(findings);
  const diagnostics = findings.map(({ code, severity, pointer, message }, i) => ({ code, severity, pointer, ...positions[i]!, message })).sort(compareDiagnostics);
  return { ok: diagnostics.every((d) => d.severity !== 'error'), value: parsed.value, diagnostics, locate };
}
