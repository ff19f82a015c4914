/** Whether a string is exactly `{% … %}`, a JSONata expression (DESIGN §2.3). */
export function isExpressionText(text: string): boolean {
  return text.length >= 4 && text.startsWith('{%') && text.endsWith('%}');
}

/** `{% … %}` strings are JSONata expressions; every other value is a literal. */
export function isExpression(value: unknown): value is string {
  return typeof value === 'string' && isExpressionText(value);
}

/** The JSONata source inside `{% … %}`. */
export function expressionBody(expression: string): string {
  return expression.slice(2, -2);
}

/**
 * Bounds on every evaluation (DESIGN §2.3), bound when an expression is parsed: a runaway or
 * recursive expression fails its node with EXPRESSION_LIMIT instead of hanging the process.
 */
export const EXPRESSION_LIMITS = Object.freeze({
  /**
   * Milliseconds one evaluation may take. JSONata evaluates on the event loop, so this is also
   * the longest a runaway expression can hold up everything else in the process.
   */
  timeout: 100,
  /** Nesting depth of function calls. */
  stack: 500,
  /** Items one sequence may hold. */
  sequence: 1_000_000,
});
