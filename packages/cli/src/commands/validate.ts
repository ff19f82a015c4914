import { resolve } from 'node:path';
import { isGantryError, subflowResolver, validateFlowText, type Diagnostic } from '@gantry/engine/validation';
import { parseCommandArgs, usageError } from '../args.js';
import { codeFrame } from '../code-frame.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { expandFlowPaths, readFlowText } from '../flow-files.js';
import { printer, type Io } from '../io.js';

export const validateHelp = `Usage: gantry validate <flow|folder…> [--json] [--strict]

Checks each flow file against the flow schema and the graph rules, and lists every problem with
its code, severity, JSON pointer, line and column. A folder means every *.json file in it.

Options:
  --json     print one JSON document: { ok, files: [{ file, ok, diagnostics }] }
  --strict   treat warnings as errors
  -h, --help show this help

Exit status: 0 when every flow is valid, 2 when one is not (or on a usage error).`;

interface FileResult {
  file: string;
  ok: boolean;
  nodes?: number;
  edges?: number;
  diagnostics: Diagnostic[];
  error?: string;
}

export async function validateCommand(argv: string[], io: Io): Promise<ExitCode> {
  const { values, positionals } = parseCommandArgs('validate', argv, {
    json: { type: 'boolean' },
    strict: { type: 'boolean' },
  });
  if (positionals.length === 0) throw usageError('validate', 'name at least one flow file or folder');
  const strict = values.strict === true;
  const results: (FileResult & { text?: string })[] = expandFlowPaths(positionals, io.cwd).map((file) => {
    let text: string;
    try {
      text = readFlowText(file, io.cwd);
    } catch (error) {
      if (!isGantryError(error)) throw error;
      return { file, ok: false, diagnostics: [], error: error.message };
    }
    const result = validateFlowText(text, { subflowExists: subflowResolver(resolve(io.cwd, file)) });
    const ok = result.ok && !(strict && result.diagnostics.length > 0);
    return {
      file,
      ok,
      nodes: result.document?.nodes.length,
      edges: result.document?.edges?.length ?? (result.document ? 0 : undefined),
      diagnostics: [...result.diagnostics],
      text,
    };
  });
  const allOk = results.every((r) => r.ok);
  const p = printer(io);
  if (values.json === true) {
    const files = results.map(({ text: _text, ...rest }) => rest);
    p.out(JSON.stringify({ ok: allOk, files }, null, 2));
    return allOk ? EXIT.succeeded : EXIT.invalid;
  }
  const s = p.outStyle;
  for (const result of results) {
    if (result.error !== undefined) {
      p.out(`${s.red('✗')} ${s.bold(result.file)}  ${result.error}`);
      continue;
    }
    for (const d of result.diagnostics) {
      const label = d.severity === 'error' || strict ? s.red(d.severity) : s.yellow(d.severity);
      p.out(`${s.bold(`${result.file}:${d.line}:${d.column}`)} ${label} ${s.cyan(d.code)} ${d.message}`);
      for (const line of codeFrame(result.text ?? '', d.line, d.column)) p.out(s.dim(line));
      if (d.pointer !== '') p.out(s.dim(`    at ${d.pointer}`));
    }
    const errors = result.diagnostics.filter((d) => d.severity === 'error').length;
    const warnings = result.diagnostics.length - errors;
    const counts = [errors && plural(errors, 'error'), warnings && plural(warnings, 'warning')].filter(Boolean).join(', ');
    if (result.ok) {
      const shape = `${plural(result.nodes ?? 0, 'node')}, ${plural(result.edges ?? 0, 'edge')}`;
      p.out(`${s.green('✓')} ${s.bold(result.file)}  valid (${shape}${counts ? `; ${counts}` : ''})`);
    } else {
      p.out(`${s.red('✗')} ${s.bold(result.file)}  ${counts || 'invalid'}`);
    }
  }
  if (results.length > 1) {
    const valid = results.filter((r) => r.ok).length;
    p.out(`${plural(results.length, 'flow')}: ${valid} valid, ${results.length - valid} invalid`);
  }
  return allOk ? EXIT.succeeded : EXIT.invalid;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
