/**
 * The chaos round of chaos.mjs in the suite (DESIGN §9): three gantry serve peers on one database,
 * deliveries and approvals to random peers, a peer SIGKILLed or SIGSTOPped every few hundred
 * milliseconds for 30 s. Every accepted delivery has exactly one run, every run finished, every
 * node one completion, every approval one decision, every timer one firing, every effect one;
 * the peers that were paused say they lost runs, and their late writes were refused. A longer
 * soak: node test/postgres/soak.mjs --minutes N.
 */
import { expect, it } from 'vitest';
import { chaosRound, spread } from './chaos.mjs';

it('three peers under SIGKILL and SIGSTOP lose nothing and record nothing twice', async () => {
  const lines: string[] = [];
  const report = await chaosRound({ seconds: 30, log: (line: string) => lines.push(line) });
  const takeover = spread(report.takeovers);
  // Said on the test's output: the figures of this round, and the seed to replay it.
  console.log(
    `chaos seed ${report.seed}: ${report.accepted} deliveries accepted (${report.duplicatesAnswered} repeats answered with their run), ${report.runs} runs, ${report.decisions} decisions (${report.decisionsRefused} refused), ` +
      `${report.kills} SIGKILLs, ${report.pauses} SIGSTOPs, ${report.effects} effects (${report.repeatedEffects} attempts repeated an effect already made), ` +
      `${report.fencedRuns} runs fenced off a stale peer, ${report.lostLeases} leases found lost; SIGKILL → first run taken over: median ${takeover.median} ms, worst ${takeover.worst} ms`,
  );
  expect(report.violations, lines.join('\n')).toEqual([]);
  expect(report.accepted).toBeGreaterThan(50);
  expect(report.kills).toBeGreaterThan(5);
  expect(report.runs).toBe(report.accepted);
  expect(report.effects).toBe(report.runs * 3);
  // Stale peers' writes were refused: counted from what they said.
  expect(report.fencedRuns + report.lostLeases).toBeGreaterThan(0);
}, 120_000);
