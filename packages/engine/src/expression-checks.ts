import jsonata from 'jsonata';
import { describePointer } from './describe.js';
import type { Finding } from './diagnostics.js';
import { expressionBody, isExpressionText } from './expression-text.js';
import type { FlowView } from './flow-view.js';
import { joinPointer } from './json-source.js';
import { didYouMean } from './suggest.js';

export type ParsedExpression = jsonata.Expression;

interface JsonataError {
  message?: string;
  position?: number;
  token?: string;
}

interface Path {
  readonly parent: Path | undefined;
  readonly key: string | number;
}

function pointerOf(path: Path | undefined): string {
  const keys: (string | number)[] = [];
  for (let at = path; at !== undefined; at = at.parent) keys.push(at.key);
  return keys.reduceRight<string>((pointer, key) => joinPointer(pointer, key), '');
}

const PARAM_REF = /\$params\.([A-Za-z_][A-Za-z0-9_]*)/g;
const NODE_REF = /\$nodes\.(?:([A-Za-z_][A-Za-z0-9_]*)|`([^`]+)`)/g;

/**
 * Parses every `{% … %}` string of the document once (identical texts share one parse) and
 * reports those that do not parse, strings that hold `{%` without being an expression, and
 * references to undeclared params or unknown nodes.
 */
export function expressionFindings(
  document: unknown,
  view: FlowView,
): { findings: Finding[]; parsed: Map<string, ParsedExpression> } {
  const findings: Finding[] = [];
  const parsed = new Map<string, ParsedExpression>();
  const failed = new Map<string, JsonataError>();
  // An explicit stack (a deeply nested document must not overflow the call stack) of values
  // with their paths as parent links: pointers are only spelled out for a finding.
  const stack: [unknown, Path | undefined][] = [[document, undefined]];
  while (stack.length > 0) {
    const [value, path] = stack.pop()!;
    if (typeof value === 'string') {
      if (isExpressionText(value)) checkExpression(value, pointerOf(path));
      else if (value.includes('{%')) {
        const pointer = pointerOf(path);
        findings.push({
          code: 'EXPRESSION_NOT_WHOLE',
          pointer,
          message: `${describePointer(document, pointer)}: this string holds "{%" but is not wholly an expression, so it is taken literally; write the whole value as {% … %} (join text with &)`,
        });
      }
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push([value[i], { parent: path, key: i }]);
    } else if (typeof value === 'object' && value !== null) {
      for (const key in value) stack.push([(value as Record<string, unknown>)[key], { parent: path, key }]);
    }
  }
  return { findings, parsed };

  function checkExpression(text: string, pointer: string): void {
    const where = describePointer(document, pointer);
    let error = failed.get(text);
    if (error === undefined && !parsed.has(text)) {
      const body = expressionBody(text);
      if (body.trim() === '') error = { message: 'the expression is empty' };
      else {
        try {
          parsed.set(text, jsonata(body));
        } catch (cause) {
          error = cause as JsonataError;
        }
      }
      if (error !== undefined) failed.set(text, error);
    }
    if (error !== undefined) {
      const at = typeof error.position === 'number' ? ` (at character ${error.position} of the expression)` : '';
      findings.push({ code: 'EXPRESSION_SYNTAX', pointer, message: `${where}: the expression does not parse: ${error.message ?? String(error)}${at}` });
      return;
    }
    for (const match of text.matchAll(PARAM_REF)) {
      const name = match[1]!;
      if (!view.params.has(name)) {
        findings.push({
          code: 'UNKNOWN_PARAM',
          pointer,
          message: `${where}: $params.${name} is not declared in the flow's params${didYouMean(name, view.params)}`,
        });
      }
    }
    for (const match of text.matchAll(NODE_REF)) {
      const id = (match[1] ?? match[2])!;
      if (!view.byId.has(id)) {
        const hyphenated = [...view.byId.keys()].find((k) => k.startsWith(`${id}-`));
        const hint = hyphenated ? ` — an id with a hyphen needs backticks: $nodes.\`${hyphenated}\`` : didYouMean(id, view.byId.keys());
        findings.push({ code: 'UNKNOWN_NODE_REF', pointer, message: `${where}: $nodes.${id} names no node of this flow${hint}` });
      }
    }
  }
}
