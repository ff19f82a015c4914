/**
 * The source line of a diagnostic with a caret under its column, clipped around the column so
 * that a minified flow does not print a megabyte.
 */
export function codeFrame(text: string, line: number, column: number, width = 100): string[] {
  if (line < 1) return [];
  let start = 0;
  for (let l = 1; l < line; l++) {
    const next = text.indexOf('\n', start);
    if (next === -1) return [];
    start = next + 1;
  }
  const end = text.indexOf('\n', start);
  const source = text.slice(start, end === -1 ? undefined : end).replace(/\r$/, '').replace(/\t/g, ' ');
  const half = Math.floor(width / 2);
  const from = Math.max(0, Math.min(column - 1 - half, source.length - width));
  const clipped = source.slice(from, from + width);
  const prefix = from > 0 ? '…' : '';
  const suffix = from + width < source.length ? '…' : '';
  const gutter = String(line);
  const caret = ' '.repeat(prefix.length + Math.max(0, column - 1 - from)) + '^';
  return [` ${gutter} | ${prefix}${clipped}${suffix}`, ` ${' '.repeat(gutter.length)} | ${caret}`];
}
