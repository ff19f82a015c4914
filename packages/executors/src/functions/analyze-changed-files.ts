/**
 * `analyze_changed_files`: which files a change touches and which review areas they fall in,
 * so that the design document's `agent_router` can call the backend, frontend and QA reviewers
 * only when there is something for them (`has_backend_files`, …).
 *
 * The file list is read from the first of these that holds one:
 * 1. `files` — a list of paths, or of objects as GitHub's "list pull request files" API returns
 *    them (`filename`, `status`, `additions`, `deletions`, `previous_filename`); a `diff` given
 *    alongside only fills in the line counts the list lacks;
 * 2. `diff` — a unified diff (`git diff`, `diff -u`);
 * 3. `commits` / `head_commit` — a GitHub `push` payload (`added`, `modified`, `removed`);
 * 4. `pull_request` — a GitHub `pull_request` payload carries no file list: the output says it
 *    must be fetched (`file_list_required`) and classifies nothing, rather than failing.
 */
import type { FlowFunction, GantryError, JsonObject, JsonValue } from '@gantry/engine';
import { classifyPath, FILE_CATEGORIES, normalizePath } from './classify-path.js';
import type { FileCategory } from './classify-path.js';
import { badInput, isObject } from './json-values.js';
import { parseUnifiedDiff } from './unified-diff.js';

/** Where the analysed file list came from. */
export type ChangeSource = 'push' | 'pull_request' | 'files' | 'diff' | 'none';

interface Entry {
  path: string;
  status?: string;
  previousPath?: string;
  additions?: number;
  deletions?: number;
  binary?: boolean;
}

/**
 * Classifies the files a push, a pull request, a file list or a diff changes.
 *
 * Output: `files` (`{ path, category, status?, previous_path?, additions?, deletions?,
 * binary? }`, one per path, first-seen order), `counts` by category, `has_backend_files`,
 * `has_frontend_files`, `has_test_files`, `has_infrastructure_files`, `has_docs_files`,
 * `total_files`, `source`, `lines_added`, `lines_removed`, `line_counts` (`complete`,
 * `partial` or `unavailable`: a push payload has none), and when the payload is recognisably
 * GitHub's, `event`; for a pull_request without files, `file_list_required`, `note` and
 * `pull_request` (number, title, counts, `files_url`).
 * @throws GantryError `FUNCTION_FAILED` (not retryable) when `files`, `diff` or `commits` are
 *   malformed; the message names the offending entry and what it holds.
 */
export const analyzeChangedFiles: FlowFunction = (input) => {
  const files = present(input['files']);
  const diff = present(input['diff']);
  if (files !== undefined && !Array.isArray(files)) {
    throw invalid('`files` to be an array of paths or of file objects', files);
  }
  if (diff !== undefined && typeof diff !== 'string') throw invalid('`diff` to be a unified diff as a string', diff);

  const event = eventOf(input);
  const extra: JsonObject = event === undefined ? {} : { event };
  let source: ChangeSource;
  let entries: Entry[];
  if (files !== undefined && files.length > 0) {
    source = 'files';
    entries = fillLineCounts(files.map(readFileEntry), diff);
  } else if (diff !== undefined && diff.trim() !== '') {
    source = 'diff';
    entries = parseUnifiedDiff(diff).map((f) => ({ ...f }));
  } else if (event === 'push') {
    source = 'push';
    entries = readPush(input);
  } else if (event === 'pull_request') {
    source = 'pull_request';
    entries = [];
    Object.assign(extra, pullRequestNeedsFiles(input['pull_request'] as JsonObject));
  } else {
    source = files !== undefined ? 'files' : diff !== undefined ? 'diff' : 'none';
    entries = [];
  }
  return summarise(dedupe(entries), source, extra);
};

/** The engine's `inputs` picking may hand over a missing field as null: both mean absent. */
function present(value: JsonValue | undefined): JsonValue | undefined {
  return value === null ? undefined : value;
}

function eventOf(input: JsonObject): 'push' | 'pull_request' | undefined {
  if (isObject(input['pull_request'])) return 'pull_request';
  if (Array.isArray(input['commits']) || isObject(input['head_commit'])) return 'push';
  return undefined;
}

function readFileEntry(value: JsonValue, index: number): Entry {
  const where = `files[${index}]`;
  if (typeof value === 'string') return { path: checkPath(value, where) };
  if (!isObject(value)) throw invalid(`${where} to be a path string or an object with \`filename\` or \`path\``, value);
  const name = value['filename'] ?? value['path'];
  if (typeof name !== 'string') throw invalid(`${where}.filename (or .path) to be a string`, name);
  const entry: Entry = { path: checkPath(name, where) };
  const status = present(value['status']);
  if (status !== undefined) {
    if (typeof status !== 'string') throw invalid(`${where}.status to be a string such as "modified"`, status);
    entry.status = status;
  }
  const previous = present(value['previous_filename'] ?? value['previous_path']);
  if (typeof previous === 'string' && previous !== '') entry.previousPath = normalizePath(previous);
  for (const key of ['additions', 'deletions'] as const) {
    const count = present(value[key]);
    if (count === undefined) continue;
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 0) {
      throw invalid(`${where}.${key} to be an integer ≥ 0`, count);
    }
    entry[key] = count;
  }
  return entry;
}

/** A file list without line counts (GitHub's push payloads, plain paths) borrows them from a diff. */
function fillLineCounts(entries: Entry[], diff: JsonValue | undefined): Entry[] {
  if (typeof diff !== 'string' || diff.trim() === '') return entries;
  const counted = new Map(parseUnifiedDiff(diff).map((f) => [f.path, f]));
  return entries.map((entry) => {
    const found = counted.get(entry.path);
    if (found === undefined) return entry;
    return {
      ...entry,
      additions: entry.additions ?? found.additions,
      deletions: entry.deletions ?? found.deletions,
      ...(found.binary ? { binary: true } : {}),
    };
  });
}

function readPush(input: JsonObject): Entry[] {
  const commits = input['commits'] ?? [];
  if (!Array.isArray(commits)) throw invalid('`commits` to be an array of commits', commits);
  const all: JsonValue[] = [...commits];
  // head_commit is normally the last of `commits`; alone it still tells what the push changed.
  const head = input['head_commit'];
  if (isObject(head) && !commits.some((c) => isObject(c) && c['id'] !== undefined && c['id'] === head['id'])) all.push(head);

  const entries: Entry[] = [];
  all.forEach((commit, index) => {
    const where = commit === head ? 'head_commit' : `commits[${index}]`;
    if (!isObject(commit)) throw invalid(`${where} to be a commit object`, commit);
    for (const status of ['added', 'modified', 'removed'] as const) {
      const paths = present(commit[status]) ?? [];
      if (!Array.isArray(paths)) throw invalid(`${where}.${status} to be an array of paths`, paths);
      paths.forEach((path, i) => {
        if (typeof path !== 'string') throw invalid(`${where}.${status}[${i}] to be a path string`, path);
        entries.push({ path: checkPath(path, `${where}.${status}[${i}]`), status });
      });
    }
  });
  return entries;
}

function pullRequestNeedsFiles(pr: JsonObject): JsonObject {
  const summary: JsonObject = {};
  for (const key of ['number', 'title', 'changed_files', 'additions', 'deletions'] as const) {
    const value = pr[key];
    if (value !== undefined) summary[key] = value;
  }
  if (typeof pr['url'] === 'string') summary['files_url'] = `${pr['url']}/files`;
  return {
    file_list_required: true,
    note: 'A pull_request payload carries no file list: fetch it (GitHub: GET /repos/{owner}/{repo}/pulls/{number}/files) and pass it as `files`, or pass the diff as `diff`.',
    pull_request: summary,
  };
}

/**
 * One entry per path, in first-seen order. The last status wins (a file removed and then added
 * back is `added`), except that a file added and then modified within one change stays `added`,
 * since it is still new. Line counts of repeated entries add up.
 */
function dedupe(entries: Entry[]): Entry[] {
  const byPath = new Map<string, Entry>();
  for (const entry of entries) {
    const seen = byPath.get(entry.path);
    if (seen === undefined) {
      byPath.set(entry.path, { ...entry });
      continue;
    }
    if (entry.status !== undefined && !(seen.status === 'added' && entry.status === 'modified')) seen.status = entry.status;
    if (entry.previousPath !== undefined) seen.previousPath ??= entry.previousPath;
    if (entry.additions !== undefined) seen.additions = (seen.additions ?? 0) + entry.additions;
    if (entry.deletions !== undefined) seen.deletions = (seen.deletions ?? 0) + entry.deletions;
    if (entry.binary === true) seen.binary = true;
  }
  return [...byPath.values()];
}

function summarise(entries: Entry[], source: ChangeSource, extra: JsonObject): JsonObject {
  const counts = Object.fromEntries(FILE_CATEGORIES.map((c) => [c, 0])) as Record<FileCategory, number>;
  let linesAdded = 0;
  let linesRemoved = 0;
  let counted = 0;
  const files: JsonObject[] = entries.map((entry) => {
    const category = classifyPath(entry.path);
    counts[category]++;
    if (entry.additions !== undefined || entry.deletions !== undefined) counted++;
    linesAdded += entry.additions ?? 0;
    linesRemoved += entry.deletions ?? 0;
    return {
      path: entry.path,
      category,
      ...(entry.status === undefined ? {} : { status: entry.status }),
      ...(entry.previousPath === undefined ? {} : { previous_path: entry.previousPath }),
      ...(entry.additions === undefined ? {} : { additions: entry.additions }),
      ...(entry.deletions === undefined ? {} : { deletions: entry.deletions }),
      ...(entry.binary === true ? { binary: true } : {}),
    };
  });
  return {
    files,
    counts: { ...counts },
    has_backend_files: counts.backend > 0,
    has_frontend_files: counts.frontend > 0,
    has_test_files: counts.test > 0,
    has_infrastructure_files: counts.infrastructure > 0,
    has_docs_files: counts.docs > 0,
    total_files: files.length,
    source,
    lines_added: linesAdded,
    lines_removed: linesRemoved,
    // A push payload has no line counts: say so rather than let 0 read as "nothing changed".
    line_counts: counted === 0 ? 'unavailable' : counted === files.length ? 'complete' : 'partial',
    ...extra,
  };
}

function checkPath(path: string, where: string): string {
  const normal = normalizePath(path);
  if (normal === '') throw invalid(`${where} to be a non-empty path`, path);
  return normal;
}

function invalid(expected: string, found: JsonValue | undefined): GantryError {
  return badInput('analyze_changed_files', expected, found);
}
