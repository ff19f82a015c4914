// Principal names and aliases compare as GitHub logins do, ignoring case (DESIGN §3.5, §11): over
// the approvals API of a real server and through the CLI's --as and --approve-as.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PRINCIPALS, TOKENS, asPrincipal, deliver, serve, until, type Served } from './harness.js';
import { BIN } from './serve-process.js';

let served: Served | undefined;
afterEach(async () => {
  await served?.close();
  served = undefined;
});

/** alice goes by alice-gh on GitHub. */
const WITH_ALIASES = { ...PRINCIPALS, alice: { ...PRINCIPALS.alice, aliases: ['alice-gh'] } };

describe('gantry serve: who decides, whatever the case of a name', () => {
  it('refuses the approval of a principal whose alias GitHub sent as the sender in another case (Alice-GH is alice-gh)', async () => {
    served = await serve(undefined, { principals: WITH_ALIASES });
    const { url } = served;
    const answer = await deliver(url, '/deploy/webhook', JSON.stringify({ ref: 'refs/heads/main', sender: { login: 'Alice-GH' } }), { delivery: 'case-1' });
    expect(answer.status).toBe(202);
    const runId = answer.body.run_id as string;
    await until('the run waits for its approval', () => asPrincipal(url, TOKENS.alice, 'GET', `/runs/${runId}`), (a) => a.body.status === 'waiting');
    const decide = (token: string) => asPrincipal(url, token, 'POST', `/runs/${runId}/nodes/approval/decision`, { decision: 'approve' });
    const self = await decide(TOKENS.alice);
    expect(self.status).toBe(403);
    expect(self.body.error).toEqual({ code: 'APPROVAL_FORBIDDEN', message: '"alice" started this run (as Alice-GH) and may not approve it (allow_self_approval is off)' });
    expect(served.store.events(runId).filter((e) => e.type === 'approval.decided')).toEqual([]);
    // Another principal, then a second decision by one already recorded under another spelling.
    expect((await decide(TOKENS.bob)).status).toBe(200);
    const again = await served.engine.decide(runId, 'approval', { principal: 'BOB', decision: 'approve', channel: 'cli' }).then(
      () => 'accepted',
      (error: { code: string }) => error.code,
    );
    expect(again).toBe('APPROVAL_ALREADY_DECIDED');
    expect((await decide(TOKENS.carol)).body.approval).toBe('approved');
  });
});

describe('gantry approve --as, gantry run --approve-as: names in any case', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });
  const gantry = (args: string[]) => {
    const r = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 20_000, input: '' });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };

  it('refuses the initiator under any spelling, decides as the configured principal, and refuses one person twice', () => {
    dir = mkdtempSync(join(tmpdir(), 'gantry-identities-'));
    writeFileSync(
      join(dir, 'flow.json'),
      JSON.stringify({
        name: 'Deploy',
        nodes: [
          { id: 'hook', type: 'webhook', data: {} },
          { id: 'approve', type: 'human_approval', data: { approvers: ['tech-lead', 'product-manager'], timeout: 3600 } },
        ],
        edges: [{ from: 'hook', to: 'approve' }],
      }),
    );
    writeFileSync(join(dir, 'gantry.config.json'), JSON.stringify({ principals: { alice: { roles: ['tech-lead'], aliases: ['alice-gh'] }, bob: { roles: ['product-manager'] }, carol: { roles: ['tech-lead'] } } }));
    writeFileSync(join(dir, 'trigger.json'), JSON.stringify({ sender: { login: 'ALICE-gh' } }));
    const run = gantry(['run', 'flow.json', '--input', 'trigger.json', '--approve-as', 'Alice', '--approve-as', 'BOB']);
    expect(run.code).toBe(4);
    expect(run.err).toContain('--approve-as Alice: "alice" started this run (as ALICE-gh) and may not approve it');
    expect(run.out).toContain('bob approved');
    const runId = /run (\S+)\)/.exec(run.out)![1]!;
    const self = gantry(['approve', runId, 'approve', '--as', 'aLiCe']);
    expect(self.code).not.toBe(0);
    expect(self.err).toContain('"alice" started this run (as ALICE-gh) and may not approve it');
    const twice = gantry(['approve', runId, 'approve', '--as', 'Bob']);
    expect(twice.err).toContain('"bob" has already decided on "approve"');
    const carol = gantry(['approve', runId, 'approve', '--as', 'CAROL']);
    expect(carol.code).toBe(0);
    const shown = gantry(['show', runId]);
    expect(shown.out).toMatch(/approved by bob at .* via cli/);
    expect(shown.out).toMatch(/approved by carol at .* via cli/);
  });
});
