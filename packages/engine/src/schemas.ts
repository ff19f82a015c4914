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
    flowValidator = ajv.compile(readSchema(join(SCHEMA_DIR, 'flow.schema.json')));
  } catch (cause) {
    throw new GantryError('SCHEMA_MISSING', `cannot compile the flow schema: ${(cause as Error).message}`, { cause });
  }
  return flowValidator;
}

/** Runs the flow schema; the errors are ajv's, mapped to diagnostics by the caller. */
export function checkFlowSchema(document: unknown): SchemaErrors {
  const validate = flowSchemaValidator();
  return validate(document) ? [] : [...(validate.errors ?? [])];
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
