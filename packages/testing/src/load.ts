import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  checkJsonText,
  GantryError,
  generatedValidator,
  isGantryError,
  parseConfigText,
  readFailure,
  type DocumentDiagnostic,
  type GantryConfig,
  type SchemaValidator,
} from '@gantry/engine';
import type { TestDiagnosticCode } from './codes.js';
import { pointer, describeTestPointer } from './pointers.js';
import { reachFindings } from './reach-checks.js';
import { reachOf, type Reach, type ReachFailure } from './reach.js';
import { scopes, shapeFindings, type TestFinding } from './shape-checks.js';
import type { TestFile } from './test-file.js';

export type TestDiagnostic = DocumentDiagnostic<TestDiagnosticCode>;

/** A test file read and checked: ready to run when `ok`. */
export interface LoadedTestFile {
  /** The file as named (relative to `cwd` when it was given so). */
  readonly path: string;
  readonly ok: boolean;
  /** Every problem, errors first, then in file order. */
  readonly diagnostics: readonly TestDiagnostic[];
  readonly file: TestFile | undefined;
  /** The flows, agents and services the test reaches (when its flows loaded). */
  readonly reach: Reach | undefined;
  /** The configuration the file names, and its absolute path. */
  readonly config: { readonly path: string; readonly config: GantryConfig } | undefined;
  /** agent → task → the flow file (absolute) the configuration maps it to. */
  readonly taskFlows: ReadonlyMap<string, ReadonlyMap<string, string>>;
  /** Line and column of a pointer into the file, for reports. */
  locate(at: string): { line: number; column: number };
}

/**
 * This package's copy of `schemas/flow-test.schema.json` and its validator, generated at build
 * time (scripts/build-schemas.mjs) and published with the package.
 */
const SCHEMAS = fileURLToPath(new URL('../schemas/', import.meta.url));
let schema: object | undefined;
let validator: SchemaValidator | undefined;

/** `schemas/flow-test.schema.json`, read once. */
export function testFileSchema(): object {
  if (schema === undefined) {
    const path = resolve(SCHEMAS, 'flow-test.schema.json');
    try {
      schema = JSON.parse(readFileSync(path, 'utf8')) as object;
    } catch (cause) {
      throw new GantryError('SCHEMA_MISSING', `cannot read the JSON Schema ${path}`, { cause });
    }
  }
  return schema;
}

function testFileValidator(): SchemaValidator {
  return (validator ??= generatedValidator(resolve(SCHEMAS, 'validate-flow-test.cjs')));
}

/** Reads a flow test file and checks it against its schema, its flows and its configuration. */
export async function loadTestFile(path: string, cwd = process.cwd()): Promise<LoadedTestFile> {
  const absolute = resolve(cwd, path);
  let text: string;
  try {
    text = await readFile(absolute, 'utf8');
  } catch (cause) {
    throw new GantryError('USAGE', `cannot read the test file ${path}: ${readFailure(cause)}`, { cause });
  }
  // The schema first: what follows reads the document, so it must have the schema's shape.
  const schemaChecked = checkJsonText<TestDiagnosticCode>(text, testFileValidator(), { describe: describeTestPointer });
  const base = { path, taskFlows: new Map<string, Map<string, string>>(), locate: (at: string) => schemaChecked.locate(at) };
  if (!schemaChecked.ok) return { ...base, ok: false, diagnostics: schemaChecked.diagnostics, file: undefined, reach: undefined, config: undefined };
  const file = schemaChecked.value as TestFile;
  const folder = dirname(absolute);
  const findings: TestFinding[] = [];
  const show = (file: string) => relative(cwd, file) || file;

  const config = file.config === undefined ? undefined : await readConfig(resolve(folder, file.config), show, findings);
  const taskFlows = new Map<string, Map<string, string>>();
  for (const [agent, spec] of Object.entries(config?.config.agents ?? {})) {
    for (const [task, ref] of Object.entries(spec.flows ?? {})) {
      if (!taskFlows.has(agent)) taskFlows.set(agent, new Map());
      taskFlows.get(agent)!.set(task, resolve(dirname(config!.path), ref));
    }
  }
  // Only the tasks a test runs as flows lead to more flows; a task's flow the test scripts is never loaded.
  const chosen = new Map<string, Map<string, string>>();
  for (const scope of scopes(file)) {
    for (const [agent, tasks] of Object.entries(scope.agents ?? {})) {
      for (const [task, script] of Object.entries(tasks)) {
        if (script !== 'flow') continue;
        const flow = taskFlows.get(agent)?.get(task);
        if (flow === undefined) {
          findings.push(noTaskFlow(scope.at + pointer('agents', agent, task), agent, task, file.config, taskFlows.get(agent)));
        } else {
          if (!chosen.has(agent)) chosen.set(agent, new Map());
          chosen.get(agent)!.set(task, flow);
        }
      }
    }
  }
  findings.push(...usable(file, config?.config));

  const compensations = new Map(Object.entries(config?.config.agents ?? {}).flatMap(([agent, spec]) => (spec.compensations ? [[agent, spec.compensations] as const] : [])));
  const reached = config === null ? undefined : await reachOf(resolve(folder, file.flow), { taskFlows: chosen, compensations });
  let reach: Reach | undefined;
  if (reached !== undefined && 'error' in reached) findings.push(flowFinding(reached, show));
  else reach = reached;
  if (reach !== undefined) findings.push(...reachFindings(file, reach));

  // Checked again with the findings, which the engine places in the text and sorts with the schema's.
  const { ok, diagnostics } = checkJsonText<TestDiagnosticCode>(text, testFileValidator(), { describe: describeTestPointer, check: (document) => [...shapeFindings(document), ...findings] });
  return { ...base, ok, diagnostics, file, reach, config: config ?? undefined, taskFlows };
}

/** The configuration, or null when it could not be used (a finding says why). */
async function readConfig(path: string, show: (file: string) => string, findings: TestFinding[]): Promise<{ path: string; config: GantryConfig } | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    findings.push({ code: 'FILE_NOT_FOUND', severity: 'error', pointer: '/config', message: `cannot read the configuration ${show(path)}: ${readFailure(cause)}` });
    return null;
  }
  try {
    return { path, config: parseConfigText(text, show(path)) };
  } catch (error) {
    if (!isGantryError(error)) throw error;
    findings.push({ code: 'FILE_INVALID', severity: 'error', pointer: '/config', message: error.message });
    return null;
  }
}

function noTaskFlow(at: string, agent: string, task: string, config: string | undefined, flows: ReadonlyMap<string, string> | undefined): TestFinding {
  const message =
    config === undefined
      ? `task "${task}" of agent "${agent}" is to run as a flow, but the file names no configuration ("config") to say which`
      : `the configuration maps no flow to task "${task}" of agent "${agent}"${flows ? ` (it maps ${[...flows.keys()].join(', ')})` : ''}`;
  return { code: 'NO_TASK_FLOW', severity: 'error', pointer: at, message };
}

function usable(file: TestFile, config: GantryConfig | undefined): TestFinding[] {
  const findings: TestFinding[] = [];
  for (const [i, name] of (file.use?.agents ?? []).entries()) {
    const spec = config?.agents?.[name];
    if (spec?.transport === 'module') continue;
    const why = config === undefined ? 'the file names no configuration' : spec === undefined ? 'the configuration has no such agent' : `its transport is ${spec.transport}: script its tasks instead`;
    findings.push({ code: 'NOT_USABLE', severity: 'error', pointer: pointer('use', 'agents', i), message: `agent "${name}" cannot be used as it is: ${why} (only module agents run in a test)` });
  }
  for (const [i, name] of (file.use?.functions ?? []).entries()) {
    if (config?.functions?.[name] !== undefined) continue;
    const why = config === undefined ? 'the file names no configuration' : 'the configuration has no such function';
    findings.push({ code: 'NOT_USABLE', severity: 'error', pointer: pointer('use', 'functions', i), message: `function "${name}" cannot be used: ${why}` });
  }
  return findings;
}

/** Why a flow of the test could not be loaded, with its own diagnostics in its own file's lines. */
function flowFinding(failure: ReachFailure, show: (file: string) => string): TestFinding {
  const { file, error } = failure;
  if (isGantryError(error, 'FLOW_INVALID')) {
    const issues = error.issues.map((i) => `\n  ${show(file)}:${i.line}:${i.column} ${i.code ?? 'FLOW_INVALID'} ${i.message}`);
    return { code: 'FILE_INVALID', severity: 'error', pointer: '/flow', message: `the flow ${show(file)} does not validate:${issues.join('')}` };
  }
  if (isGantryError(error, 'FLOW_NOT_FOUND')) {
    return { code: 'FILE_NOT_FOUND', severity: 'error', pointer: '/flow', message: `cannot read the flow ${show(file)}: ${readFailure(error.cause)}` };
  }
  throw error;
}
