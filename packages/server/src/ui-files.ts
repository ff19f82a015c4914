import { existsSync, readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { GantryError } from '@gantry/engine';
import { httpError } from './http.js';

/**
 * The web UI's files (DESIGN §10), built by packages/ui at build time: `/ui` and every page
 * under it answer the page, `/ui/assets/*` the hashed scripts and styles. Every answer carries
 * a Content-Security-Policy that allows nothing but this server: no inline script or style, no
 * other origin, no framing.
 */

export const UI_PATH = '/ui';

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

const TYPES: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.woff2': 'font/woff2',
};

/** A file name under assets: no folder, no dot first, so no way out of the folder. */
const ASSET = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/;

/** Where @gantry/ui's build puts the files, or undefined when the package is not installed. */
export function defaultUiDir(): string | undefined {
  try {
    return join(dirname(createRequire(import.meta.url).resolve('@gantry/ui/package.json')), 'dist', 'app');
  } catch {
    return undefined;
  }
}

/**
 * The path prefix a reverse proxy serves Gantry under, as the configuration gives it (`/gantry`,
 * `/gantry/`), normalised: a leading slash, no trailing one; '' for none.
 */
export function normalizeBasePath(value: unknown): string {
  if (value === undefined || value === '' || value === '/') return '';
  if (typeof value !== 'string' || !/^\/[A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*\/?$/.test(value) || value.split('/').some((s) => s === '.' || s === '..')) {
    throw new GantryError('CONFIG_INVALID', `createServer: expected basePath to be a path such as "/gantry" (letters, digits, . _ ~ - between slashes, no . or .. segment), got ${JSON.stringify(value)}`);
  }
  return value.endsWith('/') ? value.slice(0, -1) : value;
}

/** The request's path without the base path, when it has it: a proxy may pass the prefix on or strip it. */
export function withoutBasePath(url: URL, basePath: string): URL {
  if (basePath !== '' && (url.pathname === basePath || url.pathname.startsWith(`${basePath}/`))) url.pathname = url.pathname.slice(basePath.length) || '/';
  return url;
}

export function isUiPath(pathname: string): boolean {
  return pathname === UI_PATH || pathname.startsWith(`${UI_PATH}/`);
}

interface Loaded {
  readonly body: Buffer;
  readonly gzip: Buffer | undefined;
  readonly type: string;
  readonly mtimeMs: number;
}

export interface UiFiles {
  /** Answers a GET or HEAD under /ui (the base path already taken off). */
  serve(req: IncomingMessage, res: ServerResponse, url: URL): void;
}

export function uiFiles(dir: string | undefined, basePath: string): UiFiles {
  const cache = new Map<string, Loaded>();

  function load(file: string, type: string, transform?: (text: string) => string): Loaded | undefined {
    let mtimeMs: number;
    try {
      mtimeMs = statSync(file).mtimeMs;
    } catch {
      return undefined;
    }
    const cached = cache.get(file);
    // Read again when the build rewrote it (esbuild --watch while developing).
    if (cached !== undefined && cached.mtimeMs === mtimeMs) return cached;
    const raw = readFileSync(file);
    const body = transform ? Buffer.from(transform(raw.toString('utf8'))) : raw;
    const loaded = { body, gzip: body.length > 1024 && !type.startsWith('image/png') ? gzipSync(body) : undefined, type, mtimeMs };
    cache.set(file, loaded);
    return loaded;
  }

  const notBuilt = () =>
    httpError('NOT_FOUND', dir === undefined ? 'the web UI is not installed here (the @gantry/ui package is missing)' : `the web UI is not built here (${join(dir, 'index.html')} is missing): run the build (npx pnpm build) first`);

  function send(req: IncomingMessage, res: ServerResponse, file: Loaded, cacheControl: string): void {
    const gzip = file.gzip !== undefined && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    const body = gzip ? file.gzip! : file.body;
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': file.type,
      'content-length': String(body.length),
      'cache-control': cacheControl,
      vary: 'accept-encoding',
      ...(gzip ? { 'content-encoding': 'gzip' } : {}),
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  return {
    serve(req, res, url) {
      const method = req.method ?? 'GET';
      if (method !== 'GET' && method !== 'HEAD') throw httpError('METHOD_NOT_ALLOWED', `${url.pathname} takes GET, HEAD, not ${method}`, { allow: 'GET, HEAD' });
      if (dir === undefined || !existsSync(join(dir, 'index.html'))) throw notBuilt();
      const rest = url.pathname.slice(UI_PATH.length);
      if (rest.startsWith('/assets/')) {
        const name = rest.slice('/assets/'.length);
        const dot = name.lastIndexOf('.');
        const type = TYPES[dot < 0 ? '' : name.slice(dot)];
        const file = ASSET.test(name) && type !== undefined ? load(join(dir, 'assets', name), type) : undefined;
        if (file === undefined) throw httpError('NOT_FOUND', `the web UI has no file ${url.pathname}`);
        // Their names carry their content's hash: a new build makes new names.
        send(req, res, file, 'public, max-age=31536000, immutable');
        return;
      }
      // Every other path under /ui is a page of the UI, which routes it in the browser.
      const page = load(join(dir, 'index.html'), 'text/html; charset=utf-8', (html) => html.replaceAll('%GANTRY_BASE%', basePath));
      if (page === undefined) throw notBuilt();
      send(req, res, page, 'no-cache');
    },
  };
}
