import { assignJson, type JsonObject } from '@gantry/engine';

/**
 * What a node hands on from its input: `inputs` as a list picks those fields, as an object is
 * the input itself (its expressions already resolved), and absent passes the whole input.
 */
export function pickInputs(input: JsonObject, inputs: unknown): JsonObject {
  if (Array.isArray(inputs)) {
    const picked: JsonObject = {};
    for (const key of inputs) if (typeof key === 'string' && key in input) picked[key] = input[key]!;
    return picked;
  }
  if (typeof inputs === 'object' && inputs !== null) return inputs as JsonObject;
  return input;
}

/** The data keys that are not the executor's own: a function's or an action's parameters. */
export function otherKeys(data: JsonObject, own: readonly string[]): JsonObject {
  const rest: JsonObject = {};
  for (const [key, value] of Object.entries(data)) if (!own.includes(key) && !key.startsWith('x-')) rest[key] = value;
  return rest;
}

/** A new object with the keys of each part in turn (later parts win), as `{ ...a, ...b }` makes (see assignJson). */
export function merged(...parts: readonly (JsonObject | undefined)[]): JsonObject {
  const out: JsonObject = {};
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    if (part !== undefined && part !== null) assignJson(out, part);
  }
  return out;
}
