/**
 * What `gantry run` and `gantry show` show of a run that crosses sub-flows, through the built CLI
 * in child processes: a flow agent's task flow under its node, a for_each as its items with a
 * gate's readings, at any depth; without a terminal one line per finished node of every depth;
 * at a terminal (a pseudo-terminal from `script`) the live tree; a failure's root cause first,
 * then where, once; show's values, labels, readings, attempts and nested runs.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'packages/cli/dist/bin.js');

const FILES: Record<string, unknown> = {
  'release.json': {
    name: 'Release',
    params: { steps: { type: 'array', default: [10, 25, 50] } },
    nodes: [
      { id: 'start', type: 'webhook', data: {} },
      { id: 'check', type: 'agent', retry: { max_attempts: 2, backoff: 'fixed', initial_seconds: 0.2 }, data: { agent: 'probe', task: 'probe' } },
      { id: 'route', type: 'conditional', data: { conditions: [{ if: '{% $count($params.steps) > 0 %}', then: 'shift' }] } },
      { id: 'ship', type: 'agent', data: { agent: 'deployer', task: 'shift', inputs: { steps: '{% $params.steps %}' } } },
      { id: 'announce', type: 'wait', data: { seconds: 0 } },
    ],
    edges: [
      { from: 'start', to: 'check' },
      { from: 'check', to: 'route' },
      { from: 'route', to: 'ship', condition: 'shift' },
      { from: 'ship', to: 'announce' },
    ],
    error_handlers: [{ stage: 'ship', action: 'rollback', escalation: 'immediate' }],
  },
  'shift.json': {
    name: 'Shift',
    params: { steps: { type: 'array', default: [10] } },
    nodes: [
      { id: 'prepare', type: 'wait', data: { seconds: 0 } },
      { id: 'traffic', type: 'subflow', for_each: '{% $params.steps %}', data: { flow: 'step.json', params: { percentage: '{% $item %}' } } },
    ],
    edges: [{ from: 'prepare', to: 'traffic' }],
  },
  'step.json': {
    name: 'Step',
    params: { percentage: { type: 'number', default: 0 } },
    nodes: [
      { id: 'bake', type: 'wait', data: { seconds: 1 } },
      { id: 'read', type: 'wait', data: { seconds: 0 }, output: { p95_latency_ms: '{% $params.percentage * 10 %}', error_rate_percent: 0 } },
      { id: 'gate', type: 'conditional', data: { conditions: [{ metric: 'error_rate_percent', operator: '<=', value: 1 }, { metric: 'p95_latency_ms', operator: '<=', value: 500 }] } },
    ],
    edges: [{ from: 'bake', to: 'read' }, { from: 'read', to: 'gate' }],
  },
  'gantry.config.json': {
    agents: {
      deployer: { transport: 'flow', flows: { shift: './shift.json' } },
      probe: { transport: 'module', module: './probe.mjs' },
    },
  },
};

/** An agent whose first call fails as retryable; its answer holds a long value. */
const PROBE = `import { existsSync, writeFileSync } from 'node:fs';
export default async function probe() {
  const mark = new URL('./.probed', import.meta.url);
  if (!existsSync(mark)) {
    writeFileSync(mark, '');
    return { status: 'failed', error: { message: 'the probe timed out', retryable: true } };
  }
  return { healthy: true, blob: 'x'.repeat(5000), region: 'eu-west-1' };
}
`;

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gantry-progress-'));
  dirs.push(dir);
  for (const [name, content] of Object.entries(FILES)) writeFileSync(join(dir, name), JSON.stringify(content, null, 2));
  writeFileSync(join(dir, 'probe.mjs'), PROBE);
  return dir;
}

function gantry(dir: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const runIdOf = (stdout: string) => /\(run (\S+)\)\n/.exec(stdout)![1]!;
const count = (text: string, part: string) => text.split(part).length - 1;

describe('gantry run without a terminal', () => {
  it('prints one line per finished node of every depth, under a line naming the sub-flow run, and a for_each as its items with their readings', () => {
    const dir = folder();
    const r = gantry(dir, 'run', 'release.json');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const out = r.stdout;
    // The flow agent's task flow under its node, and each item's sub-flow under the item.
    expect(out).toContain('\n  ▸ ship · Shift\n    ✓ prepare  wait     succeeded');
    for (const [i, step] of [10, 25, 50].entries()) {
      expect(out).toMatch(new RegExp(`\\n      ▸ ship › traffic\\[${i}\\] · Step\\n        ✓ bake  wait +succeeded .*\\n        ✓ read  wait +succeeded .*\\n        ✓ gate  conditional +succeeded .*\\n            → pass: error_rate_percent 0 <= 1, p95_latency_ms ${step * 10} <= 500\\n      ✓ \\[${i}\\] ${step}  \\S+ — error_rate_percent 0 <= 1, p95_latency_ms ${step * 10} <= 500\\n`));
    }
    // The agent node's line comes after its task flow's, back at its own depth; the router's label.
    expect(out).toMatch(/\n    ✓ traffic  subflow  succeeded \S+\n  ✓ ship      agent        succeeded \S+\n/);
    expect(out).toMatch(/\n  ✓ route     conditional  succeeded \S+ — → shift\n/);
    // A retried attempt says so; a gate's readings are on its line.
    expect(out).toMatch(/\n  ↻ check +agent +retrying \S+\n {6}attempt 1 failed \(agent "probe" task "probe" failed: the probe timed out\);\n {6}retry at \d\d:\d\d:\d\d\n/);
    expect(out).toMatch(/✓ check +agent +succeeded attempt 2 /);
    for (const line of out.split('\n')) expect(line.length, line).toBeLessThanOrEqual(80);
  }, 60_000);

  it('says what failed at the bottom first, then where, once; the nodes above say where it came from, and nothing is cut', () => {
    const dir = folder();
    const r = gantry(dir, 'run', 'release.json', '--param', 'steps=[10,25,60]');
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const out = r.stdout;
    expect(out).toMatch(/\n {8}✗ gate  conditional  failed \S+\n {12}error_rate_percent 0 <= 1, p95_latency_ms 600 <= 500 ✗\n/);
    expect(out).toMatch(/\n {6}✗ \[2\] 60  \S+ — error_rate_percent 0 <= 1, p95_latency_ms 600 <= 500 ✗\n/);
    expect(out).toMatch(/\n {4}✗ traffic  subflow  failed \S+ — in item 2 › gate\n/);
    expect(out).toMatch(/\n {2}✗ ship      agent        failed \S+ — in traffic\[2\] › gate\n/);
    expect(out).toMatch(/Release: rolled_back in \S+ \(run \S+\)\n  3 succeeded, 1 failed, 1 skipped\n  with its 4 sub-flow runs: 12 succeeded, 3 failed, 1 skipped\n  gate "gate" failed: p95_latency_ms <= 500 \(was 600\)\n    at ship › traffic\[2\] › gate\n  escalation sent about ship: the failure above\n$/);
    // Said once: not again as the escalation's text, not as a chain of sub-flow messages.
    expect(count(out, 'gate "gate" failed')).toBe(1);
    expect(out).not.toContain('ESCALATION');
    expect(out).not.toContain('ended rolled_back');
    expect(out).not.toContain('…');
  }, 60_000);
});

describe('gantry run at a terminal', () => {
  const script = ['/usr/bin/script', '/bin/script'].find((p) => existsSync(p));

  it.runIf(script !== undefined)('draws the running sub-flow under its node and the for_each items, then the whole tree and the root cause', () => {
    const dir = folder();
    const command = `${process.execPath} ${BIN} run release.json --param 'steps=[10,25,60]'`;
    const r = spawnSync(script!, ['-qfec', command, '/dev/null'], { cwd: dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', COLUMNS: '100', LINES: '40' }, timeout: 60_000 });
    expect(r.status, r.stdout).toBe(1);
    // Each frame is redrawn in place: what was drawn, frame after frame, with the escapes taken out.
    const frames = r.stdout.replace(/\r/g, '').replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '');
    // While an item ran, its sub-flow's nodes were drawn under it, under the agent's task flow.
    expect(frames).toMatch(/\n {4}[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] traffic +subflow +running [0-2] of 3 done/);
    expect(frames).toMatch(/\n {6}[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] \[1\] 25  running .*\n {8}⏸ bake +wait +waiting .*\n {8}· read +wait +waiting for its predecessors\n/);
    // The last frame: every item with its readings, the failed one too, and the summary.
    expect(frames).toMatch(/\n {6}✓ \[0\] 10  \S+ — error_rate_percent 0 <= 1, p95_latency_ms 100 <= 500\n {6}✓ \[1\] 25  \S+ — error_rate_percent 0 <= 1, p95_latency_ms 250 <= 500\n {6}✗ \[2\] 60  \S+ — error_rate_percent 0 <= 1, p95_latency_ms 600 <= 500 ✗\n/);
    expect(frames).toMatch(/gate "gate" failed: p95_latency_ms <= 500 \(was 600\)\n {4}at ship › traffic\[2\] › gate\n/);
  }, 60_000);
});

describe('gantry show', () => {
  it('prints values (long ones cut with their size), labels, readings, attempts, and sub-flow runs nested under their nodes and items', () => {
    const dir = folder();
    const run = gantry(dir, 'run', 'release.json', '--param', 'steps=[10,25,60]');
    const runId = runIdOf(run.stdout);
    const shown = gantry(dir, 'show', runId);
    expect(shown.code, shown.stderr).toBe(0);
    const out = shown.stdout;
    expect(out).toMatch(/\n {2}cause {4}GATE_FAILED: gate "gate" failed: p95_latency_ms <= 500 \(was 600\)\n {11}at ship › traffic\[2\] › gate \(run \S+\.ship\.traffic\[2\]\)\n/);
    expect(out).toContain('\n  params   { steps: [10, 25, 60] }\n');
    // The attempts, with their times and errors.
    expect(out).toMatch(/\ncheck \(agent\): succeeded \S+, 2 attempts, started .*\n/);
    expect(out).toMatch(/\n {4}attempts\n {6}1 {2}\d{4}-\d\d-\d\d \d\d:\d\d:\d\d {2}\S+ {2}failed, retried at \d\d:\d\d:\d\d\n {9}AGENT_FAILED: agent "probe" task "probe" failed: the probe timed out\n {6}2 {2}\S+ \S+ {2}\S+ {2}succeeded\n/);
    // Its failed attempt's error is said there, not as the node's error: the node succeeded.
    expect(out.slice(out.indexOf('\ncheck ('), out.indexOf('\nroute ('))).not.toContain('    error ');
    // A long output: one key a line, a long value cut with its size.
    expect(out).toMatch(/\n {4}output {2}\(3 keys, \d\.\d KB\)\n {6}healthy: true\n {6}blob: "x{10,}…" \(\d\.\d KB\)\n {6}region: "eu-west-1"\n/);
    // The router's label.
    expect(out).toMatch(/\nroute \(conditional\): succeeded \S+ → shift, started/);
    // The agent's task flow under its node; the items with their readings; each item's run under it.
    expect(out).toMatch(/\nship \(agent\): failed \S+, started .*\n(.*\n)*? {4}error {3}AGENT_FAILED in traffic\[2\] › gate\n {4}↳ Shift: failed \S+ \(sub-flow run \S+\.ship\)\n/);
    expect(out).toMatch(/\n {12}items {3}3: \[10, 25, 60\]\n {14}✓ \[0\] 10  \S+ — error_rate_percent 0 <= 1, p95_latency_ms 100 <= 500\n {18}↳ Step: succeeded \S+ \(sub-flow run \S+\.ship\.traffic\[0\]\)\n {22}params {2}{ percentage: 10 }\n {22}bake \(wait\): succeeded/);
    expect(out).toMatch(/\n {14}✗ \[2\] 60  \S+ — error_rate_percent 0 <= 1, p95_latency_ms 600 <= 500 ✗\n(.*\n)*? {22}gate \(conditional\): failed \S+, started .*\n {26}input {3}{ p95_latency_ms: 600, error_rate_percent: 0 }\n {26}checks {2}error_rate_percent 0 <= 1, p95_latency_ms 600 <= 500 ✗\n/);
    expect(count(out, 'gate "gate" failed')).toBe(1);
    // --json is the record and the journal, as before.
    const json = JSON.parse(gantry(dir, 'show', runId, '--json').stdout) as { run: { runId: string; status: string }; events: { type: string }[] };
    expect(json.run).toMatchObject({ runId, status: 'rolled_back' });
    expect(json.events[0]!.type).toBe('run.started');
  }, 60_000);
});

describe('an approval carried on by resume', () => {
  it('reads as one attempt: nothing was retried', () => {
    const dir = folder();
    writeFileSync(join(dir, 'approve.json'), JSON.stringify({ name: 'Approve', nodes: [{ id: 'approval', type: 'human_approval', data: { approvers: ['tech-lead'], timeout: 3600 } }, { id: 'pause', type: 'wait', data: { seconds: 0 } }], edges: [{ from: 'approval', to: 'pause' }] }));
    const waiting = gantry(dir, 'run', 'approve.json');
    expect(waiting.code, waiting.stdout + waiting.stderr).toBe(4);
    const runId = /gantry approve (\S+) approval/.exec(waiting.stdout)![1]!;
    expect(gantry(dir, 'approve', runId, 'approval', '--as', 'tech-lead').code).toBe(0);
    const resumed = gantry(dir, 'resume', runId);
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/✓ approval +human_approval +succeeded \S+\n/);
    expect(resumed.stdout).not.toContain('attempt');
    // The approval asked again as the run resumed is not a second waiting line.
    expect(count(resumed.stdout, 'approval by tech-lead')).toBe(1);
    expect(resumed.stdout).toMatch(/— tech-lead approved\n {2}✓ approval +human_approval +succeeded/);
    const shown = gantry(dir, 'show', runId).stdout;
    expect(shown).toMatch(/\napproval \(human_approval\): succeeded \S+, started/);
    expect(shown).not.toContain('attempts');
  }, 60_000);
});

describe('gantry validate', () => {
  it('refuses an agent named twice in a parallel node: its results would collapse to one key', () => {
    const dir = folder();
    writeFileSync(join(dir, 'twice.json'), JSON.stringify({ name: 'twice', nodes: [{ id: 'review', type: 'parallel', data: { agents: [{ agent: 'probe', task: 'a' }, { agent: 'probe', task: 'b' }] } }] }));
    const r = gantry(dir, 'validate', 'twice.json');
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('error DUPLICATE_AGENT node "review" (parallel): agent "probe" is listed twice (agents 0 and 1)');
    expect(gantry(dir, 'run', 'twice.json').code).toBe(2);
  });
});
