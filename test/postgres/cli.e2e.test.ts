/**
 * The commands on a Postgres store, as a user runs them (the built CLI in child processes):
 * `--store postgres://…` on every command that opens a store, or store.postgres.url_env in the
 * configuration (the URL from the environment, never from the file); an unreachable database or
 * a missing variable is exit 2 with a clear message; a run that waits is handed over at exit and
 * decided and carried on by other commands; a run a live peer holds is not resumed here.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedPort, startCluster, type TestCluster } from '../../packages/store-postgres/test-cluster.mjs';
import { BIN, deliver, gatedFlow, PeerProcess, preparePeersFolder } from './peers.mjs';

const APPROVAL = gatedFlow('gated', '/gated');

let cluster: TestCluster;
let dir: string;
let url: string;
const peers: PeerProcess[] = [];

beforeAll(async () => {
  cluster = await startCluster();
  url = cluster.url();
  dir = mkdtempSync(join(tmpdir(), 'gantry-pg-cli-'));
  preparePeersFolder(dir, { flows: [{ flow: APPROVAL, file: 'gated' }], store: { lease_ms: 1000, poll_ms: 100 } });
}, 60_000);

afterAll(async () => {
  for (const peer of peers) await peer.kill('SIGKILL');
  await cluster?.remove();
  rmSync(dir, { recursive: true, force: true });
});

function gantry(args: string[], env: Record<string, string | undefined> = {}) {
  const result = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', GITHUB_WEBHOOK_SECRET: 'x', ...env }, timeout: 60_000 });
  return { code: result.status, out: result.stdout, err: result.stderr };
}


describe('gantry commands on a Postgres store', () => {
  it('runs, lists and shows with --store, and with store.postgres.url_env from the environment', () => {
    writeFileSync(join(dir, 'push.json'), JSON.stringify({ ref: 'main' }));
    const done = gantry(['run', 'flows/gated.json', '--input', 'push.json', '--approve-as', 'alice', '--store', url]);
    expect(done.code, done.err).toBe(0);
    const listed = gantry(['runs', '--store', url, '--json']);
    expect(listed.code, listed.err).toBe(0);
    const runs = JSON.parse(listed.out) as { runId: string; status: string; flowName: string }[];
    const ours = runs.find((r) => r.status === 'succeeded');
    expect(ours).toMatchObject({ flowName: 'gated' });
    // The configuration's store: the URL from GANTRY_DATABASE_URL (preparePeersFolder wrote url_env).
    const viaConfig = gantry(['show', ours!.runId], { GANTRY_DATABASE_URL: url });
    expect(viaConfig.code, viaConfig.err).toBe(0);
    expect(viaConfig.out).toContain(`run ${ours!.runId}`);
    expect(viaConfig.out).toMatch(/approved by alice/);
    const unset = gantry(['runs'], { GANTRY_DATABASE_URL: undefined });
    expect(unset.code).toBe(2);
    expect(unset.err).toContain('store.postgres.url_env names the environment variable GANTRY_DATABASE_URL, which is not set');
    const missing = gantry(['show', 'nope', '--store', url]);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain(`no run nope in the store postgres://postgres@127.0.0.1:${cluster.port}/gantry;`);
    // A database is shared by the folders that name it: not "each folder has its own".
    expect(gantry(['runs', '--store', url, '--status', 'cancelled']).out).toBe(`no cancelled runs in the store postgres://postgres@127.0.0.1:${cluster.port}/gantry\n`);
  });

  it('refuses an unreachable database with exit 2, never printing the password', async () => {
    const port = await closedPort();
    for (const command of [['runs'], ['serve', '--port', '0'], ['approve', 'r', 'n', '--as', 'alice']]) {
      const result = gantry([...command, '--store', `postgres://postgres:hunter2@127.0.0.1:${port}/gantry`]);
      expect(result.code, `${command[0]}: ${result.err}`).toBe(2);
      expect(result.err).toContain(`the Postgres database postgres://postgres@127.0.0.1:${port}/gantry refused the connection (ECONNREFUSED)`);
      expect(result.err + result.out).not.toContain('hunter2');
    }
    const wrong = gantry(['runs', '--store', cluster.url('gantry', 'postgres', 'wrong')]);
    expect(wrong.code).toBe(2);
    expect(wrong.err).toContain('wrong password (28P01)');
    expect(gantry(['validate', 'flows/gated.json', '--store', url]).code).toBe(2);
  });

  it('hands a waiting run over when gantry run exits; gantry approve and gantry resume carry it on', () => {
    writeFileSync(join(dir, 'push.json'), JSON.stringify({ ref: 'main' }));
    const waiting = gantry(['run', 'flows/gated.json', '--input', 'push.json', '--store', url]);
    expect(waiting.code, waiting.err + waiting.out).toBe(4);
    const runs = JSON.parse(gantry(['runs', '--store', url, '--status', 'waiting', '--json']).out) as { runId: string }[];
    expect(runs).toHaveLength(1);
    const runId = runs[0]!.runId;
    const approved = gantry(['approve', runId, 'approve', '--as', 'bob', '--store', url]);
    expect(approved.code, approved.err).toBe(0);
    expect(approved.out).toContain('a gantry serve peer on this database carries it on');
    const resumed = gantry(['resume', runId, '--store', url]);
    expect(resumed.code, resumed.err + resumed.out).toBe(0);
    expect(JSON.parse(gantry(['runs', '--store', url, '--json']).out).find((r: { runId: string }) => r.runId === runId).status).toBe('succeeded');
  });

  it('does not resume a run a live serve peer holds (RUN_HELD, exit 2)', async () => {
    const peer = new PeerProcess('serve', dir, url);
    peers.push(peer);
    await peer.start();
    expect((await deliver(peer.url!, '/gated', { ref: 'x', delay_ms: 20_000 }, 'held-1', 10_000)).status).toBe(202);
    const result = gantry(['resume', 'delivery-held-1', '--store', url]);
    expect(result.code).toBe(2);
    expect(result.err).toMatch(/run delivery-held-1 is carried on by serve process \d+ on .*, whose lease runs [\d.]+ s more/);
    await peer.kill('SIGKILL');
    expect(readFileSync(join(dir, 'gantry.config.json'), 'utf8')).not.toContain('postgres://');
  });
});
