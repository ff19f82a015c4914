import type jsonata from 'jsonata';
import { describePointer } from './describe.js';
import type { Finding } from './diagnostics.js';
import { parseGuarded, regexLiterals } from './expression-guard.js';
import { regexProblem } from './expression-regex.js';
import { expressionBody, isExpressionText } from './expression-text.js';
import type { FlowView } from './flow-view.js';
import { joinPointer } from './json-source.js';

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
  // An explicit stack of containers (a deeply nested document must not overflow the call
  // stack), each with its path as parent links: pointers are spelled out only for a finding,
  // and leaves are looked at in place, so a valid flow allocates little here.
  const stack: [unknown, Path | undefined][] = typeof document === 'object' && document !== null ? [[document, undefined]] : [];
  const visit = (value: unknown, parent: Path | undefined, key: string | number): void => {
    if (typeof value === 'string') {
      if (isExpressionText(value)) checkExpression(value, pointerOf({ parent, key }));
      else if (value.includes('{%') && key !== 'description') notWhole(pointerOf({ parent, key }));
    } else if (typeof value === 'object' && value !== null) {
      stack.push([value, { parent, key }]);
    }
  };
  while (stack.length > 0) {
    const [value, path] = stack.pop()!;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) visit(value[i], path, i);
    } else {
      for (const key in value as Record<string, unknown>) {
        // x- keys are the author's own annotations: never expressions.
        if (key.startsWith('x-')) continue;
        visit((value as Record<string, unknown>)[key], path, key);
      }
    }
  }
  return { findings, parsed };

  function notWhole(pointer: string): void {
    findings.push({
      code: 'EXPRESSION_NOT_WHOLE',
      pointer,
      message: `${describePointer(document, pointer)}: this string holds "{%" but is not wholly an expression, so it is taken literally; write the whole value as {% … %} (join text with &)`,
    });
  }

  function checkExpression(text: string, pointer: string): void {
    const where = describePointer(document, pointer);
    let error = failed.get(text);
    if (error === undefined && !parsed.has(text)) {
      const body = expressionBody(text);
      if (body.trim() === '') error = { message: 'the expression is empty' };
      else {
        try {
          parsed.set(text, parseGuarded(body));
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
    for (const { source, flags, position } of regexLiterals(parsed.get(text)!)) {
      const problem = regexProblem(source, flags);
      if (problem !== undefined) {
        findings.push({
          code: 'REGEX_UNSUPPORTED',
          pointer,
          message: `${where}: the regular expression /${source}/${flags} (at character ${position} of the expression) ${problem}; regular expressions run on a linear-time engine (RE2 syntax)`,
        });
      }
    }
    for (const match of text.matchAll(PARAM_REF)) {
      const name = match[1]!;
      if (!view.params.has(name)) {
        findings.push({
          code: 'UNKNOWN_PARAM',
          pointer,
          message: `${where}: $params.${name} is not declared in the flow's params${view.paramNames.didYouMean(name)}`,
        });
      }
    }
    for (const match of text.matchAll(NODE_REF)) {
      const id = (match[1] ?? match[2])!;
      if (!view.byId.has(id)) {
        const hyphenated = view.ids.startingWith(`${id}-`);
        const hint = hyphenated ? ` — an id with a hyphen needs backticks: $nodes.\`${hyphenated}\`` : view.ids.didYouMean(id);
        findings.push({ code: 'UNKNOWN_NODE_REF', pointer, message: `${where}: $nodes.${id} names no node of this flow${hint}` });
      }
    }
  }
}
