/**
 * All time a run can reach goes through the engine's clock — `ctx.clock` and `ctx.sleepUntil` in
 * executors, the context each transport and connector call comes with — so that a fake clock
 * drives a whole run (STYLE §8). This scans the sources of the packages a run reaches for every
 * way of reading real time or arming a real timer, and holds each file to an allow-list of the
 * few places that must use real time, each with its reason. A new use fails here; so does an
 * entry left behind after its use went.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const SCANNED = ['packages/engine/src', 'packages/executors/src', 'packages/agents-local/src'];
/** The ways of reading real time or arming a real timer. */
const READS = ['Date.now(', 'performance.now(', 'new Date()', 'setTimeout(', 'setInterval(', 'AbortSignal.timeout('] as const;
type Read = (typeof READS)[number];

/** The real world the local pack runs — processes, a proxy, files — is timed by the real clock. */
const PACK_RECORDS = 'a record of the real world the pack runs (processes, proxy weights, files), compared with what those real processes log: real time';

const ALLOWED: Record<string, { readonly uses: Partial<Record<Read, number>>; readonly why: string }> = {
  'packages/engine/src/run/clock.ts': { uses: { 'Date.now(': 2, 'setTimeout(': 2 }, why: 'the system clock itself' },
  'packages/engine/src/expression-evaluation.ts': {
    uses: { 'performance.now(': 4 },
    why: "an evaluation's own work time, the last-resort bound on a runaway expression: the processor time it takes, whatever the run's clock says",
  },
  'packages/engine/src/expression-builtins.ts': {
    uses: { 'new Date()': 1 },
    why: "JSONata stamps each evaluation with the real time for $now() and $millis(); this is the fallback where it has not (expressions read the wall clock, not the run's)",
  },
  'packages/executors/src/agents/command.ts': {
    uses: { 'setTimeout(': 1 },
    why: 'SIGKILL after the grace: an operating-system process is stopped in real time, or a fake clock never advanced would leave it running',
  },
  'packages/agents-local/src/runtime/processes.ts': {
    uses: { 'new Date()': 1, 'setTimeout(': 2 },
    why: `a child process's own start-up and stop (its "listening" line, SIGKILL after the grace), and ${PACK_RECORDS}`,
  },
  'packages/agents-local/src/runtime/proxy-main.ts': { uses: { 'new Date()': 2, 'performance.now(': 5, 'setTimeout(': 1 }, why: 'the proxy program: a child process of its own, never inside a run' },
  'packages/agents-local/src/runtime/http.ts': {
    uses: { 'performance.now(': 2, 'AbortSignal.timeout(': 1 },
    why: 'a request to a process the pack started on this machine: the latency of the real service, and a timeout that bounds a hung local socket in real time',
  },
  'packages/agents-local/src/deploy/load.ts': { uses: { 'performance.now(': 2, 'setInterval(': 1 }, why: "the simulated users' traffic: the outside world, sent in real time whatever the run's clock says" },
  'packages/agents-local/src/source/tools.ts': { uses: { 'performance.now(': 2, 'setTimeout(': 1 }, why: "a tool run as a child process (node --test, semgrep, trivy): the program's own time" },
  'packages/agents-local/src/agents/devops-manager.ts': { uses: { 'new Date()': 1 }, why: PACK_RECORDS },
  'packages/agents-local/src/notify/slack-fallback.ts': { uses: { 'new Date()': 1 }, why: 'a line of the notifications log file' },
  'packages/agents-local/src/deploy/production.ts': { uses: { 'new Date()': 2 }, why: PACK_RECORDS },
  'packages/agents-local/src/deploy/deployments.ts': { uses: { 'new Date()': 3 }, why: PACK_RECORDS },
  'packages/agents-local/src/deploy/prometheus-text.ts': { uses: { 'new Date()': 1 }, why: `when green's counters were read: ${PACK_RECORDS}` },
  'packages/agents-local/src/deploy/releases.ts': { uses: { 'new Date()': 1 }, why: PACK_RECORDS },
  'packages/agents-local/src/build/artifacts.ts': { uses: { 'new Date()': 1 }, why: "an image manifest's build time, a file on disk" },
};

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') && entry.name !== 'test-kit.ts' ? [path] : [];
  });
}

/** Every use of a real-time read in the scanned sources, by file: `{ 'setTimeout(': 2 }` and where. */
function uses(): Map<string, { counts: Partial<Record<Read, number>>; lines: string[] }> {
  const found = new Map<string, { counts: Partial<Record<Read, number>>; lines: string[] }>();
  for (const file of SCANNED.flatMap((dir) => sources(join(ROOT, dir)))) {
    const name = relative(ROOT, file).split('\\').join('/');
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        const here = READS.filter((read) => line.includes(read));
        if (here.length === 0) return;
        const entry = found.get(name) ?? { counts: {}, lines: [] };
        for (const read of here) entry.counts[read] = (entry.counts[read] ?? 0) + line.split(read).length - 1;
        entry.lines.push(`${name}:${i + 1}: ${line.trim()}`);
        found.set(name, entry);
      });
  }
  return found;
}

describe('time a run can reach', () => {
  it('reads the engine\'s clock everywhere but the allowed places', () => {
    const found = uses();
    const actual = Object.fromEntries([...found].map(([file, { counts }]) => [file, counts]));
    const allowed = Object.fromEntries(Object.entries(ALLOWED).map(([file, { uses: counts }]) => [file, counts]));
    const where = [...found].filter(([file, { counts }]) => !isDeepStrictEqual(counts, ALLOWED[file]?.uses)).flatMap(([, { lines }]) => lines);
    const advice = 'use ctx.clock or the clock a call comes with, or allow the place here with its reason';
    expect(actual, `real time read outside the allow-list (${advice}):\n${where.join('\n')}`).toEqual(allowed);
  });

  it('gives every allowed place a reason', () => {
    for (const [file, { why }] of Object.entries(ALLOWED)) expect(why.length, file).toBeGreaterThan(20);
  });
});
