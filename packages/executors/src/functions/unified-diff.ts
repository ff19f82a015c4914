/**
 * A reader for unified diffs as `git diff`, `git show`, `git format-patch` and `diff -u` print
 * them: which files changed, how (added, removed, modified, renamed, copied) and how many lines
 * were added and removed. It reads only the headers and the hunk line counts; it never applies
 * a patch.
 *
 * Lines inside a hunk are counted against the hunk header's lengths (`@@ -1,5 +1,7 @@`), so a
 * removed line that reads `-- x` (printed `--- x`) is counted, not mistaken for a file header.
 */

/** How a file changed, in the words GitHub's API uses. */
export type DiffStatus = 'added' | 'removed' | 'modified' | 'renamed' | 'copied';

/** One file of a diff. */
export interface DiffFile {
  /** The path after the change (before it, for a removed file). */
  readonly path: string;
  /** The path before a rename or copy. */
  readonly previousPath?: string;
  readonly status: DiffStatus;
  readonly additions: number;
  readonly deletions: number;
  /** Git printed `Binary files … differ` or a `GIT binary patch`: no line counts exist. */
  readonly binary: boolean;
}

interface Draft {
  gitPaths?: { old: string; new: string };
  oldPath?: string | null; // null: /dev/null
  newPath?: string | null;
  renameFrom?: string;
  renameTo?: string;
  copy: boolean;
  created: boolean;
  deleted: boolean;
  binary: boolean;
  additions: number;
  deletions: number;
  sawHunk: boolean;
}

const HUNK = /^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@/;

/**
 * Reads every file of a unified diff, in the order the diff lists them.
 * Text that holds no diff gives `[]`; a truncated hunk ends where the text ends.
 */
export function parseUnifiedDiff(text: string): DiffFile[] {
  const lines = text.split(/\r?\n/);
  const files: DiffFile[] = [];
  let draft: Draft | undefined;
  let oldLeft = 0;
  let newLeft = 0;

  const finish = (): void => {
    if (draft === undefined) return;
    const file = settle(draft);
    if (file !== undefined) files.push(file);
    draft = undefined;
  };
  const start = (): Draft => {
    finish();
    draft = { copy: false, created: false, deleted: false, binary: false, additions: 0, deletions: 0, sawHunk: false };
    return draft;
  };

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (draft !== undefined && (oldLeft > 0 || newLeft > 0)) {
      const mark = line.charAt(0);
      if (mark === '+') {
        draft.additions++;
        newLeft--;
        continue;
      }
      if (mark === '-') {
        draft.deletions++;
        oldLeft--;
        continue;
      }
      // Some tools strip the space that starts an empty context line.
      if (mark === ' ' || line === '') {
        oldLeft--;
        newLeft--;
        continue;
      }
      if (mark === '\\') continue; // "\ No newline at end of file"
      // Anything else means the hunk was shorter than its header said: read it as a header.
      oldLeft = 0;
      newLeft = 0;
    }

    if (line.startsWith('diff --git ')) {
      const paths = parseGitHeader(line.slice('diff --git '.length));
      start().gitPaths = paths;
    } else if (line.startsWith('diff --cc ') || line.startsWith('diff --combined ')) {
      const path = unquote(line.slice(line.indexOf(' ', 5) + 1));
      start().gitPaths = { old: path, new: path };
    } else if (line.startsWith('--- ') && (lines[i + 1] ?? '').startsWith('+++ ')) {
      // A second pair of headers in one file section starts the next file of a plain `diff -u`.
      const current = draft === undefined || draft.sawHunk || draft.oldPath !== undefined ? start() : draft;
      const oldPath = headerPath(line.slice(4), 'a/');
      const newPath = headerPath((lines[i + 1] ?? '').slice(4), 'b/');
      // Git names both sides a/ and b/; only a plain `diff -ru` names them after its trees.
      [current.oldPath, current.newPath] = current.gitPaths === undefined ? dropTreeNames(oldPath, newPath) : [oldPath, newPath];
      i++;
    } else if (draft === undefined) {
      continue; // preamble: a commit message, a diffstat, mail headers
    } else if (HUNK.test(line)) {
      const match = HUNK.exec(line);
      oldLeft = Number(match?.[1] ?? 1);
      newLeft = Number(match?.[2] ?? 1);
      draft.sawHunk = true;
    } else if (line.startsWith('new file mode')) {
      draft.created = true;
    } else if (line.startsWith('deleted file mode')) {
      draft.deleted = true;
    } else if (line.startsWith('rename from ') || line.startsWith('copy from ')) {
      draft.renameFrom = unquote(line.slice(line.indexOf(' from ') + 6));
      draft.copy = line.startsWith('copy');
    } else if (line.startsWith('rename to ') || line.startsWith('copy to ')) {
      draft.renameTo = unquote(line.slice(line.indexOf(' to ') + 4));
    } else if (line.startsWith('Binary files ') || line === 'GIT binary patch') {
      draft.binary = true;
      const binary = /^Binary files (.+) and (.+) differ$/.exec(line);
      if (binary !== null) {
        draft.oldPath ??= headerPath(binary[1] ?? '', 'a/');
        draft.newPath ??= headerPath(binary[2] ?? '', 'b/');
      }
    }
  }
  finish();
  return files;
}

function settle(draft: Draft): DiffFile | undefined {
  const created = draft.created || draft.oldPath === null;
  const deleted = draft.deleted || draft.newPath === null;
  const before = draft.renameFrom ?? draft.oldPath ?? draft.gitPaths?.old;
  const after = draft.renameTo ?? draft.newPath ?? draft.gitPaths?.new;
  const path = deleted ? before : after;
  if (path === undefined || path === null || path === '') return undefined;

  let status: DiffStatus = 'modified';
  if (created) status = 'added';
  else if (deleted) status = 'removed';
  else if (draft.renameFrom !== undefined) status = draft.copy ? 'copied' : 'renamed';
  const moved = status === 'renamed' || status === 'copied';
  return {
    path,
    ...(moved && typeof before === 'string' ? { previousPath: before } : {}),
    status,
    additions: draft.additions,
    deletions: draft.deletions,
    binary: draft.binary,
  };
}

/**
 * `diff -ru old/ new/` names each side by its tree (`old/src/x.c`, `new/src/x.c`): when the two
 * paths differ only in their first segment, that segment is the tree's name, not the file's.
 */
function dropTreeNames(oldPath: string | null, newPath: string | null): [string | null, string | null] {
  if (oldPath === null || newPath === null || oldPath === newPath) return [oldPath, newPath];
  const oldRest = oldPath.slice(oldPath.indexOf('/') + 1);
  const newRest = newPath.slice(newPath.indexOf('/') + 1);
  return oldPath.includes('/') && newPath.includes('/') && oldRest === newRest ? [oldRest, newRest] : [oldPath, newPath];
}

/** `a/x.ts` → `x.ts`, `/dev/null` → null; drops the timestamp `diff -u` appends after a tab. */
function headerPath(raw: string, prefix: string): string | null {
  let path = raw.startsWith('"') ? unquote(raw) : raw.split('\t')[0] ?? '';
  path = path.trimEnd();
  if (path === '/dev/null') return null;
  return path.startsWith(prefix) ? path.slice(prefix.length) : path;
}

/**
 * The two paths of `diff --git a/x b/y`. Unquoted paths may hold spaces, so when the header
 * is ambiguous the split that gives the same path on both sides wins (the common case); renames
 * are settled later by their `rename from/to` or `---/+++` lines.
 */
function parseGitHeader(rest: string): { old: string; new: string } {
  const strip = (p: string): string => p.replace(/^[abciwo]\//, '');
  if (rest.startsWith('"')) {
    const end = closingQuote(rest);
    const old = unquote(rest.slice(0, end + 1));
    const second = rest.slice(end + 2);
    return { old: strip(old), new: strip(unquote(second)) };
  }
  const quoted = rest.indexOf(' "');
  if (quoted > 0) return { old: strip(rest.slice(0, quoted)), new: strip(unquote(rest.slice(quoted + 1))) };
  const spaces = [...rest.matchAll(/ /g)].map((m) => m.index);
  for (const at of spaces) {
    const a = strip(rest.slice(0, at));
    const b = strip(rest.slice(at + 1));
    if (a === b) return { old: a, new: b };
  }
  const at = rest.indexOf(' b/');
  const split = at >= 0 ? at : (spaces[0] ?? rest.length);
  return { old: strip(rest.slice(0, split)), new: strip(rest.slice(split + 1)) };
}

function closingQuote(text: string): number {
  for (let i = 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') return i;
  }
  return text.length - 1;
}

const ESCAPES: Record<string, number> = { n: 10, t: 9, r: 13, '"': 34, '\\': 92, a: 7, b: 8, f: 12, v: 11 };

/**
 * Git quotes a path holding control characters, quotes or (by default) non-ASCII bytes, as a C
 * string with octal escapes of its UTF-8 bytes: `"caf\303\251.md"` → `café.md`.
 */
function unquote(text: string): string {
  if (!text.startsWith('"')) return text;
  const bytes: number[] = [];
  const end = closingQuote(text);
  for (let i = 1; i < end; i++) {
    const ch = String.fromCodePoint(text.codePointAt(i) ?? 0);
    if (ch !== '\\') {
      bytes.push(...Buffer.from(ch, 'utf8'));
      i += ch.length - 1;
      continue;
    }
    const next = text[i + 1] ?? '';
    const octal = /^[0-7]{3}/.exec(text.slice(i + 1, i + 4));
    if (octal !== null) {
      bytes.push(parseInt(octal[0], 8));
      i += 3;
    } else {
      bytes.push(ESCAPES[next] ?? next.charCodeAt(0));
      i += 1;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}
