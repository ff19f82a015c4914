import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { GantryError } from './errors.js';

/**
 * The installation's `schemas/` folder. The engine runs from `src/` (tests) or `dist/`, both
 * two levels below the package, which sits in `packages/` beside `schemas/`.
 */
export const SCHEMA_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../schemas');

export type SchemaErrors = ErrorObject[];

let flowValidator: ValidateFunction | undefined;
let ajvInstance: Ajv | undefined;
const customValidators = new WeakMap<object, ValidateFunction>();

function readSchema(path: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (cause) {
    throw new GantryError('SCHEMA_MISSING', `cannot read the JSON Schema ${path}`, { cause });
  }
}

/** The flow schema, compiled once per process with every node type's data schema. */
export function flowSchemaValidator(): ValidateFunction {
  if (flowValidator !== undefined) return flowValidator;
  const ajv = (ajvInstance = new Ajv({ allErrors: true, verbose: true, strict: true, strictTypes: false, strictRequired: false, allowUnionTypes: true }));
  const nodeDir = join(SCHEMA_DIR, 'nodes');
  for (const file of readdirSync(nodeDir).filter((f) => f.endsWith('.schema.json')).sort()) {
    ajv.addSchema(readSchema(join(nodeDir, file)), `nodes/${file}`);
  }
  try {
    ajv.addSchema(readSchema(join(SCHEMA_DIR, 'flow.schema.json')), 'flow');
    flowValidator = ajv.getSchema('flow')!;
  } catch (cause) {
    throw new GantryError('SCHEMA_MISSING', `cannot compile the flow schema: ${(cause as Error).message}`, { cause });
  }
  return flowValidator;
}

/** The flow's lists and the definition of their items. */
const LISTS = { nodes: 'node', edges: 'edge', error_handlers: 'errorHandler' } as const;
/** Past this many items (or params), a list is checked item by item; see checkFlowSchema. */
const SPLIT_AT = 200;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Runs the flow schema; the errors are ajv's, mapped to diagnostics by the caller. ajv gathers
 * the errors of each invalid item of a list by concatenating them to all those before, which
 * costs quadratic time: 40,000 bad nodes took minutes. So a long list is checked item by item
 * (the document itself with its first item only), and long params in slices.
 */
export function checkFlowSchema(document: unknown): SchemaErrors {
  const validate = flowSchemaValidator();
  const lists = isRecord(document) ? (Object.keys(LISTS) as (keyof typeof LISTS)[]).filter((key) => Array.isArray(document[key]) && (document[key] as unknown[]).length > SPLIT_AT) : [];
  const params = isRecord(document) && isRecord(document.params) ? Object.entries(document.params) : [];
  const longParams = params.length > SPLIT_AT;
  if (lists.length === 0 && !longParams) return validate(document) ? [] : [...(validate.errors ?? [])];

  const doc = document as Record<string, unknown>;
  const shortened: Record<string, unknown> = { ...doc };
  for (const key of lists) shortened[key] = (doc[key] as unknown[]).slice(0, 1);
  if (longParams) shortened.params = {};
  const errors: SchemaErrors = validate(shortened) ? [] : [...(validate.errors ?? [])];
  const push = (found: readonly ErrorObject[] | null | undefined, prefix: string, keep: (e: ErrorObject) => boolean = () => true) => {
    for (const e of found ?? []) if (keep(e)) errors.push({ ...e, instancePath: `${prefix}${e.instancePath}` });
  };
  for (const key of lists) {
    const item = ajvInstance!.getSchema(`flow#/definitions/${LISTS[key]}`)!;
    const items = doc[key] as unknown[];
    for (let i = 1; i < items.length; i++) if (!item(items[i])) push(item.errors, `/${key}/${i}`);
  }
  for (let i = 0; longParams && i < params.length; i += SPLIT_AT) {
    // A document of these params alone: its other errors (no name, no nodes) are not theirs.
    if (!validate({ params: Object.fromEntries(params.slice(i, i + SPLIT_AT)) })) push(validate.errors, '', (e) => e.instancePath.startsWith('/params'));
  }
  return errors;
}

/**
 * Checks the data of nodes whose type a registered executor adds, against that executor's
 * schema; errors carry pointers relative to the document, like the flow schema's.
 */
export function checkCustomData(document: unknown, types: ReadonlyMap<string, object | undefined>): SchemaErrors {
  flowSchemaValidator();
  const nodes = typeof document === 'object' && document !== null && Array.isArray((document as { nodes?: unknown }).nodes) ? (document as { nodes: unknown[] }).nodes : [];
  const errors: SchemaErrors = [];
  const bodies: { type: unknown; data: unknown; at: string }[] = [];
  nodes.forEach((node, index) => {
    if (typeof node !== 'object' || node === null) return;
    const { type, data, compensate } = node as { type?: unknown; data?: unknown; compensate?: { type?: unknown; data?: unknown } };
    bodies.push({ type, data, at: `/nodes/${index}/data` });
    // A compensation given as a node body is checked like a node of its type.
    if (typeof compensate === 'object' && compensate !== null) bodies.push({ type: compensate.type, data: compensate.data, at: `/nodes/${index}/compensate/data` });
  });
  for (const { type, data, at } of bodies) {
    const schema = typeof type === 'string' ? types.get(type) : undefined;
    if (schema === undefined) continue;
    let validate = customValidators.get(schema);
    if (validate === undefined) {
      try {
        validate = ajvInstance!.compile(schema);
      } catch (cause) {
        throw new GantryError('SCHEMA_MISSING', `the data schema of node type "${type as string}" does not compile: ${(cause as Error).message}`, { cause });
      }
      customValidators.set(schema, validate);
    }
    if (!validate(data)) {
      for (const e of validate.errors ?? []) errors.push({ ...e, instancePath: `${at}${e.instancePath}` });
    }
  }
  return errors;
}
