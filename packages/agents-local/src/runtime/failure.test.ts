import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openRepository } from '../source/repository.js';
import { describeFailure } from './http.js';
import { packFailure } from './failure.js';

describe("the pack's failures", () => {
  it('are coded AGENT_FAILED and not retryable: a repository the pack cannot read', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gantry-pack-failure-'));
    try {
      expect(() => openRepository(dir)).toThrow(expect.objectContaining({ name: 'GantryError', code: 'AGENT_FAILED', retryable: false, message: expect.stringContaining(`${dir} has no commits.json`) }));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('are described by their message where a foreign error is described by its code', () => {
    expect(describeFailure(packFailure('answered 503'))).toBe('answered 503');
    expect(describeFailure(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }))).toBe('ECONNREFUSED');
  });
});
