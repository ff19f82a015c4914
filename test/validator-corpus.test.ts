/**
 * The invalid-flow corpus: one small deployment flow per diagnostic code, each with exactly one
 * problem, and a sidecar (fixtures/invalid/expectations.json) saying which diagnostic the
 * validator must report and where. Plus the shipped flows, which must validate cleanly and compile.
 *
 * expectations.json, per fixture file:
 *   code, pointer, line, column   the diagnostic that must be reported (line/column 1-based: for
 *                                 UNKNOWN_KEY where the key is written, else where the value starts)
 *   mentions?                     extra text the message must hold (a missing key, a suggestion, …)
 *   alsoReported?                 codes that unavoidably come with the problem (a flow with no start
 *                                 node always has a cycle); any other code is a false positive
 *
 * Every fixture is checked against one configuration's names (CORPUS_NAMES), as `gantry validate
 * --config` does: the agents, functions, services and credentials the corpus may name.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  declaredNames,
  DIAGNOSTIC_CODES,
  loadFlowFile,
  loadFlowText,
  parseConfigText,
  subflowResolver,
  validateFlowDocument,
  validateFlowText,
  type DeclaredNames,
  type Diagnostic,
  type DiagnosticCode,
} from '@gantry/engine';

const here = dirname(fileURLToPath(import.meta.url));
const INVALID_DIR = join(here, 'fixtures', 'invalid');
const FLOWS_DIR = resolve(here, '..', 'flows');

interface Expectation {
  code: DiagnosticCode;
  pointer: string;
  line: number;
  column: number;
  mentions?: string[];
  alsoReported?: DiagnosticCode[];
}

const expectations = JSON.parse(readFileSync(join(INVALID_DIR, 'expectations.json'), 'utf8')) as Record<string, Expectation>;
const fixtureFiles = readdirSync(INVALID_DIR)
  .filter((f) => f.endsWith('.json') && f !== 'expectations.json')
  .sort();

const kebab = (code: string) => code.toLowerCase().replace(/_/g, '-');

/**
 * What the corpus's configuration declares: the default configuration's names, a function of its
 * own, and release-manager, a flow agent, whose tasks are listed.
 */
const defaults = parseConfigText(readFileSync(resolve(here, '..', 'packages', 'agents-local', 'gantry.config.json'), 'utf8'));
const CORPUS_NAMES: DeclaredNames = declaredNames(
  {
    ...defaults,
    agents: { ...defaults.agents, 'release-manager': { transport: 'flow', flows: { promote_release: 'promote.json', rollback_release: 'rollback.json' } } },
    functions: { prepare_release_payload: { module: './release.mjs' } },
  },
  { functions: ['analyze_changed_files', 'aggregate_review_results'], services: ['http', 'github', 'slack', 'prometheus'] },
);

function validateFixture(file: string) {
  const path = join(INVALID_DIR, file);
  const text = readFileSync(path, 'utf8');
  return { text, result: validateFlowText(text, { subflowRef: subflowResolver(path), declared: CORPUS_NAMES }) };
}

function show(diagnostics: readonly Diagnostic[]): string {
  return diagnostics.map((d) => `${d.code} ${d.pointer} ${d.line}:${d.column} ${d.message}`).join('\n');
}

/** RFC 6901 lookup, independent of the engine's own. */
function at(document: unknown, pointer: string): unknown {
  if (pointer === '') return document;
  let value: unknown = document;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/**
 * What the message must name, derived from the pointer: the node's id for anything inside a
 * node, the unknown key itself, the stage of a handler, the name an edge end gives, the target
 * of an edge.
 */
function impliedMentions(document: unknown, expectation: Expectation): string[] {
  const { pointer, code } = expectation;
  const out: string[] = [];
  const segments = pointer.split('/').slice(1);
  const node = /^\/nodes\/(\d+)/.exec(pointer);
  if (node) {
    const id = at(document, `/nodes/${node[1]}/id`);
    if (typeof id === 'string') out.push(`"${id}"`);
  }
  const edge = /^\/edges\/(\d+)(?:\/(from|to|condition))?$/.exec(pointer);
  if (edge) {
    const e = at(document, `/edges/${edge[1]}`) as Record<string, string>;
    if (edge[2] === 'from' || edge[2] === 'to') out.push(`"${e[edge[2]]}"`);
    else if (edge[2] === 'condition') out.push(e.from!, `"${e.condition}"`);
    else out.push(e.to!);
  }
  if (/^\/error_handlers\/\d+\/stage$/.test(pointer)) out.push(`"${String(at(document, pointer))}"`);
  if (code === 'UNKNOWN_KEY') out.push(`"${segments[segments.length - 1]}"`);
  return out;
}

describe('invalid flow corpus', () => {
  it('has exactly one fixture per diagnostic code, named after the code, and an expectation for each', () => {
    const codes = Object.keys(DIAGNOSTIC_CODES).sort();
    expect(codes.length).toBeGreaterThanOrEqual(26);
    expect(fixtureFiles).toEqual(codes.map((c) => `${kebab(c)}.json`).sort());
    expect(Object.keys(expectations).sort()).toEqual(fixtureFiles);
    for (const [file, expectation] of Object.entries(expectations)) {
      expect(file, 'the fixture is named after its code').toBe(`${kebab(expectation.code)}.json`);
    }
  });

  it.each(fixtureFiles)('%s reports its diagnostic at the expected pointer, line and column', (file) => {
    const expectation = expectations[file]!;
    const { result } = validateFixture(file);
    const { code, pointer, line, column } = expectation;
    const match = result.diagnostics.filter((d) => d.code === code && d.pointer === pointer);
    expect(match.length, `no ${code} at "${pointer}" in\n${show(result.diagnostics)}`).toBe(1);
    const diagnostic = match[0]!;
    expect({ line: diagnostic.line, column: diagnostic.column }).toEqual({ line, column });
    expect(diagnostic.severity).toBe(DIAGNOSTIC_CODES[code].severity);
    // ok is exactly "no error-level diagnostic"; a warning fixture stays usable.
    expect(result.ok).toBe(DIAGNOSTIC_CODES[code].severity === 'warning');
    expect(result.document === undefined).toBe(!result.ok);
  });

  it.each(fixtureFiles)('%s has exactly one problem: no diagnostic besides the expected ones', (file) => {
    const expectation = expectations[file]!;
    const { result } = validateFixture(file);
    const allowed = new Set<string>([expectation.code, ...(expectation.alsoReported ?? [])]);
    const strays = result.diagnostics.filter((d) => !allowed.has(d.code));
    expect(strays, show(strays)).toEqual([]);
    for (const also of expectation.alsoReported ?? []) {
      expect(result.diagnostics.some((d) => d.code === also), `expected ${also} too`).toBe(true);
    }
    expect(result.diagnostics.filter((d) => d.code === expectation.code)).toHaveLength(1);
  });

  it.each(fixtureFiles)('%s: the message names the offending node, key or name', (file) => {
    const expectation = expectations[file]!;
    const { text, result } = validateFixture(file);
    const diagnostic = result.diagnostics.find((d) => d.code === expectation.code && d.pointer === expectation.pointer);
    expect(diagnostic).toBeDefined();
    const message = diagnostic!.message;
    expect(message.trim().length).toBeGreaterThan(10);
    expect(message).not.toMatch(/undefined|\[object Object\]|NaN/);
    if (expectation.code === 'JSON_SYNTAX') return;
    const document: unknown = JSON.parse(text);
    for (const needle of [...impliedMentions(document, expectation), ...(expectation.mentions ?? [])]) {
      expect(message, `message should mention ${needle}`).toContain(needle);
    }
  });

  it('sorts diagnostics errors first, then by position', () => {
    const { result } = validateFixture('no-start-node.json');
    const codes = result.diagnostics.map((d) => d.code);
    expect(codes).toEqual(['NO_START_NODE', 'GRAPH_CYCLE']);
    for (const file of fixtureFiles) {
      const { diagnostics } = validateFixture(file).result;
      for (let i = 1; i < diagnostics.length; i++) {
        const [a, b] = [diagnostics[i - 1]!, diagnostics[i]!];
        if (a.severity === b.severity) expect(a.line * 1e6 + a.column).toBeLessThanOrEqual(b.line * 1e6 + b.column);
        else expect(a.severity).toBe('error');
      }
    }
  });

  it('resolves subflow references against the flow file\'s folder', () => {
    // subflow-not-found.json names ./unknown-key.json (which exists beside it) and a missing file:
    // only the missing one is reported.
    const { result } = validateFixture('subflow-not-found.json');
    expect(result.diagnostics.map((d) => d.pointer)).toEqual(['/nodes/2/data/flow']);
    // Without a resolver, subflow references are not checked at all.
    const text = readFileSync(join(INVALID_DIR, 'subflow-not-found.json'), 'utf8');
    expect(validateFlowText(text).diagnostics).toEqual([]);
    // Resolved from another folder, both references are missing.
    const elsewhere = validateFlowText(text, { subflowRef: subflowResolver(join(FLOWS_DIR, 'x.json')) });
    expect(elsewhere.diagnostics.map((d) => d.pointer)).toEqual(['/nodes/1/data/flow', '/nodes/2/data/flow']);
  });
});

describe('shipped flows', () => {
  const flows = readdirSync(FLOWS_DIR).filter((f) => f.endsWith('.json')).sort();

  it('include the design document\'s flows', () => {
    expect(flows).toEqual(expect.arrayContaining(['code-quality.json', 'complete-deployment.json']));
  });

  it.each(flows)('%s validates with no errors and no warnings', (file) => {
    const path = join(FLOWS_DIR, file);
    const result = validateFlowText(readFileSync(path, 'utf8'), { subflowRef: subflowResolver(path) });
    expect(result.diagnostics, show(result.diagnostics)).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.document).toBeDefined();
  });

  it.each(flows)('%s compiles: order is topological, startNodes are the nodes without incoming edges', async (file) => {
    const path = join(FLOWS_DIR, file);
    const raw = JSON.parse(readFileSync(path, 'utf8')) as {
      name: string;
      nodes: { id: string; type: string }[];
      edges?: { from: string; to: string; condition?: string }[];
    };
    const edges = raw.edges ?? [];
    const compiled = await loadFlowFile(path);
    const ids = raw.nodes.map((n) => n.id);

    expect(compiled.name).toBe(raw.name);
    expect([...compiled.nodes.keys()]).toEqual(ids);
    expect([...compiled.order].sort()).toEqual([...ids].sort());
    const position = new Map(compiled.order.map((id, i) => [id, i]));
    for (const edge of edges) expect(position.get(edge.from)!, `${edge.from} → ${edge.to}`).toBeLessThan(position.get(edge.to)!);

    const withIncoming = new Set(edges.map((e) => e.to));
    expect([...compiled.startNodes]).toEqual(ids.filter((id) => !withIncoming.has(id)));
    expect(compiled.startNodes.length).toBeGreaterThan(0);
    expect(compiled.startNodes).toContain(compiled.order[0]);
    // A webhook is a trigger: when a flow has one, it is a start node.
    for (const n of raw.nodes.filter((n) => n.type === 'webhook')) expect(compiled.startNodes).toContain(n.id);

    expect(compiled.edges.map((e) => [e.from, e.to])).toEqual(edges.map((e) => [e.from, e.to]));
    for (const edge of compiled.edges) {
      const condition = edges[edge.index]!.condition;
      const kind =
        condition === undefined
          ? { kind: 'always' }
          : /^\{%[\s\S]*%\}$/.test(condition)
            ? { kind: 'expression', text: condition }
            : { kind: 'label', label: condition };
      expect(edge.condition).toEqual(kind);
      expect(compiled.nodes.get(edge.from)!.outgoing).toContain(edge);
      expect(compiled.nodes.get(edge.to)!.incoming).toContain(edge);
    }
    expect(compiled.graph.nodeCount()).toBe(ids.length);
    expect(compiled.graph.edgeCount()).toBe(edges.length);
    expect(compiled.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('complete-deployment.json wires its error handlers to their stages, and the gate\'s pass edge as a label', async () => {
    const compiled = await loadFlowFile(join(FLOWS_DIR, 'complete-deployment.json'));
    expect(compiled.nodes.get('quality_gate')!.handler?.action).toBe('block_deployment');
    expect(compiled.nodes.get('production_deployment')!.handler?.action).toBe('rollback');
    expect(compiled.nodes.get('build_pipeline')!.handler).toBeUndefined();
    expect(compiled.nodes.get('build_pipeline')!.incoming.map((e) => e.condition)).toEqual([{ kind: 'label', label: 'pass' }]);
    expect(compiled.startNodes).toEqual(['webhook_trigger']);
    expect(compiled.order[compiled.order.length - 1]).toBe('notification');
  });
});

/**
 * Inputs found while writing the corpus and the properties: each names the behaviour the
 * contract asks for (DESIGN §8: bad input always gets a clear error naming where the problem is).
 */
describe('validator edge cases', () => {
  const base = {
    name: 'Canary Release',
    nodes: [
      { id: 'webhook_trigger', type: 'webhook', data: { endpoint: '/deploy/canary' } },
      { id: 'canary_deployment', type: 'agent', data: { agent: 'deployment-automation-master', task: 'deploy_canary' } },
    ],
    edges: [{ from: 'webhook_trigger', to: 'canary_deployment' }],
  };
  const withNode = (patch: Record<string, unknown>) => ({ ...base, nodes: [base.nodes[0], { ...base.nodes[1], ...patch }] });
  const codesAt = (r: { diagnostics: readonly Diagnostic[] }) => r.diagnostics.map((d) => `${d.code} ${d.pointer}`);

  it.each(['hasOwnProperty', 'valueOf', 'isPrototypeOf', 'toLocaleString', '__proto__', 'constructor', 'toString'])(
    'a param whose type is %s (a name every object inherits) is one BAD_VALUE on the type, not a crash',
    (type) => {
      const text = JSON.stringify({ ...base, params: { bake_seconds: { type, default: 300 } } }, null, 2);
      const result = validateFlowText(text);
      expect(codesAt(result)).toEqual(['BAD_VALUE /params/bake_seconds/type']);
      expect(result.diagnostics[0]!.message).toContain(type);
    },
  );

  it('an expression whose braces are written as a \\u escape is still parsed and checked', () => {
    const plain = JSON.stringify(withNode({ when: '{% $params.environment = ( %}' }), null, 2);
    const escaped = plain.replace('"{%', '"\\u007b%');
    expect(escaped).not.toContain('{%');
    expect(JSON.parse(escaped)).toEqual(JSON.parse(plain));
    expect(codesAt(validateFlowText(plain))).toEqual(['EXPRESSION_SYNTAX /nodes/1/when']);
    expect(codesAt(validateFlowText(escaped))).toEqual(['EXPRESSION_SYNTAX /nodes/1/when']);
    // A valid escaped expression reaches the compiled flow parsed, like any other.
    const good = JSON.stringify(withNode({ when: '{% $exists($trigger.ref) %}' })).replace('"{%', '"\\u007b%');
    expect(loadFlowText(good).expression('{% $exists($trigger.ref) %}')).toBeDefined();
  });

  it('a deeply nested value (10,000 levels) in a flow with a problem is reported, not a stack overflow', () => {
    const deep = '['.repeat(10_000) + ']'.repeat(10_000);
    const text = `{"name":"x","owner":"sre","nodes":[{"id":"a","type":"function","data":{"function":"f","payload":${deep}}}]}`;
    let result: ReturnType<typeof validateFlowText> | undefined;
    expect(() => (result = validateFlowText(text))).not.toThrow();
    expect(codesAt(result!)).toEqual(['UNKNOWN_KEY /owner']);
    expect(() => validateFlowText(text.slice(0, -3))).not.toThrow();
  });

  it('a compensation body gets the same checks as a node of its type', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ type: 'wait', data: { seconds: 60, until: '2026-01-31T09:00:00Z' } }, 'BAD_WAIT /nodes/1/compensate/data'],
      [{ type: 'wait', data: { until: 'tomorrow' } }, 'BAD_WAIT /nodes/1/compensate/data/until'],
      [{ type: 'human_approval', data: { approvers: ['tech-lead'], timeout: 600, required: 2 } }, 'BAD_VALUE /nodes/1/compensate/data/required'],
      [
        { type: 'conditional', data: { conditions: [{ metric: 'error_rate', operator: '<', value: 0.01 }, { if: 'healthy', then: 'done' }] } },
        'MIXED_CONDITIONS /nodes/1/compensate/data/conditions',
      ],
    ];
    for (const [compensate, expected] of cases) {
      expect(codesAt(validateFlowDocument(withNode({ compensate }))), JSON.stringify(compensate)).toEqual([expected]);
    }
  });

  it('a wait until a date that does not exist (30 February) is refused', () => {
    const result = validateFlowDocument(withNode({ type: 'wait', data: { until: '2026-02-30T09:00:00Z' } }));
    expect(codesAt(result)).toEqual(['BAD_WAIT /nodes/1/data/until']);
  });

  it('duplicate keys: the last one counts, and diagnostics point at it', () => {
    const text = '{"name":"x","nodes":[{"id":"a","type":"wait","data":{"seconds":5}}],\n"nodes":[{"id":"b","type":"agent","data":{"agent":"x"}}]}';
    const result = validateFlowText(text);
    expect(result.diagnostics.map((d) => [d.code, d.pointer, d.line, d.column])).toEqual([['MISSING_KEY', '/nodes/0/data', 2, 42]]);
    expect(result.diagnostics[0]!.message).toContain('"b"');
  });

  it('keys holding / and ~ are escaped in pointers and located in the text', () => {
    const text = '{\n  "name": "x",\n  "nodes": [{ "id": "a", "type": "agent", "data": { "agent": "a", "task": "t", "a/b~c": 1 } }]\n}';
    const result = validateFlowText(text);
    expect(result.diagnostics.map((d) => [d.code, d.pointer, d.line, d.column])).toEqual([['UNKNOWN_KEY', '/nodes/0/data/a~1b~0c', 3, 80]]);
  });
});
