#!/usr/bin/env node
// The long crash soak (not run by CI): the checks of crash.test.ts over many seeds.
//
//   npx tsc -b && node test/crash/soak.mjs --seeds 500 [--from 1000] [--jobs 2] [--strict] [--bugs]
//
// For each seed: an uninterrupted reference run, then a random-moment scenario (one kill, two for
// every third seed), a crash at a random write (reproducible: the same seed dies at the same
// write) and one named-point scenario (the cases of crash.test.ts in turn). Prints each failing
// scenario as it goes and a summary at the end; exits 1 if a scenario failed for a reason other
// than an open known engine bug (any reason with --strict). --bugs adds the regression cases of
// open bugs to the rotation (they fail until fixed). Failing scenarios keep their files.
import { parseArgs } from 'node:util';
import {
  appendCrash,
  assertBuilt,
  buildFlow,
  caseName,
  cleanUp,
  crashScenario,
  describeFailure,
  JOBS,
  setJobs,
  KNOWN_BUGS,
  NAMED_CASES,
  namedCrashes,
  randomCrashes,
  referenceRun,
  unexpected,
} from './harness.mjs';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '100' },
    from: { type: 'string', default: '1000' },
    jobs: { type: 'string' },
    strict: { type: 'boolean', default: false },
    bugs: { type: 'boolean', default: false },
  },
});
if (values.jobs !== undefined) setJobs(values.jobs);
const count = Number(values.seeds);
const from = Number(values.from);
const strict = values.strict;
const cases = NAMED_CASES.filter((c) => values.bugs || c.bug === undefined || c.fixed);

assertBuilt();

const stats = { seeds: 0, scenarios: 0, passed: 0, failed: 0, knownOnly: 0, killed: 0, finishedBeforeKill: 0, processes: 0 };
const bugsMet = new Map();
const failures = [];
const t0 = Date.now();

function record(label, outcome) {
  stats.scenarios++;
  stats.processes += outcome.processes.length;
  outcome.processes.forEach((p, i) => {
    if (outcome.crashes[i]?.afterMs === undefined && !outcome.crashes[i]?.mayFinish) return;
    if (p.signal === 'SIGKILL') stats.killed++;
    else stats.finishedBeforeKill++;
  });
  const bad = unexpected(outcome.problems, strict);
  for (const bug of new Set(outcome.problems.map((p) => p.bug))) if (bug !== undefined) bugsMet.set(bug, (bugsMet.get(bug) ?? 0) + 1);
  if (bad.length > 0) {
    stats.failed++;
    failures.push(`${label}\n${describeFailure(outcome)}`);
    console.log(`FAIL ${label}\n${describeFailure(outcome)}\n`);
    return;
  }
  if (outcome.problems.length > 0) stats.knownOnly++;
  else stats.passed++;
  cleanUp(outcome.dir);
}

async function soakSeed(seed, index) {
  let reference;
  try {
    reference = await referenceRun(seed);
  } catch (error) {
    stats.failed++;
    failures.push(`seed ${seed}: the reference run failed: ${error.message}`);
    console.log(`FAIL seed ${seed}: the reference run failed: ${error.message}`);
    return;
  }
  cleanUp(reference.dir);
  const crashes = randomCrashes(seed, reference);
  const random = crashScenario({ seed, crashes, reference }).then((o) => record(`seed ${seed} random ${crashes.map((c) => `${c.afterMs} ms`).join(' → ')}`, o));
  const built = buildFlow(seed);
  // The next case whose nodes this seed's flow has.
  let named;
  for (let k = 0; k < cases.length && named === undefined; k++) {
    const c = cases[(index + k) % cases.length];
    if (namedCrashes(c, built) !== undefined) named = c;
  }
  const point = named
    ? crashScenario({ seed, crashes: namedCrashes(named, built), reference }).then((o) => record(`seed ${seed} named ${caseName(named, built)}`, o))
    : Promise.resolve();
  const writes = appendCrash(seed, reference);
  const write = crashScenario({ seed, crashes: writes, reference }).then((o) => record(`seed ${seed} ${writes[0].point}`, o));
  await Promise.all([random, point, write]);
  stats.seeds++;
  if (stats.seeds % 25 === 0) {
    const s = ((Date.now() - t0) / 1000).toFixed(0);
    console.log(`… ${stats.seeds}/${count} seeds, ${stats.scenarios} scenarios, ${stats.failed} failed, ${s} s`);
  }
}

// A few seeds at a time: the harness runs at most JOBS child processes at once anyway.
const inFlight = new Set();
for (let i = 0; i < count; i++) {
  const p = soakSeed(from + i, i).finally(() => inFlight.delete(p));
  inFlight.add(p);
  if (inFlight.size >= JOBS * 2) await Promise.race(inFlight);
}
await Promise.all(inFlight);

const seconds = ((Date.now() - t0) / 1000).toFixed(1);
console.log(`
crash soak: seeds ${from}…${from + count - 1} in ${seconds} s (${stats.processes} crashed or resumed processes, ${JOBS} at once)
  scenarios ${stats.scenarios}: ${stats.passed} clean, ${stats.knownOnly} clean but for known engine bugs, ${stats.failed} failed
  random crashes (delays and writes): ${stats.killed} in the middle of a run, ${stats.finishedBeforeKill} after it had finished`);
for (const [bug, n] of bugsMet) console.log(`  known bug ${bug} met in ${n} scenarios: ${KNOWN_BUGS[bug]}`);
if (failures.length > 0) console.log(`\nfailures:\n${failures.join('\n\n')}`);
process.exit(failures.length > 0 ? 1 : 0);
