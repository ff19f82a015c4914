import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { GantryError, readFailure } from '@gantry/engine/validation';

/** A flow file named on the command line; `folder` when it was found in a folder named there. */
export interface FlowPath {
  readonly path: string;
  readonly folder?: string;
}

/** The flow files named on the command line: files as given, folders as their *.json files. */
export function expandFlowPaths(args: readonly string[], cwd: string): FlowPath[] {
  const paths: FlowPath[] = [];
  for (const arg of args) {
    const absolute = resolve(cwd, arg);
    let isDirectory = false;
    try {
      isDirectory = statSync(absolute).isDirectory();
    } catch {
      // A missing path is reported when it is read, with the other results.
    }
    if (!isDirectory) {
      paths.push({ path: arg });
      continue;
    }
    const files = readdirSync(absolute)
      .filter((f) => f.endsWith('.json'))
      .sort();
    if (files.length === 0) throw new GantryError('USAGE', `no .json flow files in folder ${arg}`);
    for (const file of files) paths.push({ path: join(arg, file), folder: absolute });
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
