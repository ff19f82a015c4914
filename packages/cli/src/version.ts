import { readFileSync } from 'node:fs';

let version: string | undefined;

/** This Gantry's version (the CLI package's), read once. */
export function gantryVersion(): string {
  version ??= (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return version;
}
