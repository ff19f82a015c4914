/**
 * A static review of the changed files, scored out of 10: the local pack's stand-in for a senior
 * developer's review. Each rule is a habit reviewers hold code to; each finding costs points and
 * says where it is, so a score can always be traced back to lines.
 */
import type { ChangedFile } from './repository.js';

export interface ReviewFinding {
  readonly rule: string;
  readonly severity: 'info' | 'minor' | 'major';
  readonly file: string;
  readonly line?: number;
  readonly message: string;
  readonly cost: number;
}

export interface Review {
  readonly code_quality_score: number;
  readonly findings: ReviewFinding[];
  readonly files_reviewed: string[];
  readonly files_skipped: string[];
}

const CODE = /\.(m?js|cjs|ts|mts|tsx|jsx)$/;
const TEST = /(^|\/)(test|tests|__tests__)\/|\.(test|spec)\.[cm]?[jt]sx?$/;
/** The most points one rule can take from a review, so that one habit does not sink a change. */
const RULE_CAP: Record<string, number> = { 'long-function': 2, todo: 1, console: 1.5, 'long-line': 0.5, 'empty-catch': 1 };

/** Reviews `changes`; `files` (the whole commit) is where tests of a changed module are looked for. */
export function reviewChanges(changes: readonly ChangedFile[], files: ReadonlyMap<string, string>): Review {
  const findings: ReviewFinding[] = [];
  const reviewed: string[] = [];
  const skipped: string[] = [];
  for (const change of changes) {
    if (change.status === 'removed') continue;
    if (change.path.endsWith('.json')) {
      reviewed.push(change.path);
      findings.push(...jsonFindings(change));
    } else if (CODE.test(change.path)) {
      reviewed.push(change.path);
      findings.push(...codeFindings(change, files));
    } else skipped.push(change.path);
  }
  const spent = new Map<string, number>();
  let cost = 0;
  for (const f of findings) {
    const used = spent.get(f.rule) ?? 0;
    const take = Math.min(f.cost, (RULE_CAP[f.rule] ?? Infinity) - used);
    spent.set(f.rule, used + take);
    cost += take;
  }
  return { code_quality_score: Math.max(0, Math.round((10 - cost) * 10) / 10), findings, files_reviewed: reviewed, files_skipped: skipped };
}

function jsonFindings(change: ChangedFile): ReviewFinding[] {
  try {
    JSON.parse(change.content);
    return [];
  } catch (error) {
    return [{ rule: 'invalid-json', severity: 'major', file: change.path, message: `not valid JSON: ${(error as Error).message}`, cost: 3 }];
  }
}

function codeFindings(change: ChangedFile, files: ReadonlyMap<string, string>): ReviewFinding[] {
  const found: ReviewFinding[] = [];
  const add = (rule: string, severity: ReviewFinding['severity'], cost: number, message: string, line?: number) =>
    found.push({ rule, severity, file: change.path, ...(line === undefined ? {} : { line }), message, cost });
  const lines = change.content.split('\n');
  const isTest = TEST.test(change.path);
  if (lines.length > 400) add('file-size', 'major', 1.5, `${lines.length} lines: split it (past 400 lines a file does several jobs)`);
  else if (lines.length > 250) add('file-size', 'minor', 0.5, `${lines.length} lines: getting long`);
  for (const fn of functionSpans(lines)) {
    if (fn.length > 60) add('long-function', 'minor', 0.5, `a function of ${fn.length} lines`, fn.start);
  }
  const depth = maxDepth(lines);
  if (depth.depth > 5) add('deep-nesting', 'minor', 0.5, `blocks nested ${depth.depth} deep`, depth.line);
  for (const n of change.changedLines) {
    const text = lines[n - 1] ?? '';
    if (/\b(TODO|FIXME|XXX|HACK)\b/.test(text)) add('todo', 'minor', 0.25, 'unfinished work left in the change', n);
    if (!isTest && /\bconsole\.(log|debug|trace)\s*\(/.test(text)) add('console', 'minor', 0.5, 'console logging in service code', n);
    if (/\bdebugger\b/.test(text)) add('debugger', 'major', 1.5, 'a debugger statement', n);
    if (/catch\s*(\([^)]*\))?\s*\{\s*\}/.test(text)) add('empty-catch', 'minor', 0.5, 'an error swallowed by an empty catch', n);
    if (text.length > 140) add('long-line', 'info', 0.1, `a line of ${text.length} characters`, n);
  }
  if (!isTest && !hasTests(change.path, files)) add('untested-change', 'major', 1.5, 'no test file imports this module');
  return found;
}

/** Whether a test file of the commit loads the module, directly or through the modules it imports. */
function hasTests(path: string, files: ReadonlyMap<string, string>): boolean {
  const name = path.split('/').pop()!;
  if (name === 'server.mjs' || name === 'index.js') return true; // entry points: started, not imported
  const seen = new Set<string>();
  const queue = [...files.keys()].filter((f) => TEST.test(f));
  while (queue.length > 0) {
    const file = queue.pop()!;
    for (const imported of relativeImports(file, files.get(file) ?? '')) {
      if (imported === path) return true;
      if (!seen.has(imported) && files.has(imported)) {
        seen.add(imported);
        queue.push(imported);
      }
    }
  }
  return false;
}

/** The files a module imports by relative path (`./x.mjs`, `../y.mjs`), as repository paths. */
function relativeImports(file: string, content: string): string[] {
  const dir = file.split('/').slice(0, -1);
  const found: string[] = [];
  for (const match of content.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)['"](\.{1,2}\/[^'"]+)['"]/g)) {
    const parts = [...dir];
    for (const segment of match[1]!.split('/')) {
      if (segment === '..') parts.pop();
      else if (segment !== '.') parts.push(segment);
    }
    found.push(parts.join('/'));
  }
  return found;
}

/** Functions (by their opening line) and their length in lines, found by brace matching. */
function functionSpans(lines: readonly string[]): { start: number; length: number }[] {
  const spans: { start: number; length: number }[] = [];
  const open: { start: number; depth: number }[] = [];
  let depth = 0;
  lines.forEach((line, i) => {
    let functionLine = /\bfunction\b|=>\s*\{/.test(line);
    for (const ch of stripStrings(line)) {
      if (ch === '{') {
        depth += 1;
        // The first brace of a line that declares a function opens its body.
        if (functionLine) open.push({ start: i + 1, depth });
        functionLine = false;
      } else if (ch === '}') {
        if (open.at(-1)?.depth === depth) {
          const fn = open.pop()!;
          spans.push({ start: fn.start, length: i + 1 - fn.start + 1 });
        }
        depth -= 1;
      }
    }
  });
  return spans;
}

function maxDepth(lines: readonly string[]): { depth: number; line: number } {
  let depth = 0;
  let max = { depth: 0, line: 0 };
  lines.forEach((line, i) => {
    for (const ch of stripStrings(line)) {
      if (ch === '{') depth += 1;
      else if (ch === '}') depth -= 1;
      if (depth > max.depth) max = { depth, line: i + 1 };
    }
  });
  return max;
}

/** The line without string literals and a trailing comment, so their braces do not count. */
function stripStrings(line: string): string {
  return line.replace(/(['"`])(?:\\.|(?!\1).)*\1/g, '""').replace(/\/\/.*$/, '');
}
