import { GantryError } from '@gantry/engine';
import type { FunctionContext, JsonObject, JsonValue } from '@gantry/engine';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { analyzeChangedFiles } from './analyze-changed-files.js';

// The function never logs; a context with a real signal is all it can touch.
const ctx = { runId: 'run-1', nodeId: 'file_analyzer', signal: new AbortController().signal, log: {} } as unknown as FunctionContext;
const analyze = async (input: JsonObject): Promise<JsonObject> => analyzeChangedFiles(input, {}, ctx);

/** A GitHub `push` payload, trimmed to the fields that matter plus enough context to be real. */
const PUSH: JsonObject = {
  ref: 'refs/heads/main',
  before: '9049f1265b7d61be4a8904a9a27120d2064dab3b',
  after: '0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c',
  repository: { id: 35129377, full_name: 'acme/shop', default_branch: 'main' },
  pusher: { name: 'ada', email: 'ada@example.com' },
  sender: { login: 'ada', id: 1 },
  created: false,
  deleted: false,
  forced: false,
  compare: 'https://github.com/acme/shop/compare/9049f1265b7d...0d1a26e67d8f',
  commits: [
    {
      id: '7a3f0c1e0b5d2f9c8e1a4b6d3c2e1f0a9b8c7d6e',
      tree_id: 'f9d2a07e0488b91af2641b26b9407fe22a451433',
      distinct: true,
      message: 'Add order rate limits',
      timestamp: '2025-03-03T10:12:44+01:00',
      url: 'https://github.com/acme/shop/commit/7a3f0c1e0b5d',
      author: { name: 'Ada Lovelace', email: 'ada@example.com', username: 'ada' },
      committer: { name: 'Ada Lovelace', email: 'ada@example.com', username: 'ada' },
      added: ['api/ratelimit.py', 'tests/test_ratelimit.py'],
      removed: ['docs/limits.md'],
      modified: ['api/orders.py', 'web/src/OrderList.tsx'],
    },
    {
      id: '0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c',
      tree_id: '2b4c6d8e0f1a3b5c7d9e1f3a5b7c9d1e3f5a7b9c',
      distinct: true,
      message: 'Fix lint, restore limits doc, deploy config',
      timestamp: '2025-03-03T10:20:02+01:00',
      url: 'https://github.com/acme/shop/commit/0d1a26e67d8f',
      author: { name: 'Ada Lovelace', email: 'ada@example.com', username: 'ada' },
      committer: { name: 'GitHub', email: 'noreply@github.com', username: 'web-flow' },
      added: ['docs/limits.md'],
      removed: [],
      modified: ['api/orders.py', 'api/ratelimit.py', '.github/workflows/ci.yml'],
    },
  ],
  head_commit: {
    id: '0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c',
    message: 'Fix lint, restore limits doc, deploy config',
    added: ['docs/limits.md'],
    removed: [],
    modified: ['api/orders.py', 'api/ratelimit.py', '.github/workflows/ci.yml'],
  },
};

/** A GitHub `pull_request` (opened) payload: it says how many files changed, not which. */
const PULL_REQUEST: JsonObject = {
  action: 'opened',
  number: 42,
  pull_request: {
    url: 'https://api.github.com/repos/acme/shop/pulls/42',
    html_url: 'https://github.com/acme/shop/pull/42',
    number: 42,
    state: 'open',
    title: 'Add order rate limits',
    user: { login: 'ada', id: 1 },
    head: { ref: 'rate-limits', sha: '0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c' },
    base: { ref: 'main', sha: '9049f1265b7d61be4a8904a9a27120d2064dab3b' },
    commits: 2,
    additions: 31,
    deletions: 6,
    changed_files: 6,
  },
  repository: { id: 35129377, full_name: 'acme/shop' },
  sender: { login: 'ada', id: 1 },
};

/** Two entries as GitHub's "list pull request files" API returns them. */
const PR_FILES: JsonValue[] = [
  {
    sha: 'bbcd538c8e72b8c175046e27cc8f907076331401',
    filename: 'web/src/components/OrderBadge.tsx',
    status: 'added',
    additions: 18,
    deletions: 0,
    changes: 18,
    blob_url: 'https://github.com/acme/shop/blob/0d1a26e/web/src/components/OrderBadge.tsx',
    patch: '@@ -0,0 +1,18 @@\n+export function OrderBadge() {',
  },
  {
    sha: '4c5b6a7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b',
    filename: 'src/helpers.ts',
    previous_filename: 'src/util.ts',
    status: 'renamed',
    additions: 1,
    deletions: 1,
    changes: 2,
  },
];

const DIFF = `diff --git a/api/orders.py b/api/orders.py
index 83db48f..bf269f4 100644
--- a/api/orders.py
+++ b/api/orders.py
@@ -1,3 +1,4 @@
 from flask import Blueprint
-from .db import orders
+from .db import orders, limits
+from .ratelimit import limit
 bp = Blueprint("orders", __name__)
diff --git a/web/src/App.test.tsx b/web/src/App.test.tsx
new file mode 100644
index 0000000..e69de29
--- /dev/null
+++ b/web/src/App.test.tsx
@@ -0,0 +1,2 @@
+import { render } from '@testing-library/react';
+test('renders', () => render(<App />));
diff --git a/Dockerfile b/Dockerfile
deleted file mode 100644
index 4b825dc..0000000
--- a/Dockerfile
+++ /dev/null
@@ -1,2 +0,0 @@
-FROM python:3.12-slim
-CMD ["gunicorn", "app:app"]
diff --git a/web/public/logo.png b/web/public/logo.png
new file mode 100644
index 0000000..9f2c1d3
Binary files /dev/null and b/web/public/logo.png differ
diff --git a/docs/usage.md b/guide/usage.md
similarity index 100%
rename from docs/usage.md
rename to guide/usage.md
`;

describe('analyze_changed_files', () => {
  it('reads a push payload: every commit, one entry per path, the last status', async () => {
    const out = await analyze(PUSH);
    expect(out['source']).toBe('push');
    expect(out['event']).toBe('push');
    expect(out['files']).toEqual([
      { path: 'api/ratelimit.py', category: 'backend', status: 'added' }, // added, then modified: still new
      { path: 'tests/test_ratelimit.py', category: 'test', status: 'added' },
      { path: 'api/orders.py', category: 'backend', status: 'modified' },
      { path: 'web/src/OrderList.tsx', category: 'frontend', status: 'modified' },
      { path: 'docs/limits.md', category: 'docs', status: 'added' }, // removed, then added back
      { path: '.github/workflows/ci.yml', category: 'infrastructure', status: 'modified' },
    ]);
    expect(out['counts']).toEqual({ backend: 2, frontend: 1, test: 1, infrastructure: 1, docs: 1, other: 0 });
    expect(out).toMatchObject({
      has_backend_files: true,
      has_frontend_files: true,
      has_test_files: true,
      has_infrastructure_files: true,
      has_docs_files: true,
      total_files: 6,
      lines_added: 0,
      lines_removed: 0,
      line_counts: 'unavailable',
    });
  });

  it('reads head_commit alone when commits is empty, and a branch deletion as no files', async () => {
    const headOnly = await analyze({ ...PUSH, commits: [] });
    expect(headOnly['total_files']).toBe(4);
    const deletion = await analyze({ ref: 'refs/heads/old', deleted: true, commits: [], head_commit: null });
    expect(deletion).toMatchObject({ source: 'push', total_files: 0, has_backend_files: false });
  });

  it('reports that a pull_request payload needs its file list fetched, without failing', async () => {
    const out = await analyze(PULL_REQUEST);
    expect(out).toMatchObject({
      source: 'pull_request',
      event: 'pull_request',
      total_files: 0,
      files: [],
      file_list_required: true,
      pull_request: {
        number: 42,
        title: 'Add order rate limits',
        changed_files: 6,
        additions: 31,
        deletions: 6,
        files_url: 'https://api.github.com/repos/acme/shop/pulls/42/files',
      },
    });
    expect(out['note']).toMatch(/no file list/);
  });

  it('uses the files of a pull_request when given, with GitHub file objects', async () => {
    const out = await analyze({ ...PULL_REQUEST, files: PR_FILES });
    expect(out['source']).toBe('files');
    expect(out['event']).toBe('pull_request');
    expect(out['file_list_required']).toBeUndefined();
    expect(out['files']).toEqual([
      { path: 'web/src/components/OrderBadge.tsx', category: 'frontend', status: 'added', additions: 18, deletions: 0 },
      { path: 'src/helpers.ts', category: 'backend', status: 'renamed', previous_path: 'src/util.ts', additions: 1, deletions: 1 },
    ]);
    expect(out).toMatchObject({ lines_added: 19, lines_removed: 1, line_counts: 'complete' });
  });

  it('reads the fields the shipped flow picks (inputs: ["files", "diff"]), nulls as absent', async () => {
    const out = await analyze({ files: ['src/api/users.py', 'ui/Settings.vue', 'README.md'], diff: null });
    expect(out).toMatchObject({ source: 'files', total_files: 3, has_backend_files: true, has_frontend_files: true, has_docs_files: true });
    expect(out['line_counts']).toBe('unavailable');
  });

  it('reads a unified diff: statuses, renames, binary files and line counts', async () => {
    const out = await analyze({ diff: DIFF });
    expect(out['source']).toBe('diff');
    expect(out['files']).toEqual([
      { path: 'api/orders.py', category: 'backend', status: 'modified', additions: 2, deletions: 1 },
      { path: 'web/src/App.test.tsx', category: 'test', status: 'added', additions: 2, deletions: 0 },
      { path: 'Dockerfile', category: 'infrastructure', status: 'removed', additions: 0, deletions: 2 },
      { path: 'web/public/logo.png', category: 'frontend', status: 'added', additions: 0, deletions: 0, binary: true },
      { path: 'guide/usage.md', category: 'docs', status: 'renamed', previous_path: 'docs/usage.md', additions: 0, deletions: 0 },
    ]);
    expect(out).toMatchObject({ lines_added: 4, lines_removed: 3, line_counts: 'complete', has_test_files: true, has_frontend_files: true });
  });

  it('fills a plain file list’s line counts from a diff given alongside', async () => {
    const out = await analyze({ files: ['api/orders.py', 'notes/todo.txt'], diff: DIFF });
    expect(out['files']).toEqual([
      { path: 'api/orders.py', category: 'backend', additions: 2, deletions: 1 },
      { path: 'notes/todo.txt', category: 'other' },
    ]);
    expect(out).toMatchObject({ source: 'files', lines_added: 2, lines_removed: 1, line_counts: 'partial' });
  });

  const empty: Array<[string, JsonObject, string]> = [
    ['nothing at all', {}, 'none'],
    ['an empty file list', { files: [] }, 'files'],
    ['a blank diff', { diff: '  \n' }, 'diff'],
    ['picked fields that were missing', { files: null, diff: null }, 'none'],
  ];
  it.each(empty)('classifies nothing for %s', async (_name, input, source) => {
    const out = await analyze(input);
    expect(out).toMatchObject({ source, total_files: 0, files: [], has_backend_files: false, lines_added: 0, line_counts: 'unavailable' });
    expect(out['counts']).toEqual({ backend: 0, frontend: 0, test: 0, infrastructure: 0, docs: 0, other: 0 });
  });

  it('adds up line counts of a path listed twice and keeps its last status', async () => {
    const out = await analyze({
      files: [
        { filename: 'a.go', status: 'modified', additions: 2, deletions: 1 },
        { path: './a.go', status: 'removed', additions: 0, deletions: 9 },
      ],
    });
    expect(out['files']).toEqual([{ path: 'a.go', category: 'backend', status: 'removed', additions: 2, deletions: 10 }]);
  });

  const bad: Array<[string, JsonObject, RegExp]> = [
    ['files as a string', { files: 'a.ts\nb.ts' }, /expected `files` to be an array .*got "a\.ts\\nb\.ts" \(string\)/],
    ['a number in files', { files: ['a.ts', 7] }, /expected files\[1\] to be a path string or an object .*got 7 \(number\)/],
    ['a file object without a name', { files: [{ status: 'added' }] }, /expected files\[0\]\.filename \(or \.path\) to be a string, got nothing/],
    ['negative additions', { files: [{ filename: 'a.ts', additions: -1 }] }, /expected files\[0\]\.additions to be an integer ≥ 0, got -1/],
    ['an empty path', { files: ['  '] }, /expected files\[0\] to be a non-empty path/],
    ['diff as an object', { diff: { text: 'x' } }, /expected `diff` to be a unified diff as a string, got an object with keys text/],
    ['commits as an object', { commits: { added: [] }, head_commit: { id: 'x' } }, /expected `commits` to be an array/],
    ['a commit path that is not a string', { commits: [{ id: '1', added: [{ p: 1 }] }] }, /expected commits\[0\]\.added\[0\] to be a path string/],
  ];
  it.each(bad)('refuses %s with FUNCTION_FAILED, not retryable', async (_name, input, message) => {
    const error = await analyze(input).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GantryError);
    expect(error).toMatchObject({ code: 'FUNCTION_FAILED', retryable: false });
    expect((error as Error).message).toMatch(message);
  });
});
