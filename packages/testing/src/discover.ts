import { readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { GantryError } from '@gantry/engine';

/** Folders never searched for test files. */
const SKIPPED = new Set(['node_modules', 'dist', '.git', '.gantry']);

/**
 * The test files named: a file as given (whatever its name), a folder as every `*.test.json`
 * below it, no name at all as every `*.test.json` below `cwd`. Sorted, each once.
 */
export function findTestFiles(paths: readonly string[], cwd = process.cwd()): string[] {
  const found = new Set<string>();
  for (const path of paths.length === 0 ? ['.'] : paths) {
    const absolute = resolve(cwd, path);
    let folder = false;
    try {
      folder = statSync(absolute).isDirectory();
    } catch {
      // A missing file is reported when it is read, with a sentence that names it.
    }
    if (!folder) {
      found.add(path);
      continue;
    }
    const inside = walk(absolute).map((file) => relative(cwd, file) || file);
    if (inside.length === 0) throw new GantryError('USAGE', `no *.test.json files in ${path === '.' ? 'this folder' : path} or below it`);
    for (const file of inside) found.add(file);
  }
  return [...found];
}

function walk(folder: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(folder, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.isDirectory()) {
      if (!SKIPPED.has(entry.name)) files.push(...walk(join(folder, entry.name)));
    } else if (entry.name.endsWith('.test.json')) {
      files.push(join(folder, entry.name));
    }
  }
  return files;
}
