import { signal } from '@preact/signals';
import { basePath } from './api';

/**
 * The UI's own pages, under <base>/ui: the runs list (`/`) and a run (`/runs/<id>`), with what
 * is chosen on them in the query (`?node=build&run=<sub-flow run>&tab=timeline`), so that a link
 * shows the same thing in another tab.
 */

export interface Place {
  readonly path: string;
  readonly query: URLSearchParams;
}

const root = `${basePath}/ui`;

function read(): Place {
  const { pathname, search } = window.location;
  const path = pathname.startsWith(root) ? pathname.slice(root.length) || '/' : '/';
  return { path, query: new URLSearchParams(search) };
}

export const place = signal<Place>(typeof window === 'undefined' ? { path: '/', query: new URLSearchParams() } : read());

if (typeof window !== 'undefined') window.addEventListener('popstate', () => (place.value = read()));

export function href(path: string, query?: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== '') q.set(k, v);
  const s = q.toString();
  return `${root}${path === '/' ? '/' : path}${s ? `?${s}` : ''}`;
}

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (options.replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  place.value = read();
}

/** Changes the query of the page shown (a selection, a tab), without a new history entry unless asked. */
export function setQuery(changes: Record<string, string | undefined>, push = false): void {
  const { path, query } = place.value;
  const next = Object.fromEntries(query);
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined) delete next[k];
    else next[k] = v;
  }
  navigate(href(path, next), { replace: !push });
}

/** A link inside the UI: followed without reloading the page. */
export function onLinkClick(event: MouseEvent): void {
  const a = event.currentTarget as HTMLAnchorElement;
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  navigate(a.getAttribute('href') ?? href('/'));
}

export function runHref(runId: string, query?: Record<string, string | undefined>): string {
  return href(`/runs/${encodeURIComponent(runId)}`, query);
}
