import { describe, expect, it } from 'vitest';
import { changedFiles, openRepository, resolveCommit } from './repository.js';

describe('the bundled sample repository', () => {
  const repo = openRepository();

  it('has v1, v2 (the head) and v2-slow; "HEAD", "main" and nothing mean the head', () => {
    expect(Object.keys(repo.commits).sort()).toEqual(['v1', 'v2', 'v2-slow']);
    for (const ref of [undefined, 'HEAD', 'main', '']) expect(resolveCommit(repo, ref).id).toBe('v2');
    expect(() => resolveCommit(repo, 'v9')).toThrow(/no commit "v9".*v1, v2, v2-slow/);
    expect(() => openRepository('/nonexistent')).toThrow(/has no commits.json/);
  });

  it('v2 changes the pricing, its tests and the version against v1', () => {
    const changes = changedFiles(repo, resolveCommit(repo, 'v2'));
    expect(changes.map((c) => `${c.status} ${c.path}`)).toEqual([
      'modified app.mjs',
      'modified package.json',
      'modified pricing.mjs',
      'modified test/app.test.mjs',
      'modified test/integration/api.test.mjs',
      'modified test/pricing.test.mjs',
    ]);
    const pkg = changes.find((c) => c.path === 'package.json')!;
    expect(pkg.changedLines).toHaveLength(1);
  });

  it('v2-slow is v2 with the fault knob turned on in config.json', () => {
    const changes = changedFiles(repo, resolveCommit(repo, 'v2-slow'), 'v2');
    expect(changes.map((c) => c.path)).toEqual(['config.json']);
    expect(JSON.parse(changes[0]!.content)).toEqual({ fault: { mode: 'slow', every: 4, latency_ms: 800 } });
  });
});
