/** A value shortened for a timeline line: `{ images, report }`, `"abc…"`, `[3 items]`. */
export function summarize(value: unknown, width = 80): string {
  if (value === undefined) return '';
  if (Array.isArray(value)) return `[${value.length} item${value.length === 1 ? '' : 's'}]`;
  if (typeof value === 'object' && value !== null) {
    const keys = Object.keys(value);
    const text = JSON.stringify(value);
    if (text.length <= width) return text;
    const shown = keys.slice(0, 8).join(', ');
    return `{ ${shown}${keys.length > 8 ? `, … ${keys.length - 8} more` : ''} }`;
  }
  const text = JSON.stringify(value) ?? String(value);
  return text.length > width ? `${text.slice(0, width - 1)}…` : text;
}

/** 2026-01-31 12:00:05 in local time. */
export function when(at: number | undefined): string {
  if (at === undefined) return '';
  const d = new Date(at);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
