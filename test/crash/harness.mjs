// The crash tests' parent side, shared by crash.test.ts and soak.mjs: runs the driver in child
// processes (crashing it at a named point or killing it after a delay), resumes it, and checks the
// outcome against an uninterrupted reference run of the same seed.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { openSqliteStore } from '@gantry/store-sqlite';
import { agentNodes, buildFlow, prng, RUN_ID } from './flow.mjs';

export { buildFlow, RUN_ID };

const DRIVER = fileURLToPath(new URL('./driver.mjs', import.meta.url));
const BUILT = fileURLToPath(new URL('../../packages/store-sqlite/dist/index.js', import.meta.url));

/** Fails early, and clearly, when the packages have not been built. */
export function assertBuilt() {
  if (!existsSync(BUILT)) throw new Error(`${BUILT} is missing: build first (npx tsc -b at the repository root)`);
}

// --- child processes, a few at a time --------------------------------------------------------

let running = 0;
const queue = [];
/** How many driver processes run at once (GANTRY_CRASH_JOBS, default 2: this is a 2-core machine). */
export let JOBS = Math.max(1, Number(process.env.GANTRY_CRASH_JOBS ?? 2));

/** Sets how many driver processes run at once. */
export function setJobs(n) {
  JOBS = Math.max(1, Number(n));
}

async function slot() {
  if (running < JOBS) {
    running++;
    return;
  }
  await new Promise((resolve) => queue.push(resolve));
}

function release() {
  const next = queue.shift();
  if (next) next();
  else running--;
}

/**
 * Runs the driver once. `crash` is a named point (GANTRY_CRASH); `killAfterMs` kills the child
 * that long after it said it was running. Resolves with how it ended and what it printed.
 */
export async function runDriver({ db, effects, seed, mode, crash, killAfterMs, timeoutMs = 60_000 }) {
  await slot();
  try {
    return await new Promise((resolve, reject) => {
      const env = { ...process.env };
      delete env.GANTRY_CRASH;
      if (crash) env.GANTRY_CRASH = crash;
      const child = spawn(process.execPath, [DRIVER, '--db', db, '--effects', effects, '--seed', String(seed), '--mode', mode], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      let pending = '';
      let runningAt;
      const t0 = Date.now();
      const timers = [];
      const killNow = () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      };
      timers.push(
        setTimeout(() => {
          stderr += `\n[harness] no end after ${timeoutMs} ms: killed`;
          killNow();
        }, timeoutMs),
      );
      child.stdout.setEncoding('utf8').on('data', (chunk) => {
        stdout += chunk;
        pending += chunk;
        let nl;
        while ((nl = pending.indexOf('\n')) >= 0) {
          const line = pending.slice(0, nl);
          pending = pending.slice(nl + 1);
          if (runningAt === undefined && line.includes('"event":"running"')) {
            runningAt = Date.now();
            if (killAfterMs !== undefined) timers.push(setTimeout(killNow, killAfterMs));
          }
        }
      });
      child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
      child.on('error', reject);
      child.on('close', (code, signal) => {
        for (const t of timers) clearTimeout(t);
        const lines = stdout
          .split('\n')
          .filter((l) => l.trim() !== '')
          .map((l) => {
            try {
              return JSON.parse(l);
            } catch {
              return { unparsed: l };
            }
          });
        const finished = lines.findLast((l) => l.event === 'finished');
        resolve({ code, signal, stdout, stderr, lines, finished, ms: Date.now() - t0, runMs: runningAt === undefined ? undefined : Date.now() - runningAt });
      });
    });
  } finally {
    release();
  }
}

// --- reading what a run left behind -----------------------------------------------------------

export function readJournal(db) {
  const store = openSqliteStore(db, { mode: 'read' });
  try {
    return { events: [...store.events(RUN_ID)], record: store.getRun(RUN_ID) };
  } finally {
    store.close();
  }
}

export function readEffects(file) {
  if (!existsSync(file)) return { lines: [], torn: [] };
  const lines = [];
  const torn = [];
  for (const raw of readFileSync(file, 'utf8').split('\n')) {
    if (raw.trim() === '') continue;
    try {
      lines.push(JSON.parse(raw));
    } catch {
      torn.push(raw);
    }
  }
  return { lines, torn };
}

export const pathOf = (e) => (e.item === undefined ? e.nodeId : `${e.nodeId}[${e.item}]`);

/** What a finished run is, for comparison: its result, each node's end, each completion's output. */
export function summarize(events) {
  const finished = events.find((e) => e.type === 'run.finished');
  const ends = {};
  const outputs = {};
  for (const e of events) {
    if (e.type === 'node.succeeded') {
      if (e.item === undefined) ends[e.nodeId] = 'succeeded';
      const output = e.output && typeof e.output === 'object' && !Array.isArray(e.output) ? { ...e.output } : e.output;
      if (output && typeof output === 'object' && !Array.isArray(output)) delete output.waited_until; // the wait's wall-clock time
      outputs[pathOf(e)] = output;
    } else if (e.type === 'node.failed' && e.item === undefined) ends[e.nodeId] = `failed:${e.error?.code}`;
    else if (e.type === 'node.skipped') ends[e.nodeId] = `skipped:${e.reason}`;
  }
  return {
    result: finished ? { status: finished.status, output: finished.output ?? null, error: finished.error ?? null } : undefined,
    ends,
    outputs,
  };
}

/** The effects applied once each when deduplicated by key (per agent, as each agent keeps its own keys). */
export function appliedEffects(lines) {
  return [...new Set(lines.map((l) => `${l.agent}|${l.path}`))].sort();
}

/** A few journal lines about one node path (or the last events), for a failure message. */
export function excerpt(events, path, max = 14) {
  const about = path === undefined ? events.slice(-max) : events.filter((e) => e.nodeId !== undefined && (pathOf(e) === path || e.nodeId === path)).slice(0, max);
  return about
    .map((e) => {
      const { runId: _r, at: _a, input: _i, output, ...rest } = e;
      return JSON.stringify(output === undefined ? rest : { ...rest, output: '…' });
    })
    .join('\n');
}

// --- the checks -------------------------------------------------------------------------------

/**
 * Engine bugs this suite found (see crash.test.ts, where each has a regression case). A problem
 * tagged with one is told apart from the rest, so that the other scenarios stay meaningful while
 * the bug is open; GANTRY_CRASH_STRICT=1 counts them as failures everywhere.
 */
export const KNOWN_BUGS = {
  'for-each-attempts': 'after a restart, a for_each item that had started runs again as attempt 1 (not the next attempt): its node.started and its effect repeat attempt 1',
  'effect-before-start': 'an executor is called in the same tick as its node.started is recorded, before that event is durable: an effect made then and a crash leave no trace of the attempt, and the resumed one repeats its number',
  'run-created-not-started': 'a crash between createRun and the run.started append leaves a run with an empty journal; resume runs its nodes with no run.started, and the first expression fails with a TypeError (fixed when createRun writes run.started in the same transaction)',
};

/** Known bugs still open: a scenario that meets only these passes (and says so). None now. */
const TOLERATED = new Set([]);

function problem(message, bug) {
  return bug === undefined ? { message } : { message: `[known bug ${bug}] ${message}`, bug };
}

/** The problems that count as failures: all of them when strict, else those of no open known bug. */
export function unexpected(problems, strict = process.env.GANTRY_CRASH_STRICT === '1') {
  return problems.filter((p) => strict || !TOLERATED.has(p.bug));
}

/**
 * Everything the issue asks of a finished run's journal and effects log, on its own (without a
 * reference): one run.started first, one run.finished last, one completion per node path, each
 * node ended once, attempts that only grow, one key per node path in the effects log, attempts
 * of an effect that grow from one process to the next.
 */
export function checkRun({ events, effects, built }) {
  const problems = [];
  const fail = (message, path, bug) => problems.push(problem(path === null ? message : `${message}\n  journal:\n    ${excerpt(events, path).split('\n').join('\n    ')}`, bug));

  const types = events.map((e) => e.type);
  const starts = types.filter((t) => t === 'run.started').length;
  if (starts !== 1 || types[0] !== 'run.started') fail(`expected exactly one run.started, first; found ${starts}, the first event being ${types[0]}`, undefined, starts === 0 ? 'run-created-not-started' : undefined);
  const finishes = types.filter((t) => t === 'run.finished').length;
  if (finishes !== 1) fail(`expected exactly one run.finished, found ${finishes}`, undefined);
  else if (types.at(-1) !== 'run.finished') fail(`events after run.finished: ${types.slice(types.indexOf('run.finished') + 1).join(', ')}`, undefined);

  // One completion per node path; one end per node; nothing about a path after its completion.
  const completions = new Map();
  const nodeEnds = new Map();
  const completedAt = new Map();
  events.forEach((e, i) => {
    if (e.nodeId === undefined) return;
    const path = pathOf(e);
    if (completedAt.has(path) && !e.type.startsWith('compensation.')) fail(`${e.type} of ${path} (attempt ${e.attempt}) after its completion`, path);
    if (e.type === 'node.succeeded' || e.type === 'node.failed') {
      completions.set(path, (completions.get(path) ?? 0) + 1);
      completedAt.set(path, i);
    }
    if (e.item === undefined && (e.type === 'node.succeeded' || e.type === 'node.failed' || e.type === 'node.skipped')) nodeEnds.set(e.nodeId, (nodeEnds.get(e.nodeId) ?? 0) + 1);
    if (e.type === 'node.skipped') completedAt.set(path, i);
  });
  for (const [path, n] of completions) if (n !== 1) fail(`${n} completions (node.succeeded/node.failed) of ${path}`, path);
  for (const node of built.flow.nodes) {
    const n = nodeEnds.get(node.id) ?? 0;
    if (n !== 1) fail(`node ${node.id} ended ${n} times (succeeded/failed/skipped)`, node.id);
  }

  // Attempts of a path only grow, and a completion names the last attempt started.
  const lastAttempt = new Map();
  for (const e of events) {
    if (e.type === 'node.succeeded' || e.type === 'node.failed') {
      const started = lastAttempt.get(pathOf(e));
      if (started !== undefined && e.attempt !== started) fail(`${e.type} of ${pathOf(e)} names attempt ${e.attempt}, but the last attempt started is ${started}`, pathOf(e));
    }
    if (e.type !== 'node.started') continue;
    const path = pathOf(e);
    const before = lastAttempt.get(path);
    if (before !== undefined && e.attempt <= before) {
      fail(`${path} started as attempt ${e.attempt} after attempt ${before} had started: a resumed attempt must be numbered after the crashed one`, path, e.item === undefined ? undefined : 'for-each-attempts');
    }
    lastAttempt.set(path, e.attempt);
  }

  // The effects log: one key per node path and agent (the path as the agent knows it: its node
  // and item). The key is the run id + the node path; the calls of a parallel node add the
  // agent and task (`:worker.par`), so that each of its agents has a key of its own.
  const keysByPath = new Map();
  for (const line of effects.lines) {
    const at = `${line.path}|${line.agent}`;
    (keysByPath.get(at) ?? keysByPath.set(at, new Set()).get(at)).add(line.key);
    const base = `${RUN_ID}:${line.path}`;
    if (line.key !== base && !line.key.startsWith(`${base}:${line.agent}.`)) fail(`effect of ${line.path} has key ${line.key}, expected ${base} (or ${base}:${line.agent}.<task>)`, line.path);
  }
  for (const [at, keys] of keysByPath) if (keys.size !== 1) fail(`effects of ${at.split('|')[0]} by ${at.split('|')[1]} under ${keys.size} different keys: ${[...keys].join(', ')}`, at.split('|')[0]);
  if (effects.torn.length > 0) fail(`torn lines in the effects log: ${effects.torn.map((t) => JSON.stringify(t)).join(', ')}`, null);

  // Each effect applied once (the agent's own view), and a repeat comes from a later attempt.
  const byAgentKey = new Map();
  for (const line of effects.lines) {
    const k = `${line.agent}|${line.key}`;
    (byAgentKey.get(k) ?? byAgentKey.set(k, []).get(k)).push(line);
  }
  for (const [k, lines] of byAgentKey) {
    const appliedCount = lines.filter((l) => l.applied).length;
    if (appliedCount !== 1) fail(`effect ${k} applied ${appliedCount} times by the deduplicating agent`, lines[0].path);
    for (let i = 1; i < lines.length; i++) {
      if (lines[i].attempt <= lines[i - 1].attempt) {
        fail(
          `effect ${k} made again by attempt ${lines[i].attempt} (pid ${lines[i].pid}) after attempt ${lines[i - 1].attempt} (pid ${lines[i - 1].pid}) had made it: the resumed attempt must be numbered after the crashed one`,
          lines[0].path,
          /\[\d+\]$/.test(lines[0].path) ? 'for-each-attempts' : undefined,
        );
      }
    }
  }

  // Every completed agent node path has its effect, and the effect of the completing attempt.
  const agentIds = new Set(agentNodes(built));
  for (const e of events) {
    if (e.type !== 'node.succeeded' || !agentIds.has(e.nodeId)) continue;
    if (built.flow.nodes.find((n) => n.id === e.nodeId)?.for_each !== undefined && e.item === undefined) continue;
    const path = pathOf(e);
    const mine = effects.lines.filter((l) => l.path === path);
    if (mine.length === 0) fail(`${path} succeeded with no effect in the log`, path);
    else if (!mine.some((l) => l.attempt === e.attempt)) fail(`${path} succeeded as attempt ${e.attempt}, but the effects log has attempts ${mine.map((l) => l.attempt).join(', ')}`, path);
  }
  return problems;
}

/** The run's outcome against the reference run's: the same result, node ends, outputs and applied effects. */
export function compareWithReference({ events, effects }, reference) {
  const problems = [];
  const nodeDiffs = [];
  const mine = summarize(events);
  if (!isDeepStrictEqual(mine.result, reference.summary.result)) {
    problems.push(problem(`result differs from the uninterrupted run:\n  got      ${JSON.stringify(mine.result)}\n  expected ${JSON.stringify(reference.summary.result)}`));
  }
  const ids = new Set([...Object.keys(mine.ends), ...Object.keys(reference.summary.ends)]);
  for (const id of [...ids].sort()) {
    if (mine.ends[id] !== reference.summary.ends[id]) {
      nodeDiffs.push(`node ${id} ended ${mine.ends[id]}, in the uninterrupted run ${reference.summary.ends[id]}\n  journal:\n    ${excerpt(events, id, 6).split('\n').join('\n    ')}`);
    }
  }
  const paths = new Set([...Object.keys(mine.outputs), ...Object.keys(reference.summary.outputs)]);
  for (const path of [...paths].sort()) {
    if (!isDeepStrictEqual(mine.outputs[path], reference.summary.outputs[path])) {
      nodeDiffs.push(`output of ${path} differs:\n  got      ${JSON.stringify(mine.outputs[path])}\n  expected ${JSON.stringify(reference.summary.outputs[path])}`);
    }
  }
  problems.push(...nodeDiffs.slice(0, 6).map((m) => problem(m)));
  if (nodeDiffs.length > 6) problems.push(problem(`… and ${nodeDiffs.length - 6} more node ends or outputs that differ`));
  const applied = appliedEffects(effects.lines);
  if (!isDeepStrictEqual(applied, reference.applied)) {
    const extra = applied.filter((a) => !reference.applied.includes(a));
    const missing = reference.applied.filter((a) => !applied.includes(a));
    problems.push(problem(`applied effects differ from the uninterrupted run: extra ${JSON.stringify(extra)}, missing ${JSON.stringify(missing)}`));
  }
  return problems;
}

/**
 * What the journal (and effects log) must show right after a process died at a named point: that
 * the crash came where its name says. Returns a problem message, or undefined.
 */
export function checkPointReached(spec, events, effectLines, built, since) {
  const i = spec.indexOf(':');
  const point = i < 0 ? spec : spec.slice(0, i);
  const target = i < 0 ? undefined : spec.slice(i + 1);
  // Only what this process wrote counts (a resumed process starts after `since` events).
  const mine = events.slice(since);
  const started = mine.some((e) => e.type === 'node.started' && pathOf(e) === target);
  const completed = events.some((e) => (e.type === 'node.succeeded' || e.type === 'node.failed') && pathOf(e) === target);
  const tell = (what) => `crash ${spec}: ${what}\n  journal (last events):\n    ${excerpt(events, undefined, 8).split('\n').join('\n    ')}`;
  switch (point) {
    case 'before-run-started':
      return events.length === 0 ? undefined : tell(`expected an empty journal, found ${events.length} events`);
    case 'before-start':
      return started ? tell(`${target} has a node.started from the crashed process`) : undefined;
    case 'after-start':
      if (!started) return tell(`no node.started of ${target} from the crashed process`);
      return completed ? tell(`${target} already completed`) : undefined;
    case 'after-effect':
    case 'sync-effect':
      if (!effectLines.some((l) => l.path === target)) return tell(`no effect of ${target} in the log`);
      return completed ? tell(`${target} already completed`) : undefined;
    case 'before-complete':
      if (completed) return tell(`${target} has its completion`);
      return events.some((e) => e.type === 'node.started' && pathOf(e) === target) ? undefined : tell(`${target} had not started`);
    case 'after-complete':
      return completed ? undefined : tell(`${target} has no completion`);
    case 'fanout-half': {
      const done = built.fanoutChildren.filter((id) => events.some((e) => e.type === 'node.succeeded' && e.nodeId === id)).length;
      return done >= Math.ceil(built.fanoutChildren.length / 2) ? undefined : tell(`${done} of ${built.fanoutChildren.length} branch heads done`);
    }
    case 'fanout-half-effects': {
      const made = built.fanoutChildren.filter((id) => effectLines.some((l) => l.path === id)).length;
      const done = built.fanoutChildren.filter((id) => events.some((e) => e.type === 'node.succeeded' && e.nodeId === id)).length;
      return made >= Math.ceil(built.fanoutChildren.length / 2) && done < made ? undefined : tell(`${made} branch heads made their effect, ${done} completed`);
    }
    case 'foreach-half': {
      const done = events.filter((e) => e.type === 'node.succeeded' && e.nodeId === 'each' && e.item !== undefined).length;
      const whole = events.some((e) => e.type === 'node.succeeded' && e.nodeId === 'each' && e.item === undefined);
      return done >= Math.ceil(built.items.length / 2) && !whole ? undefined : tell(`${done} of ${built.items.length} items done${whole ? ', and the node too' : ''}`);
    }
    case 'timer-due': {
      const set = mine.findLast((e) => e.type === 'timer.set' && e.purpose === 'wait' && pathOf(e) === target);
      if (set === undefined) return tell(`no timer.set of ${target}`);
      return events.some((e) => e.type === 'timer.fired' && e.timerId === set.timerId) ? tell(`its timer ${set.timerId} had fired`) : undefined;
    }
    case 'timer-fired':
      return mine.some((e) => e.type === 'timer.fired' && pathOf(e) === target) ? undefined : tell(`no timer.fired of ${target}`);
    case 'before-append':
    case 'after-append':
      return undefined; // a moment, not a place: any journal is right
    case 'retry-wait': {
      const retrying = mine.findLast((e) => e.type === 'node.retrying' && pathOf(e) === target);
      if (retrying === undefined) return tell(`no node.retrying of ${target}`);
      return mine.some((e) => e.type === 'node.started' && pathOf(e) === target && e.attempt > retrying.attempt) ? tell('the next attempt had started') : undefined;
    }
    default:
      return tell('unknown point');
  }
}

// --- scenarios --------------------------------------------------------------------------------

export function tempDir(prefix = 'gantry-crash-') {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** An uninterrupted run of a seed, in its own store; checked on its own too. */
export async function referenceRun(seed, dir = tempDir()) {
  const db = join(dir, `reference-${seed}.db`);
  const effects = join(dir, `reference-${seed}.effects.log`);
  const proc = await runDriver({ db, effects, seed, mode: 'start' });
  if (proc.code !== 0 || !proc.finished) throw new Error(`reference run of seed ${seed} did not finish: code ${proc.code}, signal ${proc.signal}\n${proc.stderr}`);
  const { events } = readJournal(db);
  const built = buildFlow(seed);
  const eff = readEffects(effects);
  const problems = checkRun({ events, effects: eff, built });
  if (problems.length > 0) throw new Error(`the reference run of seed ${seed} fails the checks:\n${problems.map((p) => p.message).join('\n')}`);
  return { seed, dir, runMs: proc.runMs, appends: proc.finished.appends, summary: summarize(events), applied: appliedEffects(eff.lines), printed: proc.finished };
}

/**
 * One scenario: a first process crashed as `crashes[0]` says, each later one resumed and crashed
 * as the next says, then a last resume without a crash. A crash is `{ point }` (a named point:
 * GANTRY_CRASH) or `{ afterMs }` (the parent kills the child). Returns the processes, the journal,
 * the effects and the problems found (empty when every check holds).
 */
export async function crashScenario({ seed, crashes, reference, dir = tempDir() }) {
  const db = join(dir, 'run.db');
  const effects = join(dir, 'effects.log');
  const built = buildFlow(seed);
  const processes = [];
  const problems = [];
  let mode = 'start';
  let journalLength = 0;
  for (const crash of crashes) {
    journalLength = existsSync(db) ? readJournal(db).events.length : 0;
    const proc = await runDriver({ db, effects, seed, mode, crash: crash.point, killAfterMs: crash.afterMs });
    processes.push({ crash, mode, code: proc.code, signal: proc.signal, stderr: proc.stderr.trim(), finished: proc.finished, runMs: proc.runMs });
    if (crash.point !== undefined && !crash.mayFinish) {
      if (proc.signal !== 'SIGKILL') problems.push(problem(`${mode} with crash ${crash.point}: expected death by SIGKILL, got code ${proc.code} signal ${proc.signal} (was the point reached?)\n${proc.stderr}`));
      else {
        const { events } = readJournal(db);
        const missed = checkPointReached(crash.point, events, readEffects(effects).lines, built, journalLength);
        if (missed !== undefined) problems.push(problem(missed));
      }
    } else if (proc.signal !== 'SIGKILL' && !(proc.code === 0 && proc.finished)) {
      problems.push(problem(`${mode} with a kill after ${crash.afterMs} ms: neither killed nor finished: code ${proc.code} signal ${proc.signal}\n${proc.stderr}`));
    }
    mode = 'resume';
  }
  const last = await runDriver({ db, effects, seed, mode: 'resume' });
  processes.push({ crash: undefined, mode: 'resume', code: last.code, signal: last.signal, stderr: last.stderr.trim(), finished: last.finished, runMs: last.runMs });
  if (last.code !== 0 || !last.finished) problems.push(problem(`the last resume did not finish: code ${last.code}, signal ${last.signal}\n${last.stderr}`));

  const { events, record } = readJournal(db);
  const eff = readEffects(effects);
  problems.push(...checkRun({ events, effects: eff, built }));
  if (reference) {
    problems.push(...compareWithReference({ events, effects: eff }, reference));
    if (last.finished) {
      const printed = { status: last.finished.status, output: last.finished.output, error: last.finished.error };
      const expected = { status: reference.printed.status, output: reference.printed.output, error: reference.printed.error };
      if (!isDeepStrictEqual(printed, expected)) problems.push(problem(`the resumed process printed ${JSON.stringify(printed)}, the uninterrupted one ${JSON.stringify(expected)}`));
    }
  }
  const finished = events.find((e) => e.type === 'run.finished');
  if (record && finished && record.status !== finished.status) problems.push(problem(`the runs table says ${record.status}, the journal ${finished.status}`));
  return { seed, crashes, dir, db, effects, processes, events, effectLines: eff.lines, problems };
}

/** Removes a scenario's folder (kept when it failed, to look at). */
export function cleanUp(dir) {
  rmSync(dir, { recursive: true, force: true });
}

/** A report of a failed scenario: the seed, the crashes, what each process did and the problems. */
export function describeFailure(outcome) {
  const procs = outcome.processes
    .map((p, i) => `  #${i + 1} ${p.mode}${p.crash ? ` crash ${JSON.stringify(p.crash)}` : ''}: code ${p.code} signal ${p.signal}${p.stderr ? ` — ${p.stderr.split('\n').at(-1)}` : ''}`)
    .join('\n');
  const shown = outcome.problems.slice(0, 12).map((p) => p.message);
  if (outcome.problems.length > 12) shown.push(`… and ${outcome.problems.length - 12} more problems`);
  return `seed ${outcome.seed}, crashes ${JSON.stringify(outcome.crashes)} (files kept in ${outcome.dir})\n${procs}\n${shown.join('\n')}`;
}

// --- the scenarios the test and the soak run --------------------------------------------------

/**
 * The named-point scenarios: each names the crashes of its processes in turn (a point and the
 * node it aims at in a seed's flow; undefined when the flow lacks that node). `bug` marks a case
 * that shows a known engine bug (KNOWN_BUGS): it fails until the bug is fixed.
 */
const at = (point, target) => (built) => {
  const t = typeof target === 'function' ? target(built) : target;
  return t === undefined ? undefined : t === null ? point : `${point}:${t}`;
};
const head = (i) => (b) => b.fanoutChildren[i];
const gateOf = (b) => b.flow.nodes.find((n) => n.type === 'conditional' && n.id !== 'final_gate')?.id;

export const NAMED_CASES = [
  { crashes: [at('before-start', 'start')] },
  { crashes: [at('before-start', head(1))] },
  { crashes: [at('before-start', 'each')] },
  { crashes: [at('before-start', 'pause')] },
  { crashes: [at('before-start', 'finish')] },
  { crashes: [at('after-start', head(1))] },
  { crashes: [at('after-start', 'each')] },
  { crashes: [at('after-start', 'flaky')] },
  { crashes: [at('after-start', 'c0_1')] },
  { crashes: [at('after-start', 'finish')] },
  { crashes: [at('after-effect', 'start')] },
  { crashes: [at('after-effect', 'b0_1')] },
  { crashes: [at('after-effect', 'c0_1')] },
  { crashes: [at('after-effect', 'flaky')] },
  { crashes: [at('after-effect', (b) => (b.variant === 2 ? undefined : 'finish'))] },
  { crashes: [at('before-complete', 'split')] },
  { crashes: [at('before-complete', gateOf)] },
  { crashes: [at('before-complete', 'fanin')] },
  { crashes: [at('before-complete', 'each')] },
  { crashes: [at('before-complete', 'pause')] },
  { crashes: [at('before-complete', 'finish')] },
  { crashes: [at('after-complete', head(0))] },
  { crashes: [at('after-complete', gateOf)] },
  { crashes: [at('after-complete', 'each')] },
  { crashes: [at('after-complete', 'final_gate')] },
  { crashes: [at('after-complete', 'finish')] },
  // finish fails (variant 2): the crash comes between its node.failed and run.finished
  { crashes: [at('after-complete', (b) => (b.variant === 2 ? 'finish' : undefined))] },
  // risky fails and its error edge catches it (variant 3)
  { crashes: [at('after-complete', (b) => (b.variant === 3 ? 'risky' : undefined))] },
  { crashes: [at('fanout-half', null)] },
  { crashes: [at('fanout-half-effects', null)] },
  { crashes: [at('foreach-half', null)] },
  { crashes: [at('timer-due', (b) => b.waitNode)] },
  { crashes: [at('timer-fired', (b) => b.waitNode)] },
  { crashes: [at('retry-wait', (b) => b.retryNode)] },
  // Crashed twice: the resumed attempt crashes as well.
  { crashes: [at('after-effect', 'b0_1'), at('after-effect', 'b0_1')] },
  { crashes: [at('retry-wait', (b) => b.retryNode), at('after-start', (b) => b.retryNode)] },
  { crashes: [at('before-complete', 'fanin'), at('after-start', 'fanin')] },
  { crashes: [at('after-complete', head(0)), at('after-effect', head(1))] },
  // Engine bugs this suite found (KNOWN_BUGS), one regression case each.
  { crashes: [at('after-effect', 'each[1]')], bug: 'for-each-attempts', fixed: true },
  { crashes: [at('sync-effect', 'b0_1')], bug: 'effect-before-start', fixed: true },
  { crashes: [at('before-run-started', null)], bug: 'run-created-not-started', fixed: true },
];

/**
 * The crashes of a named case in the flow of a seed: the GANTRY_CRASH values, or undefined when
 * the flow lacks one of the nodes aimed at.
 */
export function namedCrashes(namedCase, built) {
  const specs = namedCase.crashes.map((c) => c(built));
  return specs.includes(undefined) ? undefined : specs.map((point) => ({ point }));
}

/** The seed of the i-th named case: the first of `seeds`, from the i-th on, whose flow has its nodes. */
export function seedFor(namedCase, i, seeds) {
  for (let k = 0; k < seeds.length; k++) {
    const seed = seeds[(i + k) % seeds.length];
    if (namedCrashes(namedCase, buildFlow(seed)) !== undefined) return seed;
  }
  return undefined;
}

/** A name for a case: its crashes joined. */
export function caseName(namedCase, built) {
  return (namedCrashes(namedCase, built) ?? []).map((c) => c.point).join(' → ');
}

/**
 * A random-moment scenario of a seed: one or two kills (two for every third seed) at delays drawn
 * from the seed, across the reference run's length (and a little past it).
 */
export function randomCrashes(seed, reference) {
  const rnd = prng(seed * 7919 + 17);
  const span = Math.max(50, Math.round((reference.runMs ?? 800) * 1.1));
  const count = seed % 3 === 0 ? 2 : 1;
  return Array.from({ length: count }, () => ({ afterMs: Math.round(rnd() * span) }));
}

/**
 * A reproducible "random moment": a crash before or after the k-th append of the first process,
 * k drawn from the seed across the reference run's appends. The same seed crashes at the same
 * write every time, so a failure found by the soak can be run again.
 */
export function appendCrash(seed, reference) {
  const rnd = prng(seed * 104729 + 3);
  const k = 1 + Math.floor(rnd() * Math.max(1, reference.appends ?? 1));
  const when = rnd() < 0.5 ? 'before' : 'after';
  return [{ point: `${when}-append:${k}`, mayFinish: true }];
}
