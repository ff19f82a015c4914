import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { compileChecked, type CompiledFlow } from './compile.js';
import type { Diagnostic } from './diagnostics.js';
import { GantryError } from './errors.js';
import { checkFlowText, checkFlowValue, type ValidateOptions } from './validate.js';

/** Validates and compiles a flow's text; throws `FLOW_INVALID` listing every error. */
export function loadFlowText(text: string, options: ValidateOptions & { source?: string; path?: string } = {}): CompiledFlow {
  const checked = checkFlowText(text, options);
  if (!checked.ok) throw invalid(options.source ?? 'flow', checked.diagnostics);
  return compileChecked(checked, text, options.path === undefined ? undefined : resolve(options.path));
}

/** Reads, validates and compiles a flow file; subflow references resolve against its folder. */
export async function loadFlowFile(path: string, options: ValidateOptions = {}): Promise<CompiledFlow> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new GantryError('FLOW_NOT_FOUND', `cannot read ${path}: ${readFailure(cause)}`, { cause });
  }
  return loadFlowText(text, { subflowExists: subflowResolver(path), ...options, source: path, path });
}

/** Why a file could not be read, in words: "no such file" rather than ENOENT. */
export function readFailure(cause: unknown): string {
  const code = (cause as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'it is a folder';
  if (code === 'EACCES') return 'permission denied';
  return String(code ?? cause);
}

/** Whether a subflow reference of the flow at `path` names an existing file. */
export function subflowResolver(path: string): (ref: string) => boolean {
  const folder = dirname(resolve(path));
  return (ref) => existsSync(resolve(folder, ref));
}

/** Validates and compiles a flow built in code; the caller's object is copied, not frozen. */
export function compileFlow(document: unknown, options: ValidateOptions = {}): CompiledFlow {
  const checked = checkFlowValue(document, options);
  if (!checked.ok) throw invalid('flow', checked.diagnostics);
  return compileChecked(checked, checked.text);
}

function invalid(source: string, diagnostics: readonly Diagnostic[]): GantryError {
  const errors = diagnostics.filter((d) => d.severity === 'error');
  const lines = errors.slice(0, 10).map((d) => `  ${source}:${d.line}:${d.column} ${d.code} ${d.message}`);
  if (errors.length > 10) lines.push(`  … and ${errors.length - 10} more`);
  return new GantryError('FLOW_INVALID', `${source} is not a valid flow (${errors.length} error${errors.length === 1 ? '' : 's'}):\n${lines.join('\n')}`, {
    issues: errors.map(({ pointer, line, column, message, code }) => ({ pointer, line, column, message, code })),
  });
}
