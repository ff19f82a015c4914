import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseUnifiedDiff } from './unified-diff.js';

/** What `git show` prints for a commit touching six files (trimmed hunks, real headers). */
const GIT_SHOW = `commit 3f1c2a9e8d7b6c5a4f3e2d1c0b9a8f7e6d5c4b3a
Author: Ada Lovelace <ada@example.com>
Date:   Mon Mar 3 10:12:44 2025 +0100

    Add rate limiting to the orders API

---
 api/orders.py                | 12 +++++++-----
 web/src/OrderList.tsx        | 3 ++-
 tests/test_orders.py         | 4 ++++
 docs/old-limits.md           | 2 --
 assets/logo.png              | Bin 0 -> 1204 bytes
 src/{util.ts => helpers.ts}  | 2 +-

diff --git a/api/orders.py b/api/orders.py
index 83db48f..bf269f4 100644
--- a/api/orders.py
+++ b/api/orders.py
@@ -1,9 +1,11 @@
 from flask import Blueprint, jsonify
-from .db import orders
+from .db import orders, limits
+from .ratelimit import limit
 
 bp = Blueprint("orders", __name__)
 
-@bp.get("/orders")
-def list_orders():
-    return jsonify(orders.all())
+@bp.get("/orders")
+@limit(per_minute=60)
+def list_orders():
+    return jsonify(orders.all())
 # end
@@ -20,3 +23,3 @@ def get_order(order_id):
     order = orders.get(order_id)
-    return jsonify(order)
+    return jsonify(order or {})
 
diff --git a/web/src/OrderList.tsx b/web/src/OrderList.tsx
index 1a2b3c4..5d6e7f8 100644
--- a/web/src/OrderList.tsx
+++ b/web/src/OrderList.tsx
@@ -10,4 +10,5 @@ export function OrderList() {
   const { data } = useOrders();
-  if (!data) return null;
+  if (!data) return <Spinner />;
+  // --- separator comment
   return <ul>{data.map(renderOrder)}</ul>;
 }
diff --git a/tests/test_orders.py b/tests/test_orders.py
new file mode 100644
index 0000000..e69de29
--- /dev/null
+++ b/tests/test_orders.py
@@ -0,0 +1,4 @@
+def test_rate_limit(client):
+    for _ in range(60):
+        client.get("/orders")
+    assert client.get("/orders").status_code == 429
diff --git a/docs/old-limits.md b/docs/old-limits.md
deleted file mode 100644
index 4b825dc..0000000
--- a/docs/old-limits.md
+++ /dev/null
@@ -1,2 +0,0 @@
-# Limits
--- none yet
diff --git a/assets/logo.png b/assets/logo.png
new file mode 100644
index 0000000..9f2c1d3
Binary files /dev/null and b/assets/logo.png differ
diff --git a/src/util.ts b/src/helpers.ts
similarity index 88%
rename from src/util.ts
rename to src/helpers.ts
index 0f1e2d3..4c5b6a7 100644
--- a/src/util.ts
+++ b/src/helpers.ts
@@ -1,3 +1,3 @@
-export const clamp = (n: number) => n;
+export const clamp = (n: number, lo = 0) => Math.max(lo, n);
 export const id = <T>(x: T) => x;
 export default clamp;
`;

describe('parseUnifiedDiff', () => {
  it('reads every file of a git show: status, paths and line counts', () => {
    expect(parseUnifiedDiff(GIT_SHOW)).toEqual([
      { path: 'api/orders.py', status: 'modified', additions: 7, deletions: 5, binary: false },
      { path: 'web/src/OrderList.tsx', status: 'modified', additions: 2, deletions: 1, binary: false },
      { path: 'tests/test_orders.py', status: 'added', additions: 4, deletions: 0, binary: false },
      // "--- none yet" is a removed line "-- none yet", not a file header.
      { path: 'docs/old-limits.md', status: 'removed', additions: 0, deletions: 2, binary: false },
      { path: 'assets/logo.png', status: 'added', additions: 0, deletions: 0, binary: true },
      { path: 'src/helpers.ts', previousPath: 'src/util.ts', status: 'renamed', additions: 1, deletions: 1, binary: false },
    ]);
  });

  const cases: Array<[string, string, ReturnType<typeof parseUnifiedDiff>]> = [
    ['empty text', '', []],
    ['text with no diff', 'just a commit message\n\nwith words\n', []],
    [
      'a pure rename (no hunks)',
      'diff --git a/old name.go b/new name.go\nsimilarity index 100%\nrename from old name.go\nrename to new name.go\n',
      [{ path: 'new name.go', previousPath: 'old name.go', status: 'renamed', additions: 0, deletions: 0, binary: false }],
    ],
    [
      'a copy',
      'diff --git a/a.py b/b.py\nsimilarity index 95%\ncopy from a.py\ncopy to b.py\n--- a/a.py\n+++ b/b.py\n@@ -1 +1 @@\n-x = 1\n+x = 2\n',
      [{ path: 'b.py', previousPath: 'a.py', status: 'copied', additions: 1, deletions: 1, binary: false }],
    ],
    [
      'a mode change only',
      'diff --git a/scripts/run.sh b/scripts/run.sh\nold mode 100644\nnew mode 100755\n',
      [{ path: 'scripts/run.sh', status: 'modified', additions: 0, deletions: 0, binary: false }],
    ],
    [
      'a binary patch (git diff --binary)',
      'diff --git a/font.woff2 b/font.woff2\nindex 1111111..2222222 100644\nGIT binary patch\nliteral 12\nTcmZ?wbhEHbRA6BE1ONjA0RR91\n\nliteral 0\nHcmV?d00001\n\n',
      [{ path: 'font.woff2', status: 'modified', additions: 0, deletions: 0, binary: true }],
    ],
    [
      'a deleted binary file',
      'diff --git a/img/old.png b/img/old.png\ndeleted file mode 100644\nindex 9f2c1d3..0000000\nBinary files a/img/old.png and /dev/null differ\n',
      [{ path: 'img/old.png', status: 'removed', additions: 0, deletions: 0, binary: true }],
    ],
    [
      'a quoted path with octal UTF-8 escapes',
      'diff --git "a/docs/caf\\303\\251.md" "b/docs/caf\\303\\251.md"\nindex 1..2 100644\n--- "a/docs/caf\\303\\251.md"\n+++ "b/docs/caf\\303\\251.md"\n@@ -1 +1,2 @@\n # Café\n+Open daily.\n',
      [{ path: 'docs/café.md', status: 'modified', additions: 1, deletions: 0, binary: false }],
    ],
    [
      'a plain diff -ru with timestamps and tree names',
      '--- orig/src/main.c\t2024-05-01 10:00:00.000000000 +0200\n+++ new/src/main.c\t2024-05-02 11:00:00.000000000 +0200\n@@ -1,2 +1,2 @@\n-int x;\n+long x;\n int y;\n--- orig/README\t2024-05-01 10:00:00.000000000 +0200\n+++ new/README\t2024-05-02 11:00:00.000000000 +0200\n@@ -1 +1,2 @@\n hello\n+world\n',
      [
        { path: 'src/main.c', status: 'modified', additions: 1, deletions: 1, binary: false },
        { path: 'README', status: 'modified', additions: 1, deletions: 0, binary: false },
      ],
    ],
    [
      'CRLF line endings and "\\ No newline at end of file"',
      'diff --git a/a.txt b/a.txt\r\n--- a/a.txt\r\n+++ b/a.txt\r\n@@ -1 +1 @@\r\n-old\r\n\\ No newline at end of file\r\n+new\r\n\\ No newline at end of file\r\n',
      [{ path: 'a.txt', status: 'modified', additions: 1, deletions: 1, binary: false }],
    ],
    [
      'hunk headers without lengths',
      'diff --git a/x.rb b/x.rb\n--- a/x.rb\n+++ b/x.rb\n@@ -3 +3 @@ class X\n-  def a; end\n+  def b; end\n',
      [{ path: 'x.rb', status: 'modified', additions: 1, deletions: 1, binary: false }],
    ],
    [
      'a truncated hunk (the text ends early)',
      'diff --git a/big.go b/big.go\n--- a/big.go\n+++ b/big.go\n@@ -1,50 +1,60 @@\n+package big\n-package small\n',
      [{ path: 'big.go', status: 'modified', additions: 1, deletions: 1, binary: false }],
    ],
  ];

  it.each(cases)('%s', (_name, text, expected) => {
    expect(parseUnifiedDiff(text)).toEqual(expected);
  });

  it('counts exactly the lines a generated diff adds and removes, whatever they contain', () => {
    const line = fc.oneof(
      fc.string({ maxLength: 12 }).map((s) => s.replace(/[\r\n]/g, '')),
      fc.constantFrom('--- a/fake', '++ b/fake', '@@ -1 +1 @@', 'diff --git a/x b/x', ''),
    );
    const file = fc.record({
      path: fc.stringMatching(/^[a-z]{1,6}(\/[a-z]{1,6}){0,2}\.[a-z]{1,3}$/),
      hunks: fc.array(fc.record({ context: fc.array(line, { maxLength: 3 }), removed: fc.array(line, { maxLength: 4 }), added: fc.array(line, { maxLength: 4 }) }), { minLength: 1, maxLength: 3 }),
    });
    fc.assert(
      fc.property(fc.uniqueArray(file, { selector: (f) => f.path, minLength: 1, maxLength: 5 }), (files) => {
        const text = files
          .map((f) => {
            const hunks = f.hunks.map((h) => {
              const old = h.context.length + h.removed.length;
              const neu = h.context.length + h.added.length;
              const body = [...h.context.map((l) => ` ${l}`), ...h.removed.map((l) => `-${l}`), ...h.added.map((l) => `+${l}`)];
              return [`@@ -1,${old} +1,${neu} @@`, ...body].join('\n');
            });
            return [`diff --git a/${f.path} b/${f.path}`, 'index 1111111..2222222 100644', `--- a/${f.path}`, `+++ b/${f.path}`, ...hunks].join('\n');
          })
          .join('\n');
        const parsed = parseUnifiedDiff(`${text}\n`);
        expect(parsed.map((p) => p.path)).toEqual(files.map((f) => f.path));
        parsed.forEach((p, i) => {
          const hunks = files[i]?.hunks ?? [];
          expect(p.additions).toBe(hunks.reduce((n, h) => n + h.added.length, 0));
          expect(p.deletions).toBe(hunks.reduce((n, h) => n + h.removed.length, 0));
        });
      }),
    );
  });
});
