#!/usr/bin/env node
// The chaos round of chaos.mjs, round after round for a while: node test/postgres/soak.mjs
// --minutes 10 [--round-seconds 60] [--seed n]. Prints each round's figures; exits 1 at the
// first round whose invariants did not hold (its seed replays it), 0 when all held.
import { parseArgs } from 'node:util';
import { chaosRound, spread } from './chaos.mjs';

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '5' }, 'round-seconds': { type: 'string', default: '60' }, seed: { type: 'string' } } });
const minutes = Number(values.minutes);
const roundSeconds = Number(values['round-seconds']);
if (!(minutes > 0) || !(roundSeconds > 0)) {
  console.error(`soak: expected --minutes and --round-seconds to be numbers > 0, got ${values.minutes} and ${values['round-seconds']}`);
  process.exit(2);
}
const end = Date.now() + minutes * 60_000;
const totals = { rounds: 0, accepted: 0, kills: 0, pauses: 0, fencedRuns: 0, lostLeases: 0, repeatedEffects: 0, takeovers: [] };
let seed = values.seed === undefined ? undefined : Number(values.seed);
while (Date.now() < end) {
  const report = await chaosRound({ seconds: roundSeconds, ...(seed === undefined ? {} : { seed }), log: (line) => console.log(line) });
  seed = undefined;
  totals.rounds++;
  for (const key of ['accepted', 'kills', 'pauses', 'fencedRuns', 'lostLeases', 'repeatedEffects']) totals[key] += report[key];
  totals.takeovers.push(...report.takeovers);
  const t = spread(report.takeovers);
  console.log(
    `round ${totals.rounds} (seed ${report.seed}): ${report.accepted} deliveries, ${report.runs} runs, ${report.kills} SIGKILLs, ${report.pauses} SIGSTOPs, ${report.fencedRuns} fenced, ${report.lostLeases} leases lost, ${report.repeatedEffects} effects repeated; takeover median ${t.median} ms, worst ${t.worst} ms; ${report.violations.length} violations`,
  );
  if (report.violations.length > 0) {
    for (const v of report.violations.slice(0, 50)) console.log(`  ${v}`);
    process.exit(1);
  }
}
const t = spread(totals.takeovers);
console.log(`soak: ${totals.rounds} rounds, ${totals.accepted} deliveries, ${totals.kills} SIGKILLs, ${totals.pauses} SIGSTOPs, ${totals.fencedRuns} fenced, ${totals.lostLeases} leases lost, ${totals.repeatedEffects} effects repeated; takeover median ${t.median} ms, worst ${t.worst} ms; every invariant held`);
