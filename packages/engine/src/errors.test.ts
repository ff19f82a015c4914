import { describe, expect, it } from 'vitest';
import { DIAGNOSTIC_CODES } from './diagnostic-codes.js';
import { ERROR_CODES, GantryError, isGantryError, type Issue } from './errors.js';
import { toErrorInfo } from './run/error-info.js';

/** A documentation sentence: starts with a word (a capital, or a field name such as for_each), ends with a full stop. */
function expectSentence(what: string, doc: unknown): void {
  expect(typeof doc, what).toBe('string');
  const text = (doc as string).trim();
  expect(text, what).toBe(doc);
  expect(text.length, `${what} is too short to document anything`).toBeGreaterThanOrEqual(15);
  expect(text, what).toMatch(/^([A-Z`{]|[a-z_]+ )/);
  expect(text, what).toMatch(/\.$/);
  expect(text, what).not.toMatch(/TODO|TBD|FIXME/i);
}

describe('ERROR_CODES', () => {
  it('documents every code with a sentence', () => {
    const entries = Object.entries(ERROR_CODES);
    expect(entries.length).toBeGreaterThan(0);
    for (const [code, doc] of entries) expectSentence(code, doc);
  });

  it('uses stable SCREAMING_SNAKE_CASE codes', () => {
    for (const code of Object.keys(ERROR_CODES)) expect(code).toMatch(/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/);
  });

  it('has the codes DESIGN §8 promises callers', () => {
    for (const code of ['FLOW_INVALID', 'GRAPH_CYCLE', 'EXPRESSION_LIMIT', 'GATE_FAILED', 'APPROVAL_REJECTED', 'APPROVAL_TIMEOUT', 'TIMEOUT', 'AGENT_FAILED', 'INTERNAL']) {
      expect(Object.keys(ERROR_CODES), code).toContain(code);
    }
  });

  it('gives each code its own sentence', () => {
    const docs = Object.values(ERROR_CODES);
    expect(new Set(docs).size).toBe(docs.length);
  });
});

describe('DIAGNOSTIC_CODES', () => {
  it('documents every code with a sentence and a severity', () => {
    const entries = Object.entries(DIAGNOSTIC_CODES);
    expect(entries.length).toBeGreaterThanOrEqual(26);
    for (const [code, entry] of entries) {
      expect(code).toMatch(/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/);
      expect(['error', 'warning'], code).toContain(entry.severity);
      expectSentence(code, entry.doc);
    }
    const docs = entries.map(([, e]) => e.doc);
    expect(new Set(docs).size).toBe(docs.length);
  });

  it('keeps the severities tools rely on: problems that stop a run are errors, advice is a warning', () => {
    const severity = (code: keyof typeof DIAGNOSTIC_CODES) => DIAGNOSTIC_CODES[code].severity;
    for (const code of ['JSON_SYNTAX', 'UNKNOWN_KEY', 'GRAPH_CYCLE', 'EDGE_UNKNOWN_NODE', 'EXPRESSION_SYNTAX', 'SUBFLOW_NOT_FOUND'] as const) {
      expect(severity(code), code).toBe('error');
    }
    for (const code of ['DUPLICATE_EDGE', 'UNREACHABLE_NODE', 'EXPRESSION_NOT_WHOLE', 'UNKNOWN_PARAM', 'UNKNOWN_NODE_REF', 'CONCURRENCY_WITHOUT_FOR_EACH'] as const) {
      expect(severity(code), code).toBe('warning');
    }
  });
});

describe('GantryError', () => {
  const issue: Issue = { pointer: '/nodes/1/data/task', line: 12, column: 7, message: 'missing task', code: 'MISSING_KEY' };

  it('carries code, message, retryable, cause, nodeId and issues', () => {
    const cause = new Error('socket hang up');
    const error = new GantryError('AGENT_FAILED', 'agent x failed', { retryable: true, cause, nodeId: 'build', issues: [issue] });
    expect(error).toBeInstanceOf(Error);
    expect(error).toBeInstanceOf(GantryError);
    expect(error.name).toBe('GantryError');
    expect(error.code).toBe('AGENT_FAILED');
    expect(error.message).toBe('agent x failed');
    expect(error.retryable).toBe(true);
    expect(error.cause).toBe(cause);
    expect(error.nodeId).toBe('build');
    expect(error.issues).toEqual([issue]);
    expect(error.stack).toContain('agent x failed');
    expect(String(error)).toBe('GantryError: agent x failed');
  });

  it('defaults to not retryable, no cause, no node and no issues', () => {
    const error = new GantryError('USAGE', 'bad arguments');
    expect(error.retryable).toBe(false);
    expect('cause' in error).toBe(false);
    expect(error.cause).toBeUndefined();
    expect(error.nodeId).toBeUndefined();
    expect(error.issues).toEqual([]);
    expect(new GantryError('TIMEOUT', 't', { retryable: false }).retryable).toBe(false);
  });

  it('keeps a cause that is not an Error', () => {
    const cause = { status: 503 };
    expect(new GantryError('CONNECTOR_FAILED', 'x', { cause }).cause).toBe(cause);
  });

  it('serialises to a plain object that summarises the cause', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const cause = Object.assign(new Error('ECONNRESET'), { details: cyclic });
    const error = new GantryError('FLOW_INVALID', 'flow.json is not a valid flow', { cause, nodeId: 'gate', issues: [issue] });
    const json = JSON.parse(JSON.stringify(error)) as Record<string, unknown>;
    expect(json).toEqual({
      name: 'GantryError',
      code: 'FLOW_INVALID',
      message: 'flow.json is not a valid flow',
      retryable: false,
      nodeId: 'gate',
      issues: [issue],
      cause: 'ECONNRESET',
    });
    const bare = new GantryError('INTERNAL', 'oops').toJSON();
    expect(bare).toEqual({ name: 'GantryError', code: 'INTERNAL', message: 'oops', retryable: false });
    expect(new GantryError('INTERNAL', 'x', { cause: 'a string' }).toJSON()).not.toHaveProperty('cause');
  });

  it('is recognised by isGantryError, optionally by code', () => {
    const error = new GantryError('GATE_FAILED', 'gate failed');
    expect(isGantryError(error)).toBe(true);
    expect(isGantryError(error, 'GATE_FAILED')).toBe(true);
    expect(isGantryError(error, 'TIMEOUT')).toBe(false);
    expect(isGantryError(new Error('gate failed'))).toBe(false);
    expect(isGantryError({ name: 'GantryError', code: 'GATE_FAILED', message: 'x' })).toBe(false);
    expect(isGantryError(undefined)).toBe(false);
  });

  it('can be thrown and caught by code', () => {
    const run = () => {
      throw new GantryError('APPROVAL_TIMEOUT', 'deadline passed', { nodeId: 'production_approval' });
    };
    expect(run).toThrow(GantryError);
    expect(run).toThrow(expect.objectContaining({ code: 'APPROVAL_TIMEOUT', nodeId: 'production_approval', retryable: false }));
  });
});

describe('closed codes in the journal', () => {
  it('a GantryError carries plain-data details, in its JSON too', () => {
    const error = new GantryError('GATE_FAILED', 'gate "g" failed', { details: { checks: [{ metric: 'score', passed: false }] } });
    expect(error.details).toEqual({ checks: [{ metric: 'score', passed: false }] });
    expect(error.toJSON()).toMatchObject({ code: 'GATE_FAILED', details: { checks: [{ metric: 'score', passed: false }] } });
    expect(toErrorInfo(error)).toEqual({ code: 'GATE_FAILED', message: 'gate "g" failed', retryable: false, details: { checks: [{ metric: 'score', passed: false }] } });
  });

  it('a foreign error’s own code is kept under details, never as the code', () => {
    const enoent = Object.assign(new Error("ENOENT: no such file or directory, open 'x'"), { code: 'ENOENT' });
    expect(toErrorInfo(enoent, 'NODE_FAILED')).toEqual({ code: 'NODE_FAILED', message: enoent.message, retryable: false, details: { code: 'ENOENT' } });
    const numeric = Object.assign(new Error('exit'), { code: 127, retryable: true });
    expect(toErrorInfo(numeric)).toEqual({ code: 'INTERNAL', message: 'exit', retryable: true, details: { code: '127' } });
  });

  it('a plain error that names one of Gantry’s codes keeps it; anything thrown gets a code of the table', () => {
    expect(toErrorInfo(Object.assign(new Error('slow'), { code: 'TIMEOUT', retryable: true }))).toEqual({ code: 'TIMEOUT', message: 'slow', retryable: true });
    for (const thrown of [new Error('x'), 'a string', 42, null, undefined, { code: 'toString' }, Object.assign(new Error('p'), { code: '__proto__' })]) {
      expect(Object.keys(ERROR_CODES)).toContain(toErrorInfo(thrown).code);
    }
  });
});
