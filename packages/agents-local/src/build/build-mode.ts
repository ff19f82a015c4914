/**
 * What the build of a run did, for the lines `gantry run` prints at its end: whether it built
 * container images (and deploys containers) or process images, and what the scan of those images
 * could say. Kept in `.gantry/local/build-mode.json`, the last run's only.
 */
import { join } from 'node:path';
import { readJson, writeJson } from '../runtime/files.js';
import { stateDir } from '../runtime/paths.js';

export interface BuildMode {
  readonly run: string;
  readonly mode: 'containers' | 'processes';
  /** The engine and version, or why there is none. */
  readonly why: string;
  readonly images: readonly string[];
  /** Where the images were pushed (a registry, or the local OCI layout). */
  readonly pushed_to?: string;
  readonly scan?: { readonly status: string; readonly note: string };
}

function file(): string {
  return join(stateDir(), 'build-mode.json');
}

export function recordBuildMode(mode: BuildMode): void {
  writeJson(file(), mode);
}

export function recordScan(run: string, scan: NonNullable<BuildMode['scan']>): void {
  const recorded = readBuildMode(run);
  if (recorded) writeJson(file(), { ...recorded, scan });
}

/** The run's build mode, if this run built anything here. */
export function readBuildMode(run: string): BuildMode | undefined {
  const recorded = readJson<BuildMode | undefined>(file(), undefined);
  return recorded?.run === run ? recorded : undefined;
}
