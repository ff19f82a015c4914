/**
 * The source line of a diagnostic with a caret under its column, clipped around the column so
 * that a minified flow does not print a megabyte. The file's line starts are found once: a file
 * with thousands of diagnostics must not be scanned from its top for each.
 */
export function codeFrames(text: string, width = 100): (line: number, column: number) => string[] {
  let starts: number[] | undefined;
  return (line, column) => {
    if (line < 1) return [];
    starts ??= lineStarts(text);
    const start = starts[line - 1];
    if (start === undefined) return [];
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
  };
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}
