// The web UI's files as gantry serve answers them: the page for every path under /ui, hashed
// assets cached for good, a Content-Security-Policy on each, and the base path of a reverse proxy.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { request } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { compileFlow } from '@gantry/engine';
import { createServer } from '@gantry/server';
import { DEPLOY_FLOW, TOKENS, asPrincipal, call, serve, type Served } from './harness.js';

let served: Served | undefined;
let dir: string;
afterEach(async () => {
  await served?.close();
  served = undefined;
});
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gantry-ui-files-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><meta name="gantry-base" content="%GANTRY_BASE%"><script type="module" src="%GANTRY_BASE%/ui/assets/app-1.js"></script>');
  writeFileSync(join(dir, 'assets', 'app-1.js'), `console.log(${JSON.stringify('x'.repeat(4000))});`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function raw(url: string, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    request(`${url}${path}`, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    })
      .on('error', reject)
      .end();
  });
}

describe('gantry serve: the web UI\'s files', () => {
  it('answers the page for /ui and every path under it, with a CSP that allows nothing but this server', async () => {
    served = await serve([DEPLOY_FLOW], { server: { ui: { dir } } });
    for (const path of ['/ui', '/ui/', '/ui/runs/gh-1', '/ui/runs/gh-1?node=build']) {
      const page = await raw(served.url, path);
      expect(page.status, path).toBe(200);
      expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(page.headers['cache-control']).toBe('no-cache');
      expect(page.body.toString()).toContain('content=""');
      expect(page.body.toString()).toContain('src="/ui/assets/app-1.js"');
    }
    const { headers } = await raw(served.url, '/ui/');
    expect(headers['content-security-policy']).toBe("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'");
    expect(headers).toMatchObject({ 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'x-frame-options': 'DENY' });
  });

  it('serves hashed assets for a year, gzipped when asked, HEAD without a body; refuses other methods and names outside assets', async () => {
    served = await serve([DEPLOY_FLOW], { server: { ui: { dir } } });
    const js = await raw(served.url, '/ui/assets/app-1.js', { 'accept-encoding': 'gzip, br' });
    expect(js.status).toBe(200);
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(js.body).toString()).toMatch(/^console\.log/);
    const head = await raw(served.url, '/ui/assets/app-1.js', {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    expect(Number(head.headers['content-length'])).toBeGreaterThan(4000);
    expect((await raw(served.url, '/ui/', {}, 'POST')).headers.allow).toBe('GET, HEAD');
    for (const path of ['/ui/assets/..%2Findex.html', '/ui/assets/.hidden.js', '/ui/assets/missing.js', '/ui/assets/app-1.exe']) {
      expect((await raw(served.url, path)).status, path).toBe(404);
    }
  });

  it('says when the UI is not built, and answers nothing under /ui when it is turned off', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'gantry-ui-empty-'));
    try {
      served = await serve([DEPLOY_FLOW], { server: { ui: { dir: empty } } });
      const missing = await call(served.url, 'GET', '/ui/');
      expect(missing.status).toBe(404);
      expect(missing.body.error.message).toMatch(/^the web UI is not built here \(.*index\.html is missing\): run the build/);
      await served.close();
      served = await serve([DEPLOY_FLOW], { server: { ui: false } });
      const off = (await call(served.url, 'GET', '/ui/')).body.error.message;
      expect(off).toMatch(/^nothing at \/ui\//);
      expect(off).not.toContain('web UI');
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('answers behind a base path with or without the prefix, and writes it into the page', async () => {
    served = await serve([DEPLOY_FLOW], { server: { ui: { dir }, basePath: '/gantry/' } });
    const page = await raw(served.url, '/gantry/ui/runs/x');
    expect(page.body.toString()).toContain('src="/gantry/ui/assets/app-1.js"');
    expect(page.body.toString()).toContain('content="/gantry"');
    expect((await raw(served.url, '/ui/')).status).toBe(200);
    expect((await asPrincipal(served.url, TOKENS.alice, 'GET', '/gantry/runs')).status).toBe(200);
    expect((await asPrincipal(served.url, TOKENS.alice, 'GET', '/runs')).status).toBe(200);
    expect((await call(served.url, 'GET', '/gantryx/runs')).status).toBe(404);
    // The root names the UI too, as a browser behind the proxy reaches it.
    for (const path of ['/', '/gantry/']) {
      const root = await call(served.url, 'GET', path);
      expect(root.status).toBe(404);
      expect(root.body.error.message).toBe("nothing at /: the server answers /runs, /metrics, /health and its webhooks' endpoints; its web UI is at /gantry/ui/");
    }
  });

  it('serves the files built in packages/ui by default', async () => {
    served = await serve();
    const page = await raw(served.url, '/ui/');
    expect(page.status).toBe(200);
    expect((await call(served.url, 'GET', '/')).body.error.message).toMatch(/; its web UI is at \/ui\/$/);
    const script = /src="\/ui\/assets\/(app-[A-Z0-9]+\.js)"/.exec(page.body.toString());
    expect(script).not.toBeNull();
    expect((await raw(served.url, `/ui/assets/${script![1]}`)).status).toBe(200);
  });

  it('refuses a base path that is not a path, and a webhook under /ui while the UI is on', async () => {
    const { engine } = (served = await serve());
    expect(() => createServer({ engine, basePath: 'gantry' })).toThrow(/expected basePath to be a path such as "\/gantry".*got "gantry"/);
    expect(() => createServer({ engine, basePath: '/a/../b' })).toThrow(/expected basePath/);
    const flow = compileFlow({ name: 'Hidden', nodes: [{ id: 'hook', type: 'webhook', data: { endpoint: '/ui/hook' } }] });
    expect(() => createServer({ engine, flows: [flow] })).toThrow(/flow "Hidden" node "hook": endpoint \/ui\/hook is under \/ui, where the web UI is served/);
    expect(() => createServer({ engine, flows: [flow], ui: false })).not.toThrow();
  });
});
