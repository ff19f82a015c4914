import { realpathSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { compileChecked, type CompiledFlow } from './compile.js';
import { GantryError } from './errors.js';
import { checkFlowText, checkFlowValue, type ValidateOptions, type ValidationResult } from './validate.js';

/** Validates and compiles a flow's text; throws `FLOW_INVALID` listing every error. */
export function loadFlowText(text: string, options: ValidateOptions & { source?: string; path?: string } = {}): CompiledFlow {
  const checked = checkFlowText(text, options);
  if (!checked.ok) throw invalid(options.source ?? 'flow', checked);
  return compileChecked(checked, text, options.path === undefined ? undefined : resolve(options.path));
}

/**
 * Reads, validates and compiles a flow file; subflow references resolve against its folder and
 * must stay inside `root` (default: that folder's tree).
 */
export async function loadFlowFile(path: string, options: ValidateOptions & { root?: string } = {}): Promise<CompiledFlow> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new GantryError('FLOW_NOT_FOUND', `cannot read ${path}: ${readFailure(cause)}`, { cause });
  }
  const { root, ...rest } = options;
  return loadFlowText(text, { subflowRef: subflowResolver(path, root), ...rest, source: path, path });
}

/** Why a file could not be read, in words: "no such file" rather than ENOENT. */
export function readFailure(cause: unknown): string {
  const code = (cause as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'it is a folder';
  if (code === 'EACCES') return 'permission denied';
  return String(code ?? cause);
}

/** Where a sub-flow reference leads (see {@link resolveFlowRef}). */
export interface FlowRef {
  readonly status: 'found' | 'missing' | 'outside';
  /** The reference resolved against its folder (not its links). */
  readonly file: string;
}

/** How the subflow references of the flow at `path` resolve: inside `root` (default: the flow's folder tree) or not, existing or not. */
export function subflowResolver(path: string, root?: string): (ref: string) => FlowRef['status'] {
  const folder = dirname(resolve(path));
  const inside = root === undefined ? folder : resolve(root);
  return (ref) => resolveFlowRef(inside, folder, ref).status;
}

/**
 * Resolves a sub-flow reference written in a file of `base` (a folder) that may only name files
 * in `root`'s tree (DESIGN §11): an absolute path is refused, and so is a path that leaves the
 * tree, written (`../../etc/passwd`) or through a symbolic link. Nothing outside is ever read.
 */
export function resolveFlowRef(root: string, base: string, ref: string): FlowRef {
  const file = resolve(base, ref);
  if (isAbsolute(ref) || !isWithin(root, file)) return { status: 'outside', file };
  let real: string;
  try {
    real = realpathSync(file);
  } catch {
    return { status: 'missing', file };
  }
  let realRoot: string;
  try {
    realRoot = realpathSync(root);
  } catch {
    realRoot = root;
  }
  return { status: isWithin(realRoot, real) ? 'found' : 'outside', file };
}

/** Whether `file` is `folder` or in its tree (both absolute). */
export function isWithin(folder: string, file: string): boolean {
  const rel = relative(folder, file);
  return rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

/** Validates and compiles a flow built in code; the caller's object is copied, not frozen. */
export function compileFlow(document: unknown, options: ValidateOptions = {}): CompiledFlow {
  const checked = checkFlowValue(document, options);
  if (!checked.ok) throw invalid('flow', checked);
  return compileChecked(checked, checked.text);
}

function invalid(source: string, checked: Pick<ValidationResult, 'diagnostics' | 'counts'>): GantryError {
  const errors = checked.diagnostics.filter((d) => d.severity === 'error');
  const count = checked.counts.errors;
  const lines = errors.slice(0, 10).map((d) => `  ${source}:${d.line}:${d.column} ${d.code} ${d.message}`);
  if (count > 10) lines.push(`  … and ${count - 10} more`);
  return new GantryError('FLOW_INVALID', `${source} is not a valid flow (${count} error${count === 1 ? '' : 's'}):\n${lines.join('\n')}`, {
    issues: errors.map(({ pointer, line, column, message, code }) => ({ pointer, line, column, message, code })),
  });
}
