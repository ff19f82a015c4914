/**
 * Values as a person reads them on one line: `{ service_name: "sample", bake_seconds: 2, … }`.
 * Short values are shown in full; a long one is cut, nested parts first, and says how big it was.
 */

/** A value in at most `width` characters (about): in full when it fits, else cut, with its size. */
export function formatValue(value: unknown, width = 80): string {
  const full = inline(value, width);
  if (full !== undefined) return full;
  const size = ` (${byteSize(value)})`;
  return `${cut(value, Math.max(16, width - size.length))}${size}`;
}

/** `2.1 KB`: the size of a value as JSON. */
export function byteSize(value: unknown): string {
  const bytes = Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** Whether a value is an object with keys (shown one key per line when it does not fit). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An object key as JavaScript writes it: bare when it is an identifier. */
export function keyText(key: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? key : JSON.stringify(key);
}

/** The whole value on one line, or undefined as soon as it passes `limit` characters. */
function inline(value: unknown, limit: number): string | undefined {
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    const parts: string[] = [];
    let used = 2;
    for (const item of value) {
      const text = inline(item, limit - used);
      if (text === undefined) return undefined;
      used += text.length + 2;
      if (used > limit) return undefined;
      parts.push(text);
    }
    return `[${parts.join(', ')}]`;
  }
  if (isPlainObject(value)) {
    const keys = Object.keys(value);
    if (keys.length === 0) return '{}';
    const parts: string[] = [];
    let used = 4;
    for (const key of keys) {
      const text = inline(value[key], limit - used - key.length - 2);
      if (text === undefined) return undefined;
      const part = `${keyText(key)}: ${text}`;
      used += part.length + 2;
      if (used > limit) return undefined;
      parts.push(part);
    }
    return `{ ${parts.join(', ')} }`;
  }
  const text = scalar(value);
  return text.length <= limit ? text : undefined;
}

/** A value cut to `width`: nested values shortened first, then the last entries left off, counted. */
function cut(value: unknown, width: number): string {
  if (Array.isArray(value)) {
    const parts = fitting(value.length, 2, width, (i, room) => [inline(value[i], Math.min(24, room)), short(value[i])]);
    if (parts.length === 0) return short(value);
    return `[${[...parts, ...(parts.length < value.length ? [`… ${value.length - parts.length} more`] : [])].join(', ')}]`;
  }
  if (isPlainObject(value)) {
    const keys = Object.keys(value);
    const parts = fitting(keys.length, 4, width, (i, room) => {
      const name = `${keyText(keys[i]!)}: `;
      return [inline(value[keys[i]!], Math.min(40, room - name.length)), short(value[keys[i]!])].map((v) => (v === undefined ? undefined : `${name}${v}`));
    });
    if (parts.length === 0) return short(value);
    return `{ ${[...parts, ...(parts.length < keys.length ? [`… ${keys.length - parts.length} more`] : [])].join(', ')} }`;
  }
  return clipScalar(value, width);
}

/**
 * The entries that fit in `width` in order, each in the first of its forms that fits, room kept
 * for ", … n more" while entries remain after it. `frame` is what the brackets take.
 */
function fitting(count: number, frame: number, width: number, forms: (i: number, room: number) => (string | undefined)[]): string[] {
  const parts: string[] = [];
  let used = frame;
  for (let i = 0; i < count; i++) {
    const separator = i > 0 ? 2 : 0;
    const tail = i < count - 1 ? `, … ${count - i - 1} more`.length : 0;
    const room = width - used - separator - tail;
    const part = forms(i, room).find((p): p is string => p !== undefined && p.length <= room);
    if (part === undefined) break;
    used += separator + part.length;
    parts.push(part);
  }
  return parts;
}

/** A string or number cut to `width`, a string's quotes kept: `"/tmp/ecli-fau…"`. */
function clipScalar(value: unknown, width: number): string {
  const text = scalar(value);
  if (text.length <= width) return text;
  if (typeof value !== 'string') return `${text.slice(0, Math.max(8, width - 1))}…`;
  return `${JSON.stringify(value.slice(0, Math.max(6, width - 3))).slice(0, -1)}…"`;
}

/** A nested value at its shortest: `{…3 keys}`, `[…12 items]`, `"abc…"`. */
function short(value: unknown): string {
  if (Array.isArray(value)) return `[…${value.length} item${value.length === 1 ? '' : 's'}]`;
  if (isPlainObject(value)) {
    const n = Object.keys(value).length;
    return `{…${n} key${n === 1 ? '' : 's'}}`;
  }
  return clipScalar(value, 16);
}

function scalar(value: unknown): string {
  if (value === undefined) return 'undefined';
  return JSON.stringify(value) ?? String(value);
}

/**
 * Text from a run (an agent's error, a program's stderr) on one line of a terminal: line breaks
 * become spaces, and control characters are shown escaped instead of acting on the terminal.
 */
export function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').replace(/[\u0000-\u001f\u007f]/g, (c) => JSON.stringify(c).slice(1, -1));
}
