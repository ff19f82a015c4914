/** Durations and times as the page writes them: short, and the same in every tab. */

export function duration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 10) return `${s.toFixed(1)} s`;
  if (s < 60) return `${Math.round(s)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(Math.round(s % 60)).padStart(2, '0')} s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${String(m % 60).padStart(2, '0')} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** 14:02:03, in the browser's time zone. */
export function clock(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** 2026-12-06 14:02:03, in the browser's time zone. */
export function dateTime(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${clock(ms)}`;
}

/** "3 min ago", "in 52 min", "just now". */
export function relative(ms: number, now: number): string {
  const delta = ms - now;
  if (Math.abs(delta) < 5000) return 'just now';
  const text = duration(Math.abs(delta)).replace(/ \d+ s$/, '').replace(/ \d+ min$/, '');
  return delta < 0 ? `${text} ago` : `in ${text}`;
}

export function list(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

/** JSON for reading: indented, cut at `limit` characters (with how much was left out). */
export function jsonText(value: unknown, limit = 20_000): { text: string; cut: number } {
  const text = JSON.stringify(value, null, 2) ?? 'undefined';
  return text.length <= limit ? { text, cut: 0 } : { text: text.slice(0, limit), cut: text.length - limit };
}
