import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileFlow, createEngine, validateConfigText, validateFlowDocument, validateFlowText, type JsonObject } from '@gantry/engine';
import { builtinExecutors, builtinFunctions, moduleAgent } from '@gantry/executors';

const ROOT = resolve(import.meta.dirname, '..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** Every block marked `<!-- example: kind -->` in the README, with its line. */
function examples(kind: string): { line: number; code: string }[] {
  const found: { line: number; code: string }[] = [];
  const pattern = new RegExp(`<!-- example: ${kind} -->\\n\`\`\`\\w*\\n([\\s\\S]*?)\`\`\``, 'g');
  for (const match of README.matchAll(pattern)) {
    found.push({ line: README.slice(0, match.index).split('\n').length, code: match[1]! });
  }
  return found;
}

function engine() {
  return createEngine({
    executors: builtinExecutors,
    functions: builtinFunctions,
    agents: { greeter: moduleAgent(async (inputs) => ({ said: inputs.text ?? 'hi' })) },
  });
}

describe('the README examples', () => {
  it('has examples of every kind', () => {
    expect(examples('flow').length).toBeGreaterThanOrEqual(2);
    expect(examples('node').length).toBeGreaterThanOrEqual(8);
    expect(examples('handlers')).toHaveLength(1);
    expect(examples('embed')).toHaveLength(1);
    expect(examples('config')).toHaveLength(1);
  });

  for (const { line, code } of examples('flow')) {
    it(`runs the flow at README line ${line}`, async () => {
      const validation = validateFlowText(code);
      expect(validation.diagnostics).toEqual([]);
      const run = await engine().start(compileFlow(JSON.parse(code)), { trigger: { name: 'world' } });
      expect((await run.finished).status).toBe('succeeded');
    });
  }

  for (const { line, code } of examples('node')) {
    it(`validates the node at README line ${line}`, () => {
      const node = JSON.parse(code) as JsonObject;
      const flow = { name: 'example', params: { environment: { type: 'string', default: 'production' }, bake_seconds: { type: 'number', default: 1 } }, nodes: [node] };
      const result = validateFlowDocument(flow);
      expect(result.diagnostics).toEqual([]);
    });
  }

  it('validates the error handlers example', () => {
    const [{ code }] = examples('handlers') as [{ code: string }];
    const nodes = ['quality_gate', 'production_deployment'].map((id) => ({ id, type: 'agent', data: { agent: 'greeter', task: 't' } }));
    const result = validateFlowDocument({ name: 'handlers', nodes, edges: [{ from: 'quality_gate', to: 'production_deployment' }], error_handlers: JSON.parse(code) });
    expect(result.diagnostics).toEqual([]);
  });

  it('validates the Postgres store configuration of "Several machines"', () => {
    const [{ code }] = examples('store-config') as [{ code: string }];
    expect(validateConfigText(code).diagnostics).toEqual([]);
    // The URL is never in the file: the schema has no place for it.
    expect(validateConfigText('{ "store": { "postgres": { "url_env": "X", "url": "postgres://u:p@h/d" } } }').diagnostics).not.toEqual([]);
  });

  it('validates the configuration example', () => {
    const [{ code }] = examples('config') as [{ code: string }];
    expect(validateConfigText(code).diagnostics).toEqual([]);
  });

  it('runs "Your first flow" through the CLI as the README shows: succeeded, then waiting, approved and resumed', () => {
    const files = [...README.matchAll(/<!-- example: first-flow (\S+) -->\n```\w*\n([\s\S]*?)```/g)];
    expect(files.map((m) => m[1])).toEqual(['hello.json', 'greeter.mjs', 'gantry.config.json']);
    const dir = mkdtempSync(join(tmpdir(), 'gantry-first-'));
    for (const [, name, text] of files) writeFileSync(join(dir, name!), text!);
    writeFileSync(join(dir, 'trigger.json'), '{ "name": "world" }');
    const gantry = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'packages/cli/dist/bin.js'), ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      expect(gantry('run', 'hello.json', '--input', 'trigger.json', '--approve-as', 'tech-lead').status).toBe(0);
      const waiting = gantry('run', 'hello.json', '--input', 'trigger.json');
      expect(waiting.status).toBe(4);
      const runId = /gantry approve (\S+) approval/.exec(waiting.stdout)?.[1];
      expect(runId, waiting.stdout).toBeDefined();
      expect(gantry('runs').stdout).toContain(runId);
      expect(gantry('approve', runId!, 'approval', '--as', 'tech-lead').status).toBe(0);
      expect(gantry('resume', runId!).status).toBe(0);
      expect(gantry('show', runId!).stdout).toContain('output  { message: "hello, world!", task: "greet" }');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs the flow test of "Testing flows" through the CLI, with the report, the sentence and the diagnostic the README quotes', () => {
    const files = [...README.matchAll(/<!-- example: (?:first-flow|flow-test) (\S+) -->\n```\w*\n([\s\S]*?)```/g)];
    expect(files.map((m) => m[1])).toEqual(['hello.json', 'greeter.mjs', 'gantry.config.json', 'hello.test.json']);
    const dir = mkdtempSync(join(tmpdir(), 'gantry-readme-test-'));
    for (const [, name, text] of files) writeFileSync(join(dir, name!), text!);
    const gantry = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'packages/cli/dist/bin.js'), ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    const section = README.slice(README.indexOf('## Testing flows'), README.indexOf('## Embedding the engine'));
    try {
      const shown = /```\n\$ gantry test hello\.test\.json\n([\s\S]*?)```/.exec(section)![1]!;
      const run = gantry('test', 'hello.test.json');
      expect(run.stdout).toBe(shown);
      expect(run.status).toBe(0);

      // The sentence for an unscripted call, and the diagnostic for a typo, as the README quotes them.
      const test = JSON.parse(readFileSync(join(dir, 'hello.test.json'), 'utf8')) as { agents?: unknown; tests: { expect: { ran?: string[] } }[] };
      const sentence = /names it — `([^`]+)`/.exec(section.replace(/\n/g, ' '))![1]!;
      writeFileSync(join(dir, 'unscripted.test.json'), JSON.stringify({ ...test, agents: {}, tests: [test.tests[0]] }));
      const unscripted = gantry('test', 'unscripted.test.json');
      expect(unscripted.status).toBe(1);
      expect(unscripted.stdout).toContain(`     ${sentence}\n`);
      const diagnostic = /\(`(UNKNOWN_NODE no node "gret"[^`]+)`\)/.exec(section)![1]!;
      writeFileSync(join(dir, 'typo.test.json'), JSON.stringify({ ...test, tests: [{ ...test.tests[0], expect: { ran: ['gret'] } }] }));
      const typo = gantry('test', 'typo.test.json');
      expect(typo.status).toBe(2);
      expect(typo.stdout).toContain(` error ${diagnostic}\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs the embedding example as a program', () => {
    const [{ code }] = examples('embed') as [{ code: string }];
    const dir = mkdtempSync(join(ROOT, 'test', '.readme-'));
    const file = join(dir, 'embed.mts');
    writeFileSync(file, code);
    const result = spawnSync(join(ROOT, 'node_modules/.bin/tsx'), [file], { cwd: ROOT, encoding: 'utf8' });
    rmSync(dir, { recursive: true, force: true });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('review done');
    expect(result.stdout).toMatch(/succeeded \[/);
  });
});
