// Builds the web UI into dist/app: index.html and content-hashed assets, served by `gantry serve`
// under /ui. Run by the workspace's build, test and gantry scripts after tsc has checked the
// sources; it does nothing when dist/app is newer than every source (--force builds anyway).
// `node build.mjs --watch` rebuilds on every change.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, 'dist', 'app');
const assets = join(out, 'assets');
const watch = process.argv.includes('--watch');

/** Whether dist/app was built after the last change to the sources and to this script. */
function upToDate() {
  const page = join(out, 'index.html');
  if (!existsSync(page)) return false;
  const built = statSync(page).mtimeMs;
  const newest = (dir) => Math.max(...readdirSync(dir, { withFileTypes: true }).map((e) => (e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs)));
  return built > Math.max(newest(join(here, 'src')), statSync(fileURLToPath(import.meta.url)).mtimeMs, statSync(join(here, 'package.json')).mtimeMs);
}

/** index.html with the hashed names; %GANTRY_BASE% stays for the server to fill in (the base path). */
function writePage(metafile) {
  const outputs = Object.keys(metafile.outputs).map((p) => p.split('/').pop());
  const js = outputs.find((n) => n.startsWith('app-') && n.endsWith('.js'));
  const css = outputs.find((n) => n.startsWith('app-') && n.endsWith('.css'));
  const icon = readFileSync(join(here, 'src', 'favicon.svg'));
  const iconName = `favicon-${createHash('sha256').update(icon).digest('hex').slice(0, 8)}.svg`;
  writeFileSync(join(assets, iconName), icon);
  const page = readFileSync(join(here, 'src', 'index.html'), 'utf8').replace('%APP_JS%', js).replace('%APP_CSS%', css).replace('%FAVICON%', iconName);
  writeFileSync(join(out, 'index.html'), page);
  return { js, css };
}

function report(names, ms) {
  const sizes = [names.js, names.css].map((n) => {
    const bytes = readFileSync(join(assets, n));
    return `${n} ${(bytes.length / 1024).toFixed(1)} KB (${(gzipSync(bytes, { level: 9 }).length / 1024).toFixed(1)} KB gzipped)`;
  });
  console.log(`packages/ui: built ${sizes.join(', ')} in ${ms} ms`);
}

const options = {
  entryPoints: { app: join(here, 'src', 'main.tsx') },
  outdir: assets,
  entryNames: '[name]-[hash]',
  bundle: true,
  minify: true,
  sourcemap: 'linked',
  format: 'esm',
  target: ['es2022'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  metafile: true,
  legalComments: 'linked',
  logLevel: 'warning',
};

if (!watch && !process.argv.includes('--force') && upToDate()) process.exit(0);
const esbuild = await import('esbuild');
// Emptied first: the hashed files of earlier builds do not pile up.
rmSync(out, { recursive: true, force: true });
mkdirSync(assets, { recursive: true });
const started = performance.now();
if (watch) {
  const ctx = await esbuild.context({
    ...options,
    plugins: [{ name: 'page', setup: (b) => b.onEnd((r) => r.errors.length === 0 && report(writePage(r.metafile), 0)) }],
  });
  await ctx.watch();
  console.log('packages/ui: watching src/ for changes');
} else {
  const result = await esbuild.build(options);
  const names = writePage(result.metafile);
  report(names, Math.round(performance.now() - started));
}
