import { resolve } from 'node:path';
import { isGantryError, subflowResolver, validateConfigText, validateFlowText, type DeclaredNames, type Diagnostic } from '@gantry/engine/validation';
import { parseCommandArgs, usageError } from '../args.js';
import { codeFrames } from '../code-frame.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { expandFlowPaths, readFlowText } from '../flow-files.js';
import { printer, type Io } from '../io.js';
import { configPlace, flowNames } from '../config-place.js';

export const validateHelp = `Usage: gantry validate <flow|folder…> [--config f] [--json] [--strict]

Checks each flow file against the flow schema and the graph rules, and lists every problem with
its code, severity, JSON pointer, line and column. A folder means every *.json file in it (and
its sub-flow references may reach anywhere in its tree, as with gantry serve --flows).

Options:
  --config file  also check the configuration, and the agents (and their tasks where it lists
                 them), functions, services and credentials each flow names against it
  --json         print one JSON document: { ok, files: [{ file, ok, counts, diagnostics }] }
  --strict       treat warnings as errors
  -h, --help     show this help

A file's first ${1000} problems are listed (errors first) and counted all; the first ${100} of
them are printed with their source line.

Exit status: 0 when every file is valid, 2 when one is not (or on a usage error).`;

/** Diagnostics printed per file with their source line; --json lists those validation keeps (1000). */
const PRINTED = 100;

interface FileResult {
  file: string;
  ok: boolean;
  nodes?: number;
  edges?: number;
  counts: { errors: number; warnings: number };
  diagnostics: Diagnostic[];
  error?: string;
}

type Checked = FileResult & { text?: string };

export async function validateCommand(argv: string[], io: Io): Promise<ExitCode> {
  const { values, positionals } = parseCommandArgs('validate', argv, {
    json: { type: 'boolean' },
    strict: { type: 'boolean' },
    config: { type: 'string' },
  });
  if (positionals.length === 0) throw usageError('validate', 'name at least one flow file or folder');
  const strict = values.strict === true;
  const configFile = values.config as string | undefined;
  const results: Checked[] = [];
  let declared: DeclaredNames | undefined;
  if (configFile !== undefined) {
    const checked = await checkConfig(configFile, io, strict);
    results.push(checked.result);
    declared = checked.declared;
  }
  for (const { path: file, folder } of expandFlowPaths(positionals, io.cwd)) {
    let text: string;
    try {
      text = readFlowText(file, io.cwd);
    } catch (error) {
      if (!isGantryError(error)) throw error;
      results.push({ file, ok: false, counts: { errors: 1, warnings: 0 }, diagnostics: [], error: error.message });
      continue;
    }
    const result = validateFlowText(text, { subflowRef: subflowResolver(resolve(io.cwd, file), folder), ...(declared === undefined ? {} : { declared }) });
    results.push({
      file,
      ok: result.ok && !(strict && result.counts.warnings > 0),
      nodes: result.document?.nodes.length,
      edges: result.document?.edges?.length ?? (result.document ? 0 : undefined),
      counts: result.counts,
      diagnostics: [...result.diagnostics],
      text,
    });
  }
  const allOk = results.every((r) => r.ok);
  if (values.json === true) {
    const files = results.map(({ text: _text, ...rest }) => rest);
    printer(io).out(JSON.stringify({ ok: allOk, files }, null, 2));
  } else {
    printResults(results, strict, configFile !== undefined, io);
  }
  return allOk ? EXIT.succeeded : EXIT.invalid;
}

/**
 * The configuration as a file of its own among the results, and the names flows are checked
 * against when it is valid (the built-in functions and services with its own).
 */
async function checkConfig(file: string, io: Io, strict: boolean): Promise<{ result: Checked; declared: DeclaredNames | undefined }> {
  let text: string;
  try {
    text = readFlowText(file, io.cwd);
  } catch (error) {
    if (!isGantryError(error)) throw error;
    return { result: { file, ok: false, counts: { errors: 1, warnings: 0 }, diagnostics: [], error: error.message.replace(/^cannot read/, 'cannot read the configuration') }, declared: undefined };
  }
  const checked = validateConfigText(text, configPlace(resolve(io.cwd, file)));
  const errors = checked.diagnostics.filter((d) => d.severity === 'error').length;
  const counts = { errors, warnings: checked.diagnostics.length - errors };
  const result: Checked = { file, ok: checked.ok && !(strict && counts.warnings > 0), counts, diagnostics: checked.diagnostics, text };
  if (checked.config === undefined) return { result, declared: undefined };
  const { builtinConnectors, builtinFunctions } = await import('@gantry/executors');
  return { result, declared: flowNames(checked.config, Object.keys(builtinFunctions), builtinConnectors()) };
}

function printResults(results: readonly Checked[], strict: boolean, withConfig: boolean, io: Io): void {
  const p = printer(io);
  const s = p.outStyle;
  for (const result of results) {
    if (result.error !== undefined) {
      p.out(`${s.red('✗')} ${s.bold(result.file)}  ${result.error}`);
      continue;
    }
    const frame = codeFrames(result.text ?? '');
    for (const d of result.diagnostics.slice(0, PRINTED)) {
      const label = d.severity === 'error' || strict ? s.red(d.severity) : s.yellow(d.severity);
      p.out(`${s.bold(`${result.file}:${d.line}:${d.column}`)} ${label} ${s.cyan(d.code)} ${d.message}`);
      for (const line of frame(d.line, d.column)) p.out(s.dim(line));
      if (d.pointer !== '') p.out(s.dim(`    at ${d.pointer}`));
    }
    const { errors, warnings } = result.counts;
    const unprinted = errors + warnings - Math.min(PRINTED, result.diagnostics.length);
    if (unprinted > 0) p.out(s.dim(`… and ${unprinted} more (--json lists the first ${result.diagnostics.length})`));
    const counts = [errors && plural(errors, 'error'), warnings && plural(warnings, 'warning')].filter(Boolean).join(', ');
    if (result.ok) {
      const shape = withConfig && result === results[0] ? 'configuration' : `${plural(result.nodes ?? 0, 'node')}, ${plural(result.edges ?? 0, 'edge')}`;
      p.out(`${s.green('✓')} ${s.bold(result.file)}  valid (${shape}${counts ? `; ${counts}` : ''})`);
    } else {
      p.out(`${s.red('✗')} ${s.bold(result.file)}  ${counts || 'invalid'}`);
    }
  }
  if (results.length > 1) {
    const valid = results.filter((r) => r.ok).length;
    p.out(`${plural(results.length, withConfig ? 'file' : 'flow')}: ${valid} valid, ${results.length - valid} invalid`);
  }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
