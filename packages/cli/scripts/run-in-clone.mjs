#!/usr/bin/env node
// `pnpm gantry …` in a clone of the repository: builds the workspace only when a source has
// changed since its last build (tsc -b takes about 2 s even when there is nothing to do), then
// runs the command in this process.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * Why the workspace at `root` needs a build, or undefined when every project of its tsconfig.json
 * was built after its sources (what its tsconfig excludes aside: tests), its tsconfig.json and
 * package.json, and the shared base config were last changed. A project whose build info is not where its tsconfig says counts as stale.
 */
export function staleness(root) {
  const base = mtime(join(root, 'tsconfig.base.json'));
  const { references = [] } = JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8'));
  for (const { path } of references) {
    const project = resolve(root, path);
    const config = JSON.parse(readFileSync(join(project, 'tsconfig.json'), 'utf8'));
    const info = config.compilerOptions?.tsBuildInfoFile;
    if (typeof info !== 'string' || !existsSync(join(project, info))) return `${path} has not been built`;
    const built = mtime(join(project, info));
    const excluded = (config.exclude ?? []).map(globToRegExp);
    const inputs = Math.max(base, mtime(join(project, 'tsconfig.json')), mtime(join(project, 'package.json')), newest(project, 'src', excluded));
    if (inputs > built) return `${path} has changed since its last build`;
  }
  return undefined;
}

function mtime(file) {
  return existsSync(file) ? statSync(file).mtimeMs : 0;
}

/** The newest change to a file of `project`/`folder` that its tsconfig does not exclude (tests beside the sources). */
function newest(project, folder, excluded) {
  const dir = join(project, folder);
  if (!existsSync(dir)) return 0;
  let max = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const file = join(entry.parentPath ?? entry.path, entry.name);
    const path = relative(project, file).split(sep).join('/');
    if (!excluded.some((pattern) => pattern.test(path))) max = Math.max(max, mtime(file));
  }
  return max;
}

/** A tsconfig `exclude` pattern (`src/**\/*.test.ts`) as a regular expression over paths relative to the project. */
function globToRegExp(glob) {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    if (glob.startsWith('**/', i)) {
      source += '(?:.*/)?';
      i += 2;
    } else if (glob[i] === '*') source += '[^/]*';
    else if (glob[i] === '?') source += '[^/]';
    else source += glob[i].replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/** Whether the web UI's bundle is older than its sources (or missing). */
export function uiStale(root) {
  const ui = join(root, 'packages/ui');
  if (!existsSync(ui)) return false;
  return mtime(join(ui, 'dist/app/index.html')) < Math.max(newest(ui, 'src', []), mtime(join(ui, 'build.mjs')), mtime(join(ui, 'package.json')));
}

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  // The schemas each package carries, and their generated validators: quick when nothing changed.
  const { buildSchemas } = await import(pathToFileURL(join(root, 'scripts/build-schemas.mjs')).href);
  buildSchemas();
  const why = staleness(root);
  if (why !== undefined) {
    process.stderr.write(`gantry: building the workspace first (${why})\n`);
    const build = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-b'], { cwd: root, stdio: 'inherit' });
    if (build.status !== 0) process.exit(build.status ?? 1);
  }
  // The web UI's bundle, which `gantry serve` serves: its build script does nothing when it is up to date.
  if (uiStale(root)) {
    const ui = spawnSync(process.execPath, [join(root, 'packages/ui/build.mjs')], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
    if (ui.status !== 0) process.exit(ui.status ?? 1);
  }
  await import(pathToFileURL(join(root, 'packages/cli/dist/bin.js')).href);
}
