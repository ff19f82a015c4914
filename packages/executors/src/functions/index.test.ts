import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { FunctionContext, JsonObject } from '@gantry/engine';
import { aggregateReviewResults, builtinFunctions } from './index.js';

function context(nodeInput: JsonObject): FunctionContext {
  return { runId: 'r', nodeId: 'file_analyzer', nodeInput, trigger: nodeInput, signal: new AbortController().signal, log: pino({ level: 'silent' }) };
}

const push: JsonObject = {
  ref: 'refs/heads/main',
  commits: [{ id: 'a1', added: ['api/users.py'], modified: ['web/App.tsx'], removed: [] }],
  head_commit: { id: 'a1', added: ['api/users.py'], modified: ['web/App.tsx'], removed: [] },
};

describe('builtinFunctions', () => {
  it('names each built-in function as flows call it', () => {
    expect(Object.keys(builtinFunctions).sort()).toEqual(['aggregate_review_results', 'analyze_changed_files']);
    expect(builtinFunctions['aggregate_review_results']).toBe(aggregateReviewResults);
  });

  it('analyses the whole payload when the picked inputs (files, diff) are absent, as in the design document flow', async () => {
    const analyze = builtinFunctions['analyze_changed_files']!;
    const result = await analyze({}, {}, context(push));
    expect(result.source).toBe('push');
    expect(result.has_backend_files).toBe(true);
    expect(result.has_frontend_files).toBe(true);
  });

  it('prefers an explicit files list over the payload', async () => {
    const analyze = builtinFunctions['analyze_changed_files']!;
    const result = await analyze({ files: ['docs/guide.md'] }, {}, context(push));
    expect(result.source).toBe('files');
    expect(result.has_backend_files).toBe(false);
    expect(result.has_docs_files).toBe(true);
  });

  it('is frozen, so that no caller changes the table another relies on', () => {
    expect(Object.isFrozen(builtinFunctions)).toBe(true);
  });
});
