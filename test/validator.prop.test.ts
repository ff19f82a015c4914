/**
 * Property tests of the flow validator and compiler:
 *  (a) generated valid flows are accepted, with no diagnostic at all, and compile;
 *  (b) one mutation of a valid flow is rejected with the expected code at the expected pointer
 *      (and, in text, at the expected line and column);
 *  (c) nothing makes validation throw, and `ok` always means "this compiles";
 *  (d) a compiled flow cannot be changed.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compileFlow,
  DIAGNOSTIC_CODES,
  GantryError,
  loadFlowText,
  NODE_TYPES,
  validateFlowDocument,
  validateFlowText,
  type CompiledFlow,
  type Diagnostic,
  type ValidationResult,
} from '@gantry/engine';
import {
  DATA_KEYS,
  ENVELOPE_KEYS,
  GATE_OPERATORS,
  NODE_TYPE_LIST,
  plainJson,
  validFlow,
  type GeneratedFlow,
  type GenNodeType,
  type Json,
  type Obj,
} from './support/flow-arbitraries.js';

// fc.assert runs synchronously, so vitest's timeout cannot stop a long shrink of a 60-node flow:
// bound every property's run, shrinking included. A failure found before the limit is still
// reported (with the smallest counterexample reached so far); a slow machine that runs out of
// time before finding one passes with fewer runs rather than failing.
fc.configureGlobal({ interruptAfterTimeLimit: 8_000, markInterruptAsFailure: false });
const RUNS = { valid: 50, mutation: 40, robust: 150 };

// ---------------------------------------------------------------------------------------------
// helpers, written independently of the engine

/** Every `{% … %}` string of a document, except under x- keys. */
function expressionStrings(value: unknown): string[] {
  if (typeof value === 'string') return value.startsWith('{%') && value.endsWith('%}') && value.length >= 4 ? [value] : [];
  if (Array.isArray(value)) return value.flatMap(expressionStrings);
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).flatMap(([key, item]) => (key.startsWith('x-') ? [] : expressionStrings(item)));
  }
  return [];
}

function escapeSegment(segment: string | number): string {
  return String(segment).replace(/~/g, '~0').replace(/\//g, '~1');
}

function pointer(...segments: (string | number)[]): string {
  return segments.map((s) => `/${escapeSegment(s)}`).join('');
}

function at(document: unknown, ptr: string): unknown {
  if (ptr === '') return document;
  let value: unknown = document;
  for (const raw of ptr.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** The text offset of a 1-based line and column (lines end at \n). */
function offsetOf(text: string, line: number, column: number): number {
  let offset = 0;
  for (let l = 1; l < line; l++) offset = text.indexOf('\n', offset) + 1;
  return offset + column - 1;
}

function show(diagnostics: readonly Diagnostic[]): string {
  return diagnostics.map((d) => `${d.severity} ${d.code} ${d.pointer} ${d.line}:${d.column} ${d.message}`).join('\n');
}

const keysOf = (r: ValidationResult) => r.diagnostics.map((d) => `${d.code} ${d.pointer}`).sort();

/** Every line and column lies inside the text. */
function expectPositionsInText(text: string, result: ValidationResult): void {
  const lines = text.split('\n');
  for (const d of result.diagnostics) {
    expect(d.line, show([d])).toBeGreaterThanOrEqual(1);
    expect(d.line, show([d])).toBeLessThanOrEqual(lines.length);
    expect(d.column, show([d])).toBeGreaterThanOrEqual(1);
    expect(d.column, show([d])).toBeLessThanOrEqual(lines[d.line - 1]!.length + 1);
  }
}

/** The structural invariants of any validation result. */
function expectCoherent(result: ValidationResult): void {
  expect(typeof result.ok).toBe('boolean');
  expect(result.ok).toBe(!result.diagnostics.some((d) => d.severity === 'error'));
  expect(result.document === undefined).toBe(!result.ok);
  for (const d of result.diagnostics) {
    expect(Object.keys(DIAGNOSTIC_CODES)).toContain(d.code);
    expect(d.severity).toBe(DIAGNOSTIC_CODES[d.code].severity);
    expect(d.pointer === '' || d.pointer.startsWith('/')).toBe(true);
    expect(typeof d.message).toBe('string');
    expect(d.message.length).toBeGreaterThan(0);
  }
}

/** Compiled flows honour the graph they came from. */
function expectCompiledMatches(compiled: CompiledFlow, doc: Obj): void {
  const nodes = doc.nodes as Obj[];
  const edges = (doc.edges ?? []) as Obj[];
  const ids = nodes.map((n) => n.id as string);
  expect([...compiled.nodes.keys()]).toEqual(ids);
  expect([...compiled.order].sort()).toEqual([...ids].sort());
  const position = new Map(compiled.order.map((id, i) => [id, i]));
  for (const e of edges) expect(position.get(e.from as string)!).toBeLessThan(position.get(e.to as string)!);
  const targets = new Set(edges.map((e) => e.to as string));
  expect([...compiled.startNodes]).toEqual(ids.filter((id) => !targets.has(id)));
  expect(compiled.edges.map((e) => `${e.from}>${e.to}`)).toEqual(edges.map((e) => `${e.from}>${e.to}`));
  for (const [id, node] of compiled.nodes) {
    expect(node.incoming.every((e) => e.to === id)).toBe(true);
    expect(node.outgoing.every((e) => e.from === id)).toBe(true);
  }
  expect(compiled.name).toBe(doc.name);
}

/**
 * The diagnostic must be placed where the pointer leads in the text: at the key (quoted) for an
 * unknown key, else where the value starts.
 */
function expectLocated(text: string, doc: Obj, d: Diagnostic, atKey: boolean): void {
  const offset = offsetOf(text, d.line, d.column);
  const segments = d.pointer.split('/');
  const last = segments[segments.length - 1]!.replace(/~1/g, '/').replace(/~0/g, '~');
  const value = at(doc, d.pointer);
  const expected = atKey ? JSON.stringify(last) : JSON.stringify(value)!.slice(0, 1);
  expect(text.slice(offset, offset + expected.length), `${show([d])}\nexpected text ${expected} at ${d.line}:${d.column}`).toBe(expected);
}

// ---------------------------------------------------------------------------------------------
// (a) valid flows

describe('(a) generated valid flows', () => {
  it('cover the ten node types and the format\'s features (so that the properties below mean something)', () => {
    expect([...NODE_TYPE_LIST].sort()).toEqual([...NODE_TYPES].sort());
    const flows = fc.sample(validFlow(), { numRuns: 25, seed: 20_260_131 });
    const text = JSON.stringify(flows.map((f) => f.doc));
    const nodes = flows.flatMap((f) => f.doc.nodes as Obj[]);
    const edges = flows.flatMap((f) => (f.doc.edges ?? []) as Obj[]);
    expect(new Set(nodes.map((n) => n.type))).toEqual(new Set(NODE_TYPES));
    expect(flows.some((f) => f.webhook) && flows.some((f) => !f.webhook)).toBe(true);
    expect(Math.max(...flows.map((f) => f.topo.length))).toBeGreaterThan(40);
    for (const label of ['pass', 'fail', 'error', 'default']) expect(edges.some((e) => e.condition === label), label).toBe(true);
    expect(edges.some((e) => typeof e.condition === 'string' && e.condition.startsWith('{%'))).toBe(true);
    for (const key of ['timeout', 'retry', 'join', 'when', 'for_each', 'concurrency', 'output', 'compensate']) {
      expect(nodes.some((n) => key in n), key).toBe(true);
    }
    for (const needle of ['{% $params.', '$nodes.`', '"x-', '"then":', '"metric":', '"until":', '"seconds":', '"error_handlers":', '"stage":"*"']) {
      expect(text, needle).toContain(needle);
    }
  });

  it('are accepted with no diagnostic, as a value and as text, and compile', () => {
    fc.assert(
      fc.property(validFlow(), fc.boolean(), ({ doc }, pretty) => {
        const byValue = validateFlowDocument(doc);
        expect(byValue.diagnostics, show(byValue.diagnostics)).toEqual([]);
        expect(byValue.ok).toBe(true);
        // The document comes back as JSON would carry it (a copy: -0 becomes 0).
        const json = JSON.parse(JSON.stringify(doc)) as Obj;
        expect(byValue.document).toEqual(json);

        const text = pretty ? JSON.stringify(doc, null, 2) : JSON.stringify(doc);
        const byText = validateFlowText(text, { subflowExists: () => true });
        expect(byText.diagnostics, show(byText.diagnostics)).toEqual([]);
        expect(byText.ok).toBe(true);
        expect(byText.document).toEqual(json);

        const compiled = compileFlow(doc);
        expectCompiledMatches(compiled, doc);
        expect(compiled.definition).toEqual(json);
        const loaded = loadFlowText(text);
        expectCompiledMatches(loaded, doc);
        expect(loaded.order).toEqual(compiled.order);
        // Every expression of the flow was parsed once, at validation, and is handed over
        // (strings under x- keys are annotations: never expressions).
        for (const s of expressionStrings(doc)) expect(loaded.expression(s), s).toBeDefined();
      }),
      { numRuns: RUNS.valid },
    );
  });

  it('stay valid with their nodes and edges listed in any order', () => {
    fc.assert(
      fc.property(validFlow({ maxNodes: 20, shuffle: false }), fc.func(fc.integer()), ({ doc }, rank) => {
        const reorder = <T>(xs: T[]) => [...xs].map((x, i) => [rank(i), x] as const).sort((a, b) => a[0] - b[0]).map(([, x]) => x);
        const shuffled = { ...doc, nodes: reorder(doc.nodes as Obj[]), ...(doc.edges ? { edges: reorder(doc.edges as Obj[]) } : {}) };
        const result = validateFlowDocument(shuffled);
        expect(result.diagnostics, show(result.diagnostics)).toEqual([]);
        expectCompiledMatches(compileFlow(shuffled), shuffled);
      }),
      { numRuns: 30 },
    );
  });

  it('webhook flows start at the webhook only', () => {
    fc.assert(
      fc.property(validFlow({ maxNodes: 30 }), ({ doc, topo, webhook }) => {
        const compiled = compileFlow(doc);
        if (webhook) expect(compiled.startNodes).toEqual([topo[0]]);
        expect(compiled.startNodes).toContain(topo[0]);
      }),
      { numRuns: 30 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// (b) single mutations

interface Mutant {
  readonly doc: Obj;
  readonly code: keyof typeof DIAGNOSTIC_CODES;
  readonly pointer: string;
  /** Other error codes the mutation unavoidably brings. */
  readonly alsoErrors?: readonly string[];
  readonly allowWarnings?: readonly string[];
  readonly atKey?: boolean;
}

const clone = <T>(v: T): T => structuredClone(v);

function insertAt<T>(list: T[], index: number, item: T): T[] {
  return [...list.slice(0, index), item, ...list.slice(index)];
}

/** Node ids reachable from `id` by the flow's edges (itself included). */
function descendants(doc: Obj, id: string): Set<string> {
  const edges = (doc.edges ?? []) as Obj[];
  const seen = new Set([id]);
  const queue = [id];
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const e of edges) if (e.from === v && !seen.has(e.to as string)) seen.add(e.to as string), queue.push(e.to as string);
  }
  return seen;
}

function producible(node: Obj): Set<string> {
  if (node.type !== 'conditional') return new Set(['error']);
  const conditions = (node.data as Obj).conditions as Obj[];
  if ('metric' in conditions[0]!) return new Set(['pass', 'fail', 'error']);
  return new Set([...conditions.map((c) => c.then as string), 'default', 'error']);
}

const idArb = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_-]{0,20}$/);

/** An edge that closes a cycle: from a node back to one of its ancestors (or itself). */
const closeCycle = (flow: GeneratedFlow) =>
  fc.gen().map((g): Mutant => {
    const doc = clone(flow.doc);
    const edges = (doc.edges ?? []) as Obj[];
    const ancestor = g(fc.constantFrom, ...flow.topo);
    const below = [...descendants(doc, ancestor)];
    const descendant = g(fc.constantFrom, ...below);
    const index = g(fc.integer, { min: 0, max: edges.length });
    const edge: Obj = g(fc.boolean) ? { from: descendant, to: ancestor } : { from: descendant, to: ancestor, condition: 'error' };
    doc.edges = insertAt(edges, index, edge);
    return {
      doc,
      code: 'GRAPH_CYCLE',
      pointer: pointer('edges', index),
      alsoErrors: ['WEBHOOK_NOT_START', 'SCHEDULE_NOT_START', 'NO_START_NODE'],
      allowWarnings: ['UNREACHABLE_NODE'],
    };
  });

/** An edge from or to an id no node has. */
const danglingEdge = (flow: GeneratedFlow) =>
  fc.gen().map((g): Mutant => {
    const doc = clone(flow.doc);
    const edges = (doc.edges ?? []) as Obj[];
    const missing = g(() => idArb.filter((id) => !flow.topo.includes(id)));
    const existing = g(fc.constantFrom, ...flow.topo);
    const end = g(fc.constantFrom, 'from', 'to');
    const index = g(fc.integer, { min: 0, max: edges.length });
    doc.edges = insertAt(edges, index, end === 'to' ? { from: existing, to: missing } : { from: missing, to: existing });
    return { doc, code: 'EDGE_UNKNOWN_NODE', pointer: pointer('edges', index, end) };
  });

/** A copy of a node inserted anywhere: the later of the two is the duplicate. */
const duplicateId = (flow: GeneratedFlow) =>
  fc.gen().map((g): Mutant => {
    const doc = clone(flow.doc);
    const nodes = doc.nodes as Obj[];
    const original = g(fc.integer, { min: 0, max: nodes.length - 1 });
    const index = g(fc.integer, { min: 0, max: nodes.length });
    doc.nodes = insertAt(nodes, index, clone(nodes[original]!));
    const shifted = index <= original ? original + 1 : original;
    return { doc, code: 'DUPLICATE_NODE_ID', pointer: pointer('nodes', Math.max(index, shifted), 'id') };
  });

const KNOWN_KEYS = new Set([...ENVELOPE_KEYS, ...Object.values(DATA_KEYS).flatMap((k) => (k === 'open' ? [] : k)), 'function', 'service', 'action']);
const unknownKey = fc
  .oneof(fc.string({ maxLength: 12 }), fc.stringMatching(/^[a-z][a-z_]{0,12}$/), fc.constantFrom('a/b', '~0', 'retries', 'X-note', 'endpoint ', 'Timeout', ''))
  .filter((k) => !k.startsWith('x-') && !KNOWN_KEYS.has(k) && k !== '__proto__');

/** An unknown key on a node, or in its data when the type's data is closed. */
const addUnknownKey = (flow: GeneratedFlow) =>
  fc.gen().map((g): Mutant => {
    const doc = clone(flow.doc);
    const nodes = doc.nodes as Obj[];
    const index = g(fc.integer, { min: 0, max: nodes.length - 1 });
    const node = nodes[index]!;
    const closed = DATA_KEYS[node.type as GenNodeType] !== 'open';
    const inData = closed && g(fc.boolean);
    const key = g(() => unknownKey);
    const value = g(plainJson, 1);
    const target = (inData ? node.data : node) as Obj;
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
    return { doc, code: 'UNKNOWN_KEY', pointer: inData ? pointer('nodes', index, 'data', key) : pointer('nodes', index, key), atKey: true };
  });

/** An edge whose label its source never produces. */
const impossibleLabel = (flow: GeneratedFlow) =>
  fc.gen().map((g): Mutant => {
    const doc = clone(flow.doc);
    const edges = (doc.edges ?? []) as Obj[];
    const byId = new Map((doc.nodes as Obj[]).map((n) => [n.id as string, n]));
    const s = g(fc.integer, { min: 0, max: flow.topo.length - 2 });
    const t = g(fc.integer, { min: s + 1, max: flow.topo.length - 1 });
    const source = byId.get(flow.topo[s]!)!;
    const can = producible(source);
    const label = g(() =>
      fc.oneof(fc.constantFrom('pass', 'fail', 'default', 'passed', 'failure', 'Error', 'ok'), fc.stringMatching(/^[a-z][a-z_]{0,10}$/)).filter((l) => !can.has(l)),
    );
    const index = g(fc.integer, { min: 0, max: edges.length });
    doc.edges = insertAt(edges, index, { from: flow.topo[s]!, to: flow.topo[t]!, condition: label });
    return { doc, code: 'IMPOSSIBLE_CONDITION', pointer: pointer('edges', index, 'condition'), allowWarnings: ['UNREACHABLE_NODE'] };
  });

function checkMutant(m: Mutant, pretty: boolean): void {
  const allowedErrors = new Set<string>([m.code, ...(m.alsoErrors ?? [])]);
  const allowedWarnings = new Set<string>([m.code, ...(m.allowWarnings ?? [])]);
  const byValue = validateFlowDocument(m.doc);
  const text = pretty ? JSON.stringify(m.doc, null, 2) : JSON.stringify(m.doc);
  const byText = validateFlowText(text);
  for (const result of [byValue, byText]) {
    expectCoherent(result);
    expect(result.ok).toBe(DIAGNOSTIC_CODES[m.code].severity === 'warning');
    const hits = result.diagnostics.filter((d) => d.code === m.code && d.pointer === m.pointer);
    expect(hits.length, `expected ${m.code} at ${m.pointer}, got\n${show(result.diagnostics)}`).toBe(1);
    for (const d of result.diagnostics) {
      const allowed = d.severity === 'error' ? allowedErrors : allowedWarnings;
      expect(allowed.has(d.code), `unexpected ${show([d])}`).toBe(true);
    }
  }
  expect(keysOf(byText)).toEqual(keysOf(byValue));
  expectLocated(text, m.doc, byText.diagnostics.find((d) => d.code === m.code && d.pointer === m.pointer)!, m.atKey ?? false);
  expect(() => compileFlow(m.doc)).toThrow(expect.objectContaining({ code: 'FLOW_INVALID' }));
}

describe('(b) a single mutation of a valid flow is rejected where it was made', () => {
  const ordered = validFlow({ maxNodes: 25, shuffle: false });
  const shuffled = validFlow({ maxNodes: 25 });

  it('an edge that closes a cycle: GRAPH_CYCLE at that edge', () => {
    fc.assert(
      fc.property(ordered.chain((f) => closeCycle(f)), fc.boolean(), (m, pretty) => {
        checkMutant(m, pretty);
        const cycle = validateFlowDocument(m.doc).diagnostics.find((d) => d.code === 'GRAPH_CYCLE')!;
        const edge = at(m.doc, m.pointer) as Obj;
        // The message names the nodes on the cycle, the added edge's ends among them.
        expect(cycle.message).toContain(String(edge.from));
        expect(cycle.message).toContain(String(edge.to));
      }),
      { numRuns: RUNS.mutation },
    );
  });

  it('a cycle in a flow listed in any order: GRAPH_CYCLE points at an edge on the cycle', () => {
    fc.assert(
      fc.property(shuffled.chain((f) => closeCycle(f)), (m) => {
        const result = validateFlowDocument(m.doc);
        expect(result.ok).toBe(false);
        const cycles = result.diagnostics.filter((d) => d.code === 'GRAPH_CYCLE');
        expect(cycles).toHaveLength(1);
        const edge = at(m.doc, cycles[0]!.pointer) as Obj | undefined;
        expect(edge, cycles[0]!.pointer).toBeDefined();
        // The edge is on a cycle: its target leads back to its source.
        expect(descendants(m.doc, edge!.to as string).has(edge!.from as string)).toBe(true);
      }),
      { numRuns: RUNS.mutation },
    );
  });

  it('an edge to or from a missing node: EDGE_UNKNOWN_NODE at that end', () => {
    fc.assert(fc.property(shuffled.chain((f) => danglingEdge(f)), fc.boolean(), checkMutant), { numRuns: RUNS.mutation });
  });

  it('a duplicated node id: DUPLICATE_NODE_ID at the later copy', () => {
    fc.assert(fc.property(shuffled.chain((f) => duplicateId(f)), fc.boolean(), checkMutant), { numRuns: RUNS.mutation });
  });

  it('an unknown key on a node or in its data: UNKNOWN_KEY at the key', () => {
    fc.assert(
      fc.property(shuffled.chain((f) => addUnknownKey(f)), fc.boolean(), (m, pretty) => {
        checkMutant(m, pretty);
        const d = validateFlowDocument(m.doc).diagnostics.find((x) => x.code === 'UNKNOWN_KEY')!;
        const key = m.pointer.split('/').pop()!.replace(/~1/g, '/').replace(/~0/g, '~');
        expect(d.message).toContain(`"${key}"`);
      }),
      { numRuns: RUNS.mutation },
    );
  });

  it('x- keys, by contrast, are accepted anywhere a key is', () => {
    fc.assert(
      fc.property(shuffled, fc.string({ maxLength: 10 }).map((s) => `x-${s}`), plainJson(1), (flow, key, value) => {
        const doc = clone(flow.doc);
        const node = (doc.nodes as Obj[])[0]!;
        for (const target of [doc, node, node.data as Obj, ...((doc.edges ?? []) as Obj[]).slice(0, 1)]) {
          Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
        }
        const result = validateFlowDocument(doc);
        expect(result.diagnostics, show(result.diagnostics)).toEqual([]);
      }),
      { numRuns: 30 },
    );
  });

  it('an edge label its source cannot produce: IMPOSSIBLE_CONDITION at the condition', () => {
    fc.assert(
      fc.property(validFlow({ minNodes: 2, maxNodes: 25 }).chain((f) => impossibleLabel(f)), fc.boolean(), checkMutant),
      { numRuns: RUNS.mutation },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// (c) robustness

/** Validation never throws; ok means the flow compiles; text and value agree. */
function expectRobustDocument(value: unknown): void {
  const byValue = validateFlowDocument(value);
  expectCoherent(byValue);
  for (const d of byValue.diagnostics) expect([d.line, d.column]).toEqual([0, 0]);
  const text = JSON.stringify(value);
  if (text !== undefined) {
    const byText = validateFlowText(text);
    expectCoherent(byText);
    expectPositionsInText(text, byText);
    expect(keysOf(byText)).toEqual(keysOf(byValue));
  }
  if (byValue.ok) {
    const compiled = compileFlow(value);
    expect(NODE_TYPES).toEqual(expect.arrayContaining([...compiled.nodes.values()].map((n) => n.type)));
    expectCompiledMatches(compiled, value as Obj);
  } else {
    expect(() => compileFlow(value)).toThrow(GantryError);
  }
}

function expectRobustText(text: string): void {
  const result = validateFlowText(text);
  expectCoherent(result);
  expectPositionsInText(text, result);
  let parses = true;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parses = false;
  }
  const syntax = result.diagnostics.filter((d) => d.code === 'JSON_SYNTAX');
  if (parses) expect(syntax).toEqual([]);
  else {
    expect(syntax.length).toBeGreaterThan(0);
    expect(result.diagnostics.every((d) => d.code === 'JSON_SYNTAX' && d.pointer === '')).toBe(true);
  }
  if (result.ok) {
    expect(result.document).toEqual(parsed);
    expectCompiledMatches(loadFlowText(text), parsed as Obj);
  } else {
    expect(() => loadFlowText(text)).toThrow(expect.objectContaining({ code: 'FLOW_INVALID' }));
  }
}

/** Words of the format, and names every object inherits, to reach deep into the checks. */
const VOCABULARY = [
  ...NODE_TYPES,
  ...GATE_OPERATORS,
  'pass', 'fail', 'error', 'default', '*', 'any', 'all', 'string', 'number', 'integer', 'boolean', 'object', 'array',
  'constructor', 'hasOwnProperty', 'valueOf', 'toString', 'isPrototypeOf', 'propertyIsEnumerable', 'toLocaleString', '__proto__',
  '{% $x %}', '{% $params.p %}', '{% $nodes.a %}', '{% ( %}', '{%%}', 'a {% b', '2026-01-31T09:00:00Z', '/hook', 'a', 'b', '',
];
const FORMAT_KEYS = [
  'name', 'nodes', 'edges', 'error_handlers', 'params', 'id', 'type', 'data', 'from', 'to', 'condition', 'stage', 'default', 'enum',
  'minimum', 'maximum', 'conditions', 'metric', 'operator', 'value', 'if', 'then', 'agents', 'agent', 'task', 'seconds', 'until',
  'approvers', 'required', 'for_each', 'concurrency', 'when', 'compensate', 'retry', 'flow', 'function', 'x-a', 'constructor',
  'hasOwnProperty', 'toString', 'valueOf', '__proto__',
];

const { flowish } = fc.letrec<{ flowish: Json; node: Json; any: Json }>((tie) => ({
  any: fc.oneof(
    { depthSize: 'small', maxDepth: 3 },
    fc.constantFrom<Json>(null, true, false, 0, -1, 1.5, 3, 1e300),
    fc.constantFrom<Json>(...VOCABULARY),
    fc.string({ maxLength: 6 }),
    fc.array(tie('any'), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom(...FORMAT_KEYS), tie('any'), { maxKeys: 4 }) as fc.Arbitrary<Json>,
  ),
  node: fc.record(
    {
      id: fc.constantFrom<Json>('a', 'b', 'c', 'constructor', '__proto__', 'hasOwnProperty', 7),
      type: fc.constantFrom<Json>(...VOCABULARY),
      data: tie('any'),
      for_each: tie('any'),
      concurrency: fc.constantFrom<Json>(0, 1, 2, 'x'),
      compensate: tie('any'),
    },
    { requiredKeys: ['id'] },
  ) as fc.Arbitrary<Json>,
  flowish: fc.record(
    {
      name: fc.constantFrom<Json>('flow', '', 3),
      params: fc.dictionary(
        fc.constantFrom('p', 'q', 'constructor', '__proto__', '9x', 'hasOwnProperty'),
        fc.record({ type: fc.constantFrom<Json>(...VOCABULARY), default: tie('any'), enum: tie('any'), minimum: tie('any'), maximum: tie('any') }, { requiredKeys: [] }),
        { maxKeys: 3 },
      ) as fc.Arbitrary<Json>,
      nodes: fc.array(tie('node'), { maxLength: 4 }),
      edges: fc.array(
        fc.record({ from: fc.constantFrom<Json>('a', 'b', 'c', 'z', '__proto__'), to: fc.constantFrom<Json>('a', 'b', 'c', 'z', 'constructor'), condition: fc.constantFrom<Json>(...VOCABULARY) }, { requiredKeys: [] }) as fc.Arbitrary<Json>,
        { maxLength: 4 },
      ),
      error_handlers: tie('any'),
    },
    { requiredKeys: [] },
  ) as fc.Arbitrary<Json>,
}));

/** A valid flow's text with one corruption. */
const corruptedText = validFlow({ maxNodes: 8 }).chain(({ doc }) => {
  const text = JSON.stringify(doc, null, 2);
  const position = fc.nat({ max: text.length });
  const char = fc.oneof(fc.constantFrom('{', '}', '[', ']', '"', ',', ':', '\\', '\n', ' ', '0', '-', 'e', '%', '\u0000'), fc.string({ minLength: 1, maxLength: 1, unit: 'binary' }));
  return fc.oneof(
    position.map((p) => text.slice(0, p)),
    fc.tuple(position, char).map(([p, c]) => text.slice(0, p) + c + text.slice(p + 1)),
    fc.tuple(position, char).map(([p, c]) => text.slice(0, p) + c + text.slice(p)),
    position.map((p) => text.slice(0, p) + text.slice(p + 1)),
  );
});

describe('(c) validation never throws', () => {
  it('on arbitrary JSON values, given as values and as text', () => {
    fc.assert(fc.property(fc.jsonValue(), expectRobustDocument), { numRuns: RUNS.robust });
  });

  it('on arbitrary strings as text', () => {
    fc.assert(fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.json()), expectRobustText), { numRuns: RUNS.robust });
  });

  it('on valid flow texts that were truncated or had a character changed, added or removed', () => {
    fc.assert(fc.property(corruptedText, expectRobustText), { numRuns: RUNS.robust });
  });

  it('on flow-shaped documents built from the format\'s own words and inherited property names', () => {
    fc.assert(fc.property(flowish, expectRobustDocument), {
      numRuns: RUNS.robust,
      // Found by this property: String() of a value whose `toString` key is not a function threw.
      examples: [[{ nodes: [{ id: 'a', compensate: { type: { toString: 'webhook' } } }] }], [{ name: 'x', nodes: [], edges: [{ from: { toString: 1 }, to: 'a' }] }]],
    });
  });
});

// ---------------------------------------------------------------------------------------------
// (d) immutability

const GRAPH_MUTATIONS: [string, (g: any) => unknown][] = [
  ['setNode', (g) => g.setNode('intruder', {})],
  ['setNodes', (g) => g.setNodes(['intruder'])],
  ['removeNode', (g) => g.removeNode(g.nodes()[0])],
  ['setEdge', (g) => g.setEdge(g.nodes()[0], g.nodes()[0], {}, 'loop')],
  ['setPath', (g) => g.setPath([g.nodes()[0], 'intruder'])],
  ['removeEdge', (g) => g.edges()[0] && g.removeEdge(g.edges()[0])],
  ['setGraph', (g) => g.setGraph('renamed')],
  ['setDefaultNodeLabel', (g) => g.setDefaultNodeLabel(() => 'x')],
  ['setDefaultEdgeLabel', (g) => g.setDefaultEdgeLabel(() => 'x')],
  ['setParent', (g) => g.setParent(g.nodes()[0], 'intruder')],
];

function containers(value: unknown, out: object[] = []): object[] {
  if (typeof value !== 'object' || value === null) return out;
  out.push(value);
  for (const v of Object.values(value)) containers(v, out);
  return out;
}

const throwsImmutable = (f: () => unknown) =>
  expect(f).toThrow(expect.objectContaining({ name: 'GantryError', code: 'FLOW_IMMUTABLE' }));

describe('(d) a compiled flow is immutable', () => {
  it('its edges\' conditions are frozen too (the scheduler routes by them)', () => {
    fc.assert(
      fc.property(validFlow({ minNodes: 2, maxNodes: 15 }), ({ doc }) => {
        const compiled = compileFlow(doc);
        for (const edge of compiled.edges) {
          expect(Object.isFrozen(edge.condition), `edge #${edge.index} ${JSON.stringify(edge.condition)}`).toBe(true);
        }
      }),
      { numRuns: 25 },
    );
  });

  it('its graph refuses every graphlib mutator and stays as compiled', () => {
    fc.assert(
      fc.property(validFlow({ maxNodes: 15 }), fc.boolean(), ({ doc }, fromText) => {
        const compiled = fromText ? loadFlowText(JSON.stringify(doc)) : compileFlow(doc);
        const graph = compiled.graph;
        const before = { nodes: graph.nodes(), edges: graph.edgeCount(), name: (graph as any).graph() };
        for (const [name, mutate] of GRAPH_MUTATIONS) {
          if (name === 'removeEdge' && graph.edgeCount() === 0) continue;
          expect(() => mutate(graph), name).toThrow(expect.objectContaining({ code: 'FLOW_IMMUTABLE' }));
        }
        expect(() => {
          (graph as any)._nodes = {};
        }).toThrow(TypeError);
        expect(() => {
          (compiled as any).graph = null;
        }).toThrow(TypeError);
        expect({ nodes: compiled.graph.nodes(), edges: compiled.graph.edgeCount(), name: (compiled.graph as any).graph() }).toEqual(before);
        expect(compiled.graph.nodeCount()).toBe((doc.nodes as Obj[]).length);
        expect(compiled.graph.edgeCount()).toBe(((doc.edges ?? []) as Obj[]).length);
        for (const id of compiled.graph.nodes()) expect(compiled.graph.node(id)).toBe(compiled.nodes.get(id));
      }),
      { numRuns: 25 },
    );
  });

  it('its nodes map refuses set, delete and clear', () => {
    fc.assert(
      fc.property(validFlow({ maxNodes: 15 }), ({ doc }) => {
        const compiled = compileFlow(doc);
        const first = [...compiled.nodes.keys()][0]!;
        const nodes = compiled.nodes as Map<string, unknown>;
        throwsImmutable(() => nodes.set('intruder', {}));
        throwsImmutable(() => nodes.set(first, {}));
        throwsImmutable(() => nodes.delete(first));
        throwsImmutable(() => nodes.clear());
        expect(compiled.nodes.size).toBe((doc.nodes as Obj[]).length);
        expect(compiled.nodes.get(first)!.id).toBe(first);
        expect(compiled.nodes.has('intruder')).toBe(false);
      }),
      { numRuns: 25 },
    );
  });

  it('its definition, nodes, edges and lists are deeply frozen; the caller\'s document is not', () => {
    fc.assert(
      fc.property(validFlow({ maxNodes: 15 }), fc.nat(), ({ doc }, pick) => {
        const callerCopy = clone(doc);
        const compiled = compileFlow(doc);
        const everything = [
          compiled,
          ...containers(compiled.definition),
          ...[...compiled.nodes.values()].flatMap((n) => [n, n.incoming, n.outgoing, ...(n.handler ? [n.handler] : [])]),
          compiled.edges,
          ...compiled.edges,
          compiled.order,
          compiled.startNodes,
          compiled.params,
        ];
        for (const object of everything) expect(Object.isFrozen(object)).toBe(true);

        const target = containers(compiled.definition)[pick % containers(compiled.definition).length]!;
        expect(() => {
          (target as any)[Array.isArray(target) ? target.length : 'intruder'] = 1;
        }).toThrow(TypeError);
        expect(() => (compiled.definition.nodes as unknown as unknown[]).push({})).toThrow(TypeError);
        expect(() => {
          (compiled.definition.nodes[0]!.data as any).injected = true;
        }).toThrow(TypeError);
        expect(() => {
          (compiled as any).name = 'renamed';
        }).toThrow(TypeError);
        expect(() => (compiled.order as string[]).push('x')).toThrow(TypeError);
        expect(() => (compiled.startNodes as string[]).pop()).toThrow(TypeError);
        expect(() => {
          ([...compiled.nodes.values()][0] as any).join = 'all';
        }).toThrow(TypeError);
        expect(compiled.definition).toEqual(JSON.parse(JSON.stringify(callerCopy)));

        // compileFlow copied the caller's document: it stays mutable, and changing it changes
        // nothing compiled.
        expect(Object.isFrozen(doc)).toBe(false);
        expect(Object.isFrozen(doc.nodes)).toBe(false);
        (doc.nodes as Obj[]).push({ id: 'late', type: 'agent', data: {} });
        doc.name = 'changed later';
        expect(compiled.nodes.has('late')).toBe(false);
        expect(compiled.name).toBe(callerCopy.name);
      }),
      { numRuns: 25 },
    );
  });
});
