import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FakeClock, GantryError } from '@gantry/engine';
import { everythingIn, rejection } from '../connectors/test-kit.js';
import { commandAgent, type CommandAgentOptions } from './command.js';
import { agentTask } from './test-kit.js';
// An orphan is reparented to PID 1, which may reap it late: a zombie is dead, though kill(0) finds it.
import { alive } from '../../../../test/support/processes.js';

const CANARY = 'canary-3f9a4c02-command-secret';
const dir = mkdtempSync(join(tmpdir(), 'gantry-command-agent-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A node program in the temp folder; `body` runs with `task` (the parsed stdin) in scope. */
function program(name: string, body: string): string {
  const file = join(dir, `${name}.mjs`);
  writeFileSync(
    file,
    `let input = '';\nprocess.stdin.setEncoding('utf8');\nprocess.stdin.on('data', (c) => (input += c));\nprocess.stdin.on('end', async () => {\n  const task = JSON.parse(input);\n${body}\n});\n`,
  );
  return file;
}

const agent = (file: string, options: Partial<CommandAgentOptions> = {}) => commandAgent({ command: process.execPath, args: [file], ...options });
const signal = () => new AbortController().signal;


describe('commandAgent', () => {
  it('writes the envelope on stdin and reads the reply from stdout', async () => {
    const file = program('echo', `console.log(JSON.stringify({ status: 'succeeded', result: { got: task }, metrics: { n: 1 } }));`);
    const task = agentTask({ deadline: '2030-01-01T00:00:00.000Z' });
    expect(await agent(file).call(task, signal())).toEqual({ status: 'succeeded', result: { got: task }, metrics: { n: 1 } });
  });

  it('takes pretty-printed JSON, or the last line after progress output, and a plain object as the result', async () => {
    const pretty = program('pretty', `console.log(JSON.stringify({ findings: [], inputs: task.inputs }, null, 2));`);
    expect(await agent(pretty).call(agentTask(), signal())).toEqual({ status: 'succeeded', result: { findings: [], inputs: { pull_request: 12 } } });
    const chatty = program('chatty', `console.log('scanning 3 files…'); console.log('{ partial'); console.log(JSON.stringify({ ok: true })); console.log('');`);
    expect(await agent(chatty).call(agentTask(), signal())).toEqual({ status: 'succeeded', result: { ok: true } });
  });

  it('runs in the given folder with the given environment, and nothing else of ours', async () => {
    const file = program('env', `console.log(JSON.stringify({ cwd: process.cwd(), secret: process.env.GANTRY_TEST_SECRET ?? null, mine: process.env.MINE ?? null }));`);
    process.env.GANTRY_TEST_SECRET = CANARY;
    try {
      const { GANTRY_TEST_SECRET: _hidden, ...env } = process.env;
      const reply = await agent(file, { cwd: dir, env: { ...env, MINE: 'yes' } }).call(agentTask(), signal());
      expect(reply.result).toEqual({ cwd: dir, secret: null, mine: 'yes' });
    } finally {
      delete process.env.GANTRY_TEST_SECRET;
    }
  });

  it('given no environment, gets the minimal one of this process: never its other variables', async () => {
    const file = program('bare', `console.log(JSON.stringify({ path: process.env.PATH === undefined ? null : 'set', secret: process.env.GANTRY_TEST_SECRET ?? null, lc: process.env.LC_TIME ?? null }));`);
    process.env.GANTRY_TEST_SECRET = CANARY;
    process.env.LC_TIME = 'C';
    try {
      expect((await agent(file).call(agentTask(), signal())).result).toEqual({ path: 'set', secret: null, lc: 'C' });
    } finally {
      delete process.env.GANTRY_TEST_SECRET;
      delete process.env.LC_TIME;
    }
  });

  it('writes every line of stderr to the attempt\'s output, whole, a credential scrubbed even across chunks', async () => {
    // The credential is written in two pieces, a moment apart, so that it reaches us in two chunks.
    const file = program(
      'stderr-lines',
      `process.stderr.write('step 1\\nstep 2 with ${CANARY.slice(0, 10)}'); await new Promise((r) => setTimeout(r, 50)); process.stderr.write('${CANARY.slice(10)} inside\\nlast, no newline'); console.log('{}');`,
    );
    const written: string[] = [];
    const output = { write: (text: string, source?: string) => written.push(`${source}|${text}`) };
    await agent(file, { secrets: [CANARY] }).call(agentTask(), signal(), { clock: new FakeClock(), output });
    const lines = written.join('').split('\n');
    expect(written.every((w) => w.startsWith('stderr|'))).toBe(true);
    expect(written.map((w) => w.slice('stderr|'.length)).join('')).toBe('step 1\nstep 2 with [REDACTED] inside\nlast, no newline');
    expect(lines.join('')).not.toContain(CANARY.slice(0, 10));
  });

  it('fails a non-zero exit with the end of stderr; only exit 75 or a foreign signal is retryable', async () => {
    const failing = program('fail', `console.error('boom: cannot reach the registry'); process.exit(3);`);
    const error = await rejection(agent(failing).call(agentTask(), signal()));
    expect(error).toMatchObject({ code: 'AGENT_FAILED', retryable: false });
    expect(error.message).toContain('exited with status 3; stderr: boom: cannot reach the registry');
    expect(error.message).toContain('agent "reviewer" task "code_review"');

    const later = program('tempfail', `process.exit(75);`);
    expect(await rejection(agent(later).call(agentTask(), signal()))).toMatchObject({ code: 'AGENT_FAILED', retryable: true });

    const killed = program('killed', `process.kill(process.pid, 'SIGKILL');`);
    const oom = await rejection(agent(killed).call(agentTask(), signal()));
    expect(oom).toMatchObject({ retryable: true });
    expect(oom.message).toContain('was killed by SIGKILL');
  });

  it('passes on a failed reply printed before a non-zero exit', async () => {
    const file = program('failed-reply', `console.log(JSON.stringify({ status: 'failed', error: { message: 'coverage 61% < 80%' } })); process.exit(1);`);
    expect(await agent(file).call(agentTask(), signal())).toEqual({ status: 'failed', error: { message: 'coverage 61% < 80%' } });
  });

  it('fails a program that prints no JSON, or an answer that is no object', async () => {
    const prose = program('prose', `console.log('all good!');`);
    const error = await rejection(agent(prose).call(agentTask(), signal()));
    expect(error).toMatchObject({ code: 'AGENT_FAILED', retryable: false });
    expect(error.message).toContain('exited 0 but printed no JSON reply on stdout: all good!');
    const array = program('array', `console.log('[1,2]');`);
    expect((await rejection(agent(array).call(agentTask(), signal()))).message).toContain('answered `[1,2]` (array); expected a JSON object');
  });

  it('says when the program cannot be started', async () => {
    const error = await rejection(commandAgent({ command: join(dir, 'missing-program') }).call(agentTask(), signal()));
    expect(error).toMatchObject({ code: 'AGENT_FAILED', retryable: false });
    expect(error.message).toContain('could not be started: ENOENT');
  });

  it('stops the program with SIGTERM when the caller aborts, and passes the reason on', async () => {
    const pidFile = join(dir, 'term.pid');
    const file = program('sleeper', `(await import('node:fs')).writeFileSync(${JSON.stringify(pidFile)}, String(process.pid)); setInterval(() => {}, 1000);`);
    const controller = new AbortController();
    const reason = new GantryError('TIMEOUT', 'node review ran past its 5 s timeout', { retryable: true });
    const pending = agent(file).call(agentTask(), controller.signal);
    await expect.poll(() => existsSync(pidFile), { timeout: 5_000 }).toBe(true);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    controller.abort(reason);
    expect(await rejection(pending)).toBe(reason);
    expect(alive(pid)).toBe(false);
  });

  it('kills a program that ignores SIGTERM after the grace period', async () => {
    const pidFile = join(dir, 'stubborn.pid');
    const file = program('stubborn', `process.on('SIGTERM', () => {}); (await import('node:fs')).writeFileSync(${JSON.stringify(pidFile)}, String(process.pid)); setInterval(() => {}, 1000);`);
    const controller = new AbortController();
    const pending = agent(file, { killGraceMs: 200 }).call(agentTask(), controller.signal);
    await expect.poll(() => existsSync(pidFile), { timeout: 5_000 }).toBe(true);
    const started = Date.now();
    controller.abort();
    await rejection(pending);
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    expect(alive(Number(readFileSync(pidFile, 'utf8')))).toBe(false);
  });

  it('kills, after the grace period, a process the program started that ignores SIGTERM, even though the program itself has exited', async () => {
    const pidFile = join(dir, 'orphan.pid');
    // The program exits on SIGTERM at once; its child ignores SIGTERM and holds none of our pipes, so nothing waits for it.
    const child = `process.on('SIGTERM', () => {}); require('node:fs').writeFileSync(${JSON.stringify(pidFile)}, String(process.pid)); setInterval(() => {}, 1000);`;
    const file = program('parent', `(await import('node:child_process')).spawn(process.execPath, ['-e', ${JSON.stringify(child)}], { stdio: 'ignore' }); setInterval(() => {}, 1000);`);
    const controller = new AbortController();
    const pending = agent(file, { killGraceMs: 200 }).call(agentTask(), controller.signal);
    await expect.poll(() => existsSync(pidFile), { timeout: 5_000 }).toBe(true);
    const orphan = Number(readFileSync(pidFile, 'utf8'));
    controller.abort();
    await rejection(pending);
    try {
      await expect.poll(() => alive(orphan), { timeout: 5_000 }).toBe(false);
    } finally {
      if (alive(orphan)) process.kill(orphan, 'SIGKILL');
    }
  });

  it('times a task out at the agent\'s own timeout, retryably', async () => {
    const file = program('slow', `setTimeout(() => console.log('{}'), 10_000);`);
    const error = await rejection(agent(file, { taskTimeoutMs: 200 }).call(agentTask(), signal()));
    expect(error).toMatchObject({ code: 'AGENT_FAILED', retryable: true });
    expect(error.message).toContain("ran past the agent's 200 ms timeout");
  });

  it('keeps the agent\'s own timeout on the engine\'s clock', async () => {
    const clock = new FakeClock();
    const pidFile = join(dir, 'clocked.pid');
    const file = program('clocked', `(await import('node:fs')).writeFileSync(${JSON.stringify(pidFile)}, String(process.pid)); setTimeout(() => console.log('{}'), 10_000);`);
    const call = rejection(agent(file, { taskTimeoutMs: 600_000 }).call(agentTask(), signal(), { clock }));
    await expect.poll(() => existsSync(pidFile), { timeout: 5_000 }).toBe(true);
    // Ten minutes of the engine's time pass in a moment of real time.
    await clock.advance(600_000);
    const error = await call;
    expect(error).toMatchObject({ code: 'AGENT_FAILED', retryable: true });
    expect(error.message).toContain("ran past the agent's 600000 ms timeout");
  });

  it('stops a program that prints more than maxOutputBytes', async () => {
    const file = program('flood', `const line = 'x'.repeat(1024) + '\\n'; const pump = () => { while (process.stdout.write(line)); process.stdout.once('drain', pump); }; pump();`);
    const error = await rejection(agent(file, { maxOutputBytes: 64 * 1024 }).call(agentTask(), signal()));
    expect(error).toMatchObject({ code: 'RESPONSE_TOO_LARGE' });
  });

  it('keeps a secret it was given out of replies and messages', async () => {
    const file = program('leaky', `const s = process.env.TOKEN; if (task.inputs.fail) { console.error('auth failed for token ' + s); process.exit(2); } console.log(JSON.stringify({ token: s }));`);
    const a = agent(file, { env: { ...process.env, TOKEN: CANARY }, secrets: [CANARY] });
    const reply = await a.call(agentTask(), signal());
    expect(reply).toEqual({ status: 'succeeded', result: { token: '[REDACTED]' } });
    const error = await rejection(a.call(agentTask({ inputs: { fail: true } }), signal()));
    expect(error.message).toContain('auth failed for token [REDACTED]');
    for (const thing of [reply, error]) expect(everythingIn(thing)).not.toContain(CANARY);
  });

  it('validates its options when made', () => {
    expect(() => commandAgent({ command: '' })).toThrow('commandAgent: expected `command` to be a non-empty string, got `""` (string)');
    expect(() => commandAgent({ command: 'x', args: 'a b' as never })).toThrow('expected `args` to be a list of strings');
    expect(() => commandAgent({ command: 'x', killGraceMs: -1 })).toThrow('expected `killGraceMs` to be an integer ≥ 0');
  });
});
