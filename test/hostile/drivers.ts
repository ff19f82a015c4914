/**
 * The four usual shapes of a case: a signed delivery to a `gantry serve`, a `gantry run`, a
 * `gantry validate`, a `gantry serve` that must refuse to start.
 */
import type { CaseContext } from './case.js';
import { checkExit, checkRunEnd, codesOf, type Run } from './context.js';
import { alive, cli, ending, type Exited, type Served } from './processes.js';
import { call, deliver, pollRun } from './probes.js';

const tail = (text: string, lines = 6) => text.trim().split('\n').slice(-lines).join(' | ').slice(0, 800);

/** `gantry serve` as it ended, as a CLI result. */
export function servedExit(s: Served): Exited {
  return { code: s.exit?.code ?? null, signal: s.exit?.signal ?? null, stdout: s.stdout, stderr: s.stderr, ms: Date.now() - s.startedAt, timedOut: s.exit === undefined };
}

/** A start refused: good when the case allows it (`orRefusedBeforeRun`), a problem otherwise. */
export function refusedAtStart(run: Run, x: Exited, what: string): void {
  const text = `${x.stdout}\n${x.stderr}`;
  if (run.e.orRefusedBeforeRun && x.code === 2 && run.e.orRefusedBeforeRun.test(text)) {
    // A start's time is Node's start-up, not the hostile work's: recorded, not held to the budget.
    run.report.refusalMs = x.ms;
    run.report.refusal = `${what} refused at start (exit 2), not timed`;
    run.note(`refused before anything ran: ${tail(x.stderr, 3)}`);
    return;
  }
  run.problem(`${what} did not start: ${ending(x)}: ${tail(text)}`);
}

/** The server is alive and answers /health. */
export async function checkAlive(run: Pick<CaseContext, 'problem'>, served: Served): Promise<void> {
  if (!served.running || !alive(served.pid)) {
    run.problem(`gantry serve died: ${ending(served.exit)}: ${tail(served.stderr)}`);
    return;
  }
  const health = await call(served.url, 'GET', '/health', { timeoutMs: 2_000 });
  if (health.status !== 200) {
    run.problem(`gantry serve is alive but /health answers ${health.status || 'nothing'} after the case`);
    // Frozen: waiting for a graceful stop would only cost time.
    await served.kill();
  }
}

/** The in-server time of the hostile work: the failed node's duration, else the run's. */
function serverMs(view: any): number | undefined {
  const failed = (view?.nodes ?? []).find((n: any) => n.status === 'failed' && typeof n.duration_ms === 'number');
  return failed?.duration_ms ?? view?.duration_ms;
}

export async function driveWebhook(run: Run): Promise<void> {
  const e = run.e;
  const served = await run.serve();
  if (!served.url) return refusedAtStart(run, servedExit(served), 'gantry serve');
  if (run.c.bystanders !== false) await run.bystanders(served);
  const health = e.noHealth ? undefined : await run.watchHealth(served);
  const start = Date.now();
  const answer = await deliver(served.url, '/hostile', run.payloadText(), {
    ...(run.c.delivery === undefined ? {} : { delivery: run.c.delivery }),
    timeoutMs: 2 * e.budgetMs,
    log: run.answers,
  });
  if (e.answer) {
    const code = answer.json?.error?.code;
    run.refused(answer.ms, `${answer.status || 'no answer'}${code ? ` ${code}` : ''}`);
    if (answer.status !== e.answer.status) run.problem(`answered ${answer.status || 'nothing'}, expected ${e.answer.status}: ${answer.text.slice(0, 300)}`);
    if (e.answer.code && code !== e.answer.code) run.problem(`answered with code ${code}, expected ${e.answer.code}`);
    if (e.answer.says && !e.answer.says.test(answer.text)) run.problem(`the answer does not say ${e.answer.says}: ${answer.text.slice(0, 300)}`);
  } else if (answer.status !== 202) {
    run.problem(`the hostile delivery was answered ${answer.status || 'nothing'}, not 202: ${answer.text.slice(0, 300)}`);
  } else {
    const polled = await pollRun(served.url, answer.json.run_id, start, run.deadline(start), { log: run.answers });
    const codes = codesOf(polled.view);
    if (polled.ms !== undefined) run.refused(polled.ms, `run ${polled.view.status}${codes.length ? ` ${codes.join(',')}` : ''}`);
    const ms = serverMs(polled.view);
    if (ms !== undefined) run.serverTime(ms);
    checkRunEnd(run, e, polled.ms === undefined ? undefined : polled.view?.status, codes, polled.view?.error?.message ?? '');
  }
  if (health) await health();
  await checkAlive(run, served);
}

/** The events `gantry run --json` printed. */
export function eventsOf(stdout: string): any[] {
  return stdout.split('\n').flatMap((line) => {
    if (!line.startsWith('{')) return [];
    try {
      const v = JSON.parse(line);
      return typeof v?.type === 'string' ? [v] : [];
    } catch {
      return [];
    }
  });
}

export async function driveRun(run: Run): Promise<void> {
  const e = run.e;
  if (run.c.bystanders !== false) await run.cliBystander();
  const args = ['run', 'flows/hostile.json', '--json', '--log-level', 'debug', ...(run.c.payload === undefined ? [] : ['--input', 'input.json']), ...(run.c.args ?? [])];
  const x = await cli(run.ws, args, { env: { ...run.c.env }, timeoutMs: 2 * e.budgetMs });
  run.outputs.push(x.stdout, x.stderr);
  const events = eventsOf(x.stdout);
  const started = events.some((ev) => ev.type === 'run.started');
  if (!started && x.code === 2 && e.orRefusedBeforeRun && !e.exit) return refusedAtStart(run, x, 'gantry run');
  const finished = events.find((ev) => ev.type === 'run.finished');
  const codes = [...new Set([finished?.error?.code, ...events.filter((ev) => ev.type === 'node.failed').map((ev) => ev.error?.code)].filter(Boolean))] as string[];
  run.refused(x.ms, x.timedOut ? 'no end (killed)' : `exit ${x.code ?? x.signal}${finished ? ` run ${finished.status}` : ''}${codes.length ? ` ${codes.join(',')}` : ''}`);
  const failed = events.find((ev) => ev.type === 'node.failed');
  const begun = failed && events.find((ev) => ev.type === 'node.started' && ev.nodeId === failed.nodeId);
  if (failed && begun) run.serverTime(failed.at - begun.at);
  checkExit(run, e, x, 'gantry run');
  const runId = events.find((ev) => ev.type === 'run.started')?.runId;
  if (runId !== undefined && !x.timedOut) {
    // What a user then reads: the run as `gantry show --json` prints it (scanned with the rest).
    const shown = await cli(run.ws, ['show', runId, '--json'], { env: { ...run.c.env } });
    run.outputs.push(shown.stdout, shown.stderr);
    if (shown.code !== 0) run.problem(`gantry show ${runId} after the run: ${ending(shown)}: ${tail(shown.stderr, 3)}`);
  }
  if (e.run) checkRunEnd(run, e, finished?.status ?? (x.code === 4 ? 'waiting' : undefined), codes, finished?.error?.message ?? tail(x.stderr, 3));
}

export async function driveValidate(run: Run): Promise<void> {
  const x = await cli(run.ws, ['validate', ...(run.c.args ?? ['flows/hostile.json'])], { env: { ...run.c.env }, timeoutMs: 2 * run.e.budgetMs });
  run.outputs.push(x.stdout, x.stderr);
  run.refused(x.ms, x.timedOut ? 'no end (killed)' : `exit ${x.code ?? x.signal}`);
  checkExit(run, run.e, x, 'gantry validate');
}

export async function driveServeStart(run: Run): Promise<void> {
  const served = await run.serve({ timeoutMs: 2 * run.e.budgetMs });
  const x = servedExit(served);
  if (served.url) {
    run.problem(`gantry serve started (listening on ${served.url}) where it should refuse: ${tail(served.stderr, 3)}`);
    return;
  }
  run.refused(x.ms, x.timedOut ? 'no end (killed)' : `exit ${x.code ?? x.signal}`);
  checkExit(run, run.e, x, 'gantry serve');
}
