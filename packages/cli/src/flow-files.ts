import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { GantryError, readFailure } from '@gantry/engine/validation';

/** The flow files named on the command line: files as given, folders as their *.json files. */
export function expandFlowPaths(args: readonly string[], cwd: string): string[] {
  const paths: string[] = [];
  for (const arg of args) {
    const absolute = resolve(cwd, arg);
    let isDirectory = false;
    try {
      isDirectory = statSync(absolute).isDirectory();
    } catch {
      // A missing path is reported when it is read, with the other results.
    }
    if (!isDirectory) {
      paths.push(arg);
      continue;
    }
    const files = readdirSync(absolute)
      .filter((f) => f.endsWith('.json'))
      .sort();
    if (files.length === 0) throw new GantryError('USAGE', `no .json flow files in folder ${arg}`);
    for (const file of files) paths.push(join(arg, file));
  }
  return paths;
}

/** A flow file's text, or a USAGE error that says why it could not be read. */
export function readFlowText(path: string, cwd: string): string {
  try {
    return readFileSync(resolve(cwd, path), 'utf8');
  } catch (cause) {
    throw new GantryError('FLOW_NOT_FOUND', `cannot read ${path}: ${readFailure(cause)}`, { cause });
  }
}
