// A chaos round (DESIGN §9): three `gantry serve` peers on one database; signed webhook
// deliveries and approvals sent to random peers (a delivery not answered is sent again, with the
// same delivery id, to another peer, as GitHub redelivers); every few hundred milliseconds a peer
// is SIGKILLed (and started again) or SIGSTOPped past its lease (and woken). Then everything is
// let finish and checked in the database: every accepted delivery has exactly one run, every run
// finished, every node of every run exactly one completion, every approval one decision per
// principal, every timer one firing, every effect made once. Shared by chaos.e2e.test.ts and
// soak.mjs.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster } from '../../packages/store-postgres/test-cluster.mjs';
import { asPrincipal, call, deliver, PeerProcess, preparePeersFolder, prng } from './peers.mjs';

export const LEASE_MS = 1000;

export const FLOW = {
  name: 'chaos',
  nodes: [
    { id: 'hook', type: 'webhook', data: { endpoint: '/chaos', method: 'POST', authentication: 'github_webhook_secret' } },
    { id: 'build', type: 'agent', data: { agent: 'ops', task: 'build', inputs: { delay_ms: '{% $trigger.delay_ms %}' } } },
    { id: 'bake', type: 'wait', data: { seconds: 0.3 } },
    { id: 'approve', type: 'human_approval', data: { approvers: ['lead'], required: 1, timeout: 3600 } },
    { id: 'deploy', type: 'agent', data: { agent: 'ops', task: 'deploy', inputs: { delay_ms: '{% $trigger.delay_ms %}' } } },
    { id: 'verify', type: 'agent', data: { agent: 'ops', task: 'verify', inputs: { delay_ms: 10 } } },
  ],
  edges: [
    { from: 'hook', to: 'build' },
    { from: 'build', to: 'bake' },
    { from: 'bake', to: 'approve' },
    { from: 'approve', to: 'deploy' },
    { from: 'deploy', to: 'verify' },
  ],
};
const NODES = FLOW.nodes.map((n) => n.id).sort();
const AGENT_NODES = ['build', 'deploy', 'verify'];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs one round; resolves with its report: what was done and counted, and `violations`
 * (empty when every invariant held).
 */
export async function chaosRound({ seconds = 30, seed = Math.floor(Math.random() * 2 ** 31), log = () => {}, keepFolder = false } = {}) {
  const random = prng(seed);
  const pick = (list) => list[Math.floor(random() * list.length)];
  const cluster = await startCluster();
  const dir = mkdtempSync(join(tmpdir(), 'gantry-chaos-'));
  // Kills come from outside here, not from the runs: the crash-loop guard would take them for a run's doing.
  preparePeersFolder(dir, { flows: [{ flow: FLOW }], store: { lease_ms: LEASE_MS, poll_ms: 200 }, config: { crash_loop: { limit: 1000, survival_ms: 1000 } } });
  const peers = ['p1', 'p2', 'p3'].map((name) => new PeerProcess(name, dir, cluster.url()));
  const report = { seed, seconds, deliveries: 0, accepted: 0, duplicatesAnswered: 0, decisions: 0, decisionsRefused: 0, kills: 0, pauses: 0, restarts: 0, runs: 0, effects: 0, repeatedEffects: 0, fencedRuns: 0, lostLeases: 0, takeovers: [], violations: [] };
  /** Peer ids of every incarnation, and when each was killed. */
  const incarnations = [];
  const idOf = async (peer) => {
    const health = await call(peer.url, 'GET', '/health', { timeoutMs: 5000 });
    incarnations.push({ peer: peer.name, pid: peer.pid, id: health.body.peer, killedAt: undefined });
  };
  const live = () => peers.filter((p) => p.alive && p.url !== undefined && !p.paused);
  const pending = new Set();
  const accepted = new Set();
  let stopping = false;
  try {
    for (const peer of peers) {
      await peer.start();
      await idOf(peer);
    }
    log(`chaos seed ${seed}: 3 peers on ${cluster.url().replace(/:[^:@/]+@/, ':***@')}, ${seconds} s`);

    const send = async (id) => {
      const target = live();
      if (target.length === 0) return false;
      try {
        const answer = await deliver(pick(target).url, '/chaos', { ref: 'main', delay_ms: Math.floor(random() * 60) }, id, 1500);
        if (answer.status === 202 || answer.status === 200) {
          if (answer.status === 200 && accepted.has(id)) report.duplicatesAnswered++;
          accepted.add(id);
          pending.delete(id);
          return true;
        }
      } catch {
        // refused, reset or not answered: sent again later, to whichever peer
      }
      pending.add(id);
      return false;
    };

    const traffic = (async () => {
      for (let n = 0; !stopping; n++) {
        report.deliveries++;
        void send(`s${seed}-${n}`);
        // Now and then a delivery is sent again to another peer (a redelivery): one run still.
        if (accepted.size > 0 && random() < 0.1) void send(pick([...accepted]));
        for (const id of [...pending].slice(0, 3)) void send(id);
        await sleep(40 + random() * 60);
      }
    })();

    const approve = async () => {
      const target = live();
      if (target.length === 0) return;
      let waiting;
      try {
        const listed = await asPrincipal(pick(target).url, 'alice', 'GET', '/runs?status=waiting&limit=1000', undefined, 1500);
        waiting = listed.status === 200 ? listed.body.runs : [];
      } catch {
        return;
      }
      await Promise.all(
        waiting.slice(0, 20).map(async (run) => {
          const to = live();
          if (to.length === 0) return;
          try {
            const answer = await asPrincipal(pick(to).url, random() < 0.5 ? 'alice' : 'bob', 'POST', `/runs/${encodeURIComponent(run.run_id)}/nodes/approve/decision`, { decision: 'approve' }, 2000);
            if (answer.status === 200) report.decisions++;
            else report.decisionsRefused++;
          } catch {
            // tried again at the next pass
          }
        }),
      );
    };
    const approvals = (async () => {
      while (!stopping) {
        await approve();
        await sleep(100 + random() * 150);
      }
    })();

    const chaos = (async () => {
      const end = Date.now() + seconds * 1000;
      const restarts = [];
      while (Date.now() < end) {
        await sleep(200 + random() * 400);
        // A peer being started again is left alone until it has said who it is.
        const up = peers.filter((p) => p.alive && !p.paused && p.url !== undefined && !p.restarting);
        // At least one peer keeps answering.
        if (up.length <= 1) continue;
        const victim = pick(up);
        const at = Date.now();
        const incarnation = incarnations.findLast((i) => i.peer === victim.name);
        if (random() < 0.75) {
          report.kills++;
          victim.restarting = true;
          await victim.kill('SIGKILL');
          if (incarnation) incarnation.killedAt = at;
          restarts.push(
            (async () => {
              await sleep(random() * 300);
              await victim.start();
              report.restarts++;
              await idOf(victim);
              victim.restarting = false;
            })().catch((error) => report.violations.push(`${victim.name} could not be started again: ${error.message}`)),
          );
        } else {
          report.pauses++;
          victim.pause();
          await sleep(LEASE_MS * (1.5 + random()));
          victim.resume();
        }
      }
      await Promise.all(restarts);
    })();

    await chaos;
    log(`chaos over: ${report.kills} SIGKILLs, ${report.pauses} SIGSTOPs; letting everything finish`);
    // Every delivery not yet answered is sent until it is, every approval given.
    const drainEnd = Date.now() + 90_000;
    while (pending.size > 0 && Date.now() < drainEnd) {
      await Promise.all([...pending].map((id) => send(id)));
      await sleep(50);
    }
    stopping = true;
    await traffic;
    await approvals;
    let unfinished = Infinity;
    while (Date.now() < drainEnd) {
      await approve();
      unfinished = Number((await cluster.sql("SELECT count(*) AS n FROM gantry.runs WHERE status IN ('running', 'waiting')", [], 'gantry'))[0].n);
      if (unfinished === 0) break;
      await sleep(200);
    }

    // ---- the invariants ----------------------------------------------------------------------
    const sql = (text, params = []) => cluster.sql(text, params, 'gantry');
    const violation = (message) => report.violations.push(message);
    if (pending.size > 0) violation(`${pending.size} deliveries were never accepted`);
    report.accepted = accepted.size;
    const runs = await sql('SELECT run_id, status FROM gantry.runs WHERE parent_run_id IS NULL ORDER BY run_id');
    report.runs = runs.length;
    const expected = new Set([...accepted].map((id) => `delivery-${id}`));
    const found = new Set(runs.map((r) => r.run_id));
    for (const id of expected) if (!found.has(id)) violation(`accepted delivery ${id} has no run`);
    for (const id of found) if (!expected.has(id)) violation(`run ${id} belongs to no accepted delivery`);
    if (runs.length !== expected.size) violation(`${runs.length} runs for ${expected.size} accepted deliveries`);
    const notSucceeded = runs.filter((r) => r.status !== 'succeeded');
    if (notSucceeded.length > 0) violation(`${notSucceeded.length} runs did not succeed: ${notSucceeded.slice(0, 5).map((r) => `${r.run_id} ${r.status}`).join(', ')}`);
    const completions = await sql("SELECT run_id, node_id, count(*) AS n FROM gantry.events WHERE type IN ('node.succeeded', 'node.failed') GROUP BY run_id, node_id");
    const byRun = new Map();
    for (const c of completions) {
      if (Number(c.n) !== 1) violation(`run ${c.run_id}: node ${c.node_id} completed ${c.n} times`);
      byRun.set(c.run_id, [...(byRun.get(c.run_id) ?? []), c.node_id]);
    }
    for (const r of runs) {
      const nodes = (byRun.get(r.run_id) ?? []).sort();
      if (nodes.join() !== NODES.join()) violation(`run ${r.run_id}: nodes completed ${nodes.join(',')}, expected ${NODES.join(',')}`);
    }
    const decided = await sql("SELECT run_id, node_id, count(*) AS n, count(DISTINCT json::jsonb->>'principal') AS principals FROM gantry.events WHERE type = 'approval.decided' GROUP BY run_id, node_id");
    for (const d of decided) if (Number(d.n) !== 1) violation(`run ${d.run_id}: ${d.n} decisions recorded on ${d.node_id} (${d.principals} principals; one was needed)`);
    if (decided.length !== runs.length) violation(`${decided.length} approvals decided for ${runs.length} runs`);
    const fired = await sql("SELECT run_id, json::jsonb->>'timerId' AS timer, count(*) AS n FROM gantry.events WHERE type = 'timer.fired' GROUP BY 1, 2");
    for (const f of fired) if (Number(f.n) !== 1) violation(`run ${f.run_id}: timer ${f.timer} fired ${f.n} times`);
    if (fired.length !== runs.length) violation(`${fired.length} wait timers fired for ${runs.length} runs`);
    const effects = readdirSync(join(dir, 'effects')).map((f) => decodeURIComponent(f));
    report.effects = effects.length;
    report.repeatedEffects = readdirSync(join(dir, 'repeats')).length;
    const effectKeys = new Set(effects);
    for (const r of runs) for (const node of AGENT_NODES) if (!effectKeys.has(`${r.run_id}:${node}`)) violation(`run ${r.run_id}: no effect of ${node}`);
    if (effects.length !== runs.length * AGENT_NODES.length) violation(`${effects.length} effects for ${runs.length} runs of ${AGENT_NODES.length} agent nodes`);

    // ---- what the peers said ------------------------------------------------------------------
    const lines = peers.flatMap((p) => p.lines);
    report.fencedRuns = lines.filter((l) => typeof l.msg === 'string' && l.msg.includes('another process holds it now')).length;
    report.lostLeases = lines.filter((l) => typeof l.msg === 'string' && l.msg.includes('is lost to another process')).length;
    for (const killed of incarnations.filter((i) => i.killedAt !== undefined)) {
      const claims = lines.filter((l) => l.from === killed.id && typeof l.time === 'number' && l.time >= killed.killedAt).map((l) => l.time - killed.killedAt);
      if (claims.length > 0) report.takeovers.push(Math.min(...claims));
    }
    if (report.pauses > 0 && report.fencedRuns + report.lostLeases === 0) violation(`${report.pauses} peers were paused past their lease, yet none said it lost a run`);
    return report;
  } finally {
    stopping = true;
    for (const peer of peers) await peer.kill('SIGKILL');
    await cluster.remove();
    if (!keepFolder) rmSync(dir, { recursive: true, force: true });
  }
}

/** Median and worst of a list of milliseconds. */
export function spread(values) {
  if (values.length === 0) return { median: undefined, worst: undefined };
  const sorted = [...values].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)], worst: sorted.at(-1) };
}
