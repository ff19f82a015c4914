import { isRecord } from './flow-view.js';
import { splitPointer } from './json-source.js';

/**
 * Names the place a pointer reaches in words a flow author uses: `node "build" (agent), data.task`
 * rather than `/nodes/3/data/task`.
 */
export function describePointer(document: unknown, pointer: string): string {
  const segments = splitPointer(pointer);
  if (segments.length === 0) return 'the flow';
  const [section, index, ...rest] = segments;
  const root = isRecord(document) ? document : {};
  const list = root[section!];
  const item = Array.isArray(list) && index !== undefined ? list[Number(index)] : undefined;
  const tail = rest.length > 0 ? `, ${rest.join('.')}` : '';
  switch (section) {
    case 'nodes': {
      if (index === undefined) return 'nodes';
      const id = isRecord(item) && typeof item.id === 'string' ? `"${item.id}"` : `#${index}`;
      const type = isRecord(item) && typeof item.type === 'string' ? ` (${item.type})` : '';
      return `node ${id}${type}${tail}`;
    }
    case 'edges': {
      if (index === undefined) return 'edges';
      const ends = isRecord(item) ? ` (${plain(item.from)} → ${plain(item.to)})` : '';
      return `edge #${index}${ends}${tail}`;
    }
    case 'error_handlers': {
      if (index === undefined) return 'error_handlers';
      const stage = isRecord(item) && typeof item.stage === 'string' ? ` for "${item.stage}"` : '';
      return `error handler #${index}${stage}${tail}`;
    }
    case 'params':
      return index === undefined ? 'params' : `param "${index}"${tail}`;
    default:
      return segments.join('.');
  }
}

/** A short rendering of a JSON value for messages: `3 (number)`, `"x" (string)`. */
export function showValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object') return 'an object';
  const text = typeof value === 'number' && !Number.isFinite(value) ? String(value) : (JSON.stringify(value) ?? String(value));
  return `${text.length > 40 ? `${text.slice(0, 37)}…` : text} (${typeof value})`;
}

/**
 * A document value as text without calling anything of it: String() would call a
 * `toString` key that a hostile or broken document may hold.
 */
export function plain(value: unknown): string {
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? typeof value);
}
