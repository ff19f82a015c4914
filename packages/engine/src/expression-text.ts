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
