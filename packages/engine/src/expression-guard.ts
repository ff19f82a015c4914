/*
 * Expressions parsed for bounded evaluation (DESIGN §11): regex literals run on RE2, JSONata's
 * evaluate entry and exit hooks count and check every step (expression-evaluation.ts), and the
 * built-in functions are guarded (expression-builtins.ts).
 */
import type { Expression } from 'jsonata';
import { jsonata } from './jsonata.js';
import { GUARDED_BUILTINS } from './expression-builtins.js';
import { entered, exited, SORT_TERM } from './expression-evaluation.js';
import { LinearRegExp, withLinearRegExp } from './expression-regex.js';

export { Evaluation, ExpressionLimitError } from './expression-evaluation.js';
export { loadBuiltins } from './expression-builtins.js';

const ENTRY = Symbol.for('jsonata.__evaluate_entry');
const EXIT = Symbol.for('jsonata.__evaluate_exit');

/**
 * Parses an expression for guarded evaluation: its regex literals run on RE2 (through JSONata's
 * RegexEngine option), the patterns JSONata makes of signatures too, and its evaluations report
 * each step. Evaluate it with an {@link Evaluation} among its bindings ({@link Evaluation.bindInto}).
 */
export function parseGuarded(body: string): Expression {
  const expression = withLinearRegExp(() => jsonata(body, { RegexEngine: LinearRegExp as unknown as RegExpConstructor }));
  expression.assign(ENTRY as unknown as string, entered);
  expression.assign(EXIT as unknown as string, exited);
  for (const [name, builtin] of GUARDED_BUILTINS) expression.assign(name, builtin);
  for (const node of astNodes(expression)) {
    if (node.type === 'sort' && Array.isArray(node.terms)) for (const term of node.terms as { expression?: object }[]) if (term.expression) Object.assign(term.expression, { [SORT_TERM]: true });
  }
  return expression;
}

/** Every node of an expression's syntax tree (its own stack: a deep tree cannot overflow it). */
function* astNodes(expression: Expression): Generator<Record<string, unknown>> {
  const stack: unknown[] = [expression.ast()];
  const seen = new Set<object>();
  while (stack.length > 0) {
    const node = stack.pop();
    if (typeof node !== 'object' || node === null || node instanceof RegExp || seen.has(node)) continue;
    seen.add(node);
    yield node as Record<string, unknown>;
    for (const child of Object.values(node)) if (typeof child === 'object' && child !== null) stack.push(child);
  }
}

/** The regex literals of a parsed expression, with their place in its text (validation). */
export function regexLiterals(expression: Expression): { source: string; flags: string; position: number }[] {
  const found: { source: string; flags: string; position: number }[] = [];
  for (const { type, value, position } of astNodes(expression)) {
    if (type === 'regex' && value instanceof RegExp) found.push({ source: value.source, flags: value.flags.replace('g', ''), position: typeof position === 'number' ? position : 0 });
  }
  return found;
}
