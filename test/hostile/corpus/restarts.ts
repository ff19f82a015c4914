/**
 * Items 1, 2 and 10 across process lifetimes: a run that crashes every process resuming it (set
 * aside as CRASH_LOOP, so that the server starts), a catastrophic regex met after a restart (the
 * server must still listen), and trivial expressions in a process the machine keeps pausing (a
 * busy machine must not fail them).
 */
import { join } from 'node:path';
import { openSqliteStore } from '@gantry/store-sqlite';
import type { CaseContext, HostileCase } from '../case.js';
import { checkAlive } from '../drivers.js';
import { hooked } from '../harness.js';
import { cli, ending, FIXTURES, type Served } from '../processes.js';
import { api, deliver, FINAL, pollRun } from '../probes.js';

/** How many times a server may crash on the hostile run before it must start (DESIGN §11: "a few"). */
const MAX_STARTS = 6;

const crashConfig = { agents: { crasher: { transport: 'module', module: join(FIXTURES, 'crasher.mjs') } } };
const crashFlow = hooked('Crasher', [{ id: 'work', type: 'agent', data: { agent: 'crasher', task: 'crash' } }]);

/** Polls the run through `s` until it is final or `s` has died. */
async function untilFinalOrDead(ctx: CaseContext, s: Served, runId: string, deadline: number): Promise<any> {
  while (s.running && Date.now() < deadline) {
    const a = await api(s.url, `/runs/${encodeURIComponent(runId)}`, { timeoutMs: 1_000, log: ctx.answers });
    if (a.status === 200 && FINAL.has(a.json?.status)) return a.json;
    await new Promise((r) => setTimeout(r, 50));
  }
  return undefined;
}

function checkCrashLoop(ctx: CaseContext, status: string | undefined, error: { code?: string; message?: string } | undefined, starts: number): void {
  ctx.note(`${starts} start(s) after the first crash`);
  if (status !== 'failed' || error?.code !== 'CRASH_LOOP') ctx.problem(`the crashing run ended ${status ?? 'never'} ${error?.code ?? ''}, expected failed with CRASH_LOOP`);
  else if (!(error.message ?? '').includes('node "work"')) ctx.problem(`the CRASH_LOOP message does not name the node "work": ${error.message}`);
}

async function crashLoopServe(ctx: CaseContext): Promise<void> {
  const first = await ctx.serveWithBystanders();
  if (!first) return;
  const start = Date.now();
  const a = await deliver(first.url, '/hostile', JSON.stringify({ ref: 'refs/heads/main' }), { delivery: 'crash-1', log: ctx.answers });
  const runId = a.json?.run_id;
  await Promise.race([first.ended, new Promise((r) => setTimeout(r, 5_000))]);
  if (first.running) return ctx.problem('the crashing agent did not take the first server down: the case proves nothing');
  let view: any;
  let starts = 0;
  let last: Served | undefined;
  while (starts < MAX_STARTS && view === undefined) {
    starts++;
    last = await ctx.serve();
    if (!last.url) continue; // crashed before listening
    view = await untilFinalOrDead(ctx, last, runId, Date.now() + 5_000);
  }
  ctx.refused(Date.now() - start, view ? `run ${view.status} ${view.error?.code ?? ''} after ${starts} start(s)` : `still crashing after ${starts} starts`);
  checkCrashLoop(ctx, view?.status, view?.error, starts);
  if (last?.url && last.running) {
    const health = await ctx.watchHealth(last);
    await health();
    await checkAlive(ctx, last);
  } else ctx.problem(`the last server is not running: ${ending(last?.exit)}`);
}

async function crashLoopResume(ctx: CaseContext): Promise<void> {
  const start = Date.now();
  const first = await cli(ctx.ws, ['run', 'flows/hostile.json', '--json']);
  ctx.outputs.push(first.stdout, first.stderr);
  if (first.signal !== 'SIGKILL') return ctx.problem(`the crashing agent did not take gantry run down (${ending(first)}): the case proves nothing`);
  const store = openSqliteStore(ctx.ws.storePath, { mode: 'read' });
  const runId = store.listRuns({ parentRunId: null }).find((r) => r.flowName === 'Crasher')?.runId;
  store.close();
  if (runId === undefined) return ctx.problem('no Crasher run in the store after the crash');
  let starts = 0;
  let ended;
  while (starts < MAX_STARTS) {
    starts++;
    const r = await cli(ctx.ws, ['resume', runId, '--json'], { timeoutMs: 10_000 });
    ctx.outputs.push(r.stdout, r.stderr);
    if (r.signal === null) {
      ended = r;
      break;
    }
  }
  ctx.refused(Date.now() - start, ended ? `resume ${ending(ended)} after ${starts}` : `still crashing after ${starts} resumes`);
  if (ended && ended.code !== 1) ctx.problem(`gantry resume of the crashing run: ${ending(ended)}, expected exit 1 (failed)`);
  const shown = await cli(ctx.ws, ['show', runId, '--json']);
  ctx.outputs.push(shown.stdout);
  const events = JSON.parse(shown.stdout || '{"events":[]}').events as any[];
  const finished = events.find((e) => e.type === 'run.finished');
  checkCrashLoop(ctx, finished?.status, finished?.error, starts);
}

/** A run waiting 1 s before a catastrophic gate; the server is killed, restarted, and must listen. */
async function regexAfterRestart(ctx: CaseContext): Promise<void> {
  const first = await ctx.serveWithBystanders();
  if (!first) return;
  const a = await deliver(first.url, '/hostile', JSON.stringify({ pull_request: { title: `${'a'.repeat(34)}!` } }), { delivery: 'regex-restart-1', log: ctx.answers });
  await first.kill();
  await new Promise((r) => setTimeout(r, 1_100)); // the wait is due
  const start = Date.now();
  const second = await ctx.serve({ timeoutMs: 2 * ctx.c.expect.budgetMs });
  if (!second.url) {
    ctx.refused(Date.now() - start, 'never listened');
    return ctx.problem(`after the restart gantry serve did not listen within ${2 * ctx.c.expect.budgetMs} ms (${ending(second.exit)}): it resumed the run first`);
  }
  const health = await ctx.watchHealth(second);
  const polled = await pollRun(second.url, a.json.run_id, start, start + 2 * ctx.c.expect.budgetMs, { log: ctx.answers });
  ctx.refused(polled.ms ?? Date.now() - start, polled.ms === undefined ? 'no end' : `run ${polled.view.status}`);
  if (polled.view?.status !== 'failed') ctx.problem(`the resumed run ended ${polled.ms === undefined ? 'never (within the cut-off)' : polled.view?.status}, expected failed (GATE_FAILED)`);
  await health();
  await checkAlive(ctx, second);
}

/**
 * Small expressions (a route, a label, a sum of 1,000 numbers: far below any step cap) over 200
 * items, while the process is stopped for 250 ms at a time (SIGSTOP/SIGCONT): what a busy
 * machine does to it. A wall-clock limit of 100 ms fails some of them; a limit on what the
 * expression does cannot.
 */
async function trivialWhilePaused(ctx: CaseContext): Promise<void> {
  const s = await ctx.serveWithBystanders();
  if (!s) return;
  const start = Date.now();
  const a = await deliver(s.url, '/hostile', JSON.stringify({ route: 'b' }), { delivery: 'paused-1', log: ctx.answers });
  let pauses = 0;
  const pausing = (async () => {
    while (pauses < 12 && s.running) {
      await new Promise((r) => setTimeout(r, 40));
      s.child.kill('SIGSTOP');
      await new Promise((r) => setTimeout(r, 250));
      s.child.kill('SIGCONT');
      pauses++;
    }
  })();
  const polled = await pollRun(s.url, a.json.run_id, start, start + 2 * ctx.c.expect.budgetMs, { log: ctx.answers });
  pauses = 99;
  await pausing;
  ctx.note(`paused 250 ms at a time while the run went on`);
  ctx.refused(polled.ms ?? Date.now() - start, polled.ms === undefined ? 'no end' : `run ${polled.view.status}`);
  if (polled.view?.status !== 'succeeded') ctx.problem(`the run of trivial expressions ended ${polled.view?.status ?? 'never'}: ${JSON.stringify(polled.view?.error ?? (polled.view?.nodes ?? []).find((n: any) => n.error)?.error ?? null).slice(0, 300)}`);
  await checkAlive(ctx, s);
}

export const restartCases: HostileCase[] = [
  {
    id: 'crash-loop-serve',
    item: '2',
    title: 'a run that kills every server resuming it: after a few crashes it is failed CRASH_LOOP and serve starts',
    via: 'custom',
    flow: crashFlow,
    config: crashConfig,
    drive: crashLoopServe,
    expect: { budgetMs: 10_000 },
  },
  {
    id: 'crash-loop-resume',
    item: '2',
    title: 'gantry resume of a run that kills its process: after a few crashes it ends failed CRASH_LOOP',
    via: 'custom',
    flow: crashFlow,
    config: crashConfig,
    drive: crashLoopResume,
    expect: { budgetMs: 10_000, noHealth: true },
  },
  {
    id: 'regex-after-restart',
    item: '1',
    title: 'a catastrophic gate due when the server restarts: it listens, the run fails GATE_FAILED',
    via: 'custom',
    flow: hooked('Regex after a wait', [
      { id: 'pause', type: 'wait', data: { seconds: 1 } },
      { id: 'gate', type: 'conditional', data: { conditions: [{ metric: 'pull_request.title', operator: 'matches', value: '^([a-z]+)+$' }] } },
    ]),
    drive: regexAfterRestart,
    expect: { budgetMs: 4_000 },
  },
  {
    id: 'trivial-while-paused',
    alone: true,
    item: '10',
    title: 'small expressions over 200 items while the server is paused 250 ms at a time: none fails',
    via: 'custom',
    flow: hooked('Trivial', [
      {
        id: 'fan',
        type: 'wait',
        data: { seconds: 0 },
        for_each: '{% [1..200] %}',
        concurrency: 50,
        output: { route: "{% $item % 2 = 0 ? 'b' : 'a' %}", label: "{% 'item-' & $string($item) %}", total: '{% $sum([1..1000].($ * 2)) %}' },
      },
      { id: 'after', type: 'wait', data: { seconds: 0 }, when: "{% $trigger.route = 'b' %}" },
    ]),
    drive: trivialWhilePaused,
    expect: { budgetMs: 8_000, noHealth: true },
  },
];
