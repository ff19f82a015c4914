import { isAbsolute } from 'node:path';
import { DIAGNOSTIC_CODES } from './diagnostic-codes.js';
import { placeFindings, type Diagnostic, type Finding } from './diagnostics.js';
import { expressionFindings, type ParsedExpression } from './expression-checks.js';
import type { FlowDocument } from './flow-types.js';
import { isRecord, viewOf } from './flow-view.js';
import { graphFindings } from './graph-checks.js';
import { JsonSource } from './json-source.js';
import { nameFindings, type DeclaredNames } from './name-checks.js';
import { nodeFindings } from './node-checks.js';
import { checkCustomData, checkFlowSchema } from './schemas.js';
import { schemaFindings } from './schema-findings.js';
import { showValue } from './describe.js';
import { isExpression } from './expression-text.js';

export interface ValidateOptions {
  /**
   * Node types added by registered executors, with the JSON Schema of their data (undefined:
   * any object). The nine built-in types need no entry.
   */
  nodeTypes?: ReadonlyMap<string, object | undefined>;
  /**
   * How a subflow node's `flow` resolves (`subflowResolver`): to a file, to no file, or outside
   * the folder it may name files in. Without it, subflow references are not checked (a flow
   * given as an object has no folder to resolve them against).
   */
  subflowRef?: (ref: string) => 'found' | 'missing' | 'outside';
  /** What the configuration declares: a flow naming another agent, task, function, service or credential is refused. @default not checked */
  declared?: DeclaredNames;
  /**
   * Diagnostics listed at most, errors first; `counts` has them all. A file with a million
   * problems is not read one by one, and listing them all would take as much memory as the
   * file many times over. @default 1000
   */
  maxDiagnostics?: number;
}

export interface ValidationResult {
  /** True when no diagnostic is an error (warnings allowed). */
  readonly ok: boolean;
  /** The problems found, errors first, then in file order: every one, up to `maxDiagnostics`. */
  readonly diagnostics: readonly Diagnostic[];
  /** How many problems of each severity were found, those past `maxDiagnostics` included. */
  readonly counts: { readonly errors: number; readonly warnings: number };
  /** The parsed flow when `ok`. */
  readonly document: FlowDocument | undefined;
}

/** What the compiler reuses from validation, so nothing is parsed twice. */
export interface CheckedFlow extends ValidationResult {
  readonly expressions: ReadonlyMap<string, ParsedExpression>;
}

/** Validates a flow file's text: JSON syntax, the schema, the graph, expressions, all at once. */
export function validateFlowText(text: string, options: ValidateOptions = {}): ValidationResult {
  const { ok, diagnostics, counts, document } = checkFlowText(text, options);
  return { ok, diagnostics, counts, document };
}

/**
 * Validates a flow given as a value (for programs that build flows in code). Diagnostics carry
 * pointers; line and column are 0, as there is no text.
 */
export function validateFlowDocument(document: unknown, options: ValidateOptions = {}): ValidationResult {
  const { ok, diagnostics, counts, document: parsed } = checkFlowValue(document, options);
  return { ok, diagnostics, counts, document: parsed };
}

/**
 * Checks a value through its JSON text, which copies it (the compiled flow is frozen, the
 * caller's object is not), drops what JSON cannot hold and refuses cycles instead of looping.
 */
export function checkFlowValue(document: unknown, options: ValidateOptions = {}): CheckedFlow & { text: string } {
  let text: string | undefined;
  let problem = 'it is undefined';
  try {
    text = JSON.stringify(document);
  } catch (error) {
    problem = (error as Error).message;
  }
  if (text === undefined) {
    const diagnostic: Diagnostic = { code: 'WRONG_TYPE', severity: 'error', pointer: '', line: 0, column: 0, message: `the flow is not a JSON value: ${problem}` };
    return { ok: false, diagnostics: [diagnostic], counts: { errors: 1, warnings: 0 }, document: undefined, expressions: new Map(), text: '' };
  }
  const checked = checkFlowText(text, options);
  return { ...checked, diagnostics: checked.diagnostics.map((d) => ({ ...d, line: 0, column: 0 })), text };
}

export function checkFlowText(text: string, options: ValidateOptions = {}): CheckedFlow {
  const source = new JsonSource(text);
  const parsed = source.parse();
  if (!parsed.ok) {
    const diagnostics = parsed.problems.map((p) => ({
      code: 'JSON_SYNTAX' as const,
      severity: DIAGNOSTIC_CODES.JSON_SYNTAX.severity,
      pointer: '',
      line: p.line,
      column: p.column,
      message: p.message,
    }));
    const counts = { errors: diagnostics.length, warnings: 0 };
    return { ok: false, diagnostics: diagnostics.slice(0, options.maxDiagnostics ?? 1000), counts, document: undefined, expressions: new Map() };
  }
  // A flow without "{%" in its text holds no expression, unless a brace or a percent sign is
  // written as a \u escape: only then is the walk over every value needed.
  return checkFlowDocument(parsed.value, source, options, text.includes('{%') || text.includes('\\u'));
}

function checkFlowDocument(
  document: unknown,
  source: JsonSource,
  options: ValidateOptions,
  mayHoldExpressions: boolean,
): CheckedFlow {
  const view = viewOf(document);
  const findings: Finding[] = [
    ...schemaFindings(document, schemaErrors(document, options.nodeTypes)),
    ...graphFindings(view),
    ...nodeFindings(document, view),
    ...subflowFindings(view, options),
    ...(options.declared === undefined ? [] : nameFindings(document, options.declared)),
  ];
  let expressions = new Map<string, ParsedExpression>();
  if (mayHoldExpressions) {
    const checked = expressionFindings(document, view);
    // Not push(...): a spread of 100,000 findings overflows the call stack.
    for (const finding of checked.findings) findings.push(finding);
    expressions = checked.parsed;
  }
  const kept = placeFindings(findings, source, options.maxDiagnostics ?? 1000);
  const ok = kept.counts.errors === 0;
  return { ok, ...kept, document: ok ? (document as FlowDocument) : undefined, expressions };
}

function subflowFindings(view: ReturnType<typeof viewOf>, options: ValidateOptions): Finding[] {
  const resolve = options.subflowRef;
  if (resolve === undefined) return [];
  const findings: Finding[] = [];
  for (const node of view.nodes) {
    const data = node.raw.data;
    // A reference computed by an expression is checked when the run reaches it.
    if (node.type !== 'subflow' || !isRecord(data) || typeof data.flow !== 'string' || isExpression(data.flow)) continue;
    const status = resolve(data.flow);
    const pointer = `/nodes/${node.index}/data/flow`;
    if (status === 'missing') {
      findings.push({ code: 'SUBFLOW_NOT_FOUND', pointer, message: `node "${node.id}" (subflow): no flow file at ${showValue(data.flow)}, relative to this flow's folder` });
    } else if (status === 'outside') {
      findings.push({
        code: 'FLOW_REF_OUTSIDE',
        pointer,
        message: `node "${node.id}" (subflow): ${showValue(data.flow)} is ${isAbsolute(data.flow) ? 'an absolute path' : 'outside the folder this flow may name files in'}; a sub-flow must be a relative path to a file in this flow's folder tree (gantry serve: the --flows folder), symbolic links included`,
      });
    }
  }
  return findings;
}

function schemaErrors(document: unknown, nodeTypes: ReadonlyMap<string, object | undefined> | undefined) {
  const errors = checkFlowSchema(document);
  if (nodeTypes === undefined || nodeTypes.size === 0) return errors;
  // A registered type is not unknown: drop the enum error on its `type` and check its data.
  const custom = errors.filter((e) => !(e.keyword === 'enum' && /^\/nodes\/\d+(\/compensate)?\/type$/.test(e.instancePath) && typeof e.data === 'string' && nodeTypes.has(e.data)));
  return [...custom, ...checkCustomData(document, nodeTypes)];
}
