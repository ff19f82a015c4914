/**
 * Items 5 and 8: who may approve (principal names and aliases compare case-insensitively, as
 * GitHub's logins do) and whose run an id names (a delivery id can never name a sub-flow's run,
 * and a sub-flow adopts only its own children).
 */
import { openSqliteStore } from '@gantry/store-sqlite';
import { BUDGET, type CaseContext, type HostileCase } from '../case.js';
import { checkAlive } from '../drivers.js';
import { hooked } from '../harness.js';
import { cli, ending } from '../processes.js';
import { api, deliver, pollRun, sha256 } from '../probes.js';

const TOKENS = { alice: 'token-alice-5d1f', bob: 'token-bob-9c2e' };
const principals = (aliceAliases: string[]) => ({
  principals: {
    alice: { roles: ['tech-lead'], aliases: aliceAliases, token_sha256: sha256(TOKENS.alice) },
    bob: { roles: ['tech-lead'], token_sha256: sha256(TOKENS.bob) },
  },
});
const deploy = hooked('Deploy', [{ id: 'approval', type: 'human_approval', data: { approvers: ['tech-lead'], timeout: 3600 } }]);

/** A webhook sent by `login`; alice, whose alias or name it is but for case, tries to approve. */
function selfApproval(login: string): (ctx: CaseContext) => Promise<void> {
  return async (ctx) => {
    const s = await ctx.serveWithBystanders();
    if (!s) return;
    const health = await ctx.watchHealth(s);
    const started = await deliver(s.url, '/hostile', JSON.stringify({ ref: 'refs/heads/main', sender: { login } }), { delivery: 'self-approval-1', log: ctx.answers });
    const runId = started.json?.run_id;
    const waiting = await pollRun(s.url, runId, Date.now(), Date.now() + 5_000, { untilWaiting: true, log: ctx.answers });
    if (waiting.view?.status !== 'waiting') ctx.problem(`the deployment run is ${waiting.view?.status}, not waiting for its approval`);
    const path = `/runs/${encodeURIComponent(runId)}/nodes/approval/decision`;
    const own = await api(s.url, path, { method: 'POST', body: { decision: 'approve', comment: 'lgtm' }, token: TOKENS.alice, log: ctx.answers });
    ctx.refused(own.ms, `${own.status} ${own.json?.error?.code ?? ''}`.trim());
    if (own.status !== 403 || own.json?.error?.code !== 'APPROVAL_FORBIDDEN') ctx.problem(`alice approving the deployment sent by "${login}" was answered ${own.status} ${own.json?.error?.code ?? ''}, expected 403 APPROVAL_FORBIDDEN`);
    const still = await api(s.url, `/runs/${encodeURIComponent(runId)}`, { log: ctx.answers });
    if (still.json?.status !== 'waiting') ctx.problem(`after alice's attempt the run is ${still.json?.status}, not waiting`);
    // Someone else may: the refusal was about who sent it.
    const other = await api(s.url, path, { method: 'POST', body: { decision: 'approve' }, token: TOKENS.bob, log: ctx.answers });
    if (other.status !== 200) ctx.problem(`bob (another tech lead) approving was answered ${other.status} ${other.text.slice(0, 200)}, expected 200`);
    await health();
    await checkAlive(ctx, s);
  };
}

/** The one child run of `parent` in the store, and the run `id`. */
function stored(ctx: CaseContext, parent: string, id: string) {
  const store = openSqliteStore(ctx.ws.storePath, { mode: 'read' });
  try {
    return { children: store.listRuns({ parentRunId: parent }), run: store.getRun(id) };
  } finally {
    store.close();
  }
}

const plant = { name: 'Plant', nodes: [{ id: 'hook', type: 'webhook', data: { endpoint: '/plant', authentication: 'github_webhook_secret' } }, { id: 'mark', type: 'wait', data: { seconds: 0 }, output: { planted: true } }], edges: [{ from: 'hook', to: 'mark' }] };
const child = { name: 'Child', nodes: [{ id: 'work', type: 'wait', data: { seconds: 0 }, output: { child: true } }] };
const parentFlow = hooked('Parent', [{ id: 'child', type: 'subflow', data: { flow: './child.json' } }]);
const idFiles = { 'flows/plant.json': plant, 'flows/child.json': child };

/** A signed delivery whose id is planted first (`plantFirst`) or after the parent's sub-flow ran. */
function plantedRunId(plantFirst: boolean): (ctx: CaseContext) => Promise<void> {
  return async (ctx) => {
    const s = await ctx.serveWithBystanders();
    if (!s) return;
    const health = await ctx.watchHealth(s);
    const start = Date.now();
    const body = JSON.stringify({ ref: 'refs/heads/main' });
    const plantIt = async () => {
      const a = await deliver(s.url, '/plant', body, { delivery: 'zz9.child', log: ctx.answers });
      if (a.status !== 202) ctx.problem(`the delivery zz9.child was answered ${a.status} ${a.text.slice(0, 200)}, expected 202 (a new run of Plant)`);
      else if (String(a.json.run_id).includes('.')) ctx.problem(`the delivery zz9.child became run id ${a.json.run_id}: a top-level run id with "."`);
      if (a.status === 202) await pollRun(s.url, a.json.run_id, Date.now(), Date.now() + 5_000, { log: ctx.answers });
      return a.json?.run_id as string | undefined;
    };
    const planted = plantFirst ? await plantIt() : undefined;
    const p = await deliver(s.url, '/hostile', body, { delivery: 'zz9', log: ctx.answers });
    const parentId = p.json?.run_id as string;
    const polled = await pollRun(s.url, parentId, start, start + 2 * ctx.c.expect.budgetMs, { log: ctx.answers });
    const later = plantFirst ? undefined : await plantIt();
    ctx.refused(Date.now() - start, `parent ${polled.view?.status}`);
    if (polled.view?.status !== 'succeeded') ctx.problem(`the parent run ${parentId} ended ${polled.view?.status}`);
    if (JSON.stringify(polled.view?.output ?? {}).includes('planted')) ctx.problem(`the parent's sub-flow adopted the planted run: its output is ${JSON.stringify(polled.view?.output)}`);
    const plantedId = planted ?? later;
    const found = stored(ctx, parentId, plantedId ?? '');
    if (found.children.length !== 1 || found.children[0]!.flowName !== 'Child') ctx.problem(`the parent's children in the store: ${JSON.stringify(found.children.map((c) => [c.runId, c.flowName]))}, expected one run of Child`);
    if (plantedId !== undefined && (found.run?.flowName !== 'Plant' || found.run.parentRunId !== undefined)) ctx.problem(`the planted run ${plantedId} is now ${JSON.stringify(found.run && { flow: found.run.flowName, parent: found.run.parentRunId, status: found.run.status })}`);
    await health();
    await checkAlive(ctx, s);
  };
}

/** Delivery ids that are not `^[A-Za-z0-9_-]{1,100}$` become `delivery-h` + 32 hex digits; a repeat finds its run. */
async function oddDeliveryIds(ctx: CaseContext): Promise<void> {
  const s = await ctx.serveWithBystanders();
  if (!s) return;
  const health = await ctx.watchHealth(s);
  const start = Date.now();
  const body = JSON.stringify({ ref: 'refs/heads/main' });
  const odd = ['../../etc/passwd', 'x'.repeat(300), 'x.y.z', 'with space', '%2e%2e', 'zz9.child'];
  for (const id of odd) {
    const a = await deliver(s.url, '/plant', body, { delivery: id, log: ctx.answers });
    if (a.status !== 202 || !/^delivery-h[0-9a-f]{32}$/.test(a.json?.run_id)) ctx.problem(`delivery ${JSON.stringify(id.slice(0, 40))} was answered ${a.status} ${a.json?.run_id ?? a.text.slice(0, 160)}, expected 202 with run id delivery-h<32 hex digits>`);
    const again = await deliver(s.url, '/plant', body, { delivery: id, log: ctx.answers });
    if (a.status === 202 && (again.status !== 200 || again.json?.run_id !== a.json?.run_id)) ctx.problem(`the repeat of delivery ${JSON.stringify(id.slice(0, 40))} was answered ${again.status} ${again.json?.run_id}, expected 200 with ${a.json?.run_id}`);
  }
  const plain = await deliver(s.url, '/plant', body, { delivery: 'abc-123_X', log: ctx.answers });
  if (plain.json?.run_id !== 'delivery-abc-123_X') ctx.problem(`delivery abc-123_X became ${plain.json?.run_id ?? plain.status}, expected delivery-abc-123_X`);
  ctx.refused(Date.now() - start, `${odd.length * 2 + 1} deliveries`);
  await health();
  await checkAlive(ctx, s);
}

/** A tech lead and a product manager must approve; alice (tech lead) approves, then "ALICE" tries again through the CLI. */
async function duplicateDecisionByCase(ctx: CaseContext): Promise<void> {
  const r = await cli(ctx.ws, ['run', 'flows/hostile.json', '--json']);
  ctx.outputs.push(r.stdout, r.stderr);
  const runId = r.stdout.split('\n').map((l) => (l.startsWith('{') ? JSON.parse(l) : {})).find((e) => e.type === 'run.started')?.runId;
  if (r.code !== 4 || !runId) return ctx.problem(`the run did not wait for its approval: ${ending(r)} ${r.stderr.slice(-300)}`);
  const first = await cli(ctx.ws, ['approve', runId, 'approval', '--as', 'alice']);
  if (first.code !== 0) ctx.problem(`alice's approval: ${ending(first)} ${first.stderr.slice(-300)}`);
  const again = await cli(ctx.ws, ['approve', runId, 'approval', '--as', 'ALICE']);
  ctx.outputs.push(first.stdout, first.stderr, again.stdout, again.stderr);
  ctx.refused(again.ms, ending(again));
  if (again.code === 0) ctx.problem(`"ALICE" approved a second time after alice: ${again.stdout.slice(-300)}`);
  const shown = await cli(ctx.ws, ['show', runId, '--json']);
  ctx.outputs.push(shown.stdout);
  const view = JSON.parse(shown.stdout || '{}');
  const status = view.status ?? view.run?.status;
  if (status !== 'waiting') ctx.problem(`after alice and "ALICE" the run is ${status}: one person made both approvals`);
}

export const identityCases: HostileCase[] = [
  {
    id: 'self-approval-alias-case',
    item: '5',
    title: 'alice (alias alice-gh) approves the deployment GitHub says Alice-GH sent',
    via: 'custom',
    flow: deploy,
    config: principals(['alice-gh']),
    drive: selfApproval('Alice-GH'),
    expect: { budgetMs: BUDGET.answer },
  },
  {
    id: 'self-approval-name-case',
    item: '5',
    title: 'alice approves the deployment GitHub says ALICE sent',
    via: 'custom',
    flow: deploy,
    config: principals([]),
    drive: selfApproval('ALICE'),
    expect: { budgetMs: BUDGET.answer },
  },
  {
    id: 'self-approval-alias-declared-upper',
    item: '5',
    title: 'the alias is declared ALICE-GH; GitHub sends alice-gh',
    via: 'custom',
    flow: deploy,
    config: principals(['ALICE-GH']),
    drive: selfApproval('alice-gh'),
    expect: { budgetMs: BUDGET.answer },
  },
  {
    id: 'duplicate-decision-case',
    item: '5',
    title: 'alice approves, then "ALICE" approves again through gantry approve: refused, the run still waits',
    via: 'custom',
    flow: { name: 'Two approvals', nodes: [{ id: 'approval', type: 'human_approval', data: { approvers: ['tech-lead', 'product-manager'], timeout: 3600 } }] },
    config: { principals: { alice: { roles: ['tech-lead', 'product-manager'] }, bob: { roles: ['product-manager'] } } },
    drive: duplicateDecisionByCase,
    expect: { budgetMs: BUDGET.process, noHealth: true },
  },
  {
    id: 'config-duplicate-principals',
    item: '5',
    title: 'the configuration names principals alice and Alice: gantry serve refuses to start',
    via: 'serve-start',
    config: { principals: { alice: { roles: ['tech-lead'] }, Alice: { roles: ['product-manager'] } } },
    expect: { budgetMs: BUDGET.process, exit: 2, says: /alice/i },
  },
  {
    id: 'config-alias-is-other-principal',
    item: '5',
    title: 'alice\'s alias is "Bob", and bob is another principal: gantry serve refuses to start',
    via: 'serve-start',
    config: { principals: { alice: { roles: ['tech-lead'], aliases: ['Bob'] }, bob: { roles: ['product-manager'] } } },
    expect: { budgetMs: BUDGET.process, exit: 2, says: /bob/i },
  },
  {
    id: 'runid-planted-before',
    item: '8',
    title: 'a signed delivery zz9.child, then a delivery zz9 whose flow runs a sub-flow "child"',
    via: 'custom',
    flow: parentFlow,
    files: idFiles,
    drive: plantedRunId(true),
    expect: { budgetMs: 1_500 },
  },
  {
    id: 'runid-planted-after',
    item: '8',
    title: 'a delivery zz9 runs its sub-flow "child", then a signed delivery zz9.child arrives',
    via: 'custom',
    flow: parentFlow,
    files: idFiles,
    drive: plantedRunId(false),
    expect: { budgetMs: 1_500 },
  },
  {
    id: 'runid-odd-delivery-ids',
    item: '8',
    title: 'delivery ids with "..", "/", ".", spaces, 300 characters: hashed run ids, repeats found',
    via: 'custom',
    flow: parentFlow,
    files: idFiles,
    drive: oddDeliveryIds,
    expect: { budgetMs: 2_000 },
  },
];
