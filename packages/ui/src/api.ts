import { signal } from '@preact/signals';

/**
 * Requests to the server that served the page, and nothing else (the CSP's connect-src 'self').
 * The signed-in principal's token lives in this tab's sessionStorage only: it goes with each
 * request as a bearer token, and is gone when the tab closes.
 */

const TOKEN_KEY = 'gantry.token';

/** The path prefix a reverse proxy serves Gantry under, as the server wrote it into the page. */
export const basePath: string = (() => {
  const meta = typeof document === 'undefined' ? null : document.querySelector('meta[name="gantry-base"]');
  const value = meta?.getAttribute('content') ?? '';
  return value.startsWith('%') ? '' : value.replace(/\/$/, '');
})();

export interface Session {
  readonly token: string;
  readonly principal: string;
  readonly roles: readonly string[];
}

export const session = signal<Session | undefined>(undefined);

export function storedToken(): string | undefined {
  try {
    return sessionStorage.getItem(TOKEN_KEY) ?? undefined;
  } catch {
    return undefined;
  }
}

export function forgetSession(): void {
  try {
    sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // A browser that refuses storage keeps nothing anyway.
  }
  session.value = undefined;
}

/** A refusal or failure of the server, as a sentence a person can act on. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly serverMessage: string,
  ) {
    super(sentence(status, code, serverMessage));
  }
}

const LEADS: Record<number, string> = {
  400: 'The server did not accept the request',
  401: 'The server does not know this token',
  403: 'The server refused: you may not do this',
  404: 'The server has no such thing',
  409: 'The server refused: it is too late or already done',
  410: 'The server refused: the time for this has passed',
  503: 'The server cannot answer right now',
};

/** "The server refused: you may not do this (403): "dave" holds none of the approver roles…". */
export function sentence(status: number, code: string, message: string): string {
  const lead = LEADS[status] ?? (status >= 500 ? 'The server failed' : 'The server refused');
  const detail = message.length > 0 ? `${message.charAt(0).toUpperCase()}${message.slice(1)}` : code;
  return `${lead} (${status} ${code}). ${detail}${/[.!?]$/.test(detail) ? '' : '.'}`;
}

export function url(path: string): string {
  return `${basePath}${path}`;
}

export function authHeaders(token = session.value?.token): Record<string, string> {
  return token === undefined ? {} : { authorization: `Bearer ${token}` };
}

async function failure(res: Response): Promise<ApiError> {
  let code = `HTTP_${res.status}`;
  let message = res.statusText;
  try {
    const body = (await res.json()) as { error?: { code?: string; message?: string } };
    code = body.error?.code ?? code;
    message = body.error?.message ?? message;
  } catch {
    // Not the server's JSON (a proxy's page): the status says enough.
  }
  if (res.status === 401 && session.value !== undefined) forgetSession();
  return new ApiError(res.status, code, message);
}

export async function getJson<T>(path: string, init: { signal?: AbortSignal; token?: string } = {}): Promise<T> {
  const res = await fetch(url(path), { headers: { accept: 'application/json', ...authHeaders(init.token) }, ...(init.signal ? { signal: init.signal } : {}) });
  if (!res.ok) throw await failure(res);
  return (await res.json()) as T;
}

export async function postJson<T>(path: string, body: unknown): Promise<T> {
  const res = await fetch(url(path), { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json', ...authHeaders() }, body: JSON.stringify(body) });
  if (!res.ok) throw await failure(res);
  return (await res.json()) as T;
}

/** Signs in with a token: the server says whose it is (GET /whoami), and only then is it kept. */
export async function signIn(token: string): Promise<Session> {
  const who = await getJson<{ principal: string; roles: string[] }>('/whoami', { token });
  try {
    sessionStorage.setItem(TOKEN_KEY, token);
  } catch {
    // Kept in memory only: a reload will ask again.
  }
  const s = { token, principal: who.principal, roles: who.roles };
  session.value = s;
  return s;
}

export const runPath = (runId: string) => `/runs/${encodeURIComponent(runId)}`;
