/**
 * The web UI's end-to-end side: a real `gantry serve` (the built CLI, a child process) on the
 * shipped flows with the local agent pack and a short bake, in a temporary folder; Debian's
 * Chromium driven by playwright-core (no browser download); axe-core for the accessibility scan.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { sign } from '@octokit/webhooks-methods';
import { AxeBuilder } from '@axe-core/playwright';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'packages/cli/dist/bin.js');
const PACK = join(ROOT, 'packages/agents-local');
export const SECRET = 'ui-e2e-secret';

/** alice is a tech lead, bob a product manager, dave holds no approver role. */
export const TOKENS = { alice: 'alice-ui-token', bob: 'bob-ui-token', dave: 'dave-ui-token' } as const;
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** Debian's Chromium (or $GANTRY_CHROMIUM), or why there is none. */
export function findChromium(): { path?: string; reason?: string } {
  const wanted = process.env.GANTRY_CHROMIUM;
  if (wanted) return existsSync(wanted) ? { path: wanted } : { reason: `GANTRY_CHROMIUM=${wanted} does not exist` };
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim();
    if (found) return { path: found };
  }
  return { reason: 'no chromium on the PATH (apt-get install -y chromium; .ci/run installs it)' };
}

export function launch(path: string): Promise<Browser> {
  return chromium.launch({
    executablePath: path,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
  });
}

export interface Serve {
  /** http://127.0.0.1:<port><base path> */
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  readonly output: () => string;
  stop(): Promise<void>;
}

/**
 * `gantry serve --host 0.0.0.0` on a copy of flows/ whose pipeline bakes each traffic step for
 * `bakeSeconds`, with the local agent pack, three principals and a path prefix.
 */
export async function startServe(options: { bakeSeconds: number; basePath?: string; flows?: Record<string, object> }): Promise<Serve> {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: build first (npx pnpm build)`);
  const dir = mkdtempSync(join(tmpdir(), 'gantry-ui-'));
  const flows = join(dir, 'flows');
  cpSync(join(ROOT, 'flows'), flows, { recursive: true });
  const pipeline = JSON.parse(readFileSync(join(flows, 'complete-deployment.json'), 'utf8'));
  pipeline.params.bake_seconds.default = options.bakeSeconds;
  writeFileSync(join(flows, 'complete-deployment.json'), JSON.stringify(pipeline, null, 2));
  for (const [name, flow] of Object.entries(options.flows ?? {})) writeFileSync(join(flows, name), JSON.stringify(flow));
  // The pack's own configuration, its modules' paths made absolute and its agents' flows those of
  // this folder (relative: an agent's flows lie in the configuration's folder tree), plus who may sign in.
  const pack = JSON.parse(readFileSync(join(PACK, 'gantry.config.json'), 'utf8'));
  for (const agent of Object.values(pack.agents) as { module?: string; flows?: Record<string, string> }[]) {
    if (agent.module) agent.module = join(PACK, agent.module);
    for (const task of Object.keys(agent.flows ?? {})) agent.flows![task] = `flows/${agent.flows![task]!.split('/').pop()!}`;
  }
  const config: Record<string, unknown> = {
    ...pack,
    principals: {
      alice: { roles: ['tech-lead'], token_sha256: sha256(TOKENS.alice) },
      bob: { roles: ['product-manager'], token_sha256: sha256(TOKENS.bob) },
      dave: { roles: ['developer'], token_sha256: sha256(TOKENS.dave) },
    },
    ...(options.basePath ? { server: { base_path: options.basePath } } : {}),
  };
  // The pipeline's last step posts to Slack: a loopback stand-in answers it (the system's edge).
  const slack = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true,"channel":"C1","ts":"1.2"}');
    });
  });
  await new Promise<void>((r) => slack.listen(0, '127.0.0.1', () => r()));
  config.connectors = { slack: { base_url: `http://127.0.0.1:${(slack.address() as { port: number }).port}` } };
  writeFileSync(join(dir, 'gantry.config.json'), JSON.stringify(config, null, 2));
  mkdirSync(join(dir, 'work'));
  const child: ChildProcess = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--host', '0.0.0.0', '--flows', flows, '--config', join(dir, 'gantry.config.json'), '--log-level', 'warn'], {
    cwd: join(dir, 'work'),
    env: { PATH: process.env.PATH ?? '', HOME: dir, NO_COLOR: '1', GITHUB_WEBHOOK_SECRET: SECRET, GITHUB_TOKEN: 'ui-e2e-unused', SLACK_TOKEN: 'xoxb-ui-e2e' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (out += c));
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  const port = await new Promise<number>((resolvePort, reject) => {
    const timer = setTimeout(() => reject(new Error(`gantry serve did not listen within 30 s:\n${out}`)), 30_000);
    const check = () => {
      const m = /listening on http:\/\/[^:]+:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolvePort(Number(m[1]));
      }
    };
    child.stdout!.on('data', check);
    child.on('exit', (code) => reject(new Error(`gantry serve exited (${code}):\n${out}`)));
  });
  return {
    url: `http://127.0.0.1:${port}${options.basePath ?? ''}`,
    port,
    dir,
    output: () => out,
    async stop() {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(killer);
      slack.closeAllConnections();
      await new Promise<void>((r) => slack.close(() => r()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A signed webhook delivery, as GitHub sends it; resolves with the run id. */
export async function deliver(base: string, path: string, payload: object, delivery: string): Promise<string> {
  const body = JSON.stringify(payload);
  const signature = await sign(SECRET, body);
  return new Promise((resolveRun, reject) => {
    const req = request(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature, 'x-github-delivery': delivery, 'x-github-event': 'push' } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c));
      res.on('end', () => (res.statusCode === 202 ? resolveRun((JSON.parse(text) as { run_id: string }).run_id) : reject(new Error(`webhook: ${res.statusCode} ${text}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** GET as a principal, parsed. */
export function api<T = any>(base: string, path: string, token: string): Promise<T> {
  return new Promise((resolveBody, reject) => {
    request(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c));
      res.on('end', () => (res.statusCode === 200 ? resolveBody(JSON.parse(text) as T) : reject(new Error(`${path}: ${res.statusCode} ${text}`))));
    })
      .on('error', reject)
      .end();
  });
}

/**
 * Every console error and uncaught exception of a page: a test ends by expecting none. Chromium
 * itself logs each answer of 400 or more as "Failed to load resource"; those the tests provoke on
 * purpose (a refusal) are told by their status, for the test to check they are the expected ones.
 */
export function watchErrors(page: Page, into: string[]): void {
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const refusal = /^Failed to load resource: the server responded with a status of (\d{3})/.exec(m.text());
    into.push(refusal ? `refused ${refusal[1]}` : `${page.url()}: console: ${m.text()}`);
  });
  page.on('pageerror', (e) => into.push(`${page.url()}: ${e.message}`));
}

/** axe-core's serious and critical findings on the page as it is now. */
export async function axeProblems(page: Page): Promise<string[]> {
  const result = await new AxeBuilder({ page }).analyze();
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join('; ')}`);
}

/** A browser context signed in as a principal (the token goes into the tab's sessionStorage by the sign-in form). */
export async function signedIn(browser: Browser, base: string, token: string, viewport = { width: 1280, height: 800 }, errors: string[] = []): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  watchErrors(page, errors);
  await page.goto(`${base}/ui/`);
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByRole('heading', { name: 'Runs', level: 1 }).waitFor();
  return { context, page };
}

/** Where screenshots go: docs/ui when GANTRY_SCREENSHOTS=docs (to commit them), else a temporary folder. */
export function screenshotDir(): string {
  if (process.env.GANTRY_SCREENSHOTS === 'docs') return join(ROOT, 'docs', 'ui');
  const dir = join(tmpdir(), 'gantry-ui-screenshots');
  mkdirSync(dir, { recursive: true });
  return dir;
}
