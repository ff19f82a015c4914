/**
 * The repositories the local pack builds: a folder with a `commits.json` history whose commits
 * name a tree (a folder) and files changed on top of it — the bundled sample service's form
 * (sample-service/README.md). A "checkout" materialises a commit under the state folder.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { readJson } from '../runtime/files.js';
import { isPathInside, SAMPLE_REPOSITORY, stateDir } from '../runtime/paths.js';
import { packFailure } from '../runtime/failure.js';

export interface Commit {
  readonly id: string;
  readonly tree: string;
  readonly parent: string | null;
  readonly message: string;
  /** path → content, over the tree's files. */
  readonly files: Readonly<Record<string, string>>;
}

export interface Repository {
  readonly root: string;
  readonly head: string;
  readonly commits: Readonly<Record<string, Commit>>;
}

export interface ChangedFile {
  readonly path: string;
  readonly status: 'added' | 'modified' | 'removed';
  /** The new content ('' for a removed file). */
  readonly content: string;
  /** Line numbers (1-based) that are new or changed in this commit. */
  readonly changedLines: readonly number[];
}

/** The repository at `path`; absent, "" or "." (no repository named) is the bundled sample service. */
export function openRepository(path?: unknown): Repository {
  const root = typeof path !== 'string' || path === '' || path === '.' ? SAMPLE_REPOSITORY : resolve(path);
  const file = join(root, 'commits.json');
  if (!existsSync(file)) throw packFailure(`${root} has no commits.json: the local pack builds repositories in the sample service's form (see ${join(SAMPLE_REPOSITORY, 'README.md')})`);
  const history = readJson<{ head: string; commits: Record<string, Omit<Commit, 'id'>> }>(file, { head: '', commits: {} });
  const commits = Object.fromEntries(Object.entries(history.commits).map(([id, c]) => [id, { ...c, id, files: c.files ?? {} }]));
  for (const commit of Object.values(commits)) checkCommit(root, file, commit);
  return { root, head: history.head, commits };
}

/**
 * A commit's names become paths on this machine (its checkout's folder, its files in it, its tree
 * under the repository): each must stay where it belongs. Reviewing a repository must not write
 * or read anything outside its checkout and its own folder.
 */
function checkCommit(root: string, file: string, commit: Commit): void {
  const where = `${file}: commit "${commit.id}"`;
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(commit.id)) throw packFailure(`${where}: expected an id of letters, digits, '.', '_' and '-' (it names folders)`);
  const tree = resolve(root, typeof commit.tree === 'string' ? commit.tree : '');
  if (typeof commit.tree !== 'string' || commit.tree === '' || (tree !== root && !tree.startsWith(root + sep))) {
    throw packFailure(`${where}: expected "tree" to be a folder inside ${root}, got ${JSON.stringify(commit.tree)}`);
  }
  for (const path of Object.keys(commit.files)) {
    if (!isPathInside(path)) {
      throw packFailure(`${where}: expected file paths relative to the tree without "." or ".." segments, got ${JSON.stringify(path)}`);
    }
  }
}

/** A commit by id; absent, "HEAD" or the branch name "main" mean the head. */
export function resolveCommit(repo: Repository, ref?: unknown): Commit {
  const id = typeof ref !== 'string' || ref === '' || ref === 'HEAD' || ref === 'main' ? repo.head : ref;
  const commit = repo.commits[id];
  if (commit === undefined) throw packFailure(`no commit "${id}" in ${repo.root} (it has ${Object.keys(repo.commits).join(', ')})`);
  return commit;
}

/** Every file of a commit: its tree's, then its own changes. */
export function commitFiles(repo: Repository, commit: Commit): Map<string, string> {
  const files = new Map<string, string>();
  const tree = join(repo.root, commit.tree);
  for (const file of walk(tree)) files.set(relative(tree, file).split(sep).join('/'), readFileSync(file, 'utf8'));
  for (const [path, content] of Object.entries(commit.files)) files.set(path, content);
  return new Map([...files.entries()].sort(([a], [b]) => a.localeCompare(b)));
}

/** A content hash of a set of files (paths and contents). */
export function filesDigest(files: ReadonlyMap<string, string>): string {
  const hash = createHash('sha256');
  for (const [path, content] of files) hash.update(`${path}\0${content}\0`);
  return hash.digest('hex');
}

/** The commit's files written under `.gantry/local/checkouts/<commit>-<digest>` (once). */
export function checkout(repo: Repository, commit: Commit): { dir: string; digest: string; files: Map<string, string> } {
  const files = commitFiles(repo, commit);
  const digest = filesDigest(files);
  const dir = join(stateDir('checkouts'), `${commit.id}-${digest.slice(0, 12)}`);
  if (!existsSync(join(dir, '.complete'))) {
    for (const [path, content] of files) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), content);
    }
    writeFileSync(join(dir, '.complete'), `${commit.id}\n`);
  }
  return { dir, digest, files };
}

/** What a commit changes against `base` (default: its parent; none for a first commit). */
export function changedFiles(repo: Repository, commit: Commit, base?: unknown): ChangedFile[] {
  const baseId = typeof base === 'string' && base !== '' ? base : commit.parent;
  const before = baseId === null ? new Map<string, string>() : commitFiles(repo, resolveCommit(repo, baseId));
  const after = commitFiles(repo, commit);
  const changes: ChangedFile[] = [];
  for (const [path, content] of after) {
    const old = before.get(path);
    if (old === content) continue;
    changes.push({ path, status: old === undefined ? 'added' : 'modified', content, changedLines: newLines(old ?? '', content) });
  }
  for (const path of before.keys()) if (!after.has(path)) changes.push({ path, status: 'removed', content: '', changedLines: [] });
  return changes;
}

/** Lines of `after` that are not in `before` (a multiset comparison: enough to aim a review). */
function newLines(before: string, after: string): number[] {
  const pool = new Map<string, number>();
  for (const line of before.split('\n')) pool.set(line, (pool.get(line) ?? 0) + 1);
  const lines: number[] = [];
  after.split('\n').forEach((line, i) => {
    const left = pool.get(line) ?? 0;
    if (left > 0) pool.set(line, left - 1);
    else lines.push(i + 1);
  });
  return lines;
}

function* walk(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else if (entry.isFile()) yield path;
  }
}
