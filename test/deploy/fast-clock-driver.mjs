#!/usr/bin/env node
// The shipped pipeline on a time-skipping clock: flows/complete-deployment.json with its default
// params (a 300 s bake at each of the five traffic steps), the default configuration (the local
// agent pack, doing real work on this machine), in the current folder, approved as it asks.
//
//   node test/deploy/fast-clock-driver.mjs <trigger.json>
//
// The engine and the pack run on a SkippingClock (test/support/skipping-clock.mjs): real time
// while anything works, a jump to the next durable timer when every run waits on one. It prints
// one JSON line: the run's status and error, the real and the skipped time, each bake's timer
// as the journal has it, each traffic step's metrics window, and how many sub-second waits the
// clock saw (the pack's own waits: the engine's are seconds long at least).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { shutdown } from '@gantry/agents-local';
import { openSqliteStore } from '@gantry/store-sqlite';
import { engineFromConfig, loadConfig } from '../../packages/cli/dist/setup.js';
import { SkippingClock, skipWhenIdle } from '../support/skipping-clock.mjs';

const FLOW = fileURLToPath(new URL('../../flows/complete-deployment.json', import.meta.url));
const trigger = JSON.parse(readFileSync(resolve(process.argv[2]), 'utf8'));

const clock = new SkippingClock();
const store = openSqliteStore(resolve('.gantry/gantry.db'));
const engine = await engineFromConfig(loadConfig(undefined, process.cwd()), { clock, store, env: process.env, fallbackNotifier: () => {} });
const stop = skipWhenIdle(engine, clock);
engine.on('approval.requested', (event) => {
  for (const principal of ['tech-lead', 'product-manager']) void engine.decide(event.runId, event.nodeId, { principal, decision: 'approve', channel: 'cli' });
});

const started = Date.now();
const run = await engine.start(await engine.loadFlow(FLOW), { trigger });
const result = await run.finished;
const realMs = Date.now() - started;
stop();

const runs = store.listRuns({ limit: 1000 }).filter((r) => r.runId === result.runId || r.runId.startsWith(`${result.runId}.`));
const events = runs.flatMap((r) => store.events(r.runId));
const bakes = events.filter((e) => e.type === 'timer.set' && e.purpose === 'wait').map((e) => ({ runId: e.runId, nodeId: e.nodeId, ms: e.fireAt - e.at }));
const fired = events.filter((e) => e.type === 'timer.fired' && bakes.some((b) => b.runId === e.runId)).length;
const windows = events.filter((e) => e.type === 'node.succeeded' && e.nodeId === 'check_deployment_metrics').map((e) => ({ runId: e.runId, requests: e.output.requests, error_rate_percent: e.output.error_rate_percent }));
// The engine's own timers are seconds long at least (node timeouts, backoffs, bakes); shorter
// ones are waits of the pack's tasks (check_deployment_metrics reading green's counters).
const shortWaits = clock.delays.filter((ms) => ms > 0 && ms < 1000).length;
process.stdout.write(`${JSON.stringify({ status: result.status, error: result.error ?? null, realMs, skippedMs: clock.skipped, bakes, fired, windows, shortWaits })}\n`);
await shutdown();
store.close();
process.exit(0);
