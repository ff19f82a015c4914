/**
 * `gantry serve` as the README shows it: its session pasted as is into bash (with `gantry` on the
 * PATH, and another port than 8080, which this machine may be using), and what it writes: lines
 * for a person at a terminal, JSON lines with --json or when stderr is not a terminal.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'packages/cli/dist/bin.js');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const example = (kind: string) => new RegExp(`<!-- example: ${kind} -->\\n\`\`\`\\w*\\n([\\s\\S]*?)\`\`\``).exec(README)?.[1];

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A folder with the README's flow and configuration, the configuration's port changed to `port`. */
function serveFolder(port: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'gantry-serve-readme-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'flows'));
  writeFileSync(join(dir, 'flows', 'hello-hook.json'), example('serve-flow')!);
  writeFileSync(join(dir, 'gantry.config.json'), example('serve-config')!.replace('"port": 8080', `"port": ${port}`));
  return dir;
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolveCheck) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolveCheck(false);
    });
    socket.once('error', () => resolveCheck(true));
  });
}

describe("the README's gantry serve session", () => {
  it('can be pasted as is: the curls wait until the server listens, and stopping it frees the port', async () => {
    const session = example('serve-session');
    expect(session, 'the README marks its serve session <!-- example: serve-session -->').toBeDefined();
    expect(session).not.toContain('npx');
    const port = await freePort();
    const dir = serveFolder(port);
    // `gantry` on the PATH as `npm install -g ./packages/cli` puts it: a link to the build.
    const bin = join(dir, '.bin');
    mkdirSync(bin);
    symlinkSync(BIN, join(bin, 'gantry'));
    const env: Record<string, string | undefined> = { ...process.env, PATH: [bin, process.env.PATH].join(delimiter), NO_COLOR: '1' };
    delete env.DEPLOY_WEBHOOK_SECRET;
    const r = spawnSync('bash', ['-c', session!.replaceAll('8080', String(port))], { cwd: dir, env, encoding: 'utf8', timeout: 90_000 });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const out = r.stdout;
    expect(out).toContain('{"status":"ok"');
    expect(out).toMatch(/\{"run_id":"delivery-demo-1","flow":"hello-hook","status":"running"/);
    expect(out).toMatch(/\{"run_id":"delivery-demo-1","node":"approval","principal":"bob",.*"approval":"approved",.*"run_status":"succeeded"\}/);
    expect(out).toContain('gantry_runs_total{flow="hello-hook",status="succeeded"} 1');
    // The first curl came after "listening on", not before: nothing was refused.
    expect(out.indexOf(`listening on http://127.0.0.1:${port}`)).toBeLessThan(out.indexOf('{"status":"ok"'));
    expect(await refused(port), `port ${port} is still open after the session`).toBe(true);
  }, 120_000);
});

describe('gantry serve logs', () => {
  it('are JSON lines when stderr is not a terminal (a file, a pipe)', async () => {
    const dir = serveFolder(0);
    const proc = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--log-level', 'info'], { cwd: dir, env: { ...process.env, DEPLOY_WEBHOOK_SECRET: 's', NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    proc.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    const deadline = Date.now() + 30_000;
    while (!/listening on http/.test(out) && Date.now() < deadline && proc.exitCode === null) await new Promise((r) => setTimeout(r, 50));
    proc.kill('SIGTERM');
    await new Promise((r) => proc.once('exit', r));
    expect(out).toMatch(/listening on http/);
    const lines = err.split('\n').filter((l) => l.trim() !== '');
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
    expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toContainEqual(expect.stringMatching(/^listening on http/));
  }, 60_000);

  const script = ['/usr/bin/script', '/bin/script'].find((p) => existsSync(p));

  it.runIf(script !== undefined)('are lines for a person at a terminal, beside its own lines; JSON there with --json', async () => {
    const atTerminal = async (until: RegExp, ...extra: string[]) => {
      const dir = serveFolder(0);
      const command = [process.execPath, BIN, 'serve', '--port', '0', '--log-level', 'info', ...extra].join(' ');
      // A pseudo-terminal for its stdout and stderr both, as in a terminal window.
      const proc = spawn(script!, ['-qfec', command, '/dev/null'], { cwd: dir, env: { ...process.env, DEPLOY_WEBHOOK_SECRET: 's', NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      proc.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
      const deadline = Date.now() + 30_000;
      // Its own "listening on" line, and the log line that says it too, whatever their order.
      while (!(/\nlistening on http/.test(out) && until.test(out)) && Date.now() < deadline && proc.exitCode === null) await new Promise((r) => setTimeout(r, 50));
      // Closing the terminal stops what runs in it.
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
      return out.replace(/\r/g, '');
    };
    const human = await atTerminal(/INFO +listening on/);
    expect(human).toMatch(/\nlistening on http/);
    expect(human).toMatch(/(^|\n)\d\d:\d\d:\d\d {2}INFO {3}listening on http:\/\/127\.0\.0\.1:\d+ {2}url=http/);
    expect(human).not.toContain('{"level"');
    const json = await atTerminal(/"msg":"listening on/, '--json');
    expect(json).toMatch(/\nlistening on http/);
    expect(json).toMatch(/\{"level":30,.*"msg":"listening on http/);
  }, 90_000);
});
