import type { FunctionContext, JsonObject, JsonValue } from '@gantry/engine';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { analyzeChangedFiles } from './analyze-changed-files.js';
import { classifyPath, FILE_CATEGORIES } from './classify-path.js';

const ctx = { runId: 'run-1', nodeId: 'file_analyzer', signal: new AbortController().signal, log: {} } as unknown as FunctionContext;

// Paths built from the words the rules look at, so that every rule gets exercised.
const segment = fc.constantFrom('src', 'web', 'api', 'server', 'tests', '__tests__', 'docs', 'k8s', 'deploy', 'lib', 'ui', 'pkg', '.github/workflows', 'Foo Bar');
const name = fc.constantFrom('index', 'App', 'main', 'user_test', 'test_user', 'Button.test', 'README', 'Dockerfile', 'Makefile', 'UserTest', 'values', '.eslintrc');
const extension = fc.constantFrom('', '.ts', '.tsx', '.js', '.py', '.go', '.java', '.md', '.yaml', '.tf', '.css', '.png', '.json');
const path = fc.tuple(fc.array(segment, { maxLength: 3 }), name, extension, fc.boolean()).map(
  ([dirs, n, ext, dotSlash]) => `${dotSlash ? './' : ''}${[...dirs, `${n}${ext}`].join('/')}`,
);
const status = fc.constantFrom('added', 'modified', 'removed', 'renamed');
const fileObject = fc.record(
  { filename: path, status, additions: fc.nat(500), deletions: fc.nat(500) },
  { requiredKeys: ['filename'] },
);
const input: fc.Arbitrary<JsonObject> = fc.oneof(
  fc.array(path, { maxLength: 20 }).map((files) => ({ files })),
  fc.array(fileObject, { maxLength: 20 }).map((files) => ({ files: files as JsonValue[] })),
  fc
    .array(fc.record({ added: fc.array(path, { maxLength: 4 }), modified: fc.array(path, { maxLength: 4 }), removed: fc.array(path, { maxLength: 4 }) }), { maxLength: 5 })
    .map((commits) => ({ commits: commits.map((c, i) => ({ id: String(i), ...c })) })),
);

function listedPaths(value: JsonObject): string[] {
  const norm = (p: string): string => p.replace(/^\.\//, '');
  if (Array.isArray(value['files'])) {
    return value['files'].map((f) => norm(typeof f === 'string' ? f : String((f as JsonObject)['filename'])));
  }
  return (value['commits'] as JsonObject[]).flatMap((c) => ['added', 'modified', 'removed'].flatMap((k) => (c[k] as string[]).map(norm)));
}

describe('analyze_changed_files properties', () => {
  it('gives every distinct path one category, and the counts add up', async () => {
    await fc.assert(
      fc.asyncProperty(input, async (value) => {
        const out = await analyzeChangedFiles(value, {}, ctx);
        const files = out['files'] as JsonObject[];
        const counts = out['counts'] as Record<string, number>;
        const distinct = new Set(listedPaths(value));

        expect(out['total_files']).toBe(files.length);
        expect(files.map((f) => f['path'])).toEqual([...distinct]);
        expect(Object.keys(counts).sort()).toEqual([...FILE_CATEGORIES].sort());
        expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(files.length);
        for (const category of FILE_CATEGORIES) {
          expect(counts[category]).toBe(files.filter((f) => f['category'] === category).length);
        }
        for (const f of files) expect(f['category']).toBe(classifyPath(String(f['path'])));
        expect(out['has_backend_files']).toBe(counts['backend']! > 0);
        expect(out['has_frontend_files']).toBe(counts['frontend']! > 0);
        expect(out['has_test_files']).toBe(counts['test']! > 0);
        expect(out['has_infrastructure_files']).toBe(counts['infrastructure']! > 0);
        expect(out['has_docs_files']).toBe(counts['docs']! > 0);
        expect(out['lines_added']).toBe(files.reduce((n, f) => n + (typeof f['additions'] === 'number' ? f['additions'] : 0), 0));
      }),
    );
  });

  it('is deterministic and does not change its input', async () => {
    await fc.assert(
      fc.asyncProperty(input, async (value) => {
        const before = structuredClone(value);
        const first = await analyzeChangedFiles(value, {}, ctx);
        expect(value).toEqual(before);
        expect(await analyzeChangedFiles(value, {}, ctx)).toEqual(first);
      }),
    );
  });
});
