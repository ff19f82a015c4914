import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { GantryError, readFailure, type CompiledFlow, type Engine } from '@gantry/engine';

/**
 * Every `*.json` flow of a folder (not its sub-folders), validated and compiled by the engine, in
 * name order; `folder` is resolved against `cwd` and named in messages as given. One invalid file
 * refuses them all (FLOW_INVALID with its diagnostics): a server should not start with a flow
 * that half works.
 */
export async function loadFlowsFolder(engine: Engine, folder: string, cwd = process.cwd()): Promise<CompiledFlow[]> {
  const dir = resolve(cwd, folder);
  let names: string[];
  try {
    names = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile() && e.name.endsWith('.json')).map((e) => e.name);
  } catch (cause) {
    throw new GantryError('FLOW_NOT_FOUND', `cannot read the flows folder ${folder}: ${readFailure(cause)}`, { cause });
  }
  if (names.length === 0) throw new GantryError('FLOW_NOT_FOUND', `the flows folder ${folder} has no .json flow files`);
  names.sort();
  const flows: CompiledFlow[] = [];
  for (const name of names) flows.push(await engine.loadFlow(join(dir, name)));
  return flows;
}
