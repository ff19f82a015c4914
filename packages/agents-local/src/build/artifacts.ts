/**
 * Build artifacts: a commit's service files (tests left out) copied into an immutable folder with
 * a manifest — every file's sha256 and a digest over them. On this machine such a folder is the
 * "image" the deployments run: `local/<name>:<commit>@sha256:<digest>`.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { readJson, writeJson } from '../runtime/files.js';
import { stateDir } from '../runtime/paths.js';
import { checkout, type Commit, type Repository } from '../source/repository.js';
import type { ContainerImage } from './container-image.js';
import { runTool } from '../source/tools.js';
import { packFailure } from '../runtime/failure.js';

export interface ArtifactManifest {
  readonly name: string;
  readonly version: string;
  readonly commit: string;
  readonly parent: string | null;
  readonly repository: string;
  readonly digest: string;
  readonly image: string;
  readonly files: { readonly path: string; readonly sha256: string; readonly bytes: number }[];
  readonly built_at: string;
  readonly node: string;
}

export interface Artifact {
  readonly dir: string;
  readonly manifest: ArtifactManifest;
  /** The container image the reference names, when it names one built from this artifact. */
  readonly container?: ContainerImage;
}

const SHIPPED = (path: string) => !/^(test|tests)\//.test(path) && !/\.test\.[cm]?js$/.test(path);

/** Builds (once per content) the artifact of a commit: syntax-checked, packaged, indexed. */
export async function buildArtifact(repo: Repository, commit: Commit, signal?: AbortSignal): Promise<Artifact & { checkout: string; reused: boolean }> {
  const source = checkout(repo, commit);
  const shipped = [...source.files].filter(([path]) => SHIPPED(path));
  const pkg = JSON.parse(source.files.get('package.json') ?? '{}') as { name?: string; version?: string };
  const files = shipped.map(([path, content]) => ({ path, sha256: sha256(content), bytes: Buffer.byteLength(content) }));
  const digest = sha256(files.map((f) => `${f.path}:${f.sha256}`).join('\n'));
  const name = pkg.name ?? 'service';
  const dir = join(stateDir('artifacts'), `${name}-${commit.id}-${digest.slice(0, 12)}`);
  const manifestFile = join(dir, 'manifest.json');
  if (existsSync(manifestFile)) return { dir, manifest: readJson<ArtifactManifest>(manifestFile, undefined as never), checkout: source.dir, reused: true };
  // "Compiling" a JavaScript service: every module must at least parse.
  for (const [path] of shipped.filter(([p]) => /\.(m?js|cjs)$/.test(p))) {
    const check = await runTool(process.execPath, ['--check', path], { cwd: source.dir, timeoutMs: 30_000, ...(signal ? { signal } : {}) });
    if (check.code !== 0) throw packFailure(`${path} does not compile: ${check.stderr.trim().split('\n').slice(0, 5).join(' ')}`);
  }
  for (const [path, content] of shipped) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  const manifest: ArtifactManifest = {
    name,
    version: pkg.version ?? '0.0.0',
    commit: commit.id,
    parent: commit.parent,
    repository: repo.root,
    digest: `sha256:${digest}`,
    image: `local/${name}:${commit.id}@sha256:${digest.slice(0, 12)}`,
    files,
    built_at: new Date().toISOString(),
    node: process.version,
  };
  writeJson(manifestFile, manifest);
  tagImage(manifest.image, dir);
  return { dir, manifest, checkout: source.dir, reused: false };
}

function indexFile(): string {
  return join(stateDir('artifacts'), 'index.json');
}

/** Another name for an image (`local/sample-service:main-latest`). */
export function tagImage(ref: string, dir: string): void {
  const index = readJson<Record<string, string>>(indexFile(), {});
  index[ref] = dir;
  writeJson(indexFile(), index);
}

/** The artifact an image reference names; an unknown one is an error that says what exists. */
export function findArtifact(image: unknown): Artifact {
  if (typeof image !== 'string' || image === '') throw packFailure(`expected an image reference (a string), got ${JSON.stringify(image)}`);
  const index = readJson<Record<string, string>>(indexFile(), {});
  const dir = index[image];
  if (dir === undefined || !existsSync(join(dir, 'manifest.json'))) {
    throw packFailure(`no image "${image}" was built in ${stateDir('artifacts')} (known: ${Object.keys(index).join(', ') || 'none'})`);
  }
  const container = Object.values(readJson<Record<string, ContainerImage>>(join(dir, 'containers.json'), {})).find((i) => i.ref === image || i.tags.includes(image));
  return { dir, manifest: readJson<ArtifactManifest>(join(dir, 'manifest.json'), undefined as never), ...(container ? { container } : {}) };
}

/** The first image of a list (the flows pass `images`), as an artifact. */
export function firstArtifact(images: unknown): Artifact {
  const list = Array.isArray(images) ? images : [images];
  if (list.length === 0 || list[0] === null || list[0] === undefined) throw packFailure('no image to deploy: expected `images`, a list of image references from the build');
  return findArtifact(list[0]);
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
