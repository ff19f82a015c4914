/**
 * Which release is live in production, per service: `.gantry/local/releases.json`, written when a
 * blue-green switch completes. Nothing outlives a gantry process on this machine, so "live" means
 * the release the next deployment starts as blue: the last one that went live here, or — on a
 * fresh machine — the release before the one being deployed (its image's parent commit).
 */
import { join } from 'node:path';
import { buildArtifact, findArtifact, type Artifact } from '../build/artifacts.js';
import { buildContainerImages } from '../build/container-image.js';
import { containerEngine } from '../runtime/container-engine.js';
import { readJson, writeJson } from '../runtime/files.js';
import { stateDir } from '../runtime/paths.js';
import { openRepository, resolveCommit } from '../source/repository.js';
import { packFailure } from '../runtime/failure.js';

interface Release {
  readonly image: string;
  readonly version: string;
  readonly went_live_at: string;
  readonly run: string;
}

function file(): string {
  return join(stateDir(), 'releases.json');
}

/** The artifact blue runs, and why that one: a container image when green is one, else a process image. */
export async function liveRelease(service: string, next: Artifact, signal?: AbortSignal): Promise<{ artifact: Artifact; why: string }> {
  const live = await liveArtifact(service, next, signal);
  return { artifact: await sameKind(live.artifact, next, signal), why: live.why };
}

async function liveArtifact(service: string, next: Artifact, signal?: AbortSignal): Promise<{ artifact: Artifact; why: string }> {
  const recorded = readJson<Record<string, Release>>(file(), {})[service];
  if (recorded !== undefined) {
    try {
      return { artifact: findArtifact(recorded.image), why: `the release that went live here last (${recorded.went_live_at}, run ${recorded.run})` };
    } catch {
      // its artifact was deleted: fall back to the parent commit
    }
  }
  const { repository, commit, parent } = next.manifest;
  if (parent === null) throw packFailure(`no live release of ${service} to keep as blue: none went live here, and ${commit} is a first commit`);
  const repo = openRepository(repository);
  const built = await buildArtifact(repo, resolveCommit(repo, parent), signal);
  return { artifact: built, why: `no release went live here yet: blue runs ${parent}, the commit before ${commit}` };
}

export function recordRelease(service: string, image: string, version: string, run: string): void {
  const releases = readJson<Record<string, Release>>(file(), {});
  releases[service] = { image, version, went_live_at: new Date().toISOString(), run };
  writeJson(file(), releases);
}

/**
 * Blue runs the way green does: as a container (its image built from the same Dockerfile, or found
 * already built) when green is a container image, else as a process.
 */
async function sameKind(artifact: Artifact, next: Artifact, signal?: AbortSignal): Promise<Artifact> {
  const plain = { dir: artifact.dir, manifest: artifact.manifest };
  if (next.container === undefined) return plain;
  const { engine, why } = await containerEngine();
  if (engine === null) throw packFailure(`green is the container image ${next.container.ref}, but no container engine works here now to run blue: ${why}`);
  const repo = openRepository(artifact.manifest.repository);
  const commit = resolveCommit(repo, artifact.manifest.commit);
  // Not pushed: it is not a new release, only the live one run again here.
  const { images } = await buildContainerImages({ repo, commit, dockerfiles: [next.container.dockerfile], tags: [commit.id], registry: null, engine, ...(signal ? { signal } : {}) });
  return images[0] === undefined ? plain : { ...plain, container: images[0] };
}
