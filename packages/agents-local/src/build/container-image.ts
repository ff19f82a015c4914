/**
 * Container images of a release, built by the container engine from the Dockerfiles of its commit:
 * the build context is the commit's checkout plus `.gantry-runtime/` (this machine's Node runtime
 * and the image manifest, runtime-layer.ts), the build argument BASE is the settings' base_image
 * ("scratch" by default: no registry needed). Each image is tagged as the pipeline asks (the
 * commit, `<branch>-latest`), its digest recorded, and pushed: to the registry given (the flow's
 * `registry`, else DOCKER_REGISTRY), else into the OCI image layout `.gantry/local/registry/`.
 * What was built is kept beside the release's artifact (`containers.json`): the pipeline passes
 * the image references on, and deployments run them by image id.
 */
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { engineRun, stateLabel, type ContainerEngine, type EngineName } from '../runtime/container-engine.js';
import { readJson, writeJson } from '../runtime/files.js';
import { stateDir } from '../runtime/paths.js';
import type { Commit, Repository } from '../source/repository.js';
import { buildArtifact, tagImage, type Artifact } from './artifacts.js';
import { IMAGE_MANIFEST_PATH, runtimeLayer } from './runtime-layer.js';

export interface ContainerImage {
  /** The reference the pipeline passes on: `<repository>:<first tag>@<digest>`. */
  readonly ref: string;
  readonly engine: EngineName;
  readonly id: string;
  /** The image's manifest digest in the engine's store. */
  readonly digest: string;
  /** Every name it was tagged with. */
  readonly tags: readonly string[];
  readonly dockerfile: string;
  readonly commit: string;
  readonly base_image: string;
  /** The port the service listens on inside (its EXPOSE; 8080 when none). */
  readonly port: number;
  readonly size_bytes: number;
  readonly build_ms: number;
  /** Where it was pushed; null for an image built only to run here (blue's, rebuilt because nothing outlives gantry). */
  readonly pushed: { readonly to: string; readonly digest: string; readonly refs: readonly string[] } | null;
  /** Where its manifest of what was copied in sits in the image. */
  readonly manifest_path: string;
}

export interface DockerfileResult {
  readonly dockerfile: string;
  readonly status: 'built' | 'reused' | 'not_found';
  readonly image?: string;
  readonly reason?: string;
}

function recordFile(artifactDir: string): string {
  return join(artifactDir, 'containers.json');
}

/** `Dockerfile` → the service's name; `docker/Dockerfile.worker` → `<name>-worker`; `api/Dockerfile` → `<name>-api`. */
export function imageNameFor(service: string, dockerfile: string): string {
  const file = basename(dockerfile);
  const suffix = /^Dockerfile\.(.+)$/.exec(file)?.[1] ?? /^(.+)\.Dockerfile$/.exec(file)?.[1] ?? (dirname(dockerfile) === '.' ? '' : basename(dirname(dockerfile)));
  const name = suffix === '' ? service : `${service}-${suffix}`;
  return name.toLowerCase().replace(/[^a-z0-9._-]+/g, '-');
}

/** A tag as an engine accepts it (`feature/x-latest` → `feature-x-latest`). */
export function tagFor(tag: string): string {
  return tag.replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^[.-]+/, '').slice(0, 128) || 'latest';
}

export interface BuildOptions {
  readonly repo: Repository;
  readonly commit: Commit;
  readonly dockerfiles: readonly string[];
  readonly tags: readonly string[];
  /** Registry host (and path) to push to; empty: the local OCI layout; null: not pushed. */
  readonly registry: string | null;
  readonly engine: ContainerEngine;
  readonly signal?: AbortSignal;
}

/** Builds (or finds already built) each Dockerfile of the commit; one that is not in the commit is reported, not built. */
export async function buildContainerImages(options: BuildOptions): Promise<{ artifact: Artifact; images: ContainerImage[]; results: DockerfileResult[] }> {
  const artifact = await buildArtifact(options.repo, options.commit, options.signal);
  const images: ContainerImage[] = [];
  const results: DockerfileResult[] = [];
  for (const dockerfile of options.dockerfiles) {
    if (!existsSync(join(artifact.checkout, dockerfile))) {
      results.push({ dockerfile, status: 'not_found', reason: `commit ${options.commit.id} has no ${dockerfile}` });
      continue;
    }
    const earlier = await reusable(artifact, dockerfile, options);
    const image = earlier ?? (await buildOne(artifact, dockerfile, options));
    images.push(image);
    results.push({ dockerfile, status: earlier ? 'reused' : 'built', image: image.ref });
  }
  return { artifact, images, results };
}

/** The image built from this Dockerfile of this artifact before, still in the engine's store (tagged now as asked). */
async function reusable(artifact: Artifact & { checkout: string }, dockerfile: string, options: BuildOptions): Promise<ContainerImage | undefined> {
  const record = readJson<Record<string, ContainerImage>>(recordFile(artifact.dir), {});
  const earlier = Object.values(record).find((i) => i.dockerfile === dockerfile && i.engine === options.engine.name && i.base_image === options.engine.base_image);
  if (earlier === undefined) return undefined;
  const exists = await engineRun(options.engine, ['image', 'inspect', '--format', '{{.Id}}', earlier.id]).then(() => true, () => false);
  if (!exists) return undefined;
  const wanted = refsFor(artifact, dockerfile, options).filter((r) => !earlier.tags.includes(r));
  for (const ref of wanted) await engineRun(options.engine, ['tag', earlier.id, ref]);
  const tags = [...earlier.tags, ...wanted];
  // Built before only to run here (blue), or asked for under new names: pushed now.
  const pushNow = options.registry !== null && (earlier.pushed === null || wanted.length > 0);
  const image = { ...earlier, tags, pushed: pushNow ? await push(options.engine, earlier.id, tags, options.registry!, options.signal) : earlier.pushed };
  save(artifact.dir, image);
  return image;
}

function refsFor(artifact: Artifact, dockerfile: string, options: BuildOptions): string[] {
  const repository = `${options.registry ? options.registry.replace(/\/+$/, '') : 'localhost'}/${imageNameFor(artifact.manifest.name, dockerfile)}`;
  const tags = options.tags.length > 0 ? options.tags : [options.commit.id];
  return [...new Set(tags.map((t) => `${repository}:${tagFor(t)}`))];
}

async function buildOne(artifact: Artifact & { checkout: string }, dockerfile: string, options: BuildOptions): Promise<ContainerImage> {
  const { engine, signal } = options;
  const refs = refsFor(artifact, dockerfile, options);
  const runtime = await runtimeLayer(engine.base_image, signal);
  const context = stateDir('containers', 'contexts', `${basename(refs[0]!.split(':')[0]!)}-${options.commit.id}-${randomBytes(3).toString('hex')}`);
  try {
    linkTree(artifact.checkout, context, (name) => name !== '.complete');
    linkTree(runtime.dir, join(context, '.gantry-runtime'), () => true);
    const iidFile = join(context, '.gantry-iid');
    const built = await engineRun(engine, [
      'build',
      // podman keeps an image per instruction by default: nothing here reuses them (a release's image is found by its record).
      ...(engine.name === 'podman' ? ['--layers=false'] : []),
      ...engine.build_flags,
      '--file', join(context, dockerfile),
      '--build-arg', `BASE=${engine.base_image}`,
      '--label', `io.gantry.local.built-in=${stateLabel()}`,
      '--label', `io.gantry.local.commit=${options.commit.id}`,
      ...refs.flatMap((r) => ['--tag', r]),
      '--iidfile', iidFile,
      context,
    ], { timeoutMs: 900_000, cwd: context, ...(signal ? { signal } : {}) });
    const id = readFileSync(iidFile, 'utf8').trim().replace(/^sha256:/, '');
    const format = engine.name === 'podman' ? '{{.Digest}}|{{.Size}}|{{json .Config.ExposedPorts}}' : '{{.Id}}|{{.Size}}|{{json .Config.ExposedPorts}}';
    const [digest = '', size = '0', ports = 'null'] = (await engineRun(engine, ['image', 'inspect', '--format', format, id])).stdout.trim().split('|');
    const exposed = Object.keys((JSON.parse(ports) as Record<string, unknown> | null) ?? {}).map((p) => Number.parseInt(p, 10)).find(Number.isInteger);
    const pushed = options.registry === null ? null : await push(engine, id, refs, options.registry, signal);
    const image: ContainerImage = {
      ref: `${refs[0]}@${digest}`,
      engine: engine.name,
      id,
      digest,
      tags: refs,
      dockerfile,
      commit: options.commit.id,
      base_image: engine.base_image,
      port: exposed ?? 8080,
      size_bytes: Number(size),
      build_ms: built.ms,
      pushed,
      manifest_path: IMAGE_MANIFEST_PATH,
    };
    save(artifact.dir, image);
    return image;
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
}

function save(artifactDir: string, image: ContainerImage): void {
  const record = readJson<Record<string, ContainerImage>>(recordFile(artifactDir), {});
  record[image.dockerfile] = image;
  writeJson(recordFile(artifactDir), record);
  for (const ref of [image.ref, ...image.tags]) tagImage(ref, artifactDir);
}

/**
 * To the registry when one is given; else into `.gantry/local/registry/`, an OCI image layout
 * (podman: one layout for every image, so they share the runtime layer; docker: an archive per
 * image, which `docker save` writes in the OCI layout too).
 */
async function push(engine: ContainerEngine, id: string, refs: readonly string[], registry: string, signal?: AbortSignal): Promise<ContainerImage['pushed']> {
  const digestFile = join(stateDir('containers'), `.digest-${id.slice(0, 12)}-${randomBytes(3).toString('hex')}`);
  const options = { timeoutMs: 900_000, ...(signal ? { signal } : {}) };
  try {
    if (registry !== '') {
      for (const ref of refs) await engineRun(engine, ['push', '--digestfile', digestFile, ref], options);
      return { to: registry, digest: readFileSync(digestFile, 'utf8').trim(), refs };
    }
    const layout = stateDir('registry');
    if (engine.name === 'docker') {
      const archive = join(layout, `${basename(refs[0]!).replace(/:/g, '-')}.tar`);
      await engineRun(engine, ['save', '--output', archive, ...refs], options);
      return { to: archive, digest: `sha256:${id}`, refs };
    }
    const names = refs.map((r) => `oci:${layout}:${basename(r)}`);
    for (const name of names) await engineRun(engine, ['push', '--compression-format', 'zstd', '--digestfile', digestFile, id, name], options);
    return { to: layout, digest: readFileSync(digestFile, 'utf8').trim(), refs: names };
  } finally {
    rmSync(digestFile, { force: true });
  }
}

/** Hard links (a copy across file systems) of a folder's files: a build context costs no copy of the runtime. */
function linkTree(from: string, to: string, keep: (name: string) => boolean): void {
  mkdirSync(to, { recursive: true });
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    if (!keep(entry.name)) continue;
    const source = join(from, entry.name);
    const target = join(to, entry.name);
    if (entry.isDirectory()) linkTree(source, target, keep);
    else {
      try {
        linkSync(source, target);
      } catch {
        copyFileSync(source, target);
      }
    }
  }
}
