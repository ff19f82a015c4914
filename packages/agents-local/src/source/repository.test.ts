import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
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

  it('v2-slow is v2 with the fault knob turned on in config.json, released as 2.0.1 so that it can be told from v2', () => {
    const changes = changedFiles(repo, resolveCommit(repo, 'v2-slow'), 'v2');
    expect(changes.map((c) => c.path)).toEqual(['config.json', 'package.json']);
    expect(JSON.parse(changes[0]!.content)).toEqual({ fault: { mode: 'slow', every: 4, latency_ms: 800 } });
    const v2 = JSON.parse(readFileSync(join(repo.root, 'v2', 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(JSON.parse(changes[1]!.content)).toEqual({ ...v2, version: '2.0.1' });
    expect(changes[1]!.changedLines).toHaveLength(1);
  });
});

describe('a repository whose history names paths outside it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gantry-repo-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const repoWith = (commits: Record<string, unknown>) => {
    const root = mkdtempSync(join(dir, 'r-'));
    mkdirSync(join(root, 'src'));
    writeFileSync(join(root, 'commits.json'), JSON.stringify({ head: Object.keys(commits)[0], commits }));
    return root;
  };

  it('is refused when it is opened, before a checkout writes or a review reads anything', () => {
    expect(() => openRepository(repoWith({ a: { tree: 'src', parent: null, files: { '../../escaped.mjs': 'x' } } }))).toThrow(/commit "a": expected file paths relative to the tree without "\." or "\.\." segments, got "\.\.\/\.\.\/escaped\.mjs"/);
    expect(() => openRepository(repoWith({ a: { tree: 'src', parent: null, files: { '/etc/x': 'x' } } }))).toThrow(/expected file paths relative/);
    expect(() => openRepository(repoWith({ a: { tree: '../..', parent: null } }))).toThrow(/commit "a": expected "tree" to be a folder inside .*, got "\.\.\/\.\."/);
    expect(() => openRepository(repoWith({ '../a': { tree: 'src', parent: null } }))).toThrow(/commit "\.\.\/a": expected an id of letters/);
    expect(openRepository(repoWith({ 'v1.0_rc-1': { tree: 'src', parent: null, files: { 'lib/a.mjs': 'x' } } })).head).toBe('v1.0_rc-1');
  });
});
