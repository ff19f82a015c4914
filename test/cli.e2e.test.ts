import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'packages/cli/dist/bin.js');

/** Runs the built gantry command as a user would, in `cwd`. */
function gantry(args: string[], cwd = ROOT) {
  const result = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function tempFlow(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'gantry-cli-'));
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('gantry validate', () => {
  it('accepts every shipped flow and exits 0', () => {
    const r = gantry(['validate', 'flows/']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/✓ flows\/complete-deployment\.json {2}valid \(10 nodes, 9 edges\)/);
    expect(r.stdout).toMatch(/0 invalid/);
  });

  it('reports every problem with file:line:col, code, pointer and a code frame, and exits 2', () => {
    const path = tempFlow(
      'typo.json',
      ['{', '  "name": "typo",', '  "nodes": [', '    { "id": "a", "type": "agent", "data": { "agent": "x", "task": "t" }, "timout": 5 },', '    { "id": "b", "type": "agent", "data": { "agent": "x", "task": "t" } }', '  ],', '  "edges": [{ "from": "a", "to": "c" }]', '}', ''].join('\n'),
    );
    const r = gantry(['validate', path]);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain(`${path}:4:74 error UNKNOWN_KEY node "a" (agent): unknown key "timout" — did you mean "timeout"?`);
    expect(r.stdout).toContain('at /nodes/0/timout');
    expect(r.stdout).toMatch(/ 4 \| .*"timout": 5/);
    expect(r.stdout).toContain(`${path}:7:34 error EDGE_UNKNOWN_NODE edge #0: "to" names no node: "c"\n`);
    expect(r.stdout).toMatch(/✗ .*typo\.json {2}2 errors\n/);
  });

  it('prints JSON with --json, and --strict fails on warnings', () => {
    const path = tempFlow(
      'orphan.json',
      JSON.stringify({
        name: 'orphan',
        nodes: [
          { id: 'hook', type: 'webhook', data: { endpoint: '/x' } },
          { id: 'lonely', type: 'wait', data: { seconds: 1 } },
        ],
      }),
    );
    const lenient = gantry(['validate', '--json', path]);
    expect(lenient.code).toBe(0);
    const report = JSON.parse(lenient.stdout) as { ok: boolean; files: { diagnostics: { code: string; pointer: string; severity: string }[] }[] };
    expect(report.ok).toBe(true);
    expect(report.files[0]!.diagnostics).toEqual([expect.objectContaining({ code: 'UNREACHABLE_NODE', pointer: '/nodes/1', severity: 'warning' })]);
    expect(gantry(['validate', '--strict', path]).code).toBe(2);
  });

  it('reports JSON syntax errors with their position', () => {
    const path = tempFlow('broken.json', '{\n  "name": "x",\n  "nodes": [\n    { "id": "a", }\n  ]\n}\n');
    const r = gantry(['validate', path]);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain(`${path}:4:16 error JSON_SYNTAX trailing comma: JSON allows none after the last property of an object (remove it)`);
    expect(r.stdout).toMatch(/ 4 \|     \{ "id": "a", \}\n +\| {16}\^\n/);
  });

  it('names a missing file and still reports the others', () => {
    const r = gantry(['validate', 'flows/code-quality.json', 'flows/nope.json']);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('cannot read flows/nope.json: no such file');
    expect(r.stdout).toContain('✓ flows/code-quality.json');
  });

  it('refuses bad usage with exit 2 and a pointer to help', () => {
    expect(gantry(['validate']).code).toBe(2);
    const r = gantry(['validate', '--frobnicate', 'flows/']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Unknown option '--frobnicate'");
    expect(r.stderr).toContain('gantry validate --help');
    const typo = gantry(['valdiate']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('did you mean "validate"?');
  });
});

describe('gantry graph', () => {
  it('renders Mermaid with node types as shapes and edge labels', () => {
    const r = gantry(['graph', 'flows/complete-deployment.json']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^---\ntitle: Complete Deployment Pipeline\n---\nflowchart TD\n/);
    expect(r.stdout).toContain('{"<b>quality_gate</b><br/>conditional<br/>on error: block_deployment"}');
    expect(r.stdout).toContain('[/"<b>production_approval</b><br/>human_approval"/]');
    expect(r.stdout).toMatch(/n2 -->\|"pass"\| n3/);
  });

  it('renders DOT with shapes and labels', () => {
    const r = gantry(['graph', 'flows/complete-deployment.json', '--format', 'dot']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^digraph "Complete Deployment Pipeline" \{/);
    expect(r.stdout).toContain('"quality_gate" -> "build_pipeline" [label="pass"];');
    expect(r.stdout).toMatch(/"quality_gate" \[label="quality_gate\\nconditional\\non error: block_deployment", shape=diamond/);
  });

  it('draws error edges dotted and escapes labels', () => {
    const path = tempFlow(
      'errors.json',
      JSON.stringify({
        name: 'Say "hi"',
        nodes: [
          { id: 'end', type: 'agent', data: { agent: 'a', task: 't' } },
          { id: 'cleanup', type: 'agent', data: { agent: 'a', task: 'undo' } },
          { id: 'next', type: 'agent', data: { agent: 'a', task: 't' } },
        ],
        edges: [
          { from: 'end', to: 'cleanup', condition: 'error' },
          { from: 'end', to: 'next', condition: '{% score > 3 %}' },
        ],
      }),
    );
    const mermaid = gantry(['graph', path]).stdout;
    expect(mermaid).toContain('title: Say #quot;hi#quot;');
    expect(mermaid).toContain('n0 -.->|"error"| n1');
    expect(mermaid).toContain('n0 -->|"{% score #gt; 3 %}"| n2');
    const dot = gantry(['graph', path, '--format', 'dot']).stdout;
    expect(dot).toContain('digraph "Say \\"hi\\"" {');
    expect(dot).toContain('"end" -> "cleanup" [label="error", style=dashed, color=red];');
  });

  it('refuses an invalid flow with its diagnostics on stderr and exit 2', () => {
    const path = tempFlow('cycle.json', JSON.stringify({ name: 'c', nodes: [{ id: 'a', type: 'wait', data: { seconds: 1 } }, { id: 'b', type: 'wait', data: { seconds: 1 } }], edges: [{ from: 'a', to: 'b' }, { from: 'b', to: 'a' }] }));
    const r = gantry(['graph', path]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('GRAPH_CYCLE the edges form a cycle: a → b → a');
    expect(gantry(['graph', 'flows/code-quality.json', '--format', 'svg']).stderr).toContain('--format must be mermaid or dot, got "svg"');
  });
});

describe('gantry runs and show with sub-flow runs', () => {
  it('lists top-level runs unless --all; show names a run\'s sub-flow runs', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gantry-cli-subflows-'));
    writeFileSync(join(dir, 'gantry.config.json'), '{}');
    writeFileSync(join(dir, 'child.json'), JSON.stringify({ name: 'child', nodes: [{ id: 'pause', type: 'wait', data: { seconds: 0 } }] }));
    writeFileSync(join(dir, 'parent.json'), JSON.stringify({ name: 'parent', nodes: [{ id: 'twice', type: 'subflow', for_each: '{% [1, 2] %}', data: { flow: 'child.json' } }] }));
    const run = gantry(['run', 'parent.json', '--json'], dir);
    expect(run.code, run.stderr).toBe(0);
    const runId = (JSON.parse(run.stdout.split('\n')[0]!) as { runId: string }).runId;
    const listed = JSON.parse(gantry(['runs', '--json'], dir).stdout) as { runId: string }[];
    expect(listed.map((r) => r.runId)).toEqual([runId]);
    const all = JSON.parse(gantry(['runs', '--all', '--json'], dir).stdout) as { runId: string }[];
    expect(all.map((r) => r.runId).sort()).toEqual([runId, `${runId}.twice[0]`, `${runId}.twice[1]`]);
    const shown = gantry(['show', runId], dir).stdout;
    // Each item's sub-flow run is shown under it, its nodes nested.
    const esc = runId.replace(/[.[\]]/g, '\\$&');
    expect(shown).toMatch(new RegExp(`items {3}2: \\[1, 2\\]\\n +✓ \\[0\\] 1 .*\\n +↳ child: succeeded .* \\(sub-flow run ${esc}\\.twice\\[0\\]\\)\\n(.*\\n)* +pause \\(wait\\): succeeded`));
    expect(shown).toMatch(new RegExp(`✓ \\[1\\] 2 .*\\n +↳ child: succeeded .* \\(sub-flow run ${esc}\\.twice\\[1\\]\\)`));
  });

  it('names the store it looked in for no runs and an unknown run, and a missing --input as a missing file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gantry-cli-missing-'));
    writeFileSync(join(dir, 'gantry.config.json'), '{}');
    writeFileSync(join(dir, 'one.json'), JSON.stringify({ name: 'one', nodes: [{ id: 'pause', type: 'wait', data: { seconds: 0 } }] }));
    const where = `in the store ${join('.gantry', 'gantry.db')} (each folder has its own)`;
    const none = gantry(['runs'], dir);
    expect(none.code, none.stderr).toBe(0);
    expect(none.stdout).toBe(`no runs yet ${where}: start one with "gantry run <flow>"\n`);
    expect(gantry(['run', 'one.json'], dir).code).toBe(0);
    expect(gantry(['runs', '--status', 'rolled_back'], dir).stdout).toBe(`no rolled_back runs ${where}\n`);
    const unknown = gantry(['show', 'nope'], dir);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain(`no run nope in the store ${join('.gantry', 'gantry.db')} (each folder has its own)`);
    const input = gantry(['run', 'one.json', '--input', 'absent.json'], dir);
    expect(input.code).toBe(2);
    expect(input.stderr).toContain('cannot read --input absent.json: no such file');
  });
});
