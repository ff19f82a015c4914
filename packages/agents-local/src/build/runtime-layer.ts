/**
 * The Node runtime an image built `FROM scratch` needs, taken from this machine: the node binary
 * that runs gantry and the libraries `ldd` lists for it, with a manifest of what was copied in —
 * each file's digest and, where dpkg knows it, the Debian package and version it comes from. The
 * manifest goes into the image (/etc/gantry/image-manifest.json): it is what the vulnerability
 * scan reads when no scanner is on the PATH. Prepared once per state folder and Node version, with
 * the files' own timestamps, so every image built here shares one identical runtime layer.
 */
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, createReadStream, existsSync, mkdirSync, realpathSync, statSync, utimesSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { readJson, writeJson } from '../runtime/files.js';
import { stateDir } from '../runtime/paths.js';
import { runTool, which } from '../source/tools.js';
import { packFailure } from '../runtime/failure.js';

/** Where the manifest sits in the image. */
export const IMAGE_MANIFEST_PATH = '/etc/gantry/image-manifest.json';

export interface RuntimeFile {
  /** Its path in the image. */
  readonly path: string;
  /** Where it was copied from. */
  readonly source: string;
  readonly sha256: string;
  readonly bytes: number;
  readonly package: string | null;
  readonly package_version: string | null;
}

export interface RuntimePackage {
  readonly name: string;
  readonly version: string;
  /** `deb`: a Debian package; `node`: the Node runtime (its binary's own version). */
  readonly type: 'deb' | 'node';
}

export interface ImageManifest {
  readonly schema: 'gantry.image-manifest/1';
  /** "scratch" (the runtime below was copied in) or the base image given as a build argument. */
  readonly base: string;
  readonly node: string | null;
  readonly files: readonly RuntimeFile[];
  readonly packages: readonly RuntimePackage[];
}

/** A folder to copy into the image's root, holding the runtime (for scratch) and the manifest. */
export async function runtimeLayer(base: string, signal?: AbortSignal): Promise<{ dir: string; manifest: ImageManifest }> {
  const dir = stateDir('containers', base === 'scratch' ? `runtime-node-${process.version}` : `runtime-base-${createHash('sha256').update(base).digest('hex').slice(0, 12)}`);
  const manifestFile = join(dir, IMAGE_MANIFEST_PATH);
  if (existsSync(manifestFile)) return { dir, manifest: readJson<ImageManifest>(manifestFile, undefined as never) };
  const files = base === 'scratch' ? await copyRuntime(dir, signal) : [];
  const packages = new Map<string, RuntimePackage>();
  for (const f of files) if (f.package && f.package_version) packages.set(f.package, { name: f.package, version: f.package_version, type: 'deb' });
  if (base === 'scratch') packages.set('node', { name: 'node', version: process.versions.node, type: 'node' });
  const manifest: ImageManifest = { schema: 'gantry.image-manifest/1', base, node: base === 'scratch' ? process.version : null, files, packages: [...packages.values()] };
  mkdirSync(dirname(manifestFile), { recursive: true });
  writeJson(manifestFile, manifest);
  // A fixed time on the manifest too: the layer is the same bytes from one build to the next.
  const { mtime } = statSync(process.execPath);
  utimesSync(manifestFile, mtime, mtime);
  return { dir, manifest };
}

async function copyRuntime(dir: string, signal?: AbortSignal): Promise<RuntimeFile[]> {
  const ldd = await runTool('ldd', [process.execPath], { cwd: dir, timeoutMs: 30_000, ...(signal ? { signal } : {}) }).catch((e: Error) => ({ code: 1, stdout: '', stderr: e.message }));
  if (ldd.code !== 0) throw packFailure(`cannot list the libraries of ${process.execPath} with ldd (${ldd.stderr.trim()}): an image FROM scratch needs them; set base_image in the container settings to build from a base image instead`);
  // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x…)" and "/lib64/ld-linux-x86-64.so.2 (0x…)"
  const libraries = [...ldd.stdout.matchAll(/(?:=>\s*)?(\/\S+)\s+\(0x/g)].map((m) => m[1]!);
  const copies = [[process.execPath, '/usr/local/bin/node'], ...libraries.map((l) => [l, l])].map(([source, path]) => ({ source: source!, path: path!, real: realpathSync(source!) }));
  const owners = await debianPackages(copies.flatMap((c) => [c.source, c.real]), signal);
  const files: RuntimeFile[] = [];
  for (const { source, path, real } of copies) {
    const target = join(dir, path);
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(real, target);
    const stat = statSync(real);
    chmodSync(target, stat.mode & 0o777);
    utimesSync(target, stat.atime, stat.mtime);
    const owner = owners.get(source) ?? owners.get(real);
    files.push({ path, source, sha256: await sha256File(real), bytes: stat.size, package: owner?.name ?? null, package_version: owner?.version ?? null });
  }
  return files;
}

/**
 * The Debian package that installed each file, with its version (none where dpkg is absent or
 * does not know the file): two dpkg-query calls for all of them.
 */
async function debianPackages(paths: readonly string[], signal?: AbortSignal): Promise<Map<string, { name: string; version: string }>> {
  const found = new Map<string, { name: string; version: string }>();
  if (which('dpkg-query') === undefined) return found;
  const options = { cwd: stateDir(), timeoutMs: 30_000, ...(signal ? { signal } : {}) };
  // "libc6:amd64: /lib/x86_64-linux-gnu/libc.so.6" (exit 1 when some path is unknown: the others are still listed)
  const owners = await runTool('dpkg-query', ['-S', ...new Set(paths)], options);
  const byPath = new Map<string, string>();
  for (const line of owners.stdout.split('\n')) {
    const match = /^([^:\s,]+)(?::[a-z0-9]+)?(?:, [^:]+)*: (\/.+)$/.exec(line.trim());
    if (match) byPath.set(match[2]!, match[1]!);
  }
  const names = [...new Set(byPath.values())];
  if (names.length === 0) return found;
  const versions = await runTool('dpkg-query', ['-W', '-f=${Package} ${Version}\n', ...names], options);
  const versionOf = new Map(versions.stdout.split('\n').map((l) => l.trim().split(' ')).filter((p) => p.length === 2) as [string, string][]);
  for (const [path, name] of byPath) {
    const version = versionOf.get(name);
    if (version !== undefined) found.set(path, { name, version });
  }
  return found;
}

function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

