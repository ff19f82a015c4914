import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Ajv, ErrorObject } from 'ajv';
import { GantryError } from './errors.js';
import { isRecord } from './flow-view.js';

/**
 * The engine's own copy of the JSON Schemas (the flow, node data and configuration schemas) with
 * their validators, generated at build time from the repository's `schemas/` by
 * scripts/build-schemas.mjs and published with the package. The engine runs from `src/` (tests)
 * or `dist/`, both one level below the package.
 */
export const SCHEMA_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../schemas');

export type SchemaErrors = ErrorObject[];

/** A validate function as ajv makes one: whether the value holds, and the errors of that call. */
export interface SchemaValidator {
  (data: unknown): boolean;
  errors?: ErrorObject[] | null;
}

/**
 * The options of every validator: those generated at build time (scripts/build-schemas.mjs says
 * the same; a test keeps the two equal) and those compiled at run time.
 */
export const AJV_OPTIONS = { allErrors: true, verbose: true, strict: true, strictTypes: false, strictRequired: false, allowUnionTypes: true } as const;

const load = createRequire(import.meta.url);

/**
 * A validator generated at build time (a CommonJS module whose export is the function), loaded
 * when first needed: a command that validates nothing never parses it, and no schema is compiled.
 */
export function generatedValidator(path: string): SchemaValidator {
  try {
    return load(path) as SchemaValidator;
  } catch (cause) {
    throw new GantryError('SCHEMA_MISSING', `cannot load the generated validator ${path}: in a clone of the repository, \`npx -y pnpm@12.4.2 build\` generates it from schemas/`, { cause });
  }
}

let flowValidator: SchemaValidator | undefined;
let ajvInstance: Ajv | undefined;
const customValidators = new WeakMap<object, SchemaValidator>();

function readSchema(path: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (cause) {
    throw new GantryError('SCHEMA_MISSING', `cannot read the JSON Schema ${path}`, { cause });
  }
}

/**
 * ajv, for the schemas known only at run time (a custom node type's data, a schema given to
 * checkJsonText), with the node data schemas under their `nodes/…` ids as the flow schema has
 * them; made when first needed, so validating flows of the built-in types never loads ajv.
 */
export function runtimeAjv(): Ajv {
  if (ajvInstance !== undefined) return ajvInstance;
  const { Ajv: AjvClass } = load('ajv') as typeof import('ajv');
  const ajv = new AjvClass(AJV_OPTIONS);
  const nodeDir = join(SCHEMA_DIR, 'nodes');
  for (const file of readdirSync(nodeDir).filter((f) => f.endsWith('.schema.json')).sort()) {
    ajv.addSchema(readSchema(join(nodeDir, file)), `nodes/${file}`);
  }
  return (ajvInstance = ajv);
}

/** The flow schema's validator, generated with every node type's data schema. */
export function flowSchemaValidator(): SchemaValidator {
  return (flowValidator ??= generatedValidator(join(SCHEMA_DIR, 'validate-flow.cjs')));
}

const itemValidators = new Map<string, SchemaValidator>();

/** The validator of one definition of the flow schema (a node, an edge, an error handler), generated at build time. */
function itemValidator(definition: string): SchemaValidator {
  let validate = itemValidators.get(definition);
  if (validate === undefined) itemValidators.set(definition, (validate = generatedValidator(join(SCHEMA_DIR, `validate-flow-${definition}.cjs`))));
  return validate;
}

/** The flow's lists and the definition of their items. */
const LISTS = { nodes: 'node', edges: 'edge', error_handlers: 'errorHandler' } as const;
/** Past this many items (or params), a list is checked item by item; see checkFlowSchema. */
const SPLIT_AT = 200;

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
    const item = itemValidator(LISTS[key]);
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
        validate = runtimeAjv().compile(schema);
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
