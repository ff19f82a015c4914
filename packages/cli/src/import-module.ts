import { pathToFileURL } from 'node:url';
import { GantryError } from '@gantry/engine';

/** An export of a configured module (an agent, a function): `what` names it in errors. */
export async function importExport(file: string, name: string | undefined, what: string): Promise<unknown> {
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (cause) {
    throw new GantryError('CONFIG_INVALID', `${what}: cannot load the module ${file}: ${(cause as Error).message}`, { cause });
  }
  const value = name === undefined ? (module.default ?? module) : module[name];
  if (value === undefined) throw new GantryError('CONFIG_INVALID', `${what}: the module ${file} has no export "${name ?? 'default'}"`);
  return value;
}
