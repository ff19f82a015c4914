import { mkdirSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packFailure } from './failure.js';

/** The pack's folder: src/runtime/ and dist/runtime/ both sit two levels below it. */
export const PACK_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The bundled sample service's repository (see sample-service/README.md). */
export const SAMPLE_REPOSITORY = join(PACK_ROOT, 'sample-service');

/** The default configuration: what `gantry` uses when the working folder has no gantry.config.json. */
export const DEFAULT_CONFIG_PATH = join(PACK_ROOT, 'gantry.config.json');

/** The pack's container settings (engine, the flags a host needs): see the README. */
export const DEFAULT_CONTAINER_SETTINGS = join(PACK_ROOT, 'containers.json');

/** A program of the pack that runs as a child process (always the built JavaScript). */
export function packProgram(name: string): string {
  return join(PACK_ROOT, 'dist', 'runtime', name);
}

/**
 * Where the pack keeps what it builds and runs: `.gantry/local` under the working folder (next to
 * the run store), or GANTRY_LOCAL_STATE. Read on every call, so tests can point it elsewhere.
 */
export function stateDir(...parts: string[]): string {
  const root = process.env.GANTRY_LOCAL_STATE ? resolve(process.env.GANTRY_LOCAL_STATE) : resolve(process.cwd(), '.gantry', 'local');
  const dir = join(root, ...parts);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * A name that becomes part of a file or folder name under the state folder (a service, an
 * environment): letters, digits, '.', '_' and '-', not starting with '.'. Such names come from
 * triggers and flows; one like "../../x" must not write outside the state folder.
 */
export function nameForFiles(value: string, what: string): string {
  if (!/^[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}$/.test(value)) {
    throw packFailure(`expected ${what} to be at most 100 letters, digits, '.', '_' or '-', not starting with '.' (it names files under ${stateDir()}), got ${JSON.stringify(value)}`);
  }
  return value;
}

/** A path relative to a folder that stays in it: not absolute, no empty, "." or ".." segment. */
export function isPathInside(path: string): boolean {
  return path !== '' && !isAbsolute(path) && !path.split(/[\\/]/).some((s) => s === '' || s === '.' || s === '..');
}

/** Where notifications go when Slack is not configured: `.gantry/notifications.log` beside the state. */
export function notificationsFile(): string {
  return join(stateDir(), '..', 'notifications.log');
}
