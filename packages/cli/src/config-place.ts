import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { declaredNames, type ConfigPlace, type DeclaredNames, type GantryConfig } from '@gantry/engine/validation';

/**
 * Where a configuration is and what its flows may name: what `gantry validate --config` needs, in
 * a module of its own so that validating loads no engine run-time (setup.ts makes engines).
 */

/** The local agent pack's default configuration, used where a folder has no gantry.config.json. */
export function defaultConfigPath(): string {
  return createRequire(import.meta.url).resolve('@gantry/agents-local/gantry.config.json');
}

/**
 * Where the configuration at `path` is, for the checks that read the disk: its agents' flows must
 * be in its folder tree. The default configuration ships in the clone with the flows it runs, in
 * the clone's flows/ folder: its tree is the clone's (the folder holding packages/).
 */
export function configPlace(path: string): ConfigPlace {
  const folder = dirname(path);
  return path === defaultConfigPath() ? { folder, flowsRoot: resolve(folder, '..', '..') } : { folder };
}

/** What the flows of this configuration may name: its agents, functions (and the built-in ones), services and credentials. */
export function flowNames(config: GantryConfig, functions: Iterable<string>, connectors: readonly { readonly service: string }[]): DeclaredNames {
  return declaredNames(config, { functions, services: connectors.map((c) => c.service) });
}
