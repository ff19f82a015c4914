/**
 * The hostile corpus' harness: each case in a fresh temporary workspace, through the real CLI or
 * a real `gantry serve` child on a free port; bystander runs stored first; `GET /health` probed
 * while the hostile work runs; the time to the refusal measured; then the process checked alive,
 * the bystanders intact, and every output, answer and store file scanned for the canaries.
 */
import { appendFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import type { HostileCase } from './case.js';
import { Run, type CaseReport } from './context.js';
import { driveRun, driveServeStart, driveValidate, driveWebhook } from './drivers.js';

export type { HostileCase } from './case.js';
export { HEALTH_RULE } from './context.js';

/** The hostile flow's webhook: prepend it to a flow's nodes. */
export const HOOK = Object.freeze({ id: 'hook', type: 'webhook', data: { endpoint: '/hostile', authentication: 'github_webhook_secret' } });

/** A flow started by the hostile webhook: `nodes` in a chain after it (or with `edges` as given). */
export function hooked(name: string, nodes: object[], edges?: { from: string; to: string; condition?: string }[]): object {
  const all = [HOOK, ...nodes] as { id: string }[];
  return { name, nodes: all, edges: edges ?? all.slice(1).map((n, i) => ({ from: all[i]!.id, to: n.id })) };
}

/** One case, start to end. */
export async function runCase(c: HostileCase): Promise<CaseReport> {
  const began = Date.now();
  const run = new Run(c);
  try {
    await run.prepare();
    if (c.via === 'webhook') await driveWebhook(run);
    else if (c.via === 'run') await driveRun(run);
    else if (c.via === 'validate') await driveValidate(run);
    else if (c.via === 'serve-start') await driveServeStart(run);
    else await c.drive!(run);
    await run.finish();
  } catch (error) {
    run.problem(`the harness failed: ${(error as Error).stack ?? error}`);
  } finally {
    await run.close();
  }
  run.report.caseMs = Date.now() - began;
  return run.report;
}

function row(r: CaseReport): string {
  const h = r.health ? `${r.health.samples}× p50 ${Math.round(r.health.p50)} p90 ${Math.round(r.health.p90)} max ${Math.round(r.health.max)} (idle ${Math.round(r.health.idleP50 ?? 0)})` : '—';
  const verdict = r.problems.length === 0 ? 'pass' : 'FAIL';
  return `| ${r.id} | ${r.item} | ${verdict} | ${r.refusal ?? 'none'} | ${r.refusalMs ?? '—'} / ${2 * r.budgetMs} | ${r.serverMs ?? '—'} | ${h} | ${r.caseMs ?? '—'} |`;
}


/**
 * Cases at once (HOSTILE_CONCURRENCY, default 3): most of a case's time is a child process
 * starting or waiting. A case marked `alone` (it loads the machine, or measures memory or pauses)
 * takes every slot. For the figures of a note, HOSTILE_CONCURRENCY=1 on a quiet machine.
 */
const CONCURRENCY = Math.max(1, Number(process.env.HOSTILE_CONCURRENCY ?? 3) || 3);


/** A counting semaphore, first come first served: a case takes one slot, or all of them. */
class Slots {
  private free = CONCURRENCY;
  private readonly queue: { n: number; go: () => void }[] = [];

  take(n: number): Promise<() => void> {
    return new Promise((resolve) => {
      this.queue.push({ n, go: () => resolve(() => this.give(n)) });
      this.pump();
    });
  }

  private give(n: number): void {
    this.free += n;
    this.pump();
  }

  private pump(): void {
    while (this.queue.length > 0 && this.free >= this.queue[0]!.n) {
      const next = this.queue.shift()!;
      this.free -= next.n;
      next.go();
    }
  }
}

/** Shared by every group of a test file: HOSTILE_CONCURRENCY cases at once in all. */
const slots = new Slots();

/**
 * One vitest `it` per case (HOSTILE_CONCURRENCY at a time); after them, the figures of every
 * case as a table, in the corpus' order (and as JSON lines appended to $HOSTILE_REPORT when it is
 * set): how the hostile work was refused, the time from its start to the refusal (ms, against
 * twice the budget), the in-server time of the hostile node, /health's latencies meanwhile (ms),
 * and the case's own time. HOSTILE_ONLY=<id>,<id> runs only these cases.
 */
export function describeCorpus(name: string, cases: readonly HostileCase[]): void {
  const only = process.env.HOSTILE_ONLY?.split(',').map((s) => s.trim()).filter(Boolean);
  const chosen = only ? cases.filter((c) => only.includes(c.id)) : cases;
  const reports = new Map<string, CaseReport>();
  describe.concurrent(name, () => {
    afterAll(() => {
      const done = chosen.flatMap((c) => reports.get(c.id) ?? []);
      if (done.length === 0) return;
      const lines = ['', `hostile corpus — ${name}`, '| case | item | verdict | refusal | ms / limit | in-server ms | /health ms | case ms |', '|---|---|---|---|---|---|---|---|', ...done.map(row)];
      for (const r of done.filter((x) => x.problems.length > 0 || x.notes.length > 0)) lines.push(`  ${r.id}: ${[...r.problems, ...r.notes.map((n) => `(note) ${n}`)].join('\n    ')}`);
      console.log(lines.join('\n'));
      if (process.env.HOSTILE_REPORT) appendFileSync(process.env.HOSTILE_REPORT, done.map((r) => `${JSON.stringify({ suite: name, ...r })}\n`).join(''));
    });
    // Every case waits its turn for a slot, so a case's own time limits are not the test's.
    const timeout = chosen.reduce((sum, c) => sum + 2 * c.expect.budgetMs + 30_000, 0);
    for (const c of chosen) {
      it(`[${c.item}] ${c.id}: ${c.title}`, { timeout }, async () => {
        const release = await slots.take(c.alone ? CONCURRENCY : 1);
        let report: CaseReport;
        try {
          report = await runCase(c);
        } finally {
          release();
        }
        reports.set(c.id, report);
        expect(report.problems, `${c.id}\n${report.problems.join('\n')}`).toEqual([]);
      });
    }
  });
}
